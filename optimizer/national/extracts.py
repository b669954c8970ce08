"""Département road extracts: a buffered network, where it is cut, and its cache.

A département is routed on its own road network plus a border buffer (an
*extract*). A route found in an extract is the merged network's route unless
the best route leaves the extract, or uses a road timed differently because
the cut changed its neighbourhood (junction counts, built-up areas, road
ends: the speed model looks up to 250 m around a road). Both can only happen
through the *cut nodes*: nodes of the extract with a road to a node outside
it (or to a node dropped with the small disconnected parts), and every node
within :data:`CUT_MARGIN_M` of one. A point (a home, a site) must also join the
same road in the extract as in the merged network: it is certified only when
its road in the extract is nearer than every road the extract lacks
(:meth:`Extract.snaps_alike`).

Certificate
    Let :math:`h^{to}_d` be the drive time from the nearest cut node to the
    destination :math:`d` and :math:`h^{back}_d` from :math:`d` to the nearest
    cut node, both in the extract. A route to :math:`d` in the merged network
    that touches a cut node costs at least :math:`h^{to}_d` (its part after the
    last cut node lies in the extract, timed as in the merged network), so a
    time found in the extract that is at most :math:`h^{to}_d` is the merged
    network's time; the same holds for the way back with :math:`h^{back}_d`.
    A pair not routed in the extract (its origin lies outside) costs at least
    :math:`h^{to}_d` too: if that is beyond the longest acceptable drive, the
    pair is certainly not eligible.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse import coo_array, sparray
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra
from scipy.spatial import cKDTree

import optimizer.settings as settings
from optimizer._graphlists import GraphLists
from optimizer._roads import largest_strong_part_of
from optimizer.errors import NetworkError
from optimizer.network import (
    RoadNetwork,
    RoutingArrays,
    csr,
    prepare_network,
)
from optimizer.speed_model import DEFAULT_SPEED_MODEL, SpeedModel

logger = logging.getLogger(__name__)

#: Nodes this close to a cut (metres) may be timed differently from the merged network.
CUT_MARGIN_M = 500.0
#: Format version of cached extracts (bump when :class:`Extract` changes).
#: 5: the area where an extract is complete; 6: routing arrays carry time shares along edges;
#: 7: lines pickled as their points, the missing roads as WKB.
CACHE_VERSION = 7
#: Margin on the distance to the edge of an extract's area (projection round trips), metres.
_AREA_MARGIN_M = 1.0
#: First bytes of a cached extract file.
_CACHE_MAGIC = b"LOZEXTRACT"


@dataclass(frozen=True)
class Extract:
    """A département's buffered road network, compiled for routing.

    Attributes
    ----------
    code
        The département's code.
    routing
        The compiled network (see :class:`optimizer.network.RoutingArrays`).
    cut
        Indices of the cut nodes (see the module docstring).
    source
        Where the extract came from.
    missing
        Roads of the area that the extract lacks, in the working CRS (shapely
        lines, and points at the border nodes where roads leave it): a point
        nearer to one of them than to its road in the extract may snap to
        another road in the merged network (see :meth:`snaps_alike`); the
        edge of :attr:`area` is among them.
    area
        Where the extract holds every road of the merged network (or lists it
        in :attr:`missing`), in the working CRS; None: everywhere (the whole
        network).
    """

    code: str
    routing: RoutingArrays
    cut: np.ndarray
    source: str = ""
    missing: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    area: shapely.Geometry | None = None

    def snaps_alike(self, lon: np.ndarray, lat: np.ndarray, snap_m: np.ndarray) -> np.ndarray:
        """Whether each point's road here is surely its road in the merged network.

        True where the point lies in :attr:`area` and is nearer to its road in
        the extract (``snap_m``) than to every road the extract may lack
        (:attr:`missing`, the edge of the area among them): no road of the
        merged network is nearer. With ``snap_m`` beyond the snapping limit,
        True says that the merged network has no road within it either.
        """
        snap_m = np.asarray(snap_m, dtype=float)
        if self.missing.size == 0 and self.area is None:
            return np.ones(len(snap_m), dtype=bool)
        to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
        x, y = to_metric.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        x, y = np.asarray(x), np.asarray(y)
        nearest = np.full(len(snap_m), np.inf)
        if self.missing.size:
            points = shapely.points(x, y)
            (index, _), distance = shapely.STRtree(self.missing).query_nearest(
                points, return_distance=True, all_matches=False
            )
            nearest[index] = distance
        inside = np.ones(len(snap_m), dtype=bool)
        if self.area is not None:
            shapely.prepare(self.area)  # millions of homes: indexed once
            inside = np.asarray(shapely.contains_xy(self.area, x, y))
        # a metre's margin: the area went through WGS84 and back
        return np.asarray(inside & (snap_m + _AREA_MARGIN_M < nearest))

    def __getstate__(self) -> dict[str, object]:
        """Pickle :attr:`missing` as WKB in one call (each shape on its own is far slower)."""
        state = dict(self.__dict__)
        state["missing"] = shapely.to_wkb(self.missing)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        """Rebuild :attr:`missing` from its WKB (see :meth:`__getstate__`)."""
        state = dict(state)
        wkb = np.asarray(state["missing"], dtype=object)
        missing = np.empty(wkb.size, dtype=object)
        missing[:] = shapely.from_wkb(wkb) if wkb.size else []
        state["missing"] = missing
        self.__dict__.update(state)

    def network(self) -> RoadNetwork:
        """Return the extract as a :class:`~optimizer.network.RoadNetwork` for routing."""
        return RoadNetwork(
            graph=nx.MultiDiGraph(),
            routing=self.routing,
            source=self.source or self.code,
            approximate=False,
            speed_profile="",
        )

    def horizons(self) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from the nearest cut node to each node, and from each node to the nearest.

        Returns
        -------
        to_node, from_node : numpy.ndarray
            ``(n_nodes,)`` seconds (inf where no cut node is connected).
        """
        routing = self.routing
        n = routing.n_nodes
        if self.cut.size == 0:
            return np.full(n, np.inf), np.full(n, np.inf)
        forward, backward = (
            csr(n, routing.tail, routing.head, routing.seconds)[0],
            csr(n, routing.head, routing.tail, routing.seconds)[0],
        )
        to_node = dijkstra(forward, directed=True, indices=self.cut, min_only=True)
        from_node = dijkstra(backward, directed=True, indices=self.cut, min_only=True)
        return np.asarray(to_node), np.asarray(from_node)


