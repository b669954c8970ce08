"""The travel stage on a national network folder: département tasks, one plain travel table.

A network folder (département boundaries and their OpenStreetMap files, see
:mod:`.files`) is never one routable graph. :func:`folder_travel` computes
the travel stage of :func:`optimizer.pipeline.run` on it with the national
machinery: one task per département (:mod:`.tasks`, in this process or on
Dask workers), its buffered extract and certificates (:mod:`.extracts`), the
pairs no extract certified routed again in wider regions, and returns the
same :class:`optimizer.travel.TravelTable` a plain run computes on one
network file, with the same columns and meaning:

- a pair an extract certified has the merged network's times and km, both
  ways (the certificate: both points join the same roads as in the merged
  network, and the times stay below the extract's horizons, so no route
  through the cut is shorter);
- a pair no extract certified is NaN with the reason
  :data:`REASON_NOT_CERTIFIED` ("not certified", never "no route": the
  merged network may well reach it); an agent's commute likewise
  (:data:`REASON_COMMUTE_NOT_CERTIFIED`);
- a pair is "no road route" or beyond the snapping limit only where the
  tasks prove it of the merged network.

It also returns the lower bounds (minutes and km, both ways) that the
extracts give of every pair not certified that may still be eligible
(:func:`.plan._unknown_pairs`): the pipeline solves the same mode once more
with those pairs at their lower bounds, a relaxation whose optimum bounds the
merged network's (see :func:`optimizer.pipeline.run`).

Sizes: the table is dense (agents x destinations); :data:`DENSE_LIMIT_PAIRS`
is the size above which the command uses the grouped national solver
(:func:`.plan.plan_national`) instead.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.national.extracts import NetworkSource
from optimizer.national.groups import group_agents, locate, one_row_per_code, within_buffers
from optimizer.national.plan import (
    _WIDE,
    DEFAULT_BUFFER_KM,
    DEFAULT_WIDEN_ROUNDS,
    REASON_COMMUTE_UNCERTIFIED,
    REASON_HOME_OUTSIDE,
    REASON_WORKPLACE_OUTSIDE,
    NationalOptions,
    Widen,
    _Evaluation,
    _read,
    _run,
    _tasks,
    _wide_tasks,
)
from optimizer.national.tasks import HORIZONS, ORIGINS
from optimizer.network import Progress
from optimizer.speed_model import DEFAULT_SPEED_MODEL, SpeedModel, speed_model
from optimizer.travel import (
    REASON_DESTINATION_FAR,
    REASON_HOME_FAR,
    REASON_NO_ROUTE,
    TravelTable,
)

logger = logging.getLogger(__name__)

#: Above this many agent x destination pairs, a folder is planned by the grouped national
#: solver (:func:`.plan.plan_national`): the dense table would not fit in memory.
DENSE_LIMIT_PAIRS = 20_000_000
#: Longest drive searched in each extract when the plan has no ``max_minutes``, minutes.
SEARCH_MINUTES = 24 * 60.0

REASON_NOT_CERTIFIED = (
    "drive time not certified within the border buffers (a wider --border-km certifies more)"
)
REASON_COMMUTE_NOT_CERTIFIED = (
    "commute not certified within the border buffers (a wider --border-km certifies more)"
)


@dataclass(frozen=True)
class NetworkFolder:
    """A national network folder, ready for the travel stage.

    It stands where a :class:`optimizer.network.RoadNetwork` stands in
    :func:`optimizer.pipeline.run` and its reports (it has the attributes the
    reports read), but is never loaded whole: each département's extract is
    loaded by its task.

    Attributes
    ----------
    path
        The folder.
    areas
        Département polygons (WGS84) with a ``code`` column.
    sources
        Each département's extract (``code -> source``, :mod:`.extracts`).
    widen
        Gives extracts of wider regions (:data:`.plan.Widen`), or None.
    buffer_km
        Border around each département's network.
    speed_profile
        The road speeds of every extract.
    speed_model
        The speed model of every extract.
    widen_rounds
        Rounds of wider extracts for the pairs the first did not certify
        (:func:`open_network_folder`: enough for the last round's regions to
        span the whole folder, :func:`rounds_to_cover`).
    timings
        Seconds spent preparing (splitting the big file, if any).
    """

    path: Path
    areas: gpd.GeoDataFrame
    sources: Mapping[str, NetworkSource]
    widen: Widen | None = None
    buffer_km: float = DEFAULT_BUFFER_KM
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE
    speed_model: SpeedModel = field(default_factory=lambda: speed_model(DEFAULT_SPEED_MODEL))
    widen_rounds: int = DEFAULT_WIDEN_ROUNDS
    timings: dict[str, float] = field(default_factory=dict)
    approximate: bool = False
    cache: str = ""
    dropped_nodes: int = 0
    n_nodes: int | None = None
    n_edges: int | None = None

    @property
    def source(self) -> str:
        """What the summary says the network is."""
        return f"network folder {self.path} ({len(self.areas)} départements)"

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``west, south, east, north`` of the départements and their border buffers, degrees."""
        metric = self.areas.to_crs(settings.WORKING_CRS).buffer(self.buffer_km * 1000.0)
        west, south, east, north = (
            float(v) for v in metric.to_crs(settings.INPUT_CRS).total_bounds
        )
        return west, south, east, north


