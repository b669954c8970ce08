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
vectorised passes; the pieces and their limits are made in
:mod:`optimizer.road_pieces` (re-exported here), this module owns the models
and the timing. The time of every edge is also split by road-class group
(:data:`GROUPS`) and delays, which is what drive-time scenarios scale.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import optimizer.settings as settings
from optimizer.errors import InputError, NetworkError
from optimizer.road_pieces import EdgePieces as EdgePieces  # re-exported: the pieces live there
from optimizer.road_pieces import class_speed as class_speed
from optimizer.road_pieces import edge_pieces as edge_pieces
from optimizer.road_pieces import parse_maxspeed as parse_maxspeed
from optimizer.road_pieces import parse_segments as parse_segments
from optimizer.road_pieces import pieces_from_lists as pieces_from_lists

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
    by_group = np.bincount(cell, weights=piece_s, minlength=pieces.n_edges * width).reshape(
        pieces.n_edges, width
    )
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
