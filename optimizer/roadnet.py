"""A prepared road network's data: the graph (or its recipe) and the routing arrays.

:class:`RoadNetwork` and :class:`RoutingArrays` hold what preparation made
(:mod:`optimizer.network`) and what the prepared-network cache stores and reads
back (:mod:`optimizer.netcache`); both import them from here, so that neither
imports the other's user. :mod:`optimizer.network` re-exports them, and the
:data:`Progress` callback type that the network's modules take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import shapely

from optimizer.speed_model import (
    DEFAULT_SPEED_MODEL,
    EdgePieces,
    EdgeTimes,
    SpeedModel,
    speed_model,
)

#: A point this close to the end of an edge is timed as at its end node, m.
AT_NODE_M = 1.0
#: A progress callback: called with a short message before each step of long work.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RoutingArrays:
    """The network compiled for shortest paths.

    Edges are the fastest edge of each ordered node pair, sorted by
    ``(tail, head)``, so that :func:`csr` turns them into sparse matrices.

    Attributes
    ----------
    node_ids
        OSM node id of each matrix index.
    x, y
        Node coordinates in the working CRS (metres).
    tail, head
        Matrix indices of each edge's ends.
    seconds, metres
        Travel time and length of each edge.
    geometry
        Each edge's line in the working CRS (a :class:`LazyLines` may be given
        instead: the lines are then made when first read).
    edge_source
        Position in ``graph.edges`` of the graph edge each routing edge is.
    share_ptr, share_at, share_t0, share_dt
        How time grows along each edge, piece by piece (see
        :func:`~optimizer.speed_model.time_shares`): the pieces of edge ``k``
        are ``share_ptr[k]:share_ptr[k + 1]``. None: in proportion to length.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    geometry: np.ndarray
    edge_source: np.ndarray
    share_ptr: np.ndarray | None = None
    share_at: np.ndarray | None = None
    share_t0: np.ndarray | None = None
    share_dt: np.ndarray | None = None

    def time_share(self, edge: np.ndarray, at: np.ndarray, *, reverse: bool = False) -> np.ndarray:
        """Share of an edge's time driven to reach a point at length share ``at`` of it.

        Parameters
        ----------
        edge
            Edge indices.
        at
            Position of each point along its edge's line, 0 at the tail, 1 at the head
            (within :data:`AT_NODE_M` of the head: at the head, its delays passed).
        reverse
            Give instead the share of time from the point to the edge's tail
            along ``edge`` driven the other way: ``edge`` is then the twin
            (head to tail) and the point is at ``1 - at`` along it.

        Returns
        -------
        numpy.ndarray
            Shares from 0 (at the start) to 1 (the whole edge, delays at its end included).
        """
        edge = np.asarray(edge, dtype=np.int64)
        at = np.clip(np.asarray(at, dtype=float), 0.0, 1.0)
        if reverse:
            return 1.0 - self.time_share(edge, 1.0 - at)
        ptr, starts, t0, dt = self.share_ptr, self.share_at, self.share_t0, self.share_dt
        if ptr is None or starts is None or t0 is None or dt is None or edge.size == 0:
            return at
        lo, hi = ptr[edge], ptr[edge + 1]
        if starts.size == 0:
            return at
        # pieces are in edge order, their starts increasing within an edge: one search for all
        key = self._share_key
        i = np.searchsorted(key, edge * 2.0 + at, side="right") - 1
        i = np.clip(i, lo, np.maximum(hi - 1, lo))
        safe = np.minimum(i, starts.size - 1)
        begin = starts[safe]
        end = np.where(i + 1 < hi, starts[np.minimum(i + 1, starts.size - 1)], 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = np.where(end > begin, (at - begin) / (end - begin), 1.0)
        share = t0[safe] + dt[safe] * np.clip(inside, 0.0, 1.0)
        share = np.where(hi > lo, share, at)
        # a point on the end node (within a metre: snapping's rounding) passes its delays
        at_end = (at >= 1.0) | ((1.0 - at) * self.metres[edge] <= AT_NODE_M)
        return np.where(at_end, 1.0, np.where(at <= 0.0, 0.0, np.clip(share, 0.0, 1.0)))

    @cached_property
    def _share_key(self) -> np.ndarray:
        """``2 * edge + start share`` of every piece: increasing, for :meth:`time_share`."""
        ptr, starts = self.share_ptr, self.share_at
        if ptr is None or starts is None:
            return np.zeros(0)
        owner = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
        return np.asarray(owner * 2.0 + starts, dtype=float)

    @cached_property
    def twins(self) -> np.ndarray:
        """Index of each edge's reverse edge when it is the same road (same length), else -1."""
        n = self.n_nodes
        keys = self.tail * n + self.head  # increasing: edges are in (tail, head) order
        reverse = self.head * n + self.tail
        pos = np.minimum(np.searchsorted(keys, reverse), keys.size - 1)
        found = keys[pos] == reverse
        same_road = np.abs(self.metres[pos] - self.metres) <= 0.01 * self.metres + 1.0
        return np.where(found & same_road, pos, -1)

    @cached_property
    def snap_index(self) -> tuple[np.ndarray, shapely.STRtree]:
        """Edges that points snap to (each two-way road once) and their spatial index."""
        candidates = np.flatnonzero((self.twins < 0) | (self.tail < self.head))
        # small nodes make nearest-road queries about twice as fast as the default (10)
        return candidates, shapely.STRtree(self.geometry[candidates], node_capacity=3)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.size)

    def line_points(self) -> LazyLines:
        """Return the edges' lines as their points (not making the lines when not made yet)."""
        return LazyLines.of(self.__dict__[_LinesField.slot])

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the lines as their points and leave out what is rebuilt when read.

        A shapely line pickles on its own (as WKB): 300,000 of them took
        seconds to write in every cached extract and every scattered network.
        """
        state = dict(self.__dict__)
        for cached in ("_share_key", "twins", "snap_index"):  # cached properties
            state.pop(cached, None)
        lines = state[_LinesField.slot]
        if isinstance(lines, np.ndarray) and bool(np.all(shapely.get_type_id(lines) == 1)):
            state[_LinesField.slot] = self.line_points()  # only lines are just their points
        return state

    @property
    def n_edges(self) -> int:
        """Number of (deduplicated) directed edges."""
        return int(self.tail.size)


class LazyLines:
    """Lines given by their points, made into shapely lines when first read.

    A :class:`RoutingArrays` read from the prepared-network cache takes one
    as its ``geometry``: making 100,000 lines costs a fifth of a second,
    spent only when something reads them (snapping points).

    Parameters
    ----------
    coords
        ``(n_points, 2)``: the points of every line, line after line.
    ptr
        ``(n_lines + 1,)``: the points of line ``k`` are ``coords[ptr[k]:ptr[k + 1]]``.
    """

    def __init__(self, coords: np.ndarray, ptr: np.ndarray) -> None:
        self.coords = coords
        self.ptr = ptr

    @classmethod
    def of(cls, lines: np.ndarray | LazyLines) -> LazyLines:
        """Return the points of ``lines`` (2D ``LineString``): the inverse of :meth:`build`."""
        if isinstance(lines, LazyLines):
            return lines
        lines = np.asarray(lines, dtype=object)
        ptr = np.zeros(lines.size + 1, dtype=np.int64)
        if lines.size:
            np.cumsum(shapely.get_num_coordinates(lines), out=ptr[1:])
        coords = shapely.get_coordinates(lines) if lines.size else np.zeros((0, 2))
        return cls(np.asarray(coords, dtype=float), ptr)

    def build(self) -> np.ndarray:
        """Return the lines (an object array of shapely ``LineString``)."""
        counts = np.diff(self.ptr)
        out = np.empty(counts.size, dtype=object)
        if counts.size:
            out[:] = shapely.linestrings(
                self.coords, indices=np.repeat(np.arange(counts.size), counts)
            )
        return out


class _LinesField:
    """The ``geometry`` of :class:`RoutingArrays`: lines, or :class:`LazyLines` made when read."""

    slot = "_geometry"

    def __get__(self, obj: Any, objtype: type | None = None) -> np.ndarray:
        if obj is None:  # no default for the dataclass field
            raise AttributeError(self.slot)
        value = obj.__dict__[self.slot]
        if isinstance(value, LazyLines):
            value = value.build()
            obj.__dict__[self.slot] = value
        return np.asarray(value, dtype=object)

    def __set__(self, obj: Any, value: np.ndarray | LazyLines) -> None:
        obj.__dict__[self.slot] = value


# set after the class is made, so that the field has no default (see RoadNetwork.graph)
setattr(RoutingArrays, "geometry", _LinesField())  # noqa: B010


class GraphRecipe:
    """What builds a network's osmnx graph when it is first read (a cached network's).

    Routing needs the arrays only; the graph (GraphML, plots) is rebuilt on
    demand from the columns a prepared-network cache holds (see
    :mod:`optimizer.netcache`).

    Parameters
    ----------
    build
        Returns the graph.
    n_nodes, n_edges
        Its size.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` of its nodes.
    columns
        Returns the graph as columns (``ids``, ``lon``, ``lat``, ``node_attrs``,
        ``u``, ``v``, ``key``, ``edge_attrs``, ``line_xy``, ``line_ptr``,
        ``graph``: see :func:`optimizer._roads_graph.graph_columns`), for writing it
        without building it; None: build it.
    """

    def __init__(
        self,
        build: Callable[[], nx.MultiDiGraph],
        *,
        n_nodes: int,
        n_edges: int,
        bounds: tuple[float, float, float, float],
        columns: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self.build = build
        self.n_nodes = n_nodes
        self.n_edges = n_edges
        self.bounds = bounds
        self.columns = columns


class _GraphField:
    """The ``graph`` of a :class:`RoadNetwork`: a graph, or a recipe built when first read."""

    slot = "_graph"

    def __get__(self, obj: Any, objtype: type | None = None) -> nx.MultiDiGraph:
        if obj is None:  # no default for the dataclass field
            raise AttributeError(self.slot)
        value = obj.__dict__[self.slot]
        if isinstance(value, GraphRecipe):
            value = value.build()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: Any, value: nx.MultiDiGraph | GraphRecipe) -> None:
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class RoadNetwork:
    """A timed road network ready for routing.

    Build one with :func:`load_network` or :func:`prepare_network`.

    Attributes
    ----------
    graph
        The osmnx graph (WGS84), each edge with ``speed_kph`` and ``travel_time`` (s).
        A network read from the prepared-network cache builds it when first read
        (a :class:`GraphRecipe` may be given instead of a graph).
    routing
        The compiled arrays used for shortest paths.
    source
        Where the network came from (a path or a description).
    approximate
        True when the network is not real road data (the offline default).
    speed_profile
        Name of the speed profile used for edges without a usable ``maxspeed``.
    dropped_nodes
        Nodes left out because they are not in the largest strongly connected part.
    timings
        Seconds taken by reading and preparing.
    speed_model
        The speed model the edges were timed with.
    pieces, edge_times
        The edges' road pieces and times (``graph.edges`` order), kept for
        re-timing (:func:`retime`).
    cache
        What the prepared-network cache did: ``"read <file>"``, ``"written <file>"``,
        or empty when it was not used.
    """

    graph: nx.MultiDiGraph
    routing: RoutingArrays
    source: str
    approximate: bool
    speed_profile: str
    dropped_nodes: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    speed_model: SpeedModel = field(default_factory=lambda: speed_model(DEFAULT_SPEED_MODEL))
    pieces: EdgePieces | None = None
    edge_times: EdgeTimes | None = None
    cache: str = ""

    def _recipe(self) -> GraphRecipe | None:
        given = self.__dict__.get("_graph")
        return given if isinstance(given, GraphRecipe) else None

    @property
    def n_nodes(self) -> int:
        """Number of nodes of the graph (without building a cached network's graph)."""
        recipe = self._recipe()
        return recipe.n_nodes if recipe is not None else self.graph.number_of_nodes()

    @property
    def n_edges(self) -> int:
        """Number of edges of the graph (without building a cached network's graph)."""
        recipe = self._recipe()
        return recipe.n_edges if recipe is not None else self.graph.number_of_edges()

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of the nodes."""
        recipe = self._recipe()
        if recipe is not None:
            return recipe.bounds
        xs = [d["x"] for _, d in self.graph.nodes(data=True)]
        ys = [d["y"] for _, d in self.graph.nodes(data=True)]
        return (min(xs), min(ys), max(xs), max(ys))


# set after the class is made, so that the field has no default: a data descriptor, called by
# the dataclass's __init__ (see _GraphField); a GraphRecipe is accepted where a graph is
setattr(RoadNetwork, "graph", _GraphField())  # noqa: B010


def plain_tag(value: object) -> object:
    """Return a tag value that JSON can hold (osmnx may give lists)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return None if value is None else str(value)


def with_shares(
    routing: RoutingArrays, shares: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
) -> RoutingArrays:
    """Return ``routing`` with the time shares of its edges, from those of the graph's edges.

    Parameters
    ----------
    routing
        Compiled arrays.
    shares
        ``(ptr, at, t0, dt)`` per graph edge (:func:`~optimizer.speed_model.time_shares`).

    Returns
    -------
    RoutingArrays
        The same arrays, with ``share_*`` for the routing edges.
    """
    ptr, at, t0, dt = shares
    source = routing.edge_source
    begin, count = ptr[source], ptr[source + 1] - ptr[source]
    new_ptr = np.zeros(source.size + 1, dtype=np.int64)
    np.cumsum(count, out=new_ptr[1:])
    # every piece of every chosen edge, in routing-edge order
    take = np.repeat(begin - new_ptr[:-1], count) + np.arange(int(new_ptr[-1]))
    return replace(
        routing, share_ptr=new_ptr, share_at=at[take], share_t0=t0[take], share_dt=dt[take]
    )