def open_network_folder(
    path: str | Path,
    *,
    buffer_km: float = DEFAULT_BUFFER_KM,
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE,
    speed_model_name: str = DEFAULT_SPEED_MODEL,
    progress: Progress | None = None,
) -> NetworkFolder:
    """Open a national network folder (splitting its big file once, if it has one).

    Parameters
    ----------
    path
        The folder: ``departements.gpkg`` (or ``.geojson``) and one OSM file
        per département or one large file (see :mod:`.files`).
    buffer_km
        Border around each département's network.
    speed_profile
        A profile name of :data:`optimizer.settings.SPEED_PROFILES`.
    speed_model_name
        A speed model name (:mod:`optimizer.speed_model`).
    progress
        Called with a short message before long steps.

    Returns
    -------
    NetworkFolder
        The folder, for :func:`optimizer.pipeline.run`.

    Raises
    ------
    InputError
        No boundaries, no OSM files, or both kinds of OSM files.
    """
    from optimizer.national.sources import national_sources, read_departements, wider_sources

    started = time.perf_counter()
    folder = Path(path)
    if speed_profile not in settings.SPEED_PROFILES:
        known = ", ".join(sorted(settings.SPEED_PROFILES))
        msg = (
            f"--speed-profile: '{speed_profile}' is not a profile ({known}); a network folder "
            "is timed by a named profile."
        )
        raise InputError(msg)
    areas = read_departements(folder)
    sources = national_sources(
        folder,
        areas,
        buffer_km=buffer_km,
        speed_profile=speed_profile,
        speed_model=speed_model_name,
        progress=progress,
    )
    widen = wider_sources(
        folder, areas, speed_profile=speed_profile, speed_model=speed_model_name, progress=progress
    )
    return NetworkFolder(
        path=folder,
        areas=areas,
        sources=sources,
        widen=widen,
        buffer_km=buffer_km,
        speed_profile=speed_profile,
        speed_model=speed_model(speed_model_name),
        widen_rounds=rounds_to_cover(areas, buffer_km),
        timings={"network_s": time.perf_counter() - started},
    )


def rounds_to_cover(areas: gpd.GeoDataFrame, buffer_km: float) -> int:
    """Widening rounds until a region's margin spans every département of a folder.

    Round ``r`` routes the pairs not yet certified again in their region and
    :meth:`NationalOptions.margin_km` ``(r)`` around it (doubled each round).
    Once that margin is as wide as the départements' extent, a region holds
    every département: what it routes is the merged network's, so every pair
    that may be eligible ends certified or proven out of reach. The rounds stop
    sooner when no pair is left to route; the pairs left are few by then (the
    first rounds certify most), so the wide regions are routed for them only.

    Parameters
    ----------
    areas
        The folder's département polygons.
    buffer_km
        Their border buffer (the first round's margin is at least that).

    Returns
    -------
    int
        At least :data:`DEFAULT_WIDEN_ROUNDS`.
    """
    west, south, east, north = (float(v) for v in areas.to_crs(settings.WORKING_CRS).total_bounds)
    extent_km = max(east - west, north - south) / 1000.0
    margins = NationalOptions(buffer_km=buffer_km)
    rounds = DEFAULT_WIDEN_ROUNDS
    while margins.margin_km(rounds) < extent_km:
        rounds += 1
    return rounds


