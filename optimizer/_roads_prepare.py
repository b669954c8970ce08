"""A local OSM file made into a timed, compiled road network on arrays (no networkx).

:func:`prepare_osm_file` is what :func:`optimizer.network.load_network` does
with an OSM file: read its drivable ways (:mod:`optimizer._osm`), build and
simplify osmnx's graph of them on arrays (:mod:`optimizer._roads`), keep the
largest strongly connected part, cut the edges into road pieces and time
them (:mod:`optimizer.speed_model`), and compile the routing arrays; the
osmnx graph is built from the arrays when first read (:mod:`optimizer._roads_graph`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

import optimizer.settings as settings
from optimizer._osm import check_drivable, drivable_located, reading_osm
from optimizer._roads import Roads, largest_strong_part, raw_roads, simplify_roads, streets_per_node
from optimizer._roads_graph import Columns, build_from, osmnx_graph_attrs
from optimizer.errors import NetworkError
from optimizer.roadnet import GraphRecipe, RoadNetwork, RoutingArrays, plain_tag, with_shares
from optimizer.routing import round_as_python
from optimizer.speed_model import (
    EdgePieces,
    EdgeTimes,
    SpeedModel,
    pieces_from_lists,
    time_edges,
    time_shares,
)

logger = logging.getLogger(__name__)


def prepare_osm_file(
    path: Path,
    *,
    speeds: Mapping[str, float],
    profile_name: str,
    model: SpeedModel,
    approximate: bool,
) -> RoadNetwork:
    """Read, simplify, time and compile an OSM file (what ``load_network`` does), on arrays.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.
    speeds, profile_name
        The resolved speed profile.
    model
        The resolved speed model.
    approximate
        Whether the file is an approximation of the real roads.

    Returns
    -------
    RoadNetwork
        The network, its graph built when first read.

    Raises
    ------
    NetworkError
        The file is not readable OSM data or has no drivable road.
    """
    started = time.perf_counter()
    with reading_osm(path):
        ids, lon, lat, node_tags, ways, counts = drivable_located(path)
    check_drivable(path, counts)
    roads = simplify_roads(raw_roads(ids, lon, lat, node_tags, ways))
    logger.info("%s: %s -> %d nodes, %d edges", path, counts, roads.node_ids.size, roads.n_edges)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    source = str(path)
    n_before = roads.node_ids.size
    roads = _largest_part(roads, source)
    dropped = n_before - roads.node_ids.size
    pieces = _pieces(roads, speeds, model)
    times = time_edges(pieces, model)
    routing = _routing(roads, pieces, times)
    graph_attrs = {
        **osmnx_graph_attrs(),
        "approximate": approximate,
        "speed_profile": profile_name,
        "speed_model": model.name,
    }
    recipe = _recipe(roads, Columns(roads, times.seconds, graph_attrs))
    elapsed = time.perf_counter() - started
    logger.info(
        "network %s: %d nodes, %d edges (%d routing edges), prepared in %.2f s",
        source,
        roads.node_ids.size,
        roads.n_edges,
        routing.n_edges,
        elapsed,
    )
    return RoadNetwork(
        graph=recipe,
        routing=routing,
        source=source,
        approximate=approximate,
        speed_profile=profile_name,
        dropped_nodes=dropped,
        timings={"prepare_s": elapsed, "read_s": read_s},
        speed_model=model,
        pieces=pieces,
        edge_times=times,
    )


def _largest_part(roads: Roads, source: str) -> Roads:
    """Return the largest strongly connected part of the roads, saying what it left out."""
    if roads.n_edges == 0:
        msg = f"{source}: the network has no drivable road (0 edges). Check the extract."
        raise NetworkError(msg)
    n_before = roads.node_ids.size
    keep = largest_strong_part(roads)
    if not keep.all():
        roads = roads.subset(keep)
    dropped = n_before - roads.node_ids.size
    if dropped:
        logger.info(
            "kept the largest strongly connected part: %d of %d nodes (%d dropped)",
            roads.node_ids.size,
            n_before,
            dropped,
        )
    return roads


def _recipe(roads: Roads, columns: Columns) -> GraphRecipe:
    """Return what builds the osmnx graph of the roads from their columns, when first read."""
    return GraphRecipe(
        functools.partial(build_from, columns),  # no lambdas: a network pickles (Dask)
        n_nodes=int(roads.node_ids.size),
        n_edges=roads.n_edges,
        bounds=(
            float(roads.lon.min()),
            float(roads.lat.min()),
            float(roads.lon.max()),
            float(roads.lat.max()),
        ),
        columns=columns,
    )


def _pieces(roads: Roads, speeds: Mapping[str, float], model: SpeedModel) -> EdgePieces:
    """Cut every edge into its segments (what ``edge_pieces`` reads from a graph)."""
    seg = roads.segs
    way = roads.seg_way[seg].tolist()
    highway_of = [plain_tag(a.get("highway")) for a in roads.way_attrs]
    maxspeed_of = [plain_tag(a.get("maxspeed")) for a in roads.way_attrs]
    vertex = roads.vertices()
    streets = streets_per_node(roads)
    return pieces_from_lists(
        n_edges=roads.n_edges,
        edge=np.repeat(np.arange(roads.n_edges, dtype=np.int64), np.diff(roads.ptr)),
        length=roads.seg_len[seg],
        highway=[highway_of[w] for w in way],
        maxspeed=[maxspeed_of[w] for w in way],
        control=roads.raw_control[roads.seg_v[seg]],
        lon=roads.raw_lon[vertex],
        lat=roads.raw_lat[vertex],
        node_lon=roads.lon,
        node_lat=roads.lat,
        junction_at_end=streets[roads.v] >= 3,
        speeds=speeds,
        model=model,
    )


def _routing(roads: Roads, pieces: EdgePieces, times: EdgeTimes) -> RoutingArrays:
    """Compile the routing arrays (what ``compile_routing`` makes of the timed graph)."""
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    x, y = (np.asarray(a, dtype=float) for a in to_metric.transform(roads.lon, roads.lat))
    tail, head, metres = roads.u, roads.v, roads.length
    # the graph's travel_time: rounded to the millisecond as Python rounds
    seconds = np.array(round_as_python(times.seconds, 3), dtype=float)
    order = np.lexsort((metres, seconds, head, tail))
    keep = np.ones(order.size, dtype=bool)
    keep[1:] = (np.diff(tail[order]) != 0) | (np.diff(head[order]) != 0)
    chosen = order[keep]
    # each chosen edge's line: its vertices, projected with the pieces
    first = roads.ptr[:-1] + np.arange(roads.n_edges)
    count = np.diff(roads.ptr)[chosen] + 1
    start = np.zeros(chosen.size, dtype=np.int64)
    np.cumsum(count[:-1], out=start[1:])
    take = np.repeat(first[chosen] - start, count) + np.arange(int(count.sum()))
    geometry = np.empty(chosen.size, dtype=object)
    if chosen.size:
        geometry[:] = shapely.linestrings(
            np.column_stack([pieces.vx[take], pieces.vy[take]]),
            indices=np.repeat(np.arange(chosen.size), count),
        )
    routing = RoutingArrays(
        node_ids=roads.node_ids,
        x=x,
        y=y,
        tail=tail[chosen],
        head=head[chosen],
        seconds=seconds[chosen],
        metres=metres[chosen],
        geometry=geometry,
        edge_source=chosen,
    )
    return with_shares(routing, time_shares(pieces, times))
