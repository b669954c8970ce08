"""How long a car takes on each road: the speed models.

Two models time the edges of a road network (:func:`optimizer.network.prepare_network`):

``free-flow``
    every road piece at its speed limit (its ``maxspeed`` tag, else its
    class's speed in the profile), no delay anywhere: the fastest legal
    drive, and the behaviour of this package before the realistic model.
``realistic`` (the default)
    what a car really takes:

    - it cruises at a fraction of the limit (:data:`~optimizer.settings.REALISTIC_LIMIT_FACTOR`,
      per road class in a calibrated profile);
    - it slows for each bend of the road's geometry to the speed that keeps
      its lateral acceleration under :data:`~optimizer.settings.LATERAL_ACCEL_MS2`
      (``v = sqrt(a R)``, R the radius of the circle through the bend's point
      and the points :data:`~optimizer.settings.BEND_CHORD_M` before and after
      it along the road), braking before the bend and accelerating after
      it at :data:`~optimizer.settings.DECEL_MS2` and
      :data:`~optimizer.settings.ACCEL_MS2`, never above the limit;
    - it loses time at traffic signals, stop and give-way signs (nodes tagged
      ``highway=traffic_signals``, ``stop``, ``give_way``) and at every junction
      of three roads or more;
    - in built-up areas (dense junctions, see
      :data:`~optimizer.settings.URBAN_MIN_NODES`) a road with no ``maxspeed``
      tag is limited to ``FR:urban`` (50 km/h), motorways and trunk roads apart.

Everything is computed on flat arrays of road pieces (:class:`EdgePieces`,
one piece per OSM segment), built once per network, so that a network can be
re-timed under other factors (calibration, uncertainty scenarios) in a few
vectorised passes. The time of every edge is also split by road-class group
(:data:`GROUPS`) and delays, which is what drive-time scenarios scale.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

import optimizer.settings as settings
from optimizer.errors import InputError, NetworkError

logger = logging.getLogger(__name__)

#: Names of the speed models.
SPEED_MODELS = ("realistic", "free-flow")
#: The model used when none is given.
DEFAULT_SPEED_MODEL = "realistic"

#: Road-class groups: what calibration fits one factor for, and what scenarios scale.
GROUPS: Mapping[str, tuple[str, ...]] = {
    "motorway": ("motorway", "motorway_link", "trunk", "trunk_link"),
    "primary": ("primary", "primary_link"),
    "secondary": ("secondary", "secondary_link"),
    "tertiary": ("tertiary", "tertiary_link"),
    "minor": ("unclassified", "residential", "living_street", "service", "road"),
}
#: Group of a class that is in no group above.
OTHER_GROUP = "minor"
#: Column of :attr:`EdgeTimes.by_group` holding the delays at nodes.
DELAY_COLUMN = len(GROUPS)
_GROUP_OF = {cls: g for g, classes in enumerate(GROUPS.values()) for cls in classes}

#: Node controls and the column of their delay.
_CONTROLS = {"traffic_signals": 1, "stop": 2, "give_way": 3}


@dataclass(frozen=True)
class SpeedModel:
    """A speed model and its parameters (see the module's docstring).

    Build one with :func:`speed_model`; change a parameter with
    :func:`dataclasses.replace`.

    Attributes
    ----------
    name
        ``"realistic"`` or ``"free-flow"``.
    dynamics
        Slow down for bends, with braking and acceleration (False: each piece
        at its cruising speed).
    limit_factor
        Fraction of the limit a car cruises at, per OSM ``highway`` class.
    default_factor
        Factor of a class not in ``limit_factor``.
    lateral_accel_ms2, accel_ms2, decel_ms2, min_bend_kmh, bend_chord_m
        Bends, braking and acceleration.
    signal_delay_s, stop_delay_s, give_way_delay_s, junction_delay_s
        Delays at nodes, seconds.
    urban
        Apply the built-up-area rule.
    urban_radius_m, urban_min_nodes, urban_kmh
        The built-up-area rule.
    calibration
        Where the factors come from, for reports (empty: the defaults).
    """

    name: str
    dynamics: bool
    limit_factor: Mapping[str, float] = field(default_factory=dict)
    default_factor: float = 1.0
    lateral_accel_ms2: float = settings.LATERAL_ACCEL_MS2
    accel_ms2: float = settings.ACCEL_MS2
    decel_ms2: float = settings.DECEL_MS2
    min_bend_kmh: float = settings.MIN_BEND_SPEED_KMH
    bend_chord_m: float = settings.BEND_CHORD_M
    signal_delay_s: float = 0.0
    stop_delay_s: float = 0.0
    give_way_delay_s: float = 0.0
    junction_delay_s: float = 0.0
    urban: bool = False
    urban_radius_m: float = settings.URBAN_RADIUS_M
    urban_min_nodes: int = settings.URBAN_MIN_NODES
    urban_kmh: float = settings.IMPLICIT_MAXSPEEDS["fr:urban"]
    calibration: str = ""

    def factor(self, highway: str) -> float:
        """Return the cruising factor of a ``highway`` class."""
        return float(self.limit_factor.get(highway, self.default_factor))

    def with_factors(
        self,
        factors: Mapping[str, float],
        *,
        source: str,
        junction_delay_s: float | None = None,
    ) -> SpeedModel:
        """Return this model with cruising factors replaced per class (a calibrated profile).

        Parameters
        ----------
        factors
            Factor per ``highway`` class, each from
            :data:`~optimizer.settings.MIN_SPEED_FACTOR` (0.05) to
            :data:`~optimizer.settings.MAX_SPEED_FACTOR` (1.5): refused
            otherwise, before any work (a factor of 1e-300 would make every
            road take forever).
        source
            Where they come from, kept for reports.
        junction_delay_s
            A calibrated delay at junctions, seconds, 0 to
            :data:`~optimizer.settings.MAX_JUNCTION_DELAY_S` (None: unchanged).

        Raises
        ------
        InputError
            A factor or the delay is not a number in its range; the message
            names ``source``, the road class and the value.
        """
        low, high = settings.MIN_SPEED_FACTOR, settings.MAX_SPEED_FACTOR
        for highway, value in factors.items():
            if not (_plain_number(value) and low <= value <= high):
                shown = f"{value:g}" if _plain_number(value) else repr(value)
                msg = (
                    f"{source}: the speed factor of '{highway}' is {shown}; give a number from "
                    f"{low:g} to {high:g}, the fraction of the speed limit a car cruises at."
                )
                raise InputError(msg)
        if junction_delay_s is not None and not (
            _plain_number(junction_delay_s)
            and 0 <= junction_delay_s <= settings.MAX_JUNCTION_DELAY_S
        ):
            value = junction_delay_s
            shown = f"{value:g}" if _plain_number(value) else repr(value)
            msg = (
                f"{source}: the junction delay is {shown} s; give a number of seconds from 0 "
                f"to {settings.MAX_JUNCTION_DELAY_S:g}."
            )
            raise InputError(msg)
        delay = self.junction_delay_s if junction_delay_s is None else float(junction_delay_s)
        return replace(
            self,
            limit_factor={**self.limit_factor, **factors},
            calibration=source,
            junction_delay_s=delay,
        )

    def describe(self) -> dict[str, Any]:
        """Return the model's parameters, for ``summary.json``."""
        out: dict[str, Any] = {"name": self.name}
        if self.name == "free-flow":
            out["rule"] = "every road at its speed limit, no delay"
            return out
        out.update(
            limit_factor_default=self.default_factor,
            limit_factor={k: round(v, 4) for k, v in sorted(self.limit_factor.items())},
            lateral_accel_ms2=self.lateral_accel_ms2,
            accel_ms2=self.accel_ms2,
            decel_ms2=self.decel_ms2,
            delays_s={
                "traffic_signals": self.signal_delay_s,
                "stop": self.stop_delay_s,
                "give_way": self.give_way_delay_s,
                "junction": self.junction_delay_s,
            },
            built_up={
                "radius_m": self.urban_radius_m,
                "min_nodes": self.urban_min_nodes,
                "kmh": self.urban_kmh,
            },
            calibration=self.calibration or "defaults (not calibrated)",
        )
        return out


def _plain_number(value: object) -> bool:
    """Tell whether ``value`` is a finite int or float (not a bool, a string or NaN)."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(float(value))
    )


def speed_model(name: str | SpeedModel = DEFAULT_SPEED_MODEL) -> SpeedModel:
    """Return the speed model called ``name`` with its documented defaults.

    Parameters
    ----------
    name
        ``"realistic"`` or ``"free-flow"`` (a :class:`SpeedModel` is returned as is).

    Returns
    -------
    SpeedModel
        The model.
    """
    if isinstance(name, SpeedModel):
        return name
    if name == "free-flow":
        return SpeedModel(name="free-flow", dynamics=False)
    if name == "realistic":
        return SpeedModel(
            name="realistic",
            dynamics=True,
            default_factor=settings.REALISTIC_LIMIT_FACTOR,
            signal_delay_s=settings.SIGNAL_DELAY_S,
            stop_delay_s=settings.STOP_DELAY_S,
            give_way_delay_s=settings.GIVE_WAY_DELAY_S,
            junction_delay_s=settings.JUNCTION_DELAY_S,
            urban=True,
        )
    msg = f"speed model '{name}' is unknown. Choose one of: {', '.join(SPEED_MODELS)}."
    raise InputError(msg)


# --------------------------------------------------------------------------- pieces


@dataclass(frozen=True)
class EdgePieces:
    """Every edge of a graph cut into its road pieces (OSM segments), as flat arrays.

    Pieces are in edge order (the order of ``graph.edges``), each edge's pieces
    in driving order. Vertices are the ends of pieces: an edge of ``k`` pieces
    has ``k + 1`` vertices.

    Attributes
    ----------
    n_edges
        Number of edges.
    edge
        Edge index of each piece.
    length
        Length of each piece, metres (an edge's pieces add up to its ``length``).
    limit_kmh
        Speed limit of each piece: its usable ``maxspeed`` tag, else its class's
        speed in the profile (capped at 130 km/h).
    tagged
        Whether the limit comes from a ``maxspeed`` tag.
    highway
        Class code of each piece (index into ``classes``).
    classes
        The ``highway`` class names.
    control
        Node control at the end of each piece: 0 none, 1 signals, 2 stop, 3 give way.
    vx, vy
        Vertex coordinates in the working CRS, metres (``n_pieces + n_edges`` of them).
    junction_at_end
        Whether each edge ends at a junction of three roads or more.
    built_up
        Whether each piece lies in a built-up area (see the module docstring).
    """

    n_edges: int
    edge: np.ndarray
    length: np.ndarray
    limit_kmh: np.ndarray
    tagged: np.ndarray
    highway: np.ndarray
    classes: tuple[str, ...]
    control: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    junction_at_end: np.ndarray
    built_up: np.ndarray

    @property
    def n_pieces(self) -> int:
        """Number of pieces."""
        return int(self.edge.size)


def parse_segments(value: object) -> list[tuple[object, object, float, object]] | None:
    """Read an edge's ``segments`` attribute: ``[highway, maxspeed, length[, control]]`` each.

    The attribute is JSON text as written by :func:`optimizer.network.simplify`;
    after a GraphML round trip osmnx may already have turned it into a Python
    list (it evaluates list-looking attributes), which is read the same way.

    Parameters
    ----------
    value
        The attribute (JSON text, a list, or None).

    Returns
    -------
    list or None
        ``(highway, maxspeed, length, control)`` per segment, or None when the
        edge has no usable ``segments``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if not isinstance(value, (list, tuple)) or not value:
        return None
    out = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) < 3:
            return None
        control = item[3] if len(item) > 3 else None
        out.append((item[0], item[1], float(item[2]), control))
    return out


def edge_pieces(
    graph: nx.MultiDiGraph, speeds: Mapping[str, float], model: SpeedModel
) -> EdgePieces:
    """Cut every edge of ``graph`` into road pieces with their limits (see :class:`EdgePieces`).

    Parameters
    ----------
    graph
        osmnx-style graph in WGS84 (edges with ``length``; optionally
        ``segments``, ``geometry``, ``highway``, ``maxspeed``).
    speeds
        km/h per ``highway`` class (the profile), for untagged pieces.
    model
        The speed model: the radius and count of its built-up rule (the flags
        are computed whatever the model, so that any model can time the pieces).

    Returns
    -------
    EdgePieces
        The pieces.
    """
    node_x = dict(graph.nodes(data="x"))
    node_y = dict(graph.nodes(data="y"))
    node_control = {
        n: _CONTROLS.get(str(h), 0) for n, h in graph.nodes(data="highway") if h is not None
    }
    edges = list(graph.edges(data=True))
    junction = _junction_at_end(graph, edges)

    edge_of: list[int] = []
    lengths: list[float] = []
    highways: list[object] = []
    maxspeeds: list[object] = []
    controls: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    n_edges = len(edges)
    for k, (u, v, data) in enumerate(edges):
        length = float(data["length"])
        segments = data.get("segments")
        segs = None if segments is None else parse_segments(segments)
        line = data.get("geometry")
        if line is None and segs is None:  # one straight piece (most edges of a graph file)
            edge_of.append(k)
            lengths.append(length)
            highways.append(data.get("highway"))
            maxspeeds.append(data.get("maxspeed"))
            controls.append(node_control.get(v, 0))
            lon.extend((node_x[u], node_x[v]))
            lat.extend((node_y[u], node_y[v]))
            continue
        coords = (
            list(line.coords)
            if line is not None
            else [(node_x[u], node_y[u]), (node_x[v], node_y[v])]
        )
        if segs is not None and len(coords) == len(segs) + 1:
            parts = [(hw, ms, ln, _CONTROLS.get(str(c), 0)) for hw, ms, ln, c in segs]
        elif segs is None and len(coords) == 2:  # one straight piece: what _pieces_along gives
            parts = [(data.get("highway"), data.get("maxspeed"), length, 0)]
        else:
            parts = _pieces_along(coords, segs, data, length)
        for i, (hw, ms, ln, ctl) in enumerate(parts):
            edge_of.append(k)
            lengths.append(ln)
            highways.append(hw)
            maxspeeds.append(ms)
            controls.append(node_control.get(v, ctl) if i == len(parts) - 1 else ctl)
        lon.extend(c[0] for c in coords)
        lat.extend(c[1] for c in coords)
    nodes = list(graph.nodes)
    return pieces_from_lists(
        n_edges=n_edges,
        edge=np.asarray(edge_of, dtype=np.int64),
        length=np.asarray(lengths, dtype=float),
        highway=highways,
        maxspeed=maxspeeds,
        control=np.asarray(controls, dtype=np.int64),
        lon=lon,
        lat=lat,
        node_lon=np.array([node_x[n] for n in nodes], dtype=float),
        node_lat=np.array([node_y[n] for n in nodes], dtype=float),
        junction_at_end=junction,
        speeds=speeds,
        model=model,
    )


def pieces_from_lists(
    *,
    n_edges: int,
    edge: np.ndarray,
    length: np.ndarray,
    highway: list[object],
    maxspeed: list[object],
    control: np.ndarray,
    lon: list[float] | np.ndarray,
    lat: list[float] | np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    junction_at_end: np.ndarray,
    speeds: Mapping[str, float],
    model: SpeedModel,
) -> EdgePieces:
    """Make :class:`EdgePieces` from each piece's tags and each edge's vertices (WGS84).

    What :func:`edge_pieces` does once it has read the graph, also used by the
    array-built networks of OSM files (:mod:`optimizer._roads`), which have no graph.

    Parameters
    ----------
    n_edges
        Number of edges.
    edge, length, control
        Per piece, in edge order: its edge, its length (m) and the control at its end.
    highway, maxspeed
        Per piece: its ``highway`` and ``maxspeed`` values (strings, lists or None).
    lon, lat
        The vertices of every edge, edge after edge (``n_pieces + n_edges`` of them).
    node_lon, node_lat
        Every node of the network (for the built-up rule).
    junction_at_end
        Per edge: whether it ends at a junction of three roads or more.
    speeds
        km/h per ``highway`` class (the profile).
    model
        The speed model (its built-up rule's radius and count).

    Returns
    -------
    EdgePieces
        The pieces.
    """
    limit_cache: dict[tuple[str, str], tuple[float, bool, str]] = {}

    def limit_of(highway: object, maxspeed: object) -> tuple[float, bool, str]:
        key = (repr(highway), repr(maxspeed))
        found = limit_cache.get(key)
        if found is None:
            tag = parse_maxspeed(maxspeed)
            speed = tag if tag is not None else class_speed(highway, speeds)
            name = highway[0] if isinstance(highway, (list, tuple)) and highway else highway
            found = (
                min(speed, settings.IMPLICIT_MAXSPEEDS["fr:motorway"]),
                tag is not None,
                str(name) if name is not None else "",
            )
            limit_cache[key] = found
        return found

    found = [limit_of(hw, ms) for hw, ms in zip(highway, maxspeed, strict=True)]
    limits = [f[0] for f in found]
    tagged = [f[1] for f in found]
    names = [f[2] for f in found]
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    vx, vy = (np.asarray(a, dtype=float) for a in to_metric.transform(lon, lat))
    classes, codes = np.unique(np.asarray(names, dtype=object).astype(str), return_inverse=True)
    edge = np.asarray(edge, dtype=np.int64)
    built_up = np.zeros(edge.size, dtype=bool)
    if edge.size:  # always known, so that any model can time these pieces
        start = np.arange(edge.size) + edge  # vertex index of each piece's start
        mx, my = (vx[start] + vx[start + 1]) / 2.0, (vy[start] + vy[start + 1]) / 2.0
        nx_, ny_ = to_metric.transform(node_lon, node_lat)
        tree = cKDTree(np.column_stack([nx_, ny_]))
        near = tree.query_ball_point(
            np.column_stack([mx, my]), model.urban_radius_m, return_length=True
        )
        built_up = np.asarray(near) >= model.urban_min_nodes
    return EdgePieces(
        n_edges=n_edges,
        edge=edge,
        length=np.asarray(length, dtype=float),
        limit_kmh=np.asarray(limits, dtype=float),
        tagged=np.asarray(tagged, dtype=bool),
        highway=codes.astype(np.int64),
        classes=tuple(str(c) for c in classes),
        control=np.asarray(control, dtype=np.int64),
        vx=vx,
        vy=vy,
        junction_at_end=np.asarray(junction_at_end, dtype=bool),
        built_up=built_up,
    )


def _pieces_along(
    coords: list[tuple[float, float]],
    segs: list[tuple[object, object, float, object]] | None,
    data: Mapping[str, Any],
    length: float,
) -> list[tuple[object, object, float, int]]:
    """Pieces of an edge whose geometry does not match its segments one to one.

    Each straight piece of the geometry gets a share of the edge's length in
    proportion to its own, and the tags of the segment under its middle (or
    the edge's own tags when it has no segments).
    """
    xy = np.asarray(coords, dtype=float)
    # local metres: good enough for proportions along one edge
    scale = np.array([math.cos(math.radians(float(xy[:, 1].mean()))), 1.0])
    step = np.hypot(*((np.diff(xy, axis=0) * scale).T))
    total = float(step.sum())
    share = step / total * length if total > 0 else np.full(step.size, length / step.size)
    if segs is None:
        return [(data.get("highway"), data.get("maxspeed"), float(s), 0) for s in share]
    seg_end = np.cumsum([s[2] for s in segs])
    seg_end = seg_end / seg_end[-1] * length if seg_end[-1] > 0 else seg_end
    middle = np.cumsum(share) - share / 2.0
    which = np.minimum(np.searchsorted(seg_end, middle), len(segs) - 1)
    return [(segs[j][0], segs[j][1], float(s), 0) for j, s in zip(which, share, strict=True)]


def _junction_at_end(graph: nx.MultiDiGraph, edges: list[tuple[Any, Any, Any]]) -> np.ndarray:
    """Whether each edge ends at a node where three distinct roads or more meet."""
    index = {node: i for i, node in enumerate(graph.nodes)}
    n = len(index)
    u = np.fromiter((index[e[0]] for e in edges), dtype=np.int64, count=len(edges))
    v = np.fromiter((index[e[1]] for e in edges), dtype=np.int64, count=len(edges))
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique(a[a != b] * n + b[a != b])
    streets = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
    return streets[v] >= 3


def _streets_per_node(graph: nx.MultiDiGraph) -> dict[Any, int]:
    """Count the distinct roads (neighbours, either direction) meeting at each node."""
    neighbours: dict[Any, set[Any]] = {}
    for u, v in graph.edges():
        if u != v:
            neighbours.setdefault(u, set()).add(v)
            neighbours.setdefault(v, set()).add(u)
    return {n: len(s) for n, s in neighbours.items()}


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class EdgeTimes:
    """Travel time of every edge under a speed model.

    Attributes
    ----------
    seconds
        Time of each edge, seconds.
    by_group
        ``(n_edges, len(GROUPS) + 1)``: the part of each edge's time driven on
        each road-class group, and (last column) the delays at nodes.
    piece_s
        Seconds driving each piece (:class:`EdgePieces` order), its braking
        and bends included; None when not known.
    piece_delay_s
        Delay at the end of each piece, seconds: a signal, a stop, and on an
        edge's last piece the junction it ends on. None when not known.
    """

    seconds: np.ndarray
    by_group: np.ndarray
    piece_s: np.ndarray | None = None
    piece_delay_s: np.ndarray | None = None


def time_edges(pieces: EdgePieces, model: SpeedModel) -> EdgeTimes:
    """Time every edge of ``pieces`` under ``model``.

    Parameters
    ----------
    pieces
        The network's pieces (:func:`edge_pieces`).
    model
        The speed model.

    Returns
    -------
    EdgeTimes
        Seconds per edge, and their split by road-class group.
    """
    n = pieces.n_pieces
    factors = np.array([model.factor(c) for c in pieces.classes], dtype=float)
    limit = pieces.limit_kmh
    if model.urban:
        street = ~np.isin(np.asarray(pieces.classes, dtype=object), GROUPS["motorway"])
        town = pieces.built_up & ~pieces.tagged & street[pieces.highway]
        limit = np.where(town, np.minimum(limit, model.urban_kmh), limit)
    cruise = factors[pieces.highway] * limit / 3.6 if n else np.zeros(0)
    if not np.all(cruise > 0):
        msg = "a road piece has no positive speed; check the speed profile and factors."
        raise NetworkError(msg)
    if model.dynamics and n:
        piece_s = _dynamic_seconds(pieces, cruise, model)
    else:
        piece_s = pieces.length / cruise
    delays = np.zeros(pieces.n_edges)
    per_control = np.array([0.0, model.signal_delay_s, model.stop_delay_s, model.give_way_delay_s])
    piece_delay = per_control[pieces.control] if n else np.zeros(0)
    if n:
        delays = np.bincount(pieces.edge, weights=piece_delay, minlength=pieces.n_edges).astype(
            float
        )
    delays = delays + np.where(pieces.junction_at_end, model.junction_delay_s, 0.0)
    group_of_class = np.array(
        [_GROUP_OF.get(c, list(GROUPS).index(OTHER_GROUP)) for c in pieces.classes], dtype=np.int64
    )
    width = len(GROUPS) + 1
    cell = pieces.edge * width + group_of_class[pieces.highway]
    by_group = np.bincount(cell, weights=piece_s, minlength=pieces.n_edges * width)
    by_group = by_group.reshape(pieces.n_edges, width)
    by_group[:, DELAY_COLUMN] = delays
    if n:  # the junction an edge ends on delays the end of its last piece
        last = np.ones(n, dtype=bool)
        last[:-1] = pieces.edge[1:] != pieces.edge[:-1]
        piece_delay = piece_delay + np.where(
            last & pieces.junction_at_end[pieces.edge], model.junction_delay_s, 0.0
        )
    return EdgeTimes(
        seconds=by_group.sum(axis=1),
        by_group=by_group,
        piece_s=np.asarray(piece_s, dtype=float),
        piece_delay_s=np.asarray(piece_delay, dtype=float),
    )


def time_shares(
    pieces: EdgePieces, times: EdgeTimes
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each piece starts along its edge, in length and in time, as shares of the edge.

    A point inside an edge is then timed by the pieces actually driven to
    reach it (their bends, braking and signals), not by its share of the
    edge's length: the time share at a length share ``s`` inside piece ``i``
    is ``t0[i] + dt[i] * (s - at[i]) / (at[i + 1] - at[i])`` (``at`` of the
    piece after the last is 1), and a whole edge is share 1 of its time.
    Shares stay those of the model when an edge's total was given otherwise
    (``keep_times``, drive-time scenarios).

    Parameters
    ----------
    pieces
        The network's pieces.
    times
        Their times (:func:`time_edges`, with ``piece_s`` and ``piece_delay_s``).

    Returns
    -------
    ptr
        ``(n_edges + 1,)``: the pieces of edge ``k`` are ``ptr[k]:ptr[k + 1]``.
    at
        Length share (along the edge's drawn line, working CRS) where each piece starts.
    t0, dt
        Time share of the edge at each piece's start, and of the piece's driving.
    """
    n, edges = pieces.n_pieces, pieces.edge
    ptr = np.searchsorted(edges, np.arange(pieces.n_edges + 1)).astype(np.int64)
    if n == 0 or times.piece_s is None or times.piece_delay_s is None:
        return ptr, np.zeros(n), np.zeros(n), np.zeros(n)
    first = ptr[edges]  # first piece of each piece's edge
    count = np.diff(ptr)[edges]
    rank = np.arange(n) - first
    start = np.arange(n) + edges  # vertex of each piece's start
    step = np.hypot(
        pieces.vx[start + 1] - pieces.vx[start], pieces.vy[start + 1] - pieces.vy[start]
    )
    drawn = np.bincount(edges, weights=step, minlength=pieces.n_edges)[edges]
    before = np.cumsum(step) - step
    before -= before[first]
    spent = times.piece_s + times.piece_delay_s
    t_before = np.cumsum(spent) - spent
    t_before -= t_before[first]
    whole = np.bincount(edges, weights=spent, minlength=pieces.n_edges)[edges]
    with np.errstate(divide="ignore", invalid="ignore"):
        at = np.where(drawn > 0, before / drawn, rank / count)
        nxt = np.where(rank + 1 < count, np.append(at[1:], 1.0), 1.0)
        t0 = np.where(whole > 0, t_before / whole, at)
        dt = np.where(whole > 0, times.piece_s / whole, nxt - at)
    return ptr, at, t0, dt


def _dynamic_seconds(pieces: EdgePieces, cruise: np.ndarray, model: SpeedModel) -> np.ndarray:
    """Seconds of each piece when the car slows for bends, braking and accelerating.

    The speed at each vertex is capped by the bend there (``sqrt(a R)``) and
    by the cruising speeds of the pieces on either side; a forward pass
    (acceleration) and a backward pass (braking) make the caps reachable,
    both as running minima of squared speeds, so the whole network is done
    at once. Each piece is then driven: accelerate, cruise, brake.
    """
    n, edges = pieces.n_pieces, pieces.edge
    first = np.ones(n, dtype=bool)
    first[1:] = edges[1:] != edges[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = edges[1:] != edges[:-1]
    start = np.arange(n) + edges  # vertex index of each piece's start; its end is start + 1
    n_vert = pieces.vx.size
    vedge = np.empty(n_vert, dtype=np.int64)  # edge of each vertex
    vedge[start] = edges
    vedge[start[last] + 1] = edges[last]

    # squared-speed caps at vertices: cruising speed of the pieces on either side, and bends
    c2 = cruise**2
    cap = np.full(n_vert, np.inf)
    cap[start] = c2
    cap[start + 1] = np.minimum(cap[start + 1], c2)
    inner = start[~first]  # vertices between two pieces of one edge
    # distance of each vertex along the whole array, and each vertex's edge's end vertices
    along = np.zeros(n_vert)
    along[start + 1] = pieces.length
    along = np.cumsum(along)
    first_v = start[first][vedge]
    last_v = (start[last] + 1)[vedge]
    # the bend at a vertex is read over a chord of at least BEND_CHORD_M on each side, so
    # that finely drawn roads (a point every few metres, each a little off) show no false bends
    back = np.searchsorted(along, along[inner] - model.bend_chord_m, side="right") - 1
    back = np.minimum(np.maximum(back, first_v[inner]), inner - 1)
    ahead = np.searchsorted(along, along[inner] + model.bend_chord_m, side="left")
    ahead = np.maximum(np.minimum(ahead, last_v[inner]), inner + 1)
    ax, ay = pieces.vx[back], pieces.vy[back]
    bx, by = pieces.vx[inner], pieces.vy[inner]
    cx, cy = pieces.vx[ahead], pieces.vy[ahead]
    ab, bc, ca = np.hypot(bx - ax, by - ay), np.hypot(cx - bx, cy - by), np.hypot(ax - cx, ay - cy)
    cross = np.abs((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.where(cross > 1e-9, ab * bc * ca / (2.0 * cross), np.inf)
    floor = (model.min_bend_kmh / 3.6) ** 2
    cap[inner] = np.minimum(cap[inner], np.maximum(model.lateral_accel_ms2 * radius, floor))

    # distance of each vertex from the first vertex of its edge
    dist = along - along[first_v]
    # forward: w[i] = min over k <= i of cap[k] + 2a (D[i] - D[k]); backward: braking, k >= i
    a, d = model.accel_ms2, model.decel_ms2
    spread = float(c2.max()) + 2.0 * max(a, d) * float(dist.max()) + 1.0
    fwd = _segmented_cummin(cap - 2.0 * a * dist, vedge, 4.0 * spread) + 2.0 * a * dist
    back = (cap + 2.0 * d * dist)[::-1]
    bwd = _segmented_cummin(back, vedge[::-1], 4.0 * spread)[::-1] - 2.0 * d * dist
    w = np.maximum(np.minimum(fwd, bwd), 0.0)

    v0, v1 = np.sqrt(w[start]), np.sqrt(w[start + 1])
    length = pieces.length
    peak_sq = (2.0 * a * d * length + d * v0**2 + a * v1**2) / (a + d)
    vp = np.maximum(np.minimum(cruise, np.sqrt(peak_sq)), np.maximum(v0, v1))
    accel_m = (vp**2 - v0**2) / (2.0 * a)
    brake_m = (vp**2 - v1**2) / (2.0 * d)
    cruise_m = np.maximum(length - accel_m - brake_m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        seconds = (vp - v0) / a + (vp - v1) / d + np.where(vp > 0, cruise_m / vp, 0.0)
    return np.where(length > 0, seconds, 0.0)


def _segmented_cummin(values: np.ndarray, group: np.ndarray, big: float) -> np.ndarray:
    """Return the running minimum of ``values``, restarting at each new (contiguous) ``group``.

    Each group is lowered by ``big`` times its rank, so that the running
    minimum never carries a value over from an earlier group (``big`` must
    exceed the spread of all the values).
    """
    change = np.ones(group.size, dtype=bool)
    change[1:] = group[1:] != group[:-1]
    lift = big * (np.cumsum(change) - 1).astype(float)
    return np.minimum.accumulate(values - lift) + lift


#: km/h in one mile an hour.
_MPH = 1.609344


def parse_maxspeed(value: object) -> float | None:
    """Turn an OSM ``maxspeed`` value into km/h, or None when it is not usable.

    Handles plain numbers, ``"km/h"`` and ``"mph"`` units, several values
    (``"50;30"``: the lowest wins) and the implicit values of
    :data:`optimizer.settings.IMPLICIT_MAXSPEEDS` (``FR:rural`` ...).

    Parameters
    ----------
    value
        The tag value (a string, a number, or a list after osmnx simplification:
        then the mean of the usable values).

    Returns
    -------
    float or None
        Speed in km/h.
    """
    if isinstance(value, (list, tuple)):
        parsed = [s for s in (parse_maxspeed(v) for v in value) if s is not None]
        return sum(parsed) / len(parsed) if parsed else None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) and value > 0 else None
    if not isinstance(value, str):
        return None
    speeds = [_parse_one_speed(part) for part in re.split(r"[;|]", value)]
    usable = [s for s in speeds if s is not None]
    return min(usable) if usable else None


def _parse_one_speed(text: str) -> float | None:
    text = text.strip().lower()
    if text in settings.IMPLICIT_MAXSPEEDS:
        return settings.IMPLICIT_MAXSPEEDS[text]
    match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph)?", text)
    if not match:
        return None
    speed = float(match.group(1).replace(",", "."))
    if match.group(2) == "mph":
        speed *= _MPH
    return speed if speed > 0 else None


def class_speed(highway: object, speeds: Mapping[str, float]) -> float:
    """km/h of a ``highway`` class in ``speeds`` (mean over a list; else the fallback speed)."""
    if isinstance(highway, (list, tuple)):
        known = [speeds[h] for h in highway if isinstance(h, str) and h in speeds]
        return sum(known) / len(known) if known else settings.FALLBACK_SPEED_KMH
    if isinstance(highway, str) and highway in speeds:
        return speeds[highway]
    return settings.FALLBACK_SPEED_KMH