@dataclass(frozen=True)
class FolderTravel:
    """Result of :func:`folder_travel`.

    Attributes
    ----------
    travel
        The plain travel table (agents x destinations), NaN where not certified.
    lower
        ``origin, destination`` (row positions), ``minutes_to, minutes_back,
        km_to, km_back``: lower bounds of the pairs not certified that may be
        eligible, one row per agent and telecentre.
    commutes_not_certified
        Agents whose commute no extract certified (their savings are unknown).
    commute_open
        ``(n_origins,)`` booleans: that agent's commute is not certified.
    uncertified
        ``(n_origins,)`` booleans: some of the agent's telecentre pairs are not certified.
    summary
        Figures: tasks, widening rounds, pairs certified and not.
    """

    travel: TravelTable
    lower: pd.DataFrame
    commutes_not_certified: int
    commute_open: np.ndarray
    uncertified: np.ndarray
    summary: dict[str, Any]


def folder_travel(
    network: NetworkFolder,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    own_place: np.ndarray,
    *,
    n_sites: int,
    max_minutes: float | None,
    min_saving: float,
    no_worse_off: bool,
    max_snap_m: float = settings.MAX_SNAP_M,
    client: Any = None,
    progress: Progress | None = None,
) -> FolderTravel:
    """Compute the travel table of ``origins`` x ``destinations`` on a network folder.

    Parameters
    ----------
    network
        The folder (:func:`open_network_folder`).
    origins
        ``id, lon, lat``: the agents' homes.
    destinations
        ``id, lon, lat``: the telecentres (the first ``n_sites`` rows), then
        the head office and the workplaces.
    own_place
        ``(n_origins,)`` row of ``destinations`` each agent drives to when not
        teleworking (its commute).
    n_sites
        How many of the destinations are telecentres.
    max_minutes, min_saving, no_worse_off
        The plan's rules: the pairs not certified that cannot pass them (by
        the bounds of their times) need no bound.
    max_snap_m
        Points further than this from every road are not routed.
    client
        A ``dask.distributed.Client``, or None (every task in this process).
    progress
        Called with one line per step.

    Returns
    -------
    FolderTravel
        The table, the lower bounds of the pairs not certified, and figures.

    Raises
    ------
    InputError
        A destination outside every département, or a département with
        destinations but no network.
    """
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    areas = one_row_per_code(network.areas)
    n_orig, n_dest = len(origins), len(destinations)
    own_place = np.asarray(own_place, dtype=np.int64)
    d_lon = destinations["lon"].to_numpy(float)
    d_lat = destinations["lat"].to_numpy(float)
    agents = pd.DataFrame(
        {
            "agent_id": [f"o{k}" for k in range(n_orig)],
            "lon": origins["lon"].to_numpy(float),
            "lat": origins["lat"].to_numpy(float),
            "workplace_lon": d_lon[own_place],
            "workplace_lat": d_lat[own_place],
        }
    )
    groups, membership = group_agents(agents)
    # every destination is a "site" of the tasks (searched from every home of its buffer);
    # internal ids: a telecentre and a workplace may share an id
    sites = pd.DataFrame(
        {"telecentre_id": [f"d{k}" for k in range(n_dest)], "lon": d_lon, "lat": d_lat}
    )
    site_ids = sites["telecentre_id"].to_numpy()
    site_code = locate(d_lon, d_lat, areas)
    outside = np.flatnonzero(site_code == "")
    if outside.size:
        k = int(outside[0])
        what = "telecentre" if k < n_sites else "workplace"
        msg = (
            f"{what} '{destinations['id'].iloc[k]}' at ({d_lon[k]}, {d_lat[k]}) lies outside every "
            f"département of {network.path} ({outside.size} destination(s) do): check its "
            "coordinates, or add that département (its polygon and its road network)."
        )
        raise InputError(msg)
    opts = NationalOptions(
        max_minutes=SEARCH_MINUTES if max_minutes is None else max_minutes,
        min_saving=min_saving,
        no_worse_off=no_worse_off,
        buffer_km=network.buffer_km,
        widen_rounds=network.widen_rounds,
    )
    homes = groups.drop_duplicates("home_id")[["home_id", "lon", "lat"]].reset_index(drop=True)
    works = groups.drop_duplicates("workplace_id")[
        ["workplace_id", "workplace_lon", "workplace_lat"]
    ].reset_index(drop=True)
    work_code = locate(works["workplace_lon"].to_numpy(), works["workplace_lat"].to_numpy(), areas)
    work_code_of = dict(zip(works["workplace_id"], work_code, strict=True))
    inside = within_buffers(homes["lon"].to_numpy(), homes["lat"].to_numpy(), areas, opts.buffer_km)
    parent = network.path / "work"
    parent.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="run-", dir=parent))
    try:
        tasks = _tasks(
            groups, homes, works, work_code, sites, site_code, inside, network.sources, opts,
            work_dir, areas,
        )  # fmt: skip
        say(f"{n_orig} agents at {len(homes)} homes; {len(tasks)} départements to route")
        results = _run(tasks, client, say)
        labels = [t.code for t in tasks]
        read: dict[Path, pd.DataFrame] = {}

        def evaluate() -> _Evaluation:
            return _Evaluation.of(
                work_dir, labels, groups, work_code_of, inside, sites, site_ids, site_code,
                results, opts, read,
            )  # fmt: skip

        state = evaluate()
        widened = _widen(
            state, evaluate, groups, homes, works, sites, areas, inside, network, opts, work_dir,
            results, labels, client, say,
        )  # fmt: skip
        state = widened[0]
        origins_read = _read(work_dir / ORIGINS, labels, read)
        horizons_read = _read(work_dir / HORIZONS, labels, read)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    home_of = pd.Index(homes["home_id"]).get_indexer(groups["home_id"].to_numpy()[membership])
    travel = state.travel
    certified = travel["certified"].to_numpy(bool)
    kinds = travel["kind"].to_numpy()
    values = ("minutes_to", "km_to", "minutes_back", "km_back")
    # site rows (every destination): by home
    rows = travel[(kinds == "site") & certified]
    h = pd.Index(homes["home_id"]).get_indexer(rows["origin_id"].to_numpy())
    j = pd.Index(site_ids).get_indexer(rows["destination_id"].to_numpy())
    keep = (h >= 0) & (j >= 0)
    per_home = {v: np.full((len(homes), n_dest), np.nan) for v in values}
    known = np.zeros((len(homes), n_dest), dtype=bool)
    for v in values:
        per_home[v][h[keep], j[keep]] = rows[v].to_numpy(float)[keep]
    known[h[keep], j[keep]] = True
    table = {v: per_home[v][home_of] for v in values}
    sure = known[home_of]
    # commutes: searched without bound, certified on their own
    commute = state.commute
    work_rows = travel[(kinds == "workplace") & certified].set_index(
        ["origin_id", "destination_id"]
    )
    key = pd.MultiIndex.from_frame(groups[["home_id", "workplace_id"]])
    found = work_rows.reindex(key)
    g_reason = commute["reason"].to_numpy()
    g_sure = np.asarray(found["certified"].fillna(False).to_numpy(bool)) & (g_reason == "")
    rows_i = np.arange(n_orig)
    a_sure = g_sure[membership]
    for v in values:
        column = table[v]
        column[rows_i[a_sure], own_place[a_sure]] = found[v].to_numpy(float)[membership][a_sure]
    sure[rows_i[a_sure], own_place[a_sure]] = True
    a_open = ~a_sure
    sure[rows_i[a_open], own_place[a_open]] = False
    for v in values:
        table[v][rows_i[a_open], own_place[a_open]] = np.nan

    # snapping, as the tasks found it where a point surely joins its merged-network road
    o_snap = _snap_m(origins_read, "origin_id", homes["home_id"].to_numpy())[home_of]
    own_h = horizons_read[horizons_read["own"].to_numpy(bool)]
    d_snap = _snap_m(own_h, "destination_id", site_ids)
    o_ok = ~(o_snap > max_snap_m)
    d_ok = ~(d_snap > max_snap_m)
    reason = np.full((n_orig, n_dest), REASON_NOT_CERTIFIED, dtype=object)
    finite = np.isfinite(table["minutes_to"]) & np.isfinite(table["minutes_back"])
    reason[sure & finite] = ""
    reason[sure & ~finite] = REASON_NO_ROUTE
    commute_reason = np.where(
        np.isin(
            g_reason, [REASON_HOME_OUTSIDE, REASON_WORKPLACE_OUTSIDE, REASON_COMMUTE_UNCERTIFIED]
        ),
        REASON_COMMUTE_NOT_CERTIFIED,
        REASON_NO_ROUTE,
    )[membership]
    reason[rows_i[a_open], own_place[a_open]] = commute_reason[a_open]
    reason[:, ~d_ok] = REASON_DESTINATION_FAR
    reason[~o_ok, :] = REASON_HOME_FAR
    for v in values:
        table[v][reason != ""] = np.nan
    long = pd.DataFrame(
        {
            "origin_id": np.repeat(origins["id"].astype(str).to_numpy(), n_dest),
            "destination_id": np.tile(destinations["id"].astype(str).to_numpy(), n_orig),
            "minutes_to": table["minutes_to"].ravel(),
            "km_to": table["km_to"].ravel(),
            "minutes_back": table["minutes_back"].ravel(),
            "km_back": table["km_back"].ravel(),
            "reason": reason.ravel(),
        }
    )
    elapsed = time.perf_counter() - started
    result = TravelTable(
        table=long,
        origins=pd.DataFrame(
            {"id": origins["id"].astype(str).to_numpy(), "snap_m": o_snap, "routed": o_ok}
        ),
        destinations=pd.DataFrame(
            {"id": destinations["id"].astype(str).to_numpy(), "snap_m": d_snap, "routed": d_ok}
        ),
        seconds=elapsed,
    )
    lower = _lower_bounds(state.unknown, groups, membership, origins, destinations, n_sites)
    lower = lower[
        ~sure[lower["origin"].to_numpy(), lower["destination"].to_numpy()]
        & o_ok[lower["origin"].to_numpy()]
    ].reset_index(drop=True)
    commute_open = reason[rows_i, own_place] == REASON_COMMUTE_NOT_CERTIFIED
    uncertain_commutes = int(commute_open.sum())
    site_part = reason[:, :n_sites]
    summary = {
        "departements": len(tasks),
        "pairs": int(n_orig * n_sites),
        "pairs_certified": int((sure[:, :n_sites]).sum()),
        "pairs_not_certified": int((site_part == REASON_NOT_CERTIFIED).sum()),
        "pairs_not_certified_maybe_eligible": len(lower),
        "commutes_not_certified": uncertain_commutes,
        "buffer_km": network.buffer_km,
        "widened": widened[1],
        "task_cpu_s": round(sum(float(r.get("cpu_s", 0.0)) for r in results), 3),
        "tasks": [{k: v for k, v in r.items() if k != "pid"} for r in results],
    }
    logger.info(
        "folder travel table %d x %d in %.3f s: %d site pairs not certified, %d commutes",
        n_orig,
        n_dest,
        elapsed,
        summary["pairs_not_certified"],
        uncertain_commutes,
    )
    return FolderTravel(
        travel=result,
        lower=lower,
        commutes_not_certified=uncertain_commutes,
        commute_open=commute_open,
        uncertified=(reason[:, :n_sites] == REASON_NOT_CERTIFIED).any(axis=1),
        summary=summary,
    )


