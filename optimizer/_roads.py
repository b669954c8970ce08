"""A local OSM file made into a timed, compiled road network on flat arrays (no networkx).

:func:`optimizer.network.load_network` used to build osmnx's graph of an
extract (``_create_graph``), simplify it (``simplify_graph``), then copy it,
time it edge by edge and compile it: most of its time went into networkx
dictionaries and shapely objects made one at a time. Here the same steps run
on the arrays of the drivable ways (:func:`optimizer._osm.drivable_located`):

1. osmnx's graph building, rule for rule: consecutive duplicate nodes
   dropped, one-way rules (``oneway`` values, roundabouts, reversed ways),
   each way's segments in its order and then (two-way roads) reversed,
   great-circle lengths by osmnx's own :func:`osmnx.distance.great_circle`;
2. osmnx's simplification with its default arguments, step for step and in
   the same order (endpoint rules, the paths from each endpoint, the first of
   parallel segments inside a path, edge keys, isolated rings removed), so
   that the merged edges and their order are those of ``simplify_graph``;
3. the largest strongly connected part (:mod:`scipy.sparse.csgraph`), the
   road pieces (:func:`optimizer.speed_model.pieces_from_lists`), their times
   and the routing arrays, straight from the arrays.

The osmnx graph (GraphML, plots) is built only when something reads
``network.graph``, from the same arrays and with the attributes osmnx and
:func:`optimizer.network.simplify` give it; the prepared-network cache writes
its columns without building it.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib.metadata import version
from itertools import groupby
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse import csgraph

import optimizer.settings as settings
from optimizer._osm import check_drivable, drivable_located, reading_osm
from optimizer.errors import NetworkError
from optimizer.roadnet import GraphRecipe, RoadNetwork, RoutingArrays, plain_tag, with_shares
from optimizer.speed_model import (
    EdgePieces,
    EdgeTimes,
    SpeedModel,
    pieces_from_lists,
    time_edges,
    time_shares,
)

logger = logging.getLogger(__name__)

#: osmnx's values of ``oneway`` meaning one-way, and one-way against the way's direction.
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})
#: Node controls (``highway`` tag of a node) and their code in the road pieces.
CONTROL_CODES = {"traffic_signals": 1, "stop": 2, "give_way": 3}


@dataclass(frozen=True)
class Roads:
    """A simplified road graph as arrays (osmnx's, edge for edge, in its order).

    Attributes
    ----------
    node_ids, lon, lat
        The graph's nodes, in graph order.
    node_raw
        Position of each graph node among the OSM nodes read (``raw_*``).
    raw_lon, raw_lat, raw_control
        Every OSM node read (the graph's and those inside merged edges): its
        location and control code (0: none, see :data:`CONTROL_CODES`).
    node_attrs
        osmnx's attributes of the OSM nodes other than ``x`` and ``y``, by raw
        position (none: absent).
    seg_u, seg_v, seg_len, seg_way, seg_reversed
        The unsimplified edges (road segments): raw positions of their ends,
        great-circle length, index into ``way_attrs``, whether it runs against its way.
    way_attrs
        The attributes osmnx gives the segments of each way (``osmid``, tags, ``oneway``).
    u, v, key
        The edges of the simplified graph (graph node positions), in ``graph.edges`` order.
    ptr, segs
        The segments of edge ``k``, in driving order, are ``segs[ptr[k]:ptr[k + 1]]``.
    merged
        Whether each edge was merged from a path (it then has a ``geometry``).
    length
        Length of each edge, m (the sum of its segments', as osmnx adds them).
    """

    node_ids: np.ndarray
    node_raw: np.ndarray
    raw_lon: np.ndarray
    raw_lat: np.ndarray
    raw_control: np.ndarray
    node_attrs: dict[int, dict[str, str]]
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_len: np.ndarray
    seg_way: np.ndarray
    seg_reversed: np.ndarray
    way_attrs: list[dict[str, Any]]
    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    ptr: np.ndarray
    segs: np.ndarray
    merged: np.ndarray
    length: np.ndarray

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.u.size)

    @property
    def lon(self) -> np.ndarray:
        """Longitude of each graph node."""
        return np.asarray(self.raw_lon[self.node_raw], dtype=float)

    @property
    def lat(self) -> np.ndarray:
        """Latitude of each graph node."""
        return np.asarray(self.raw_lat[self.node_raw], dtype=float)

    def vertices(self) -> np.ndarray:
        """Raw positions of every edge's vertices, edge after edge (``len(segs) + n_edges``)."""
        out = np.empty(self.segs.size + self.u.size, dtype=np.int64)
        first = self.ptr[:-1] + np.arange(self.u.size)  # where each edge's vertices start
        out[first] = self.seg_u[self.segs[self.ptr[:-1]]]
        rest = np.ones(out.size, dtype=bool)
        rest[first] = False
        out[rest] = self.seg_v[self.segs]
        return out

    def subset(self, keep_node: np.ndarray) -> Roads:
        """Return the graph without the nodes not in ``keep_node`` (and their edges), in order."""
        keep_edge = keep_node[self.u] & keep_node[self.v]
        count = np.diff(self.ptr)[keep_edge]
        ptr = np.zeros(count.size + 1, dtype=np.int64)
        np.cumsum(count, out=ptr[1:])
        take = np.repeat(keep_edge, np.diff(self.ptr))
        new_pos = np.cumsum(keep_node) - 1
        return replace(
            self,
            node_ids=self.node_ids[keep_node],
            node_raw=self.node_raw[keep_node],
            u=new_pos[self.u[keep_edge]],
            v=new_pos[self.v[keep_edge]],
            key=self.key[keep_edge],
            ptr=ptr,
            segs=self.segs[take],
            merged=self.merged[keep_edge],
            length=self.length[keep_edge],
        )


def raw_roads(
    node_ids: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    node_tags: Mapping[int, Mapping[str, str]],
    ways: list[tuple[int, list[int], Mapping[str, str]]],
) -> Roads:
    """Build osmnx's unsimplified graph of these nodes and ways (``_create_graph``) as arrays.

    Returns the graph with each segment an edge of its own (keys not set: see
    :func:`simplify_roads`).
    """
    useful_way = list(ox.settings.useful_tags_way)
    useful_node = list(ox.settings.useful_tags_node)
    position = {int(n): i for i, n in enumerate(node_ids.tolist())}
    tails: list[int] = []
    heads: list[int] = []
    owner: list[int] = []
    backwards: list[bool] = []
    way_attrs: list[dict[str, Any]] = []
    for w, (way_id, refs, tags) in enumerate(ways):
        attrs: dict[str, Any] = {"osmid": way_id}
        for tag in useful_way:
            if tag in tags:
                attrs[tag] = tags[tag]
        nodes = [position[group[0]] for group in groupby(refs)]
        one_way = attrs.get("oneway") in ONEWAY_VALUES or attrs.get("junction") == "roundabout"
        if one_way and attrs.get("oneway") in REVERSED_VALUES:
            nodes.reverse()
        attrs["oneway"] = one_way
        way_attrs.append(attrs)
        n = len(nodes) - 1
        tails.extend(nodes[:-1])
        heads.extend(nodes[1:])
        owner.extend([w] * n)
        backwards.extend([False] * n)
        if not one_way:
            tails.extend(nodes[1:])
            heads.extend(nodes[:-1])
            owner.extend([w] * n)
            backwards.extend([True] * n)
    seg_u = np.asarray(tails, dtype=np.int64)
    seg_v = np.asarray(heads, dtype=np.int64)
    length = ox.distance.great_circle(lat[seg_u], lon[seg_u], lat[seg_v], lon[seg_v])
    length = np.asarray(length, dtype=float)
    length[np.isnan(length)] = 0
    control = np.zeros(node_ids.size, dtype=np.int64)
    node_attrs: dict[int, dict[str, str]] = {}
    for node, tags in node_tags.items():
        p = position.get(int(node))
        if p is None:
            continue
        kept = {t: tags[t] for t in useful_node if t in tags}
        if kept:
            node_attrs[p] = kept
        control[p] = CONTROL_CODES.get(str(tags.get("highway")), 0)
    m = seg_u.size
    return Roads(
        node_ids=np.asarray(node_ids, dtype=np.int64),
        node_raw=np.arange(node_ids.size, dtype=np.int64),
        raw_lon=np.asarray(lon, dtype=float),
        raw_lat=np.asarray(lat, dtype=float),
        raw_control=control,
        node_attrs=node_attrs,
        seg_u=seg_u,
        seg_v=seg_v,
        seg_len=length,
        seg_way=np.asarray(owner, dtype=np.int64),
        seg_reversed=np.asarray(backwards, dtype=bool),
        way_attrs=way_attrs,
        u=seg_u,
        v=seg_v,
        key=np.zeros(m, dtype=np.int64),  # set by simplify_roads
        ptr=np.arange(m + 1, dtype=np.int64),
        segs=np.arange(m, dtype=np.int64),
        merged=np.zeros(m, dtype=bool),
        length=length,
    )


def _endpoints(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Apply osmnx's endpoint rules 1-3 (``_is_endpoint``, default arguments) to all nodes."""
    out_deg = np.bincount(u, minlength=n)
    in_deg = np.bincount(v, minlength=n)
    loop = np.zeros(n, dtype=bool)
    loop[u[u == v]] = True
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique(a[a != b] * n + b[a != b])
    neighbours = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
    neighbours = neighbours + loop  # a node that loops is its own neighbour
    degree = in_deg + out_deg
    two = (neighbours == 2) & ((degree == 2) | (degree == 4))
    return np.asarray(loop | (out_deg == 0) | (in_deg == 0) | ~two, dtype=bool)


def simplify_roads(raw: Roads) -> Roads:
    """Simplify an unsimplified graph as osmnx's ``simplify_graph`` does (default arguments).

    Mirrors osmnx 2 step by step: the endpoints (a set of node ids, visited in
    its own order), the path from each endpoint through each successor that is
    not one (``_build_path``), the first segment between two path nodes, the
    keys of the new edges, the interstitial nodes removed, and the
    weakly connected parts with no endpoint left removed (``remove_rings``).
    """
    n = raw.node_ids.size
    m = raw.seg_u.size
    su, sv = raw.seg_u.tolist(), raw.seg_v.tolist()
    succ: list[dict[int, list[int]]] = [{} for _ in range(n)]
    for s in range(m):
        succ[su[s]].setdefault(sv[s], []).append(s)
    is_end = _endpoints(n, raw.seg_u, raw.seg_v)
    ids = raw.node_ids.tolist()
    position = {node: i for i, node in enumerate(ids)}
    endpoints = {ids[p] for p in np.flatnonzero(is_end).tolist()}  # osmnx's set, same order
    paths: list[list[int]] = []
    for endpoint_id in endpoints:
        endpoint = position[endpoint_id]
        paths.extend(
            _build_path(succ, endpoint, successor, is_end)
            for successor in succ[endpoint]
            if not is_end[successor]
        )
    removed = np.zeros(n, dtype=bool)
    # the new edges: keys after those of the segments (and earlier new edges) of the same pair
    pair_count: dict[tuple[int, int], int] = {}
    pair_rank: dict[tuple[int, int], int] = {}
    keys = np.empty(m, dtype=np.int64)
    for s in range(m):
        pair = (su[s], sv[s])
        k = pair_count.get(pair, 0)
        keys[s] = k
        pair_count[pair] = k + 1
        pair_rank.setdefault(pair, s)
    new_u: list[int] = []
    new_v: list[int] = []
    new_key: list[int] = []
    new_rank: list[int] = []
    new_segs: list[int] = []
    new_count: list[int] = []
    for i, path in enumerate(paths):
        removed[path[1:-1]] = True
        chosen = [succ[a][b][0] for a, b in itertools.pairwise(path)]
        pair = (path[0], path[-1])
        k = pair_count.get(pair, 0)
        pair_count[pair] = k + 1
        new_u.append(pair[0])
        new_v.append(pair[1])
        new_key.append(k)
        new_rank.append(pair_rank.setdefault(pair, m + i))
        new_segs.extend(chosen)
        new_count.append(len(chosen))
    seg_rank = np.array([pair_rank[(a, b)] for a, b in zip(su, sv, strict=True)], dtype=np.int64)
    u = np.concatenate([raw.seg_u, np.asarray(new_u, dtype=np.int64)])
    v = np.concatenate([raw.seg_v, np.asarray(new_v, dtype=np.int64)])
    key = np.concatenate([keys, np.asarray(new_key, dtype=np.int64)])
    rank = np.concatenate([seg_rank, np.asarray(new_rank, dtype=np.int64)])
    count = np.concatenate([np.ones(m, dtype=np.int64), np.asarray(new_count, dtype=np.int64)])
    segs = np.concatenate([np.arange(m, dtype=np.int64), np.asarray(new_segs, dtype=np.int64)])
    merged = np.concatenate([np.zeros(m, dtype=bool), np.ones(len(paths), dtype=bool)])
    ptr = np.zeros(u.size + 1, dtype=np.int64)
    np.cumsum(count, out=ptr[1:])
    # the graph's order: nodes as added, each node's neighbours as first linked, then keys
    order = np.lexsort((key, rank, u))
    new_ptr = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(count[order], out=new_ptr[1:])
    take = np.repeat(ptr[order] - new_ptr[:-1], count[order]) + np.arange(int(new_ptr[-1]))
    seg_len = raw.seg_len.tolist()
    segs_in_order = segs[take]
    ptr_list = new_ptr.tolist()
    seg_list = segs_in_order.tolist()
    # summed in path order, as osmnx sums a merged edge's lengths
    lengths = np.array(
        [sum([seg_len[s] for s in seg_list[a:b]]) for a, b in itertools.pairwise(ptr_list)],
        dtype=float,
    )
    simplified = replace(
        raw,
        u=u[order],
        v=v[order],
        key=key[order],
        ptr=new_ptr,
        segs=segs_in_order,
        merged=merged[order],
        length=lengths,
    )
    kept = simplified.subset(~removed)
    # remove_rings: weakly connected parts where no node is an endpoint (in the new graph)
    n_kept = kept.node_ids.size
    is_end = _endpoints(n_kept, kept.u, kept.v)
    graph = sparse.coo_matrix(
        (np.ones(kept.u.size), (kept.u, kept.v)), shape=(n_kept, n_kept)
    ).tocsr()
    _, labels = csgraph.connected_components(graph, directed=True, connection="weak")
    ringed = np.ones(labels.max(initial=-1) + 1, dtype=bool)
    ringed[labels[is_end]] = False
    if ringed.any():
        kept = kept.subset(~ringed[labels])
    return kept


def _build_path(
    succ: list[dict[int, list[int]]], endpoint: int, endpoint_successor: int, is_end: np.ndarray
) -> list[int]:
    """Build a path as osmnx's ``_build_path`` does, on positions and successor dicts."""
    path = [endpoint, endpoint_successor]
    for this_successor in succ[endpoint_successor]:
        successor = this_successor
        if successor not in path:
            path.append(successor)
            while not is_end[successor]:
                successors = [n for n in succ[successor] if n not in path]
                if len(successors) == 1:
                    successor = successors[0]
                    path.append(successor)
                elif len(successors) == 0:
                    if endpoint in succ[successor]:
                        return [*path, endpoint]
                    logger.debug("unexpected simplify pattern handled near node %d", successor)
                    return path
                else:  # as osmnx: cannot happen (the node would be an endpoint)
                    msg = f"impossible simplify pattern near OSM node at position {successor}"
                    raise NetworkError(msg)
            return path
    return path


def largest_strong_part(roads: Roads) -> np.ndarray:
    """Which nodes are in the largest strongly connected part (the first, at a tie)."""
    n = roads.node_ids.size
    graph = sparse.coo_matrix((np.ones(roads.u.size), (roads.u, roads.v)), shape=(n, n)).tocsr()
    _, labels = csgraph.connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    return np.asarray(labels == int(np.argmax(sizes)), dtype=bool)


def streets_per_node(roads: Roads) -> np.ndarray:
    """Distinct neighbours of each node, either direction, self-loops apart."""
    n = roads.node_ids.size
    u, v = roads.u, roads.v
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique(a[a != b] * n + b[a != b])
    return np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)


# --------------------------------------------------------------------------- the graph


def _segment_json(roads: Roads, seg: int, highway: list[Any], maxspeed: list[Any]) -> str:
    control = {1: "traffic_signals", 2: "stop", 3: "give_way"}.get(
        int(roads.raw_control[roads.seg_v[seg]])
    )
    w = int(roads.seg_way[seg])
    return json.dumps([[highway[w], maxspeed[w], float(roads.seg_len[seg]), control]])


def edge_attributes(roads: Roads, seconds: np.ndarray) -> list[dict[str, Any]]:
    """Each edge's attributes as osmnx, :func:`~optimizer.network.simplify` and timing set them.

    ``geometry`` apart (see :func:`edge_lines`). ``seconds`` are the edges' unrounded times.
    """
    highway = [plain_tag(a.get("highway")) for a in roads.way_attrs]
    maxspeed = [plain_tag(a.get("maxspeed")) for a in roads.way_attrs]
    seg_data: dict[int, dict[str, Any]] = {}

    def data_of(seg: int) -> dict[str, Any]:
        found = seg_data.get(seg)
        if found is None:
            found = dict(roads.way_attrs[int(roads.seg_way[seg])])
            found["reversed"] = bool(roads.seg_reversed[seg])
            found["length"] = float(roads.seg_len[seg])
            found["segments"] = _segment_json(roads, seg, highway, maxspeed)
            seg_data[seg] = found
        return found

    ptr, segs = roads.ptr.tolist(), roads.segs.tolist()
    merged = roads.merged.tolist()
    out: list[dict[str, Any]] = []
    for k in range(roads.n_edges):
        chain = segs[ptr[k] : ptr[k + 1]]
        if not merged[k]:
            attrs = dict(data_of(chain[0]))
        else:
            values: dict[str, list[Any]] = {}
            for seg in chain:
                for name, value in data_of(seg).items():
                    values.setdefault(name, []).append(value)
            attrs = {}
            for name, found in values.items():
                if name == "length":
                    attrs[name] = sum(found)
                elif name == "segments":
                    attrs[name] = "[" + ",".join(text[1:-1] for text in found) + "]"
                elif len(set(found)) == 1:
                    attrs[name] = found[0]
                else:
                    attrs[name] = list(set(found))
        attrs["travel_time"] = round(float(seconds[k]), 3)
        length = float(attrs["length"])
        attrs["speed_kph"] = round(length / seconds[k] * 3.6, 3) if seconds[k] > 0 else 0.0
        out.append(attrs)
    return out


def edge_lines(roads: Roads) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 coordinates of the merged edges' lines, and each edge's offset into them."""
    vertex = roads.vertices()
    count = np.diff(roads.ptr) + 1
    ptr = np.zeros(roads.n_edges + 1, dtype=np.int64)
    np.cumsum(np.where(roads.merged, count, 0), out=ptr[1:])
    keep = np.repeat(roads.merged, count)
    xy = np.column_stack([roads.raw_lon[vertex[keep]], roads.raw_lat[vertex[keep]]])
    return xy, ptr


def graph_columns(
    roads: Roads, seconds: np.ndarray, graph_attrs: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the graph as the columns of the prepared-network cache (:mod:`optimizer.netcache`)."""
    xy, line_ptr = edge_lines(roads)
    return {
        "ids": roads.node_ids,
        "lon": roads.lon,
        "lat": roads.lat,
        "node_attrs": [roads.node_attrs.get(p, {}) for p in roads.node_raw.tolist()],
        "u": roads.node_ids[roads.u],
        "v": roads.node_ids[roads.v],
        "key": roads.key,
        "edge_attrs": edge_attributes(roads, seconds),
        "line_xy": xy,
        "line_ptr": line_ptr,
        "graph": dict(graph_attrs),
    }


def build_graph(columns: Mapping[str, Any]) -> nx.MultiDiGraph:
    """Build the osmnx graph of :func:`graph_columns` (lines as shapely ``LineString``)."""
    graph = nx.MultiDiGraph(**columns["graph"])
    graph.add_nodes_from(
        (n, {"y": y, "x": x, **a})
        for n, x, y, a in zip(
            columns["ids"].tolist(),
            columns["lon"].tolist(),
            columns["lat"].tolist(),
            columns["node_attrs"],
            strict=True,
        )
    )
    attrs = [dict(a) for a in columns["edge_attrs"]]
    ptr = columns["line_ptr"]
    drawn = np.flatnonzero(np.diff(ptr) > 0)
    if drawn.size:
        counts = np.diff(ptr)[drawn]
        lines = shapely.linestrings(
            columns["line_xy"], indices=np.repeat(np.arange(drawn.size), counts)
        )
        for k, line in zip(drawn.tolist(), lines, strict=True):
            attrs[k]["geometry"] = line
    graph.add_edges_from(
        zip(
            columns["u"].tolist(),
            columns["v"].tolist(),
            columns["key"].tolist(),
            attrs,
            strict=True,
        )
    )
    return graph


def osmnx_graph_attrs() -> dict[str, Any]:
    """Return the graph attributes osmnx gives a graph it builds and simplifies."""
    return {
        "created_date": ox.utils.ts(),
        "created_with": f"OSMnx {version('osmnx')}",
        "crs": ox.settings.default_crs,
        "simplified": True,
    }


# --------------------------------------------------------------------------- preparing


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
    pieces = _pieces(roads, speeds, model)
    times = time_edges(pieces, model)
    routing = _routing(roads, pieces, times)
    graph_attrs = {
        **osmnx_graph_attrs(),
        "approximate": approximate,
        "speed_profile": profile_name,
        "speed_model": model.name,
    }
    columns = _Columns(roads, times.seconds, graph_attrs)
    recipe = GraphRecipe(
        functools.partial(_build_from, columns),  # no lambdas: a network pickles (Dask)
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


class _Columns:
    """The graph's columns (:func:`graph_columns`), made once when first asked for."""

    def __init__(self, roads: Roads, seconds: np.ndarray, graph_attrs: dict[str, Any]) -> None:
        self.roads = roads
        self.seconds = seconds
        self.graph_attrs = graph_attrs
        self.made: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        if self.made is None:
            self.made = graph_columns(self.roads, self.seconds, self.graph_attrs)
        return self.made


def _build_from(columns: _Columns) -> nx.MultiDiGraph:
    """Build the osmnx graph of a network prepared on arrays."""
    return build_graph(columns())


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
    seconds = np.array([round(s, 3) for s in times.seconds.tolist()], dtype=float)
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
