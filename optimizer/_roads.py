"""An OSM file's drivable roads as osmnx's simplified graph, on flat arrays (no networkx).

:func:`optimizer.network.load_network` used to build osmnx's graph of an
extract (``_create_graph``), simplify it (``simplify_graph``), then copy it,
time it edge by edge and compile it: most of its time went into networkx
dictionaries and shapely objects made one at a time. Here the same graph is
made on the arrays of the drivable ways (:func:`optimizer._osm.drivable_located`):

1. osmnx's graph building, rule for rule (:func:`raw_roads`): consecutive
   duplicate nodes dropped, one-way rules (``oneway`` values, roundabouts,
   reversed ways), each way's segments in its order and then (two-way roads)
   reversed, great-circle lengths by osmnx's own :func:`osmnx.distance.great_circle`;
2. osmnx's simplification with its default arguments (:func:`simplify_roads`),
   step for step and in the same order (endpoint rules, the paths from each
   endpoint, the first of parallel segments inside a path, edge keys,
   isolated rings removed), so that the merged edges and their order are
   those of ``simplify_graph``;
3. the largest strongly connected part (:func:`largest_strong_part`).

The timing and routing arrays are made from these arrays by
:mod:`optimizer._roads_prepare`; the osmnx graph (GraphML, plots) is built
only when something reads ``network.graph`` (:mod:`optimizer._roads_graph`),
with the attributes osmnx and :func:`optimizer.osmgraph.simplify` give it; the
prepared-network cache writes its columns without building it.
"""

from __future__ import annotations

import functools
import itertools
import logging
import operator
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Any

import numpy as np
import osmnx as ox
from scipy import sparse
from scipy.sparse import csgraph

from optimizer.errors import NetworkError

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


def plain_sum(values: list[float]) -> float:
    """Add ``values`` one after another, as osmnx adds a merged edge's lengths.

    osmnx's lengths are numpy floats, which Python's ``sum`` adds one after
    another; from Python 3.12 ``sum`` of plain floats is compensated and may
    differ in the last digit, so the same order and rounding are kept here.
    """
    return functools.reduce(operator.add, values, 0.0)


def simplify_roads(raw: Roads) -> Roads:
    """Simplify an unsimplified graph as osmnx's ``simplify_graph`` does (default arguments).

    Mirrors osmnx 2 step by step: the endpoints (a set of node ids, visited in
    its own order), the path from each endpoint through each successor that is
    not one (``_build_path``), the first segment between two path nodes, the
    keys of the new edges, the interstitial nodes removed, and the
    weakly connected parts with no endpoint left removed (``remove_rings``).
    """
    succ, paths = _paths(raw)
    removed = np.zeros(raw.node_ids.size, dtype=bool)
    for path in paths:
        removed[path[1:-1]] = True
    u, v, key, rank, count, segs = _edges_with_paths(raw, succ, paths)
    merged = np.concatenate([np.zeros(raw.seg_u.size, dtype=bool), np.ones(len(paths), dtype=bool)])
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
        [plain_sum([seg_len[s] for s in seg_list[a:b]]) for a, b in itertools.pairwise(ptr_list)],
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
    return _remove_rings(simplified.subset(~removed))


def _paths(raw: Roads) -> tuple[list[dict[int, list[int]]], list[list[int]]]:
    """Return each node's successors (and the segments to them) and the paths to merge."""
    n = raw.node_ids.size
    su, sv = raw.seg_u.tolist(), raw.seg_v.tolist()
    succ: list[dict[int, list[int]]] = [{} for _ in range(n)]
    for s in range(raw.seg_u.size):
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
    return succ, paths


def _edges_with_paths(
    raw: Roads, succ: list[dict[int, list[int]]], paths: list[list[int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the segments, then one edge per path: ends, key, rank, segment count, segments.

    A new edge's key comes after those of the segments (and earlier new edges)
    of the same node pair; its rank is where its pair was first linked.
    """
    m = raw.seg_u.size
    su, sv = raw.seg_u.tolist(), raw.seg_v.tolist()
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
    return (
        np.concatenate([raw.seg_u, np.asarray(new_u, dtype=np.int64)]),
        np.concatenate([raw.seg_v, np.asarray(new_v, dtype=np.int64)]),
        np.concatenate([keys, np.asarray(new_key, dtype=np.int64)]),
        np.concatenate([seg_rank, np.asarray(new_rank, dtype=np.int64)]),
        np.concatenate([np.ones(m, dtype=np.int64), np.asarray(new_count, dtype=np.int64)]),
        np.concatenate([np.arange(m, dtype=np.int64), np.asarray(new_segs, dtype=np.int64)]),
    )


def _remove_rings(kept: Roads) -> Roads:
    """Remove the weakly connected parts where no node is an endpoint (osmnx's ``remove_rings``)."""
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
    return largest_strong_part_of(roads.node_ids.size, roads.u, roads.v)


def largest_strong_part_of(n: int, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Which of ``n`` nodes joined by edges ``tail -> head`` are in the largest strong part.

    The first part, at a tie: the rule every prepared network keeps by.
    """
    graph = sparse.coo_matrix((np.ones(tail.size), (tail, head)), shape=(n, n)).tocsr()
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