class NetworkSource(Protocol):
    """Anything that gives a département's extract on a worker (picklable)."""

    @property
    def code(self) -> str:
        """The département's code."""
        ...

    def load(self) -> Extract:
        """Return the extract (reading or building its cache)."""
        ...


def prepare_extract(
    graph: nx.MultiDiGraph | GraphLists,
    *,
    code: str,
    boundary: set[int] | frozenset[int],
    area: shapely.Geometry | None = None,
    source: str = "",
    speed_profile: str | Mapping[str, float] = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str | SpeedModel = DEFAULT_SPEED_MODEL,
) -> Extract:
    """Prepare a buffered département graph with :func:`prepare_network` and find its cut.

    Parameters
    ----------
    graph
        The drivable roads inside the buffered département (osmnx-style,
        WGS84), or their lists (:class:`~optimizer._graphlists.GraphLists`,
        made without networkx): read once, its edges' attributes timed in place.
    code
        The département's code.
    boundary
        OSM ids of the graph's nodes that had a road leaving the buffered area.
    area
        Where ``graph`` holds every road of the merged network (WGS84): the
        buffered area it was cut from, when every road crossing that area is
        kept whole. Points are certified only inside it (see
        :meth:`Extract.snaps_alike`). None: the graph is the whole network,
        which ``boundary`` must then leave empty.
    source
        Description kept for reports.
    speed_profile, speed_model
        As for :func:`optimizer.network.prepare_network`.

    Returns
    -------
    Extract
        The compiled extract and its cut nodes.

    Raises
    ------
    NetworkError
        No drivable road; a ``boundary`` without the ``area`` it bounds.
    """
    _check_graph(graph, code, boundary, area, source)
    # the graph is read once; what the dropped parts tell needs all of it, before timing
    roads = _Roads.of(graph, boundary)
    missing = _missing_roads(roads, _maybe_kept(roads))
    metric_area = None
    if area is not None:
        metric_area = _to_metric(area)
        missing = np.concatenate([missing, _edge_pieces(metric_area)])
    cut_ids = _cut_ids(roads)
    net = prepare_network(
        cast("nx.MultiDiGraph", roads.lists.strong_part(roads.kept)),
        source=source or f"département {code}",
        speed_profile=speed_profile,
        speed_model=speed_model,
        in_place=True,
    )
    return Extract(
        code=code,
        routing=net.routing,
        cut=_cut(net.routing, cut_ids, code),
        source=net.source,
        missing=missing,
        area=metric_area,
    )


