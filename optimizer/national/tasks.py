"""The per-département task: route its destinations in its buffered extract, write Parquet.

One task per département (run by Dask on a worker, or in the calling
process): it loads the département's extract, routes every home inside the
buffer to the sites in the extract's area (the département's own, and the
others' in its buffer: one shortest-path search per site and direction,
:func:`optimizer.travel.travel_table`, stopped at the longest acceptable
drive) and commuters to their workplaces there (unbounded: the commute
decides the saving), certifies each time against the extract's cut
(:mod:`.extracts`) and writes

- ``travel/departement=CODE/part.parquet``: ``origin_id, destination_id,
  kind ("site" or "workplace"), minutes_to, km_to, minutes_back, km_back,
  certified, own``: site pairs within the longest acceptable drive, and each
  home's own workplace; ``own`` where the destination lies in this
  département; a workplace row without a route (NaN) is ``certified`` only
  where a point lies beyond the snapping limit of the merged network too
  (the extract's roads and area prove it): the merged network has no route
  either;
- ``horizons/departement=CODE/part.parquet``: ``destination_id, kind,
  horizon_to, horizon_back`` (minutes from/to the nearest cut node; 0
  where not ``clear``), ``snap_m`` (how far the destination is from its
  road), ``alike`` (whether that road is surely its road in the merged
  network), ``clear`` (``alike``, and the road does not touch the cut: only
  then are its times certified or bounded here) and ``own``;
- ``origins/departement=CODE/part.parquet``: ``origin_id, out, in``: minutes
  from each home to the nearest cut node and back (0 where the home's road
  is not surely its merged-network road or touches the cut), ``snap_m`` and
  ``alike`` as for destinations, ``clear`` where its road is surely its
  merged-network road, routed, and away from the cut;
- ``extent/departement=CODE/part.parquet``: ``hull``: the convex hull of the
  extract's roads (WKT, working CRS): a point farther from it than from its
  own road cannot join a road of this extract;
- ``away/departement=CODE/part.parquet``: ``destination_id, near_m``: how far
  each other département's site is from the nearest road of this extract.

The last three bound the pairs no task certified
(:func:`optimizer.national.bounds.unknown_pairs`): for instance, a route from
a home to a site whose road is not in this extract leaves it through the
cut, so it drives at least ``out`` minutes.

It returns a small summary; the tables stay on disk.
"""

from __future__ import annotations

import logging
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from optimizer.national.extracts import Extract, NetworkSource
from optimizer.network import RoadNetwork, RoutingArrays
from optimizer.travel import snap_points, travel_table

logger = logging.getLogger(__name__)

TRAVEL = "travel"
HORIZONS = "horizons"
ORIGINS = "origins"
AWAY = "away"
EXTENT = "extent"
_TIMES = ("minutes_to", "km_to", "minutes_back", "km_back")


@dataclass(frozen=True)
class DepartementTask:
    """What one département's task routes.

    Attributes
    ----------
    code
        The département.
    source
        Gives the buffered extract on the worker.
    origins
        ``id, lon, lat``: distinct homes inside the buffer.
    sites
        ``id, lon, lat, own``: sites located in the département (``own``) or in its buffer.
    workplaces
        ``id, lon, lat, own``: workplaces located in the département (``own``) or in
        its buffer (then only for the commuters among ``origins``).
    commutes
        ``origin_id, destination_id``: the (home, workplace) pairs wanted.
    max_minutes
        Longest acceptable one-way drive to a site; longer site pairs are not kept.
    out_dir
        Folder of the Parquet tables.
    sites_file
        Parquet file of every site (``id, lon, lat, departement``), written once
        for all tasks: the other départements' sites' distance to this
        extract's roads is written (``away``).
    """

    code: str
    source: NetworkSource
    origins: pd.DataFrame
    sites: pd.DataFrame
    workplaces: pd.DataFrame
    commutes: pd.DataFrame
    max_minutes: float
    out_dir: str
    sites_file: str = ""


