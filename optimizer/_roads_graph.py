"""The osmnx graph of a road network built on arrays (:mod:`optimizer._roads`).

Each edge's attributes as osmnx, :func:`optimizer.osmgraph.simplify` and
timing set them, the merged edges' lines, the columns the prepared-network
cache writes (:func:`graph_columns`) and the graph built from them
(:func:`build_graph`), only when something reads ``network.graph``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import shapely

from optimizer._roads import Roads, plain_sum
from optimizer.roadnet import plain_tag
from optimizer.routing import round_as_python


def _segment_json(roads: Roads, seg: int, highway: list[Any], maxspeed: list[Any]) -> str:
    control = {1: "traffic_signals", 2: "stop", 3: "give_way"}.get(
        int(roads.raw_control[roads.seg_v[seg]])
    )
    w = int(roads.seg_way[seg])
    return json.dumps([[highway[w], maxspeed[w], float(roads.seg_len[seg]), control]])


def edge_attributes(roads: Roads, seconds: np.ndarray) -> list[dict[str, Any]]:
    """Each edge's attributes as osmnx, :func:`~optimizer.osmgraph.simplify` and timing set them.

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
    travel_time = round_as_python(seconds, 3)
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
                    attrs[name] = plain_sum(found)
                elif name == "segments":
                    attrs[name] = "[" + ",".join(text[1:-1] for text in found) + "]"
                elif len(set(found)) == 1:
                    attrs[name] = found[0]
                else:
                    attrs[name] = list(set(found))
        attrs["travel_time"] = travel_time[k]
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


class Columns:
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


def build_from(columns: Columns) -> nx.MultiDiGraph:
    """Build the osmnx graph of a network prepared on arrays."""
    return build_graph(columns())
