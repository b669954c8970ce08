"""A graph's edges timed and compiled for routing.

:func:`add_travel_times` sets every edge's ``travel_time`` and ``speed_kph``
under a speed model (:mod:`optimizer.speed_model`); :func:`compile_routing`
turns the timed graph into :class:`~optimizer.roadnet.RoutingArrays` (the
fastest edge of each node pair); :func:`csr` makes sparse matrices of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from scipy import sparse

import optimizer.settings as settings
from optimizer.errors import NetworkError
from optimizer.roadnet import RoutingArrays, with_shares
from optimizer.speed_model import (
    DEFAULT_SPEED_MODEL,
    EdgePieces,
    EdgeTimes,
    SpeedModel,
    edge_pieces,
    speed_model,
    time_edges,
)


def add_travel_times(
    graph: nx.MultiDiGraph,
    speeds: Mapping[str, float],
    *,
    model: str | SpeedModel = DEFAULT_SPEED_MODEL,
    keep_times: bool = False,
) -> tuple[EdgePieces, EdgeTimes]:
    """Set ``speed_kph`` and ``travel_time`` (seconds) on every edge, in place.

    Each road piece's limit is its usable ``maxspeed`` tag, otherwise the
    speed of its ``highway`` class in ``speeds``, otherwise
    :data:`optimizer.settings.FALLBACK_SPEED_KMH`, never above 130 km/h; the
    speed model (:mod:`optimizer.speed_model`) turns limits into times
    (``free-flow``: at the limit; ``realistic``: cruising factor, bends,
    delays at nodes, built-up areas). ``speed_kph`` is the edge's resulting
    mean speed. Times are rounded to the millisecond, the resolution of
    routing (see :mod:`optimizer.travel`).

    Parameters
    ----------
    graph
        Graph whose edges carry ``length`` in metres.
    speeds
        km/h per ``highway`` class.
    model
        Speed model or its name.
    keep_times
        Keep the ``travel_time`` an edge already has (rounded to the millisecond).

    Returns
    -------
    tuple of EdgePieces and EdgeTimes
        The pieces (for re-timing) and the times, in ``graph.edges`` order.
    """
    edges = list(graph.edges(data=True))
    lengths = _lengths(edges)
    chosen = speed_model(model)
    pieces = edge_pieces(graph, speeds, chosen)
    times = time_edges(pieces, chosen)
    seconds = times.seconds
    if keep_times:
        given = np.array([_finite_or_nan(d.get("travel_time")) for _, _, d in edges])
        keep = np.isfinite(given) & (given >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(seconds > 0, given / seconds, 0.0)
        times.by_group[keep] *= ratio[keep, None]
        seconds = np.where(keep, given, seconds)
        times = replace(times, seconds=seconds)
    # travel_time: rounded as Python rounds a float; speed_kph as NumPy rounds (what
    # round(length / seconds * 3.6, 3) of a NumPy float gives), all at once
    with np.errstate(divide="ignore", invalid="ignore"):
        kph = np.where(seconds > 0, np.round(lengths / seconds * 3.6, 3), 0.0)
    for (_, _, data), edge_s, edge_kph in zip(
        edges, round_as_python(seconds, 3), kph.tolist(), strict=True
    ):
        data["travel_time"] = edge_s
        data["speed_kph"] = edge_kph
    return pieces, times


def round_as_python(values: np.ndarray, digits: int) -> list[float]:
    """Return ``[round(v, digits) for v in values]``, all at once but for near ties.

    Python rounds the exact binary value to the nearest decimal (ties to
    even); ``rint(v * 10**digits) / 10**digits`` picks the same integer unless
    ``v * 10**digits`` lies within a rounding error of a half, and the division
    of that integer is correctly rounded. Those near halves (and values that
    are not finite) go through Python's ``round``: the result is the same,
    value for value, about three times faster.

    Parameters
    ----------
    values
        The numbers.
    digits
        Decimals kept, 0 to 15 (``10**digits`` and the integers rounded to are
        then exact floats, which the argument above needs).

    Returns
    -------
    list of float
        ``round(v, digits)`` of each value.
    """
    if not 0 <= digits <= 15:
        msg = f"round_as_python: digits must be 0 to 15, got {digits}."
        raise ValueError(msg)
    values = np.asarray(values, dtype=float)
    scale = 10.0**digits
    with np.errstate(over="ignore", invalid="ignore"):  # those go through Python
        scaled = values * scale
        rounded = np.rint(scaled) / scale
        off = np.abs(scaled - np.floor(scaled) - 0.5)
        near = ~(off > np.maximum(1e-6, np.abs(scaled) * 1e-12))
    out: list[float] = rounded.tolist()
    for i in np.flatnonzero(near).tolist():
        out[i] = round(float(values[i]), digits)
    return out


def _lengths(edges: list[tuple[Any, Any, dict[str, Any]]]) -> np.ndarray:
    """Return every edge's ``length`` (m); raise on the first that is missing or not a length."""
    given = [d.get("length") for _, _, d in edges]
    if all(type(length) is float for length in given):  # a graph's usual case, all at once
        lengths = np.array(given, dtype=float)
        if bool(np.all(np.isfinite(lengths) & (lengths >= 0))):
            return lengths
    for (u, v, _), length in zip(edges, given, strict=True):
        try:
            ok = length is not None and math.isfinite(float(length)) and float(length) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            msg = f"edge {u}->{v} has no valid length ({length!r}); the network file is damaged."
            raise NetworkError(msg)
    return np.array([float(length) for length in given], dtype=float)  # type: ignore[arg-type]


