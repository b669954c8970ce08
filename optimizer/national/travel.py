"""The travel stage on a national network folder: département tasks, one plain travel table.

A network folder (département boundaries and their OpenStreetMap files, see
:mod:`.files`) is never one routable graph. :func:`folder_travel` computes
the travel stage of :func:`optimizer.pipeline.run` on it with the national
machinery: one task per département (:mod:`.routing`, :mod:`.tasks`, in this
process or on Dask workers), its buffered extract and certificates
(:mod:`.extracts`), the pairs no extract certified routed again in wider
regions (:mod:`.widen`, the same loop as a national plan's), and returns the
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
(:func:`.bounds.unknown_pairs`): the pipeline solves the same mode once more
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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.national.evaluation import Evaluation, access_legs
from optimizer.national.folder import NetworkFolder as NetworkFolder
from optimizer.national.folder import open_network_folder as open_network_folder
from optimizer.national.folder import road_access as road_access
from optimizer.national.groups import group_agents, locate, one_row_per_code
from optimizer.national.options import (
    REASON_COMMUTE_UNCERTIFIED,
    REASON_HOME_OUTSIDE,
    REASON_WORKPLACE_OUTSIDE,
    NationalOptions,
)
from optimizer.national.routing import Places, Routing, departement_tasks
from optimizer.national.tasks import HORIZONS, ORIGINS
from optimizer.national.widen import WidenPolicy, widen_unresolved
from optimizer.network import Progress
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
    own_place = np.asarray(own_place, dtype=np.int64)
    places, membership, opts = _folder_places(
        network, origins, destinations, own_place, n_sites, (max_minutes, min_saving, no_worse_off)
    )
    say = progress or (lambda _msg: None)
    routed = _route_folder(network, places, opts, client, say, len(origins))
    return _folder_travel(
        network, routed, places, membership, origins, destinations, own_place,
        n_sites=n_sites, max_snap_m=max_snap_m, started=started,
    )  # fmt: skip


def _folder_places(
    network: NetworkFolder,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    own_place: np.ndarray,
    n_sites: int,
    rules: tuple[float | None, float, bool],
) -> tuple[Places, np.ndarray, NationalOptions]:
    """Group the agents, locate the destinations (every one a "site" of the tasks).

    Returns the places, each agent's group and the options of the tasks
    (``rules``: ``max_minutes, min_saving, no_worse_off``).
    """
    areas = one_row_per_code(network.areas)
    groups, membership = group_agents(_agents(origins, destinations, own_place))
    site_code = _locate_destinations(network, destinations, n_sites, areas, own_place)
    # every destination is a "site" of the tasks (searched from every home of its buffer);
    # internal ids: a telecentre and a workplace may share an id
    sites = pd.DataFrame(
        {
            "telecentre_id": [f"d{k}" for k in range(len(destinations))],
            "lon": destinations["lon"].to_numpy(float),
            "lat": destinations["lat"].to_numpy(float),
        }
    )
    max_minutes, min_saving, no_worse_off = rules
    opts = NationalOptions(
        max_minutes=SEARCH_MINUTES if max_minutes is None else max_minutes,
        min_saving=min_saving,
        no_worse_off=no_worse_off,
        buffer_km=network.buffer_km,
        widen_rounds=network.widen_rounds,
    )
    return Places.of(groups, sites, site_code, areas, opts.buffer_km), membership, opts


def _folder_travel(
    network: NetworkFolder,
    routed: _Routed,
    places: Places,
    membership: np.ndarray,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    own_place: np.ndarray,
    *,
    n_sites: int,
    max_snap_m: float,
    started: float,
) -> FolderTravel:
    """Build the plain travel table, the lower bounds and the figures from what was routed."""
    grid = _Grid.of(routed.state, places, membership, own_place)
    o_snap = access_legs(routed.origins, "origin_id", places.homes["home_id"].to_numpy())[
        grid.home_of
    ]
    own_h = routed.horizons[routed.horizons["own"].to_numpy(bool)]
    d_snap = access_legs(own_h, "destination_id", places.site_ids)
    o_ok, d_ok = ~(o_snap > max_snap_m), ~(d_snap > max_snap_m)
    reason = grid.reasons(o_ok, d_ok)
    elapsed = time.perf_counter() - started
    result = TravelTable(
        table=grid.long_table(origins, destinations, reason),
        origins=pd.DataFrame(
            {"id": origins["id"].astype(str).to_numpy(), "snap_m": o_snap, "routed": o_ok}
        ),
        destinations=pd.DataFrame(
            {"id": destinations["id"].astype(str).to_numpy(), "snap_m": d_snap, "routed": d_ok}
        ),
        seconds=elapsed,
    )
    lower = _lower_bounds(
        routed.state.unknown, places.groups, membership, origins, destinations, n_sites
    )
    lower = lower[
        ~grid.sure[lower["origin"].to_numpy(), lower["destination"].to_numpy()]
        & o_ok[lower["origin"].to_numpy()]
    ].reset_index(drop=True)
    commute_open = reason[np.arange(len(origins)), own_place] == REASON_COMMUTE_NOT_CERTIFIED
    summary = _summary(network, routed, grid.sure, reason, n_sites, len(lower), commute_open)
    logger.info(
        "folder travel table %d x %d in %.3f s: %d site pairs not certified, %d commutes",
        len(origins),
        len(destinations),
        elapsed,
        summary["pairs_not_certified"],
        summary["commutes_not_certified"],
    )
    return FolderTravel(
        travel=result,
        lower=lower,
        commutes_not_certified=summary["commutes_not_certified"],
        commute_open=commute_open,
        uncertified=(reason[:, :n_sites] == REASON_NOT_CERTIFIED).any(axis=1),
        summary=summary,
    )


def _agents(
    origins: pd.DataFrame, destinations: pd.DataFrame, own_place: np.ndarray
) -> pd.DataFrame:
    """One agent per origin, driving to its own place (``o0``, ``o1``, ... ids)."""
    d_lon = destinations["lon"].to_numpy(float)
    d_lat = destinations["lat"].to_numpy(float)
    return pd.DataFrame(
        {
            "agent_id": [f"o{k}" for k in range(len(origins))],
            "lon": origins["lon"].to_numpy(float),
            "lat": origins["lat"].to_numpy(float),
            "workplace_lon": d_lon[own_place],
            "workplace_lat": d_lat[own_place],
        }
    )


def _locate_destinations(
    network: NetworkFolder,
    destinations: pd.DataFrame,
    n_sites: int,
    areas: gpd.GeoDataFrame,
    own_place: np.ndarray,
) -> np.ndarray:
    """Return each destination's département; raise when one in use lies outside every one.

    A destination no agent drives to and no telecentre (the head office when
    every agent has its own workplace) is located in the nearest département
    instead: it is routed there, off its roads, and its pairs say so.
    """
    d_lon = destinations["lon"].to_numpy(float)
    d_lat = destinations["lat"].to_numpy(float)
    site_code = locate(d_lon, d_lat, areas)
    unused = np.ones(len(destinations), dtype=bool)
    unused[:n_sites] = False
    unused[np.asarray(own_place, dtype=np.int64)] = False
    astray = np.flatnonzero((site_code == "") & unused)
    if astray.size:
        metric = areas.to_crs(settings.WORKING_CRS).geometry.to_numpy()
        points = gpd.GeoSeries(
            gpd.points_from_xy(d_lon[astray], d_lat[astray]), crs=settings.INPUT_CRS
        ).to_crs(settings.WORKING_CRS)
        for k, point in zip(astray.tolist(), points.to_numpy(), strict=True):
            site_code[k] = areas["code"].to_numpy()[int(np.argmin(shapely.distance(metric, point)))]
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
    return site_code


@dataclass(frozen=True)
class _Routed:
    """What routing a folder gave: the last evaluation, the widening, the tasks' tables."""

    state: Evaluation
    widened: list[dict[str, Any]]
    results: list[dict[str, Any]]
    n_tasks: int
    origins: pd.DataFrame  # every task's origins table
    horizons: pd.DataFrame  # every task's horizons table