@dataclass(frozen=True)
class _Roads:
    """A graph read once: its lists, node positions, edge ends and which nodes are kept.

    ``kept``: the largest strongly connected part (the part the network
    keeps, the first at a tie); ``boundary``: the nodes with a road leaving
    the buffered area.
    """

    lists: GraphLists
    ids: list[int]
    lon: np.ndarray
    lat: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    kept: np.ndarray
    boundary: np.ndarray

    @classmethod
    def of(cls, graph: nx.MultiDiGraph | GraphLists, boundary: set[int] | frozenset[int]) -> _Roads:
        """Read ``graph`` once (or take its lists) and find its main part and border nodes."""
        if isinstance(graph, GraphLists):
            lists = graph
        else:
            lists = GraphLists(graph, skip=set(), copy=False)  # timed in place: no copies
        ids = [node for node, _ in lists.node_list]
        index = {node: i for i, node in enumerate(ids)}
        tail = np.fromiter((index[e[0]] for e in lists.edge_list), np.int64, len(lists.edge_list))
        head = np.fromiter((index[e[1]] for e in lists.edge_list), np.int64, len(lists.edge_list))
        kept = largest_strong_part_of(len(ids), tail, head)  # the part prepare_network keeps
        on_border = np.zeros(len(ids), dtype=bool)
        on_border[[index[node] for node in boundary if node in index]] = True
        return cls(
            lists=lists,
            ids=ids,
            lon=np.array([d["x"] for _, d in lists.node_list], dtype=float),
            lat=np.array([d["y"] for _, d in lists.node_list], dtype=float),
            tail=tail,
            head=head,
            kept=kept,
            boundary=on_border,
        )

    def matrix(self, tail: np.ndarray, head: np.ndarray, extra: int = 0) -> sparray:
        """Return the matrix of edges ``tail -> head`` over the nodes (and ``extra`` more)."""
        n = len(self.ids) + extra
        return coo_array((np.ones(tail.size), (tail, head)), shape=(n, n)).tocsr()


def _check_graph(
    graph: nx.MultiDiGraph | GraphLists,
    code: str,
    boundary: set[int] | frozenset[int],
    area: shapely.Geometry | None,
    source: str,
) -> None:
    """Raise when the graph has no road, or a boundary but no area."""
    if next(iter(graph.edges()), None) is None:
        msg = f"{source or code}: the extract has no drivable road (0 edges). Check its file."
        raise NetworkError(msg)
    if area is None and boundary:
        msg = (
            f"{source or code}: the extract has {len(boundary)} border node(s) but no area: "
            "give the area it holds every road of."
        )
        raise NetworkError(msg)