def _snap_m(frame: pd.DataFrame, column: str, ids: np.ndarray) -> np.ndarray:
    """Each point's access leg: the least of the tasks where its road is surely its own."""
    alike = frame[frame["alike"].to_numpy(bool)]
    best = alike.groupby(column)["snap_m"].min().reindex(ids).to_numpy(float)
    anywhere = frame.groupby(column)["snap_m"].min().reindex(ids).to_numpy(float)
    return np.where(np.isnan(best), anywhere, best)


def _lower_bounds(
    unknown: pd.DataFrame,
    groups: pd.DataFrame,
    membership: np.ndarray,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    n_sites: int,
) -> pd.DataFrame:
    """Per agent and telecentre not certified that may be eligible: its lower bounds.

    Times are the extracts' bounds (:func:`.plan._unknown_pairs`); km the
    straight line between the two points, less 1 % for the projection's
    scale error (no road and access legs are shorter).
    """
    pairs = unknown[unknown["site"].to_numpy(np.int64) < n_sites]
    agent_group = pd.DataFrame({"origin": np.arange(len(membership)), "group": membership})
    rows = agent_group.merge(pairs, on="group", how="inner")
    i = rows["origin"].to_numpy(np.int64)
    j = rows["site"].to_numpy(np.int64)
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    ox, oy = to_metric.transform(origins["lon"].to_numpy(float), origins["lat"].to_numpy(float))
    dx, dy = to_metric.transform(
        destinations["lon"].to_numpy(float), destinations["lat"].to_numpy(float)
    )
    line_km = (
        np.hypot(np.asarray(ox)[i] - np.asarray(dx)[j], np.asarray(oy)[i] - np.asarray(dy)[j])
        / 1000.0
        / 1.01
    )
    return pd.DataFrame(
        {
            "origin": i,
            "destination": j,
            "minutes_to": rows["lower_to"].to_numpy(float),
            "minutes_back": rows["lower_back"].to_numpy(float),
            "km_to": line_km,
            "km_back": line_km,
        }
    ).sort_values(["origin", "destination"], ignore_index=True)