def route_departement(task: DepartementTask) -> dict[str, Any]:
    """Route one département and write its Parquet tables.

    Parameters
    ----------
    task
        The work.

    Returns
    -------
    dict
        ``code, origins, destinations, pairs, uncertified, nodes, load_s``
        (the extract's build or read), ``route_s`` (the searches),
        ``seconds`` (the whole task), ``cpu_s`` (its CPU time: below
        ``seconds`` when the core was shared), ``top_speed_kmh`` (the
        extract's fastest road), ``pid`` (the worker process) and
        ``peak_rss_mb`` (the peak memory of that process so far).
    """
    started = time.perf_counter()
    cpu_started = time.process_time()
    extract = task.source.load()
    loaded = time.perf_counter() - started
    routing = extract.routing
    table, destinations = _route(task, extract.network())
    routed = time.perf_counter() - started - loaded
    in_cut = np.zeros(routing.n_nodes, dtype=bool)
    in_cut[extract.cut] = True
    cut = (in_cut, *extract.horizons())
    horizons, lost = _destination_horizons(extract, cut, destinations)
    per_origin, homes = _origin_reach(extract, cut, task.origins)
    _certify(table, per_origin, horizons, lost)
    kept = _kept(table, task)
    extent, away = _extent_and_away(task, routing)
    folder = f"departement={task.code}"
    _write(kept, Path(task.out_dir) / TRAVEL / folder)
    _write(horizons, Path(task.out_dir) / HORIZONS / folder)
    _write(homes, Path(task.out_dir) / ORIGINS / folder)
    _write(away, Path(task.out_dir) / AWAY / folder)
    _write(extent, Path(task.out_dir) / EXTENT / folder)
    elapsed = time.perf_counter() - started
    logger.info(
        "département %s: %d homes x %d destinations, %d pairs kept in %.2f s",
        task.code,
        len(task.origins),
        len(destinations),
        len(kept),
        elapsed,
    )
    return {
        "code": task.code,
        "origins": len(task.origins),
        "destinations": len(destinations),
        "pairs": len(kept),
        "uncertified": int((~kept["certified"]).sum()),
        "nodes": routing.n_nodes,
        "load_s": round(loaded, 3),
        "route_s": round(routed, 3),
        "seconds": round(elapsed, 3),
        "cpu_s": round(time.process_time() - cpu_started, 3),
        "top_speed_kmh": float(np.max(routing.metres / np.maximum(routing.seconds, 1e-3))) * 3.6,
        "pid": os.getpid(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }


def _route(task: DepartementTask, network: RoadNetwork) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Route the task's pairs; return the table (``kind`` on each row) and the destinations."""
    # sites: searches bounded by the longest acceptable drive; workplaces: their commuters only
    commuters = task.origins[task.origins["id"].isin(set(task.commutes["origin_id"]))]
    table = pd.concat(
        [
            _table(network, task.origins, task.sites, task.max_minutes).assign(kind="site"),
            _table(network, commuters, task.workplaces, None).assign(kind="workplace"),
        ],
        ignore_index=True,
    )
    destinations = pd.concat(
        [task.sites.assign(kind="site"), task.workplaces.assign(kind="workplace")],
        ignore_index=True,
    )
    return table, destinations


def _destination_horizons(
    extract: Extract, cut: tuple[np.ndarray, np.ndarray, np.ndarray], destinations: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the ``horizons`` table, and where a destination is surely off every road.

    ``cut``: whether each node is in the extract's cut, the seconds from the
    nearest cut node to each node and from each node to the nearest.
    """
    routing = extract.routing
    in_cut, to_cut, from_cut = cut
    own = (
        destinations["own"].fillna(True).to_numpy(bool)
        if "own" in destinations
        else np.ones(len(destinations), dtype=bool)
    )
    # certificate: both points join the same roads as in the merged network, roads that do
    # not touch the cut, and the times stay under the horizons
    d_lon, d_lat = destinations["lon"].to_numpy(), destinations["lat"].to_numpy()
    snap_d = snap_points(routing, d_lon, d_lat)
    tail, head = routing.tail[snap_d.edge], routing.head[snap_d.edge]
    alike = extract.snaps_alike(d_lon, d_lat, snap_d.snap_m)
    # a destination that may join another road in the merged network, or a road timed
    # otherwise there (it touches the cut), certifies nothing and bounds nothing
    d_clear = alike & ~(in_cut[tail] | in_cut[head]) & snap_d.ok
    horizons = pd.DataFrame(
        {
            "destination_id": destinations["id"].astype(str).to_numpy(),
            "kind": destinations["kind"].to_numpy(),
            "horizon_to": np.where(d_clear, np.minimum(to_cut[tail], to_cut[head]) / 60.0, 0.0),
            "horizon_back": np.where(
                d_clear, np.minimum(from_cut[tail], from_cut[head]) / 60.0, 0.0
            ),
            "snap_m": snap_d.snap_m,
            "alike": alike,
            "clear": d_clear,
            "own": own,
        }
    )
    # beyond the snapping limit here, and surely in the merged network too
    return horizons, ~snap_d.ok & alike


def _origin_reach(
    extract: Extract, cut: tuple[np.ndarray, np.ndarray, np.ndarray], origins: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return each origin's minutes to and from the cut (by id), and the ``origins`` table."""
    routing = extract.routing
    in_cut, to_cut, from_cut = cut
    o_lon, o_lat = origins["lon"].to_numpy(), origins["lat"].to_numpy()
    snap_o = snap_points(routing, o_lon, o_lat)
    o_tail, o_head = routing.tail[snap_o.edge], routing.head[snap_o.edge]
    o_alike = extract.snaps_alike(o_lon, o_lat, snap_o.snap_m)
    per_origin = pd.DataFrame(
        {
            "clear": ~(in_cut[o_tail] | in_cut[o_head]) & o_alike,
            # from the origin to the nearest cut node, and from the nearest cut node to it
            "out": np.minimum(from_cut[o_tail], from_cut[o_head]) / 60.0,
            "in": np.minimum(to_cut[o_tail], to_cut[o_head]) / 60.0,
            # beyond the snapping limit here, and surely in the merged network too
            "lost": ~snap_o.ok & o_alike,
        },
        index=origins["id"].astype(str).to_numpy(),
    )
    clear = per_origin["clear"].to_numpy(bool)
    homes = pd.DataFrame(
        {
            "origin_id": per_origin.index.to_numpy(),
            "out": np.where(clear, per_origin["out"].to_numpy(float), 0.0),
            "in": np.where(clear, per_origin["in"].to_numpy(float), 0.0),
            "snap_m": snap_o.snap_m,
            "alike": o_alike,
            "clear": clear & snap_o.ok,
        }
    )
    return per_origin, homes


def _certify(
    table: pd.DataFrame, per_origin: pd.DataFrame, horizons: pd.DataFrame, lost: np.ndarray
) -> None:
    """Add ``certified`` and ``own`` to the routed ``table``.

    ``lost``: the destinations (rows of ``horizons``) surely beyond the
    snapping limit of the merged network too.
    """
    origin = per_origin.reindex(table["origin_id"].to_numpy())
    horizon = pd.DataFrame(
        {
            "h_to": horizons["horizon_to"].to_numpy(),
            "h_back": horizons["horizon_back"].to_numpy(),
            "clear": horizons["clear"].to_numpy(),
            "lost": lost,
            "own": horizons["own"].to_numpy(),
        },
        index=pd.MultiIndex.from_arrays(
            [horizons["kind"].to_numpy(), horizons["destination_id"].to_numpy()]
        ),
    )
    key = pd.MultiIndex.from_arrays([table["kind"].to_numpy(), table["destination_id"].to_numpy()])
    limits = horizon.reindex(key)
    # a route through the cut drives from the origin to the cut, then from the cut here
    certified = (
        origin["clear"].to_numpy(bool)
        & limits["clear"].to_numpy(bool)
        & (table["minutes_to"].to_numpy() <= origin["out"].to_numpy() + limits["h_to"].to_numpy())
        & (
            table["minutes_back"].to_numpy()
            <= limits["h_back"].to_numpy() + origin["in"].to_numpy()
        )
    )
    # no route: certified only where a point is beyond the snapping limit in the merged
    # network too (no road of it within the limit); a route the extract lacks is not proof
    lost = origin["lost"].to_numpy(bool) | limits["lost"].to_numpy(bool)
    no_route = ~(
        np.isfinite(table["minutes_to"].to_numpy(float))
        & np.isfinite(table["minutes_back"].to_numpy(float))
    )
    table["certified"] = np.where(no_route, lost, certified)
    table["own"] = limits["own"].to_numpy(bool)


def _kept(table: pd.DataFrame, task: DepartementTask) -> pd.DataFrame:
    """Keep the rows to write: site pairs within the limit, and the commutes wanted."""
    is_site = table["kind"].to_numpy() == "site"
    with np.errstate(invalid="ignore"):
        keep_site = is_site & (table["minutes_to"].to_numpy() <= task.max_minutes)
    wanted = pd.MultiIndex.from_frame(task.commutes[["origin_id", "destination_id"]])
    keep_work = ~is_site & pd.MultiIndex.from_frame(table[["origin_id", "destination_id"]]).isin(
        wanted
    )
    columns = ["origin_id", "destination_id", "kind", *_TIMES, "certified", "own"]
    return pd.DataFrame(table.loc[keep_site | keep_work, columns].reset_index(drop=True))


def _extent_and_away(
    task: DepartementTask, routing: RoutingArrays
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the ``extent`` table (the hull of the roads) and ``away`` (other sites' distance)."""
    points = routing.line_points().coords
    # the hull of one line through every vertex: the vertices' hull, without a point each
    roads = shapely.linestrings(points) if len(points) >= 2 else shapely.multipoints(points)
    extent = pd.DataFrame({"hull": [shapely.to_wkt(shapely.convex_hull(roads))]})
    others = pd.DataFrame({"id": [], "lon": [], "lat": []})
    if task.sites_file:
        every = pd.read_parquet(task.sites_file)
        others = every[every["departement"] != task.code]
    away = pd.DataFrame(
        {
            "destination_id": others["id"].astype(str).to_numpy(),
            "near_m": snap_points(
                routing, others["lon"].to_numpy(float), others["lat"].to_numpy(float)
            ).snap_m
            if len(others)
            else np.zeros(0),
        }
    )
    return extent, away


def _table(
    network: RoadNetwork, origins: pd.DataFrame, places: pd.DataFrame, limit: float | None
) -> pd.DataFrame:
    """Route ``origins`` x ``places`` (an empty table with its columns when either is empty)."""
    if len(origins) == 0 or len(places) == 0:
        columns = ["origin_id", "destination_id", *_TIMES, "reason"]
        return pd.DataFrame({c: pd.Series(dtype=float if c in _TIMES else str) for c in columns})
    return travel_table(network, origins, places[["id", "lon", "lat"]], limit=limit).table


def _write(frame: pd.DataFrame, folder: Path) -> None:
    """Write ``part.parquet`` in ``folder`` atomically (a retried task overwrites it whole)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(handle)
    frame.to_parquet(temp, index=False)
    Path(temp).replace(folder / "part.parquet")