def _cut_ids(roads: _Roads) -> set[int]:
    """OSM ids of the main part's border nodes: on the boundary, or beside a dropped part.

    A dropped part (not kept: outside the main part) that touches the
    boundary may join the merged network's main part only through the
    border: the main part's nodes beside it are border nodes too.
    """
    kept, tail, head = roads.kept, roads.tail, roads.head
    cut = roads.boundary & kept
    if not kept.all():
        # the dropped nodes' parts (roads between dropped nodes, either way)
        inner = ~kept[tail] & ~kept[head]
        _, part = connected_components(
            roads.matrix(tail[inner], head[inner]), directed=True, connection="weak"
        )
        touching = np.unique(part[roads.boundary & ~kept])
        opened = ~kept & np.isin(part, touching)
        cut[head[opened[tail] & kept[head]]] = True
        cut[tail[opened[head] & kept[tail]]] = True
    return {roads.ids[i] for i in np.flatnonzero(cut).tolist()}


def _cut(routing: RoutingArrays, cut_ids: set[int], code: str) -> np.ndarray:
    """Return the cut: the border nodes and every node within :data:`CUT_MARGIN_M` of one."""
    position = {node: i for i, node in enumerate(routing.node_ids.tolist())}
    seeds = np.array(sorted(position[node] for node in cut_ids), dtype=np.int64)
    cut = seeds
    if seeds.size:
        tree = cKDTree(np.column_stack([routing.x, routing.y]))
        near = tree.query_ball_point(
            np.column_stack([routing.x[seeds], routing.y[seeds]]), CUT_MARGIN_M
        )
        cut = np.unique(np.concatenate([seeds, *(np.asarray(n, np.int64) for n in near)]))
    logger.info(
        "extract %s: %d nodes, %d cut nodes (%d on the border)",
        code,
        routing.n_nodes,
        cut.size,
        seeds.size,
    )
    return cut


def _to_metric(area: shapely.Geometry) -> shapely.Geometry:
    """``area`` (WGS84) in the working CRS, its edges cut every 100 m first (straight there)."""
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    fine = shapely.segmentize(area, 0.001)  # about 100 m
    return shapely.transform(
        fine, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
    )


def _edge_pieces(area: shapely.Geometry) -> np.ndarray:
    """Cut the edge of ``area`` into two-point lines (a spatial index finds the nearest fast)."""
    pieces: list[shapely.Geometry] = []
    for ring in shapely.get_parts(shapely.boundary(area)):
        xy = shapely.get_coordinates(ring)
        if len(xy) >= 2:
            pieces.extend(shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)).tolist())
    out = np.empty(len(pieces), dtype=object)
    out[:] = pieces
    return out


def _maybe_kept(roads: _Roads) -> np.ndarray:
    """Find the dropped nodes that may lie in the merged network's main part.

    A node dropped here (not in the extract's largest strongly connected
    part) joins the merged network's main part only through the border:
    it must reach the border or the main part here, and be reached from them.
    A node that fails either (a one-way dead end, say) is dropped in the
    merged network too, so the roads to it are missing there as well.
    """
    n = len(roads.ids)
    if roads.kept.all():
        return np.zeros(n, dtype=bool)
    seeds = np.flatnonzero(roads.kept | roads.boundary)
    # one extra node joined to every seed: a search from it reaches what the seeds reach
    ends = np.full(seeds.size, n, dtype=np.int64)
    reached = []
    for a, b in ((roads.tail, roads.head), (roads.head, roads.tail)):
        matrix = roads.matrix(np.concatenate([a, ends]), np.concatenate([b, seeds]), extra=1)
        reached.append(breadth_first_order(matrix, n, directed=True, return_predecessors=False))
    both = np.zeros(n + 1, dtype=bool)
    both[np.intersect1d(reached[0], reached[1])] = True
    return np.asarray(both[:n] & ~roads.kept)