def _route_folder(
    network: NetworkFolder,
    places: Places,
    opts: NationalOptions,
    client: Any,
    say: Progress,
    n_origins: int,
) -> _Routed:
    """Route the départements, widen where not certified, read the tables (then delete them)."""
    parent = network.path / "work"
    parent.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="run-", dir=parent))
    try:
        tasks = departement_tasks(places, network.sources, opts, work_dir)
        say(f"{n_origins} agents at {len(places.homes)} homes; {len(tasks)} départements to route")
        routing = Routing(work_dir, client, say)
        routing.run(tasks)
        evaluate = partial(Evaluation.of, routing, places, opts)
        state, widened = widen_unresolved(
            evaluate(), evaluate, places, routing, network.widen, opts, WidenPolicy()
        )
        return _Routed(
            state=state,
            widened=widened,
            results=routing.results,
            n_tasks=len(tasks),
            origins=routing.read(ORIGINS),
            horizons=routing.read(HORIZONS),
        )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


#: The figures of each pair in the travel table.
_VALUES = ("minutes_to", "km_to", "minutes_back", "km_back")


@dataclass(frozen=True)
class _Grid:
    """The certified times, agents x destinations (NaN elsewhere), and their commutes."""

    table: dict[str, np.ndarray]  # each of _VALUES: (n_origins, n_destinations)
    sure: np.ndarray  # certified
    home_of: np.ndarray  # each agent's home (row of the homes)
    own_place: np.ndarray
    a_open: np.ndarray  # the agent's commute is not certified
    commute_reason: np.ndarray  # each agent's reason for its commute, when open

    @classmethod
    def of(
        cls, state: Evaluation, places: Places, membership: np.ndarray, own_place: np.ndarray
    ) -> _Grid:
        """Spread the certified site rows by home, then set each agent's commute."""
        groups, homes = places.groups, places.homes
        n_dest = len(places.sites)
        home_of = pd.Index(homes["home_id"]).get_indexer(groups["home_id"].to_numpy()[membership])
        travel = state.travel
        certified = travel["certified"].to_numpy(bool)
        kinds = travel["kind"].to_numpy()
        # site rows (every destination): by home
        rows = travel[(kinds == "site") & certified]
        h = pd.Index(homes["home_id"]).get_indexer(rows["origin_id"].to_numpy())
        j = pd.Index(places.site_ids).get_indexer(rows["destination_id"].to_numpy())
        keep = (h >= 0) & (j >= 0)
        per_home = {v: np.full((len(homes), n_dest), np.nan) for v in _VALUES}
        known = np.zeros((len(homes), n_dest), dtype=bool)
        for v in _VALUES:
            per_home[v][h[keep], j[keep]] = rows[v].to_numpy(float)[keep]
        known[h[keep], j[keep]] = True
        table = {v: per_home[v][home_of] for v in _VALUES}
        sure = known[home_of]
        # commutes: searched without bound, certified on their own
        work_rows = travel[(kinds == "workplace") & certified].set_index(
            ["origin_id", "destination_id"]
        )
        found = work_rows.reindex(pd.MultiIndex.from_frame(groups[["home_id", "workplace_id"]]))
        g_reason = state.commute["reason"].to_numpy()
        g_sure = np.asarray(found["certified"].fillna(False).to_numpy(bool)) & (g_reason == "")
        return cls._with_commutes(table, sure, home_of, own_place, g_sure[membership], found,
                                  membership, g_reason)  # fmt: skip

    @classmethod
    def _with_commutes(
        cls,
        table: dict[str, np.ndarray],
        sure: np.ndarray,
        home_of: np.ndarray,
        own_place: np.ndarray,
        a_sure: np.ndarray,
        found: pd.DataFrame,
        membership: np.ndarray,
        g_reason: np.ndarray,
    ) -> _Grid:
        """Set each agent's commute: its certified times, else NaN and not sure."""
        rows_i = np.arange(len(membership))
        for v in _VALUES:
            column = table[v]
            column[rows_i[a_sure], own_place[a_sure]] = found[v].to_numpy(float)[membership][a_sure]
        sure[rows_i[a_sure], own_place[a_sure]] = True
        a_open = ~a_sure
        sure[rows_i[a_open], own_place[a_open]] = False
        for v in _VALUES:
            table[v][rows_i[a_open], own_place[a_open]] = np.nan
        commute_reason = np.where(
            np.isin(
                g_reason,
                [REASON_HOME_OUTSIDE, REASON_WORKPLACE_OUTSIDE, REASON_COMMUTE_UNCERTIFIED],
            ),
            REASON_COMMUTE_NOT_CERTIFIED,
            REASON_NO_ROUTE,
        )[membership]
        return cls(table, sure, home_of, own_place, a_open, commute_reason)

    def reasons(self, o_ok: np.ndarray, d_ok: np.ndarray) -> np.ndarray:
        """Each pair's reason ("" where usable); the times of the others set to NaN.

        ``o_ok``, ``d_ok``: the origins and destinations within the snapping limit.
        """
        table, sure, own_place, a_open = self.table, self.sure, self.own_place, self.a_open
        n_orig = len(own_place)
        rows_i = np.arange(n_orig)
        reason = np.full(sure.shape, REASON_NOT_CERTIFIED, dtype=object)
        finite = np.isfinite(table["minutes_to"]) & np.isfinite(table["minutes_back"])
        reason[sure & finite] = ""
        reason[sure & ~finite] = REASON_NO_ROUTE
        reason[rows_i[a_open], own_place[a_open]] = self.commute_reason[a_open]
        reason[:, ~d_ok] = REASON_DESTINATION_FAR
        reason[~o_ok, :] = REASON_HOME_FAR
        for v in _VALUES:
            table[v][reason != ""] = np.nan
        return reason

    def long_table(
        self, origins: pd.DataFrame, destinations: pd.DataFrame, reason: np.ndarray
    ) -> pd.DataFrame:
        """Return the table a plain run writes: one row per agent and destination."""
        n_orig, n_dest = len(origins), len(destinations)
        table = self.table
        return pd.DataFrame(
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


def _summary(
    network: NetworkFolder,
    routed: _Routed,
    sure: np.ndarray,
    reason: np.ndarray,
    n_sites: int,
    n_lower: int,
    commute_open: np.ndarray,
) -> dict[str, Any]:
    """Figures: tasks, pairs certified and not, commutes not certified, widening."""
    n_orig = len(reason)
    results = routed.results
    return {
        "departements": routed.n_tasks,
        "pairs": int(n_orig * n_sites),
        "pairs_certified": int((sure[:, :n_sites]).sum()),
        "pairs_not_certified": int((reason[:, :n_sites] == REASON_NOT_CERTIFIED).sum()),
        "pairs_not_certified_maybe_eligible": n_lower,
        "commutes_not_certified": int(commute_open.sum()),
        "buffer_km": network.buffer_km,
        "widened": routed.widened,
        "task_cpu_s": round(sum(float(r.get("cpu_s", 0.0)) for r in results), 3),
        "tasks": [{k: v for k, v in r.items() if k != "pid"} for r in results],
    }


def _lower_bounds(
    unknown: pd.DataFrame,
    groups: pd.DataFrame,
    membership: np.ndarray,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    n_sites: int,
) -> pd.DataFrame:
    """Per agent and telecentre not certified that may be eligible: its lower bounds.

    Times are the extracts' bounds (:func:`.bounds.unknown_pairs`); km the
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
