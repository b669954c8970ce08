"""Travel times and distances between points, on a prepared road network.

Points (homes, telecentres, the head office) are snapped to the nearest road
of the network: the nearest point of the nearest edge, found with a spatial
index in the working CRS (Lambert-93). The point joins the road by a straight
access leg driven at :data:`optimizer.settings.ACCESS_SPEED_KMH`, whose length
is reported (``snap_m``); a point further than ``max_snap_m`` from any road is
not routed and comes out as unreachable, with the reason.

Each snapped point becomes a node of the routing graph, splitting its edge
(and the edge's twin in the other direction, for a two-way road), so that
times are exact whatever the position of the point along the road. Then one
Dijkstra per destination on the reversed graph gives every origin's time to
that destination, and one on the forward graph gives the way back: the number
of searches grows with destinations, never with origins. The distance is the
length of the fastest route, read from the same shortest-path tree.

Unreachable pairs are a missing value (NaN) with a reason, never a sentinel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

from optimizer import settings
from optimizer.errors import InputError
from optimizer.network import RoadNetwork, RoutingArrays, csr

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
_MIN_SECONDS = 1e-3
#: A point that joins a one-way edge this close to one of its ends joins that node.
_AT_NODE_M = 1.0


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
        Long table, one row per origin and destination, origins in input
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


def _twins(routing: RoutingArrays) -> np.ndarray:
    """Index of each edge's reverse edge when it is the same road, else -1."""
    n = routing.n_nodes
    keys = routing.tail * n + routing.head  # sorted: edges are in (tail, head) order
    reverse = routing.head * n + routing.tail
    pos = np.searchsorted(keys, reverse)
    pos = np.minimum(pos, keys.size - 1)
    found = keys[pos] == reverse
    same_road = np.abs(routing.metres[pos] - routing.metres) <= 0.01 * routing.metres + 1.0
    return np.where(found & same_road, pos, -1)


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
    points = shapely.points(np.asarray(x), np.asarray(y))
    twins = _twins(routing)
    # index each two-way road once (its lower-tail direction); one-way edges always
    candidates = np.flatnonzero((twins < 0) | (routing.tail < routing.head))
    tree = shapely.STRtree(routing.geometry[candidates])
    hits, distances = tree.query_nearest(points, return_distance=True, all_matches=False)
    point_index, cand_index = hits
    edge = np.empty(len(points), dtype=np.int64)
    snap_m = np.empty(len(points), dtype=float)
    edge[point_index] = candidates[cand_index]
    snap_m[point_index] = distances
    fraction = shapely.line_locate_point(routing.geometry[edge], points, normalized=True)
    fraction = np.nan_to_num(np.asarray(fraction, dtype=float), nan=0.0)
    return Snap(edge=edge, fraction=fraction, snap_m=snap_m, ok=snap_m <= max_snap_m)