def _missing_roads(roads: _Roads, maybe: np.ndarray) -> np.ndarray:
    """List the roads the extract lacks that the merged network may have, and the border nodes.

    A road with an end not kept, both ends kept or ``maybe`` kept in the
    merged network (:func:`_maybe_kept`); in metres.
    """
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    kept, tail, head = roads.kept, roads.tail, roads.head
    may = kept | maybe
    # not both ends kept; both kept or maybe kept (else dropped in the merged network too)
    lacking = np.flatnonzero(~(kept[tail] & kept[head]) & may[tail] & may[head])
    shapes: list[shapely.Geometry] = []
    for k in lacking.tolist():
        line = roads.lists.edge_list[k][3].get("geometry")
        if line is not None:
            coords = np.asarray(line.coords)
        else:
            ends = [tail[k], head[k]]
            coords = np.column_stack([roads.lon[ends], roads.lat[ends]])
        x, y = to_metric.transform(coords[:, 0], coords[:, 1])
        shapes.append(shapely.LineString(np.column_stack([x, y])))
    border = np.flatnonzero(roads.boundary)
    if border.size:
        x, y = to_metric.transform(roads.lon[border], roads.lat[border])
        shapes.extend(shapely.points(np.asarray(x), np.asarray(y)).tolist())
    out = np.empty(len(shapes), dtype=object)
    out[:] = shapes
    return out


def save_extract(extract: Extract, path: str | Path) -> Path:
    """Write an extract to a cache file, atomically (read it back with :func:`load_extract`).

    The file holds :data:`_CACHE_MAGIC`, the format version, the SHA-256 of
    the pickled extract and the pickle itself, so that a damaged file (a disk
    error, a copy cut short, a byte flipped) is recognised when read instead of
    giving a wrong network or a stray exception.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(extract, protocol=pickle.HIGHEST_PROTOCOL)
    header = _CACHE_MAGIC + CACHE_VERSION.to_bytes(4, "little") + hashlib.sha256(payload).digest()
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(header)
        out.write(payload)
    Path(temp).replace(path)
    return path


def load_extract(path: str | Path) -> Extract:
    """Read an extract written by :func:`save_extract` (this package's own cache files only).

    Raises
    ------
    NetworkError
        When the file is missing, damaged (its checksum does not match) or
        was written by another version.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read the cached extract ({exc.strerror}). Delete it to rebuild."
        raise NetworkError(msg) from None
    size = len(_CACHE_MAGIC) + 4 + 32
    head, payload = data[:size], data[size:]
    if len(head) < size or not head.startswith(_CACHE_MAGIC):
        msg = f"{path}: not a cached extract of this version, or damaged. Delete it to rebuild."
        raise NetworkError(msg)
    version = int.from_bytes(head[len(_CACHE_MAGIC) : len(_CACHE_MAGIC) + 4], "little")
    if version != CACHE_VERSION:
        msg = f"{path}: cached extract of another version. Delete it to rebuild."
        raise NetworkError(msg)
    if hashlib.sha256(payload).digest() != head[-32:]:
        msg = f"{path}: the cached extract is damaged (checksum mismatch). Delete it to rebuild."
        raise NetworkError(msg)
    try:
        extract = pickle.loads(payload)  # our own file, checksum verified
    except Exception as exc:  # any failure: an unusable cache file
        msg = f"{path}: cannot read the cached extract ({exc}). Delete it to rebuild."
        raise NetworkError(msg) from None
    if not isinstance(extract, Extract):
        msg = f"{path}: not a cached extract. Delete it to rebuild."
        raise NetworkError(msg)
    return extract


def load_or_rebuild(path: str | Path, build: Callable[[], Extract]) -> Extract:
    """Read the cached extract at ``path``; build and cache it when missing or unusable.

    A cache file that cannot be used (damaged, cut short, of another
    version) is only a cache: it is rebuilt with a warning, never an error.
    """
    path = Path(path)
    if path.exists():
        try:
            return load_extract(path)
        except NetworkError as exc:
            logger.warning("%s; rebuilding it", exc)
    extract = build()
    save_extract(extract, path)
    return extract


@dataclass(frozen=True)
class CachedExtract:
    """A source that reads an extract cached by :func:`save_extract`."""

    code: str
    path: str

    def load(self) -> Extract:
        """Read the cached extract."""
        return load_extract(self.path)
