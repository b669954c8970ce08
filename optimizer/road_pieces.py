"""A network's edges cut into road pieces (OSM segments), with each piece's speed limit.

:class:`EdgePieces` holds every piece of every edge as flat arrays: its
length, its limit (a usable ``maxspeed`` tag, read by :func:`parse_maxspeed`,
else its class's speed in the profile, :func:`class_speed`), its road class,
the control at its end, its vertices and whether it lies in a built-up area.
:func:`edge_pieces` reads them from a graph, :func:`pieces_from_lists` from
lists (the array-built networks of :mod:`optimizer._roads`); the speed model
(:mod:`optimizer.speed_model`, which re-exports these names) times them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

import optimizer.settings as settings

if TYPE_CHECKING:
    from optimizer.speed_model import SpeedModel


#: Node controls and the column of their delay.
_CONTROLS = {"traffic_signals": 1, "stop": 2, "give_way": 3}


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

    The attribute is JSON text as written by :func:`optimizer.osmgraph.simplify`;
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

    read = _read_pieces(edges, node_x, node_y, node_control)
    nodes = list(graph.nodes)
    return pieces_from_lists(
        n_edges=len(edges),
        edge=np.asarray(read.edge_of, dtype=np.int64),
        length=np.asarray(read.lengths, dtype=float),
        highway=read.highways,
        maxspeed=read.maxspeeds,
        control=np.asarray(read.controls, dtype=np.int64),
        lon=read.lon,
        lat=read.lat,
        node_lon=np.array([node_x[n] for n in nodes], dtype=float),
        node_lat=np.array([node_y[n] for n in nodes], dtype=float),
        junction_at_end=junction,
        speeds=speeds,
        model=model,
    )


@dataclass
class _PieceLists:
    """Per piece: its edge, length, tags and end control; the edges' vertices (WGS84)."""

    edge_of: list[int] = field(default_factory=list)
    lengths: list[float] = field(default_factory=list)
    highways: list[object] = field(default_factory=list)
    maxspeeds: list[object] = field(default_factory=list)
    controls: list[int] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)


def _read_pieces(
    edges: list[tuple[Any, Any, dict[str, Any]]],
    node_x: Mapping[Any, float],
    node_y: Mapping[Any, float],
    node_control: Mapping[Any, int],
) -> _PieceLists:
    """Read every edge's pieces (its ``segments``, else its geometry, else one straight piece)."""
    read = _PieceLists()
    edge_of, lengths, controls = read.edge_of, read.lengths, read.controls
    highways, maxspeeds, lon, lat = read.highways, read.maxspeeds, read.lon, read.lat
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
        parts = _edge_parts(coords, segs, data, length)
        for i, (hw, ms, ln, ctl) in enumerate(parts):
            edge_of.append(k)
            lengths.append(ln)
            highways.append(hw)
            maxspeeds.append(ms)
            controls.append(node_control.get(v, ctl) if i == len(parts) - 1 else ctl)
        lon.extend(c[0] for c in coords)
        lat.extend(c[1] for c in coords)
    return read


def _edge_parts(
    coords: list[tuple[float, float]],
    segs: list[tuple[object, object, float, object]] | None,
    data: Mapping[str, Any],
    length: float,
) -> list[tuple[object, object, float, int]]:
    """Return the pieces of an edge drawn by ``coords``: its segments, or cut along its geometry."""
    if segs is not None and len(coords) == len(segs) + 1:
        return [(hw, ms, ln, _CONTROLS.get(str(c), 0)) for hw, ms, ln, c in segs]
    if segs is None and len(coords) == 2:  # one straight piece: what _pieces_along gives
        return [(data.get("highway"), data.get("maxspeed"), length, 0)]
    return _pieces_along(coords, segs, data, length)


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
    limits, tagged, codes, classes = _limits(highway, maxspeed, speeds)
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    vx, vy = (
        np.asarray(a, dtype=float)
        for a in to_metric.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    )
    edge = np.asarray(edge, dtype=np.int64)
    built_up = _built_up(edge, vx, vy, node_lon, node_lat, model, to_metric)
    return EdgePieces(
        n_edges=n_edges,
        edge=edge,
        length=np.asarray(length, dtype=float),
        limit_kmh=limits,
        tagged=tagged,
        highway=codes,
        classes=classes,
        control=np.asarray(control, dtype=np.int64),
        vx=vx,
        vy=vy,
        junction_at_end=np.asarray(junction_at_end, dtype=bool),
        built_up=built_up,
    )


def _limits(
    highway: list[object], maxspeed: list[object], speeds: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Return each piece's limit (km/h), whether a tag gave it, its class code, and the classes.

    Each distinct pair of tags is read once; the classes are the names sorted.
    """
    row_of: dict[object, int] = {}
    rows: list[tuple[float, bool, str]] = []
    which = np.empty(len(highway), dtype=np.int64)
    for i, (hw, ms) in enumerate(zip(highway, maxspeed, strict=True)):
        key = _tags_key(hw, ms)
        row = row_of.get(key)
        if row is None:
            tag = parse_maxspeed(ms)
            speed = tag if tag is not None else class_speed(hw, speeds)
            name = hw[0] if isinstance(hw, (list, tuple)) and hw else hw
            row = row_of[key] = len(rows)
            rows.append(
                (
                    min(speed, settings.IMPLICIT_MAXSPEEDS["fr:motorway"]),
                    tag is not None,
                    str(name) if name is not None else "",
                )
            )
        which[i] = row
    classes = tuple(sorted({name for _, _, name in rows}))
    code = {name: k for k, name in enumerate(classes)}
    limit = np.array([r[0] for r in rows], dtype=float)
    tagged = np.array([r[1] for r in rows], dtype=bool)
    codes = np.array([code[r[2]] for r in rows], dtype=np.int64)
    return limit[which], tagged[which], codes[which], classes


def _tags_key(highway: object, maxspeed: object) -> object:
    """Return a dict key telling two pairs of tag values apart (by type too: ``1``, ``True``)."""
    key = (type(highway), highway, type(maxspeed), maxspeed)
    try:
        hash(key)
    except TypeError:  # lists of values (after osmnx simplification)
        return (repr(highway), repr(maxspeed))
    return key


def _built_up(
    edge: np.ndarray,
    vx: np.ndarray,
    vy: np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    model: SpeedModel,
    to_metric: Transformer,
) -> np.ndarray:
    """Tell whether each piece's middle has the model's count of nodes within its radius."""
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
    return built_up


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