def _augment(
    routing: RoutingArrays, snap: Snap
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add one node per snapped point, splitting its edge and that edge's twin.

    Returns the edge arrays of the augmented graph (tail, head, seconds, metres)
    and the node index of each point (-1 where it is not routed).
    """
    n = routing.n_nodes
    twins = _twins(routing)
    k = snap.edge.size
    node = np.full(k, -1, dtype=np.int64)
    routed = np.flatnonzero(snap.ok)
    node[routed] = n + np.arange(routed.size)
    order = routed[np.lexsort((snap.fraction[routed], snap.edge[routed]))]
    e = snap.edge[order]
    a = snap.fraction[order]
    me = node[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = e[1:] != e[:-1]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = e[1:] != e[:-1]
    prev_node = np.where(first, routing.tail[e], np.roll(me, 1))
    prev_a = np.where(first, 0.0, np.roll(a, 1))
    step = a - prev_a
    tails = [routing.tail, prev_node, me[last]]
    heads = [routing.head, me, routing.head[e[last]]]
    secs = [routing.seconds, step * routing.seconds[e], (1.0 - a[last]) * routing.seconds[e[last]]]
    mets = [routing.metres, step * routing.metres[e], (1.0 - a[last]) * routing.metres[e[last]]]
    tw = twins[e]
    two_way = tw >= 0
    last_two = last & two_way
    # on a one-way edge, a point at one of its ends is that node, reachable both ways
    at_tail = ~two_way & (a * routing.metres[e] <= _AT_NODE_M)
    at_head = ~two_way & ((1.0 - a) * routing.metres[e] <= _AT_NODE_M)
    tails += [me[two_way], routing.head[e[last_two]], me[at_tail], routing.head[e[at_head]]]
    heads += [prev_node[two_way], me[last_two], routing.tail[e[at_tail]], me[at_head]]
    secs += [
        step[two_way] * routing.seconds[tw[two_way]],
        (1.0 - a[last_two]) * routing.seconds[tw[last_two]],
        a[at_tail] * routing.seconds[e[at_tail]],
        (1.0 - a[at_head]) * routing.seconds[e[at_head]],
    ]
    mets += [
        step[two_way] * routing.metres[tw[two_way]],
        (1.0 - a[last_two]) * routing.metres[tw[last_two]],
        a[at_tail] * routing.metres[e[at_tail]],
        (1.0 - a[at_head]) * routing.metres[e[at_head]],
    ]
    return (
        np.concatenate(tails),
        np.concatenate(heads),
        np.maximum(np.concatenate(secs), _MIN_SECONDS),
        np.concatenate(mets),
        node,
    )


def _tree_lengths(pred: np.ndarray, keys: np.ndarray, metres: np.ndarray, n: int) -> np.ndarray:
    """Length of the tree path from each node back to the root, for each row of ``pred``.

    ``pred`` is scipy's predecessor matrix (-9999 at roots and unreached nodes),
    ``keys`` the sorted ``tail * n + head`` of the searched matrix's entries and
    ``metres`` their lengths. Uses pointer jumping: log2(depth) vectorised passes.
    """
    cols = pred.shape[1]
    has = pred >= 0
    parent = np.where(has, pred, np.arange(cols)[None, :]).astype(np.int64)
    acc = np.zeros(pred.shape, dtype=float)
    query = parent[has] * n + np.broadcast_to(np.arange(cols), pred.shape)[has]
    acc[has] = metres[np.searchsorted(keys, query)]
    while True:
        grand = np.take_along_axis(parent, parent, axis=1)
        if np.array_equal(grand, parent):
            return acc
        acc = acc + np.take_along_axis(acc, parent, axis=1)
        parent = grand


def travel_table(
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
    access_speed_kmh: float = settings.ACCESS_SPEED_KMH,
    progress: Progress | None = None,
) -> TravelTable:
    """Compute minutes and km from every origin to every destination and back.

    Parameters
    ----------
    network
        A prepared road network.
    origins, destinations
        Tables with columns ``id``, ``lon``, ``lat`` (WGS84). Ids must be
        unique within each table.
    max_snap_m
        Points further than this from any road are not routed.
    access_speed_kmh
        Speed on the straight leg between a point and its road.
    progress
        Called with a short message before each step.

    Returns
    -------
    TravelTable
        The long table and the snapping report.
    """
    started = time.perf_counter()
    for frame, what in ((origins, "origins"), (destinations, "destinations")):
        missing = {"id", "lon", "lat"} - set(frame.columns)
        if missing:
            msg = f"travel_table: {what} lack column(s) {sorted(missing)}."
            raise InputError(msg)
    routing = network.routing
    n = routing.n_nodes
    n_orig, n_dest = len(origins), len(destinations)
    if progress:
        progress(f"snapping {n_orig + n_dest} points to the road network")
    snap = snap_points(
        routing,
        np.concatenate([origins["lon"].to_numpy(float), destinations["lon"].to_numpy(float)]),
        np.concatenate([origins["lat"].to_numpy(float), destinations["lat"].to_numpy(float)]),
        max_snap_m=max_snap_m,
    )
    tail, head, seconds, metres, node = _augment(routing, snap)
    size = n + int(snap.ok.sum())
    forward_s, forward_m = csr(size, tail, head, seconds, metres)
    backward_s, backward_m = csr(size, head, tail, seconds, metres)
    forward_keys = np.sort(tail * size + head)
    backward_keys = np.sort(head * size + tail)
    orig_nodes, dest_nodes = node[:n_orig], node[n_orig:]
    routed_dest = np.flatnonzero(dest_nodes >= 0)
    access_s = snap.snap_m / (access_speed_kmh / 3.6)

    if progress:
        progress(f"shortest paths from {routed_dest.size} destinations, both directions")
    to_s = np.full((n_dest, n_orig), np.nan)
    to_m = np.full((n_dest, n_orig), np.nan)
    back_s = np.full((n_dest, n_orig), np.nan)
    back_m = np.full((n_dest, n_orig), np.nan)
    if routed_dest.size:
        sources = dest_nodes[routed_dest]
        cols = np.where(orig_nodes >= 0, orig_nodes, 0)
        ok = orig_nodes >= 0
        for matrix, lengths, keys, out_s, out_m in (
            (backward_s, backward_m, backward_keys, to_s, to_m),
            (forward_s, forward_m, forward_keys, back_s, back_m),
        ):
            dist, pred = dijkstra(matrix, directed=True, indices=sources, return_predecessors=True)
            km = _tree_lengths(pred, keys, lengths.data, size)
            rows_s = np.where(ok[None, :], dist[:, cols], np.nan)
            rows_m = np.where(ok[None, :] & np.isfinite(rows_s), km[:, cols], np.nan)
            out_s[routed_dest] = rows_s
            out_m[routed_dest] = rows_m
    orig_access = access_s[:n_orig][None, :] + access_s[n_orig:][:, None]
    orig_access_m = snap.snap_m[:n_orig][None, :] + snap.snap_m[n_orig:][:, None]
    with np.errstate(invalid="ignore"):
        to_s = np.where(np.isinf(to_s), np.nan, to_s) + orig_access
        back_s = np.where(np.isinf(back_s), np.nan, back_s) + orig_access
        to_m = to_m + orig_access_m
        back_m = back_m + orig_access_m

    reason = np.full((n_dest, n_orig), "", dtype=object)
    no_route = np.isnan(to_s) | np.isnan(back_s)
    reason[no_route] = "no road route between home and destination"
    far_dest = ~snap.ok[n_orig:]
    far_orig = ~snap.ok[:n_orig]
    reason[far_dest, :] = "destination further than the snapping limit from any road"
    reason[:, far_orig] = "home further than the snapping limit from any road"
    table = pd.DataFrame(
        {
            "origin_id": np.tile(origins["id"].astype(str).to_numpy(), n_dest),
            "destination_id": np.repeat(destinations["id"].astype(str).to_numpy(), n_orig),
            "minutes_to": (to_s / 60.0).ravel(),
            "km_to": (to_m / 1000.0).ravel(),
            "minutes_back": (back_s / 60.0).ravel(),
            "km_back": (back_m / 1000.0).ravel(),
            "reason": reason.ravel(),
        }
    )
    # origin-major order: all destinations of the first origin, then the next ...
    table = table.iloc[np.argsort(np.tile(np.arange(n_orig), n_dest), kind="stable")]
    table = table.reset_index(drop=True)
    snaps = pd.DataFrame({"snap_m": snap.snap_m, "routed": snap.ok})
    elapsed = time.perf_counter() - started
    logger.info(
        "travel table %d origins x %d destinations on %d nodes in %.3f s",
        n_orig,
        n_dest,
        size,
        elapsed,
    )
    return TravelTable(
        table=table,
        origins=pd.concat(
            [origins[["id"]].reset_index(drop=True), snaps.iloc[:n_orig].reset_index(drop=True)],
            axis=1,
        ),
        destinations=pd.concat(
            [
                destinations[["id"]].reset_index(drop=True),
                snaps.iloc[n_orig:].reset_index(drop=True),
            ],
            axis=1,
        ),
        seconds=elapsed,
    )