def _widen(
    state: _Evaluation,
    evaluate: Any,
    groups: pd.DataFrame,
    homes: pd.DataFrame,
    works: pd.DataFrame,
    sites: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    inside: dict[str, np.ndarray],
    network: NetworkFolder,
    opts: NationalOptions,
    work_dir: Path,
    results: list[dict[str, Any]],
    labels: list[str],
    client: Any,
    say: Progress,
) -> tuple[_Evaluation, list[dict[str, Any]]]:
    """Route the pairs and commutes not certified again, in wider regions (as a national plan).

    Every pair not certified that may be eligible by its bounds is routed
    again (no plan prices them out here: the plan comes later); ``results``
    and ``labels`` grow with the new tasks.
    """
    widened: list[dict[str, Any]] = []
    if network.widen is None or opts.widen_rounds == 0:
        return state, widened
    anywhere = np.zeros(len(homes), dtype=bool)
    for rows in inside.values():
        anywhere[rows] = True
    astray = homes["home_id"].to_numpy()[~anywhere]
    for round_ in range(1, opts.widen_rounds + 1):
        km = opts.margin_km(round_)
        todo_sites, todo_work = state.unresolved(groups)
        todo_sites = todo_sites[~todo_sites["home_id"].isin(astray)]
        todo_work = todo_work[~todo_work["home_id"].isin(astray)]
        if len(todo_sites) == 0 and len(todo_work) == 0:
            break
        wide = _wide_tasks(
            todo_sites, todo_work, homes, works, sites, areas, network.widen, km, opts, work_dir,
            prefix=f"{_WIDE}{km:g}km-",
        )  # fmt: skip
        if not wide:
            break
        say(
            f"{len(todo_sites)} pair(s) and {len(todo_work)} commute(s) not certified: "
            f"routed again in {len(wide)} extract(s) of their region and {km:g} km around"
        )
        done = _run(wide, client, say)
        results += done
        labels += [t.code for t in wide]
        state = evaluate()
        left_sites, left_work = state.unresolved(groups)
        widened.append(
            {
                "margin_km": km,
                "extracts": len(wide),
                "pairs_before": len(todo_sites),
                "commutes_before": len(todo_work),
                "pairs_after": len(left_sites),
                "commutes_after": len(left_work),
            }
        )
    return state, widened


def road_access(network: NetworkFolder, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Each point's nearest point of the nearest road, in its own département's extract.

    Parameters
    ----------
    network
        The folder.
    lon, lat
        Points, WGS84 degrees.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` longitude and latitude of each point's road access (the
        point itself where it lies in no département).
    """
    import shapely

    from optimizer.travel import snap_points

    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.column_stack([lon, lat])
    code = locate(lon, lat, one_row_per_code(network.areas))
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
    for here in sorted(set(code.tolist()) - {""}):
        if here not in network.sources:
            continue
        rows = np.flatnonzero(code == here)
        routing = network.sources[here].load().routing
        snap = snap_points(routing, lon[rows], lat[rows])
        points = shapely.line_interpolate_point(
            routing.geometry[snap.edge], snap.fraction, normalized=True
        )
        x, y = to_wgs.transform(shapely.get_x(points), shapely.get_y(points))
        out[rows] = np.column_stack([x, y])
    return out
