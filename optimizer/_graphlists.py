"""A graph's nodes and edges read once into lists, standing in for the graph while preparing.

:func:`optimizer.network.prepare_network` times and compiles a graph through
:class:`GraphLists` rather than networkx's views; a GraphML file read without
networkx (:mod:`optimizer._graphml`) arrives as one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, cast

import networkx as nx
import numpy as np
import shapely

from optimizer.roadnet import GraphRecipe


class GraphLists:
    """A graph's nodes and edges read once into lists, standing in for the graph.

    What :func:`add_travel_times`, :func:`~optimizer.speed_model.edge_pieces`
    and :func:`compile_routing` read of a graph (``nodes``, ``edges``,
    ``graph``), without networkx's views (each pass over them costs as much
    as the timing itself). With ``copy``, the attribute dicts are copies, so
    that timing leaves the given graph unchanged; :meth:`recipe` builds the
    osmnx graph of them when it is first read. ``strong``: the lists are known to
    be one strongly connected part (:meth:`strong_part`), which
    :func:`~optimizer.network.prepare_network` then need not look for again.
    """

    @classmethod
    def of(
        cls,
        nodes: list[tuple[Any, dict[str, Any]]],
        edges: list[tuple[Any, Any, Any, dict[str, Any]]],
        attrs: dict[str, Any],
    ) -> GraphLists:
        """Return the lists of a graph read without networkx (:mod:`optimizer._graphml`)."""
        lists = cls.__new__(cls)
        lists.node_list, lists.edge_list, lists.graph = nodes, edges, attrs
        lists._with_data = None
        lists.strong = False
        return lists

    def strong_part(self, kept: np.ndarray) -> GraphLists:
        """Return the lists of the nodes ``kept`` (a mask in node order) and their edges.

        For a caller that has found ``kept`` to be the graph's largest strongly
        connected part (the first at a tie, :func:`optimizer._roads.largest_strong_part_of`):
        the lists returned say so (``strong``). The attribute dicts are shared.
        """
        dropped = {
            node for (node, _), keep in zip(self.node_list, kept.tolist(), strict=True) if not keep
        }
        part = GraphLists(cast("nx.MultiDiGraph", self), skip=dropped, copy=False)
        part.strong = True
        return part

    def __init__(self, graph: nx.MultiDiGraph, *, skip: set[Any], copy: bool) -> None:
        if skip:
            nodes = [(n, d) for n, d in graph.nodes(data=True) if n not in skip]
            edges = [
                e
                for e in graph.edges(keys=True, data=True)
                if e[0] not in skip and e[1] not in skip
            ]
        else:
            nodes = list(graph.nodes(data=True))
            edges = list(graph.edges(keys=True, data=True))
        if copy:
            nodes = [(n, dict(d)) for n, d in nodes]
            edges = [(u, v, k, dict(d)) for u, v, k, d in edges]
        self.node_list: list[tuple[Any, dict[str, Any]]] = nodes
        self.edge_list: list[tuple[Any, Any, Any, dict[str, Any]]] = edges
        self.graph: dict[str, Any] = dict(graph.graph)
        self._with_data: list[tuple[Any, Any, dict[str, Any]]] | None = None
        self.strong = False

    @property
    def nodes(self) -> NodeList:
        """The nodes, as ``graph.nodes`` gives them (iterated, or called with ``data``)."""
        return NodeList(self.node_list)

    def number_of_nodes(self) -> int:
        """Return the number of nodes."""
        return len(self.node_list)

    def edges(self, *, keys: bool = False, data: bool = False) -> list[Any]:
        """Return the edges, as ``graph.edges(keys=..., data=...)`` gives them."""
        if keys and data:
            return self.edge_list
        if keys:
            return [(u, v, k) for u, v, k, _ in self.edge_list]
        if data:
            if self._with_data is None or len(self._with_data) != len(self.edge_list):
                self._with_data = [(u, v, d) for u, v, _, d in self.edge_list]
            return self._with_data
        return [(u, v) for u, v, _, _ in self.edge_list]

    def recipe(self, graph: nx.MultiDiGraph | None) -> GraphRecipe:
        """Return what builds the osmnx graph (``graph``, already timed in place, if given)."""
        lon = [d["x"] for _, d in self.node_list]
        lat = [d["y"] for _, d in self.node_list]

        return GraphRecipe(
            functools.partial(self.build, graph),  # plain functions: a network pickles (Dask)
            n_nodes=len(self.node_list),
            n_edges=len(self.edge_list),
            bounds=(min(lon), min(lat), max(lon), max(lat)),
            columns=self.columns,
        )

    def build(self, graph: nx.MultiDiGraph | None) -> nx.MultiDiGraph:
        """Build the osmnx graph of the lists (or give ``graph``, timed in place)."""
        if graph is not None:
            graph.graph.update(self.graph)
            return graph
        built = nx.MultiDiGraph(**self.graph)
        built.add_nodes_from(self.node_list)
        built.add_edges_from(self.edge_list)
        return built

    def columns(self) -> dict[str, Any]:
        """Return the graph as columns (see :class:`GraphRecipe`)."""
        lines = [d.get("geometry") for _, _, _, d in self.edge_list]
        counts = np.array([0 if g is None else shapely.get_num_coordinates(g) for g in lines])
        ptr = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        drawn = [g for g in lines if g is not None]
        return {
            "ids": np.array([n for n, _ in self.node_list], dtype=np.int64),
            "lon": np.array([d["x"] for _, d in self.node_list], dtype=float),
            "lat": np.array([d["y"] for _, d in self.node_list], dtype=float),
            "node_attrs": [
                {k: v for k, v in d.items() if k not in ("x", "y")} for _, d in self.node_list
            ],
            "u": np.array([e[0] for e in self.edge_list], dtype=np.int64),
            "v": np.array([e[1] for e in self.edge_list], dtype=np.int64),
            "key": np.array([e[2] for e in self.edge_list], dtype=np.int64),
            "edge_attrs": [
                {n: x for n, x in d.items() if n != "geometry"} for _, _, _, d in self.edge_list
            ],
            "line_xy": shapely.get_coordinates(drawn) if drawn else np.zeros((0, 2)),
            "line_ptr": ptr,
            "graph": dict(self.graph),
        }


class NodeList:
    """``graph.nodes`` of :class:`GraphLists`."""

    def __init__(self, nodes: list[tuple[Any, dict[str, Any]]]) -> None:
        self._nodes = nodes

    def __iter__(self) -> Iterator[Any]:
        return (n for n, _ in self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __call__(self, data: bool | str = False) -> list[Any]:
        if data is True:
            return self._nodes
        if data is False:
            return [n for n, _ in self._nodes]
        return [(n, d.get(data)) for n, d in self._nodes]
