"""Travel times and distances between points, on a prepared road network.

Snapping
    Points (homes, telecentres, the head office) join the nearest point of the
    nearest road, found with a spatial index in the working CRS (Lambert-93).
    The straight access leg between the point and the road is driven at
    :data:`optimizer.settings.ACCESS_SPEED_KMH` and its length is reported
    (``snap_m``); a point further than ``max_snap_m`` from any road is not
    routed and comes out as unreachable, with the reason.

Routing
    Each snapped point becomes a node that splits its edge (and the edge's
    twin in the other direction, for a two-way road), so times are exact
    wherever the point lies along the road: the part of an edge driven is
    timed by its own pieces, with their bends, braking and signals
    (:meth:`~optimizer.network.RoutingArrays.time_share`), not by its share
    of the edge's length, and its length is its share of the road's line. One
    Dijkstra per destination on the reversed graph gives every origin's way
    there, and one on the forward graph
    the way back: the number of searches grows with destinations, never with
    origins.

Exact times and the distance of the fastest route, from one search
    Edge weights are whole milliseconds and whole decimetres packed into one
    integer, ``ms * 2**24 + dm``, which float64 holds exactly. The search
    therefore minimises time first and, among equally fast routes, length; the
    distance of the route found is the low part of the same sum, with no
    second search and no walk up the tree. Sums stay exact while a route is
    shorter than 1,677 km and faster than 149 h; beyond that the packing
    switches to whole metres (134,217 km, 18.6 h), and past that an error says
    so. Edge times are rounded to the millisecond when the network is
    prepared (:func:`optimizer.routing.add_travel_times`), so routing is exact
    on the network's own times.

Unreachable pairs are a missing value (NaN) with a reason, never a sentinel.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

import optimizer.settings as settings
from optimizer.errors import InputError, NetworkError
from optimizer.network import Progress, RoadNetwork, RoutingArrays, csr, prepare_network

logger = logging.getLogger(__name__)

#: A point that joins a one-way edge this close to one of its ends joins that node.
_AT_NODE_M = 1.0
#: (length unit in metres, bits for the length) tried in turn when packing weights.
_PACKINGS = ((0.1, 24), (1.0, 27))
_EXACT_BITS = 53

REASON_HOME_FAR = "home further than the snapping limit from any road"
REASON_DESTINATION_FAR = "destination further than the snapping limit from any road"
REASON_NO_ROUTE = "no road route between home and destination"
REASON_BEYOND_LIMIT = "drive to the destination longer than the limit"
#: With ``limit``, the way back is first searched up to this many times the limit.
BACK_LIMIT_FACTOR = 2.0


@dataclass(frozen=True)
class Snap:
    """Where points join the road network.

    Attributes
    ----------
    edge
        Index (in :class:`~optimizer.network.RoutingArrays`) of the edge each point joins.
    fraction
        Position of the join along that edge, 0 at its tail, 1 at its head.
    snap_m
        Length of the straight access leg, metres.
    ok
        False where the point is further than the snapping limit from any road.
    """

    edge: np.ndarray
    fraction: np.ndarray
    snap_m: np.ndarray
    ok: np.ndarray


@dataclass(frozen=True)
class TravelTable:
    """Result of :func:`travel_table`.

    Attributes
    ----------
    table
        Long table, one row per origin and destination, origin-major in input
        order: ``origin_id, destination_id, minutes_to, km_to, minutes_back,
        km_back, reason`` (``reason`` is empty where the pair is routed).
    origins
        ``id, snap_m, routed`` per origin.
    destinations
        ``id, snap_m, routed`` per destination.
    seconds
        Wall time of the computation.
    """

    table: pd.DataFrame
    origins: pd.DataFrame
    destinations: pd.DataFrame
    seconds: float


def snap_points(
    routing: RoutingArrays,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
) -> Snap:
    """Snap WGS84 points to the nearest point of the nearest road.

    Parameters
    ----------
    routing
        The compiled network.
    lon, lat
        Point coordinates in degrees.
    max_snap_m
        Points further than this from every road are marked not ``ok``.

    Returns
    -------
    Snap
        The join of each point.
    """
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    x, y = to_metric.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    x, y = np.asarray(x), np.asarray(y)
    # query in a spatial order (1 km cells): neighbouring queries share tree nodes
    order = np.lexsort((np.floor(x / 1000.0), np.floor(y / 1000.0)))
    points = shapely.points(x, y)
    candidates, tree = routing.snap_index
    (point_index, cand_index), distances = tree.query_nearest(
        points[order], return_distance=True, all_matches=False
    )
    edge = np.empty(len(points), dtype=np.int64)
    snap_m = np.empty(len(points), dtype=float)
    edge[order[point_index]] = candidates[cand_index]
    snap_m[order[point_index]] = distances
    fraction = shapely.line_locate_point(routing.geometry[edge], points, normalized=True)
    fraction = np.clip(np.nan_to_num(np.asarray(fraction, dtype=float), nan=0.0), 0.0, 1.0)
    return Snap(edge=edge, fraction=fraction, snap_m=snap_m, ok=snap_m <= max_snap_m)


def _augment(
    routing: RoutingArrays, snap: Snap, length_unit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add one node per routed point, splitting its edge and that edge's twin.

    Works in whole milliseconds and whole length units, rounding the position
    of each point along its edge so that the pieces of an edge add up exactly
    to the edge. Returns the augmented graph's edges (tail, head, ms, length
    units) and the node index of each point (-1 where it is not routed).
    """
    n = routing.n_nodes
    ms = np.rint(routing.seconds * 1000.0).astype(np.int64)
    units = np.rint(routing.metres / length_unit).astype(np.int64)
    twins = routing.twins
    node = np.full(snap.edge.size, -1, dtype=np.int64)
    routed = np.flatnonzero(snap.ok)
    node[routed] = n + np.arange(routed.size)
    order = routed[np.lexsort((snap.fraction[routed], snap.edge[routed]))]
    e, a, me = snap.edge[order], snap.fraction[order], node[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = e[1:] != e[:-1]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = e[1:] != e[:-1]
    prev_node = np.where(first, routing.tail[e], np.roll(me, 1))

    def chain(
        weight: np.ndarray, edge: np.ndarray, along: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost from the previous stop to each point, and from each last point to the end."""
        pos = np.rint(along * weight[edge]).astype(np.int64)
        prev = np.where(first, 0, np.roll(pos, 1))
        return pos - prev, (weight[edge] - pos)

    tails = [routing.tail, prev_node, me[last]]
    heads = [routing.head, me, routing.head[e[last]]]
    # time by the pieces driven (bends, braking, signals), length by the share of the line
    fwd_ms, fwd_ms_end = chain(ms, e, routing.time_share(e, a))
    fwd_u, fwd_u_end = chain(units, e, a)
    costs_ms = [ms, fwd_ms, fwd_ms_end[last]]
    costs_u = [units, fwd_u, fwd_u_end[last]]

    two_way = twins[e] >= 0
    tw = np.where(two_way, twins[e], e)
    # along the twin (head -> tail), a point at fraction a from the tail is at 1 - a; its
    # "position" is the time from it to the twin's head (this edge's tail), growing with a
    back_ms, back_ms_end = chain(ms, tw, routing.time_share(tw, a, reverse=True))
    back_u, back_u_end = chain(units, tw, a)
    last_two = last & two_way
    tails += [me[two_way], routing.head[e[last_two]]]
    heads += [prev_node[two_way], me[last_two]]
    costs_ms += [back_ms[two_way], back_ms_end[last_two]]
    costs_u += [back_u[two_way], back_u_end[last_two]]

    # on a one-way edge, a point at one of its ends is that node, reachable both ways
    at_tail = ~two_way & (a * routing.metres[e] <= _AT_NODE_M)
    at_head = ~two_way & ((1.0 - a) * routing.metres[e] <= _AT_NODE_M)
    pos_ms = np.rint(routing.time_share(e, a) * ms[e]).astype(np.int64)
    pos_u = np.rint(a * units[e]).astype(np.int64)
    tails += [me[at_tail], routing.head[e[at_head]]]
    heads += [routing.tail[e[at_tail]], me[at_head]]
    costs_ms += [pos_ms[at_tail], (ms[e] - pos_ms)[at_head]]
    costs_u += [pos_u[at_tail], (units[e] - pos_u)[at_head]]
    return (
        np.concatenate(tails),
        np.concatenate(heads),
        np.concatenate(costs_ms),
        np.concatenate(costs_u),
        node,
    )


def travel_table(
    network: RoadNetwork | nx.MultiDiGraph,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
    access_speed_kmh: float = settings.ACCESS_SPEED_KMH,
    limit: float | None = None,
    progress: Progress | None = None,
) -> TravelTable:
    """Compute minutes and km from every origin to every destination and back.

    Parameters
    ----------
    network
        A prepared road network (:func:`optimizer.network.load_network`), or an
        osmnx-style networkx graph in WGS84 (nodes with ``x``, ``y``; edges with
        ``length`` in metres and optionally ``travel_time`` in seconds, kept
        where given, else timed from ``maxspeed`` / ``highway``).
    origins, destinations
        Tables with columns ``id``, ``lon``, ``lat`` (WGS84).
    max_snap_m
        Points further than this from any road are not routed.
    access_speed_kmh
        Speed on the straight leg between a point and its road.
    limit
        Longest drive to a destination wanted, minutes (None: no limit). The
        searches to the destinations stop there, so a large network costs
        what the limit reaches; a pair whose drive there is longer comes out
        unrouted (NaN both ways, reason "longer than the limit"). A pair
        within the limit has exactly its unbounded times, both ways: the way
        back is searched up to :data:`BACK_LIMIT_FACTOR` times the limit,
        then without bound for the destinations that still miss one.
    progress
        Called with a short message before each step.

    Returns
    -------
    TravelTable
        The long table and the snapping report.

    Examples
    --------
    >>> from optimizer import datasets, load_network, travel_table
    >>> net = load_network(datasets.path(datasets.NETWORK_FILE))
    >>> homes = datasets.agents().rename(columns={"agent_id": "id"}).head(3)
    >>> sites = datasets.telecentres().rename(columns={"telecentre_id": "id"})
    >>> travel_table(net, homes, sites).table.shape
    (21, 7)
    """
    started = time.perf_counter()
    _check_tables(origins, destinations, limit)
    if isinstance(network, nx.Graph):
        network = prepare_network(nx.MultiDiGraph(network), source="graph", keep_times=True)
    routing = network.routing
    n_orig, n_dest = len(origins), len(destinations)
    if progress:
        progress(f"snapping {n_orig + n_dest} points to the road network")
    snap = snap_points(
        routing,
        np.concatenate([origins["lon"].to_numpy(float), destinations["lon"].to_numpy(float)]),
        np.concatenate([origins["lat"].to_numpy(float), destinations["lat"].to_numpy(float)]),
        max_snap_m=max_snap_m,
    )
    if progress:
        progress(f"shortest paths from {n_dest} destinations, both directions")
    limit_s = None if limit is None else limit * 60.0
    routed = _route(routing, snap, n_orig, limit_s=limit_s)
    table = _long_table(origins, destinations, snap, routed, access_speed_kmh, limit_s)
    snaps = pd.DataFrame({"snap_m": snap.snap_m, "routed": snap.ok})
    elapsed = time.perf_counter() - started
    logger.info("travel table %d origins x %d destinations in %.3f s", n_orig, n_dest, elapsed)
    return TravelTable(
        table=table,
        origins=_snap_report(origins, snaps.iloc[:n_orig]),
        destinations=_snap_report(destinations, snaps.iloc[n_orig:]),
        seconds=elapsed,
    )


def _check_tables(origins: pd.DataFrame, destinations: pd.DataFrame, limit: float | None) -> None:
    """Refuse a limit that is not positive, and points without ``id``, ``lon``, ``lat``."""
    if limit is not None and not limit > 0:
        msg = f"travel_table: limit must be positive minutes, got {limit}."
        raise InputError(msg)
    for frame, what in ((origins, "origins"), (destinations, "destinations")):
        missing = {"id", "lon", "lat"} - set(frame.columns)
        if missing:
            msg = f"travel_table: {what} lack column(s) {sorted(missing)}."
            raise InputError(msg)


def _long_table(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    snap: Snap,
    routed: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    access_speed_kmh: float,
    limit_s: float | None,
) -> pd.DataFrame:
    """Return the long table: each pair's drive both ways, access legs added, and its reason.

    ``routed`` is the network part of each drive (seconds and metres there and
    back); pairs beyond ``limit_s`` lose theirs, as pairs with a point off the roads.
    """
    to_s, to_m, back_s, back_m = routed
    n_orig, n_dest = len(origins), len(destinations)
    access_s = snap.snap_m / (access_speed_kmh / 3.6)
    leg_s = access_s[:n_orig, None] + access_s[None, n_orig:]
    leg_m = snap.snap_m[:n_orig, None] + snap.snap_m[None, n_orig:]
    reason = np.full((n_orig, n_dest), "", dtype=object)
    reason[np.isnan(to_s) | np.isnan(back_s)] = REASON_NO_ROUTE
    if limit_s is not None:
        with np.errstate(invalid="ignore"):
            beyond = ~((to_s + leg_s) <= limit_s)
        beyond &= snap.ok[:n_orig, None] & snap.ok[None, n_orig:]
        for values in (to_s, to_m, back_s, back_m):
            values[beyond] = np.nan
        reason[beyond] = REASON_BEYOND_LIMIT
    reason[:, ~snap.ok[n_orig:]] = REASON_DESTINATION_FAR
    reason[~snap.ok[:n_orig], :] = REASON_HOME_FAR
    return pd.DataFrame(
        {
            "origin_id": np.repeat(origins["id"].astype(str).to_numpy(), n_dest),
            "destination_id": np.tile(destinations["id"].astype(str).to_numpy(), n_orig),
            "minutes_to": ((to_s + leg_s) / 60.0).ravel(),
            "km_to": ((to_m + leg_m) / 1000.0).ravel(),
            "minutes_back": ((back_s + leg_s) / 60.0).ravel(),
            "km_back": ((back_m + leg_m) / 1000.0).ravel(),
            "reason": reason.ravel(),
        }
    )


def _snap_report(points: pd.DataFrame, snaps: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([points[["id"]].reset_index(drop=True), snaps.reset_index(drop=True)], axis=1)


def _origin_links(
    routing: RoutingArrays,
    snap: Snap,
    n_orig: int,
    node: np.ndarray,
    length_unit: float,
    bits: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How each origin leaves and rejoins the graph split by the destinations.

    An origin lies on a piece of its edge between two stops (the edge's ends, or
    destinations on the same edge). Going out, it drives forward to the next
    stop and, on a two-way road, back along the twin to the previous one;
    coming home, the reverse. Returns, per origin, the two exit nodes and their
    packed costs, then the two entry nodes and their packed costs (cost -1:
    no such link).
    """
    ms = np.rint(routing.seconds * 1000.0).astype(np.int64)
    units = np.rint(routing.metres / length_unit).astype(np.int64)
    e = snap.edge[:n_orig]
    a = snap.fraction[:n_orig]
    dest = np.flatnonzero(node[n_orig:] >= 0) + n_orig
    dest = dest[np.lexsort((snap.fraction[dest], snap.edge[dest]))]
    dest_key = snap.edge[dest] * 2.0 + snap.fraction[dest]
    after = np.searchsorted(dest_key, e * 2.0 + a, side="right")
    prev = np.clip(after - 1, 0, max(dest.size - 1, 0))
    has_prev = (after > 0) & (snap.edge[dest[prev]] == e) if dest.size else np.zeros_like(e, bool)
    nxt = np.clip(after, 0, max(dest.size - 1, 0))
    has_next = (
        (after < dest.size) & (snap.edge[dest[nxt]] == e) if dest.size else np.zeros_like(e, bool)
    )
    prev_node = np.where(has_prev, node[dest[prev]], routing.tail[e])
    next_node = np.where(has_next, node[dest[nxt]], routing.head[e])
    prev_a = np.where(has_prev, snap.fraction[dest[prev]], 0.0)
    next_a = np.where(has_next, snap.fraction[dest[nxt]], 1.0)

    def packed(
        edge: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, reverse: bool = False
    ) -> np.ndarray:
        """Packed cost along ``edge`` between fractions ``lo`` <= ``hi`` (as the chains round).

        ``reverse``: ``edge`` is the twin, driven from ``hi`` to ``lo``.
        """
        t_hi = routing.time_share(edge, hi, reverse=reverse)
        t_lo = routing.time_share(edge, lo, reverse=reverse)
        t = np.rint(t_hi * ms[edge]) - np.rint(t_lo * ms[edge])
        u = np.rint(hi * units[edge]) - np.rint(lo * units[edge])
        return np.asarray(t * float(2**bits) + u)

    twins = routing.twins[e]
    two_way = twins >= 0
    tw = np.where(two_way, twins, e)
    # on a one-way road, an origin at the very spot of a stop is at that stop
    at_prev = ~two_way & ((a - prev_a) * routing.metres[e] <= _AT_NODE_M)
    at_next = ~two_way & ((next_a - a) * routing.metres[e] <= _AT_NODE_M)
    out_cost_1 = packed(e, a, next_a)
    out_cost_2 = np.where(two_way, packed(tw, prev_a, a, reverse=True), packed(e, prev_a, a))
    out_cost_2 = np.where(two_way | at_prev, out_cost_2, -1)
    in_cost_1 = packed(e, prev_a, a)
    in_cost_2 = np.where(two_way, packed(tw, a, next_a, reverse=True), packed(e, a, next_a))
    in_cost_2 = np.where(two_way | at_next, in_cost_2, -1)
    return (
        np.stack([next_node, prev_node]),
        np.stack([out_cost_1, out_cost_2]),
        np.stack([prev_node, next_node]),
        np.stack([in_cost_1, in_cost_2]),
    )


def _route(
    routing: RoutingArrays, snap: Snap, n_orig: int, *, limit_s: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seconds and metres on the road, ``(n_orig, n_dest)``, to each destination and back.

    Only the destinations become nodes of the searched graph; each origin is
    read off the two ends of its piece of road. NaN where a point is not
    routed or no route exists. With ``limit_s``, the searches to the
    destinations stop beyond it (pairs further may come out NaN), and the way
    back is exact wherever the way there is within the limit.
    """
    n_dest = snap.edge.size - n_orig
    out = [np.full((n_orig, n_dest), np.nan) for _ in range(4)]
    dest_only = Snap(
        edge=snap.edge,
        fraction=snap.fraction,
        snap_m=snap.snap_m,
        ok=np.concatenate([np.zeros(n_orig, dtype=bool), snap.ok[n_orig:]]),
    )
    top_speed = float(np.max(routing.metres / np.maximum(routing.seconds, 1e-3)))
    for length_unit, bits in _PACKINGS:
        tail, head, ms, units, node = _augment(routing, dest_only, length_unit)
        size = routing.n_nodes + int(dest_only.ok.sum())
        packed = ms.astype(float) * float(2**bits) + units.astype(float)
        forward, backward = csr(size, tail, head, packed)[0], csr(size, head, tail, packed)[0]
        routed_dest = np.flatnonzero(node[n_orig:] >= 0)
        routed_orig = np.flatnonzero(snap.ok[:n_orig])
        if routed_dest.size == 0 or routed_orig.size == 0:
            break
        exits, exit_cost, entries, entry_cost = _origin_links(
            routing, snap, n_orig, node, length_unit, bits
        )
        sources = node[n_orig:][routed_dest]
        fits = True
        reached = np.ones((routed_orig.size, routed_dest.size), dtype=bool)
        for matrix, nodes, costs, (secs, metres), factor in (
            (backward, exits, exit_cost, out[:2], 1.0),
            (forward, entries, entry_cost, out[2:], BACK_LIMIT_FACTOR),
        ):
            bound = (
                np.inf
                if limit_s is None
                else (np.floor(limit_s * factor * 1000.0) + 1.0) * float(2**bits) - 1.0
            )
            best = _from_origins(matrix, sources, bound, nodes, costs, routed_orig)
            if factor != 1.0:
                # the way back of a pair reached within the limit, searched without bound
                again = np.flatnonzero((reached & ~np.isfinite(best)).any(axis=0))
                if again.size:
                    best[:, again] = _from_origins(
                        matrix, sources[again], np.inf, nodes, costs, routed_orig
                    )
            reached = np.isfinite(best)
            finite = np.isfinite(best)
            whole = np.where(finite, best, 0.0).astype(np.int64)
            ms_part = whole >> bits
            longest_ms = int(np.max(ms_part, initial=0))
            if longest_ms / 1000.0 * top_speed >= (2**bits) * length_unit or longest_ms >= 2 ** (
                _EXACT_BITS - bits
            ):
                fits = False
                break
            block = np.ix_(routed_orig, routed_dest)
            secs[block] = np.where(finite, ms_part / 1000.0, np.nan)
            metres[block] = np.where(finite, (whole & ((1 << bits) - 1)) * length_unit, np.nan)
        if fits:
            return out[0], out[1], out[2], out[3]
        logger.info("routes too long for %.1f m packing; trying a coarser unit", length_unit)
    else:
        msg = (
            "routes on this network are longer than the router handles exactly "
            "(over 134,000 km or 18 h); split the network."
        )
        raise NetworkError(msg)
    return out[0], out[1], out[2], out[3]


def _from_origins(
    matrix: object,
    sources: np.ndarray,
    bound: float,
    nodes: np.ndarray,
    costs: np.ndarray,
    routed_orig: np.ndarray,
) -> np.ndarray:
    """Packed cost ``(origins, sources)``: one search per source, read at the origins' links."""
    dist = dijkstra(matrix, directed=True, indices=sources, limit=bound)
    best = np.full((routed_orig.size, sources.size), np.inf)
    for k in range(2):
        cost = costs[k, routed_orig]
        via = dist[:, nodes[k, routed_orig]].T + cost[:, None]
        via[cost < 0] = np.inf
        np.minimum(best, via, out=best)
    return best