def _finite_or_nan(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def compile_routing(
    graph: nx.MultiDiGraph,
    *,
    shares: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> RoutingArrays:
    """Compile a timed graph into sorted edge arrays (fastest edge per node pair).

    Parameters
    ----------
    graph
        Graph whose nodes have ``x``, ``y`` (WGS84) and edges ``travel_time``
        and ``length``.
    shares
        How time grows along each graph edge (:func:`~optimizer.speed_model.time_shares`);
        None: in proportion to length.

    Returns
    -------
    RoutingArrays
        The arrays, coordinates projected to the working CRS.
    """
    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    index = {node: i for i, node in enumerate(graph.nodes)}
    lon = np.array([d["x"] for _, d in graph.nodes(data=True)], dtype=float)
    lat = np.array([d["y"] for _, d in graph.nodes(data=True)], dtype=float)
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    x, y = (np.asarray(a, dtype=float) for a in to_metric.transform(lon, lat))

    edges = list(graph.edges(data=True))
    m = len(edges)
    tail = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=m)
    head = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=m)
    seconds = np.fromiter((float(d["travel_time"]) for _, _, d in edges), dtype=float, count=m)
    metres = np.fromiter((float(d["length"]) for _, _, d in edges), dtype=float, count=m)
    lines: list[Any] = [d.get("geometry") for _, _, d in edges]
    # fastest edge of each (tail, head) pair (shortest among equally fast), in (tail, head) order
    order = np.lexsort((metres, seconds, head, tail))
    keep = np.ones(m, dtype=bool)
    keep[1:] = (np.diff(tail[order]) != 0) | (np.diff(head[order]) != 0)
    chosen = order[keep]
    geometry = np.empty(chosen.size, dtype=object)
    curved = np.array([lines[k] is not None for k in chosen.tolist()], dtype=bool)
    straight = chosen[~curved]  # from the nodes' projected points, all at once
    ends = np.stack(
        [
            np.column_stack([x[tail[straight]], y[tail[straight]]]),
            np.column_stack([x[head[straight]], y[head[straight]]]),
        ],
        axis=1,
    )
    geometry[~curved] = shapely.linestrings(ends) if straight.size else []
    if curved.any():  # every vertex projected in one call, then cut back into lines
        shapes = [lines[k] for k in chosen[curved].tolist()]
        counts = shapely.get_num_coordinates(shapes)
        coords = shapely.get_coordinates(shapes)
        px, py = to_metric.transform(coords[:, 0], coords[:, 1])
        geometry[curved] = shapely.linestrings(
            np.column_stack([px, py]), indices=np.repeat(np.arange(len(shapes)), counts)
        )
    routing = RoutingArrays(
        node_ids=node_ids,
        x=x,
        y=y,
        tail=tail[chosen],
        head=head[chosen],
        seconds=seconds[chosen],
        metres=metres[chosen],
        geometry=geometry,
        edge_source=chosen,
    )
    return with_shares(routing, shares) if shares is not None else routing


def csr(n: int, tail: np.ndarray, head: np.ndarray, *weights: np.ndarray) -> list[sparse.csr_array]:
    """Build CSR matrices sharing one structure, one per weight array.

    Edges must be unique per ``(tail, head)``. The matrices have sorted indices,
    so ``tail * n + head`` of their stored entries is increasing.

    Parameters
    ----------
    n
        Number of nodes.
    tail, head
        Edge ends.
    *weights
        One array per matrix wanted, aligned with the edges.

    Returns
    -------
    list of scipy.sparse.csr_array
        One matrix per weight array.
    """
    order = np.lexsort((head, tail))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    indices = head[order]
    return [sparse.csr_array((w[order], indices, indptr), shape=(n, n)) for w in weights]
