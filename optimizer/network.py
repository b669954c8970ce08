"""The road network: reading it, timing its edges, and compiling it for routing.

A network comes from a local OSM XML file (``.osm``, ``.osm.bz2``, ``.osm.gz``;
the embedded offline approximation is one of these) or a GraphML file saved by
osmnx or by this package, and is read through osmnx. Every edge then gets a
speed (a usable ``maxspeed`` tag wins, French implicit values such as
``FR:rural`` included; otherwise the speed of its ``highway`` class in the
chosen profile, see :mod:`optimizer.settings`) and a travel time. Only the
largest strongly connected part is kept, so that every kept node can reach
every other, and what was dropped is reported.

The osmnx ``MultiDiGraph`` stays the exchange format (GraphML, plots). Routing
runs on :class:`RoutingArrays`: the best (fastest) edge between each pair of
nodes, as sorted arrays ready for :mod:`scipy.sparse.csgraph`.

Preparing does not go through networkx where it need not: an OSM file is
built, simplified and timed on arrays (:mod:`optimizer._roads`, the same
graph as osmnx's, edge for edge), a GraphML file is read into lists
(:mod:`optimizer._graphml`), and a graph given to :func:`prepare_network` is
read once. The network's ``graph`` is built when first read (saving GraphML,
drawing); :func:`graph_from_osm_file` still builds it through osmnx.

This module owns reading a network file or graph and preparing it (the cache
included); its steps live beside it and are re-exported from here:
:mod:`optimizer.osmgraph` (osmnx's graph of an OSM file, simplified),
:mod:`optimizer.osm_download` (downloads), :mod:`optimizer.routing` (timing a
graph's edges and compiling it) and :mod:`optimizer._graphlists`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import networkx as nx
import numpy as np
import osmnx as ox
import shapely

import optimizer.settings as settings
from optimizer._graphlists import GraphLists
from optimizer._roads import largest_strong_part_of
from optimizer.errors import InputError, NetworkError
from optimizer.osm_download import fetch_drive_graph
from optimizer.osmgraph import NODE_CONTROLS as NODE_CONTROLS  # re-exported: moved there
from optimizer.osmgraph import SEGMENTS as SEGMENTS
from optimizer.osmgraph import graph_from_osm_file as graph_from_osm_file
from optimizer.osmgraph import simplify as simplify
from optimizer.roadnet import AT_NODE_M as AT_NODE_M  # re-exported: the data classes live there
from optimizer.roadnet import GraphRecipe as GraphRecipe
from optimizer.roadnet import LazyLines as LazyLines
from optimizer.roadnet import Progress as Progress
from optimizer.roadnet import RoadNetwork as RoadNetwork
from optimizer.roadnet import RoutingArrays as RoutingArrays
from optimizer.roadnet import with_shares as with_shares
from optimizer.routing import add_travel_times as add_travel_times  # re-exported: moved there
from optimizer.routing import compile_routing as compile_routing
from optimizer.routing import csr as csr
from optimizer.speed_model import (
    DEFAULT_SPEED_MODEL,
    EdgeTimes,
    SpeedModel,
    speed_model,
    time_shares,
)
from optimizer.speed_model import class_speed as class_speed  # re-exported (moved there)
from optimizer.speed_model import parse_maxspeed as parse_maxspeed
from optimizer.speed_model import speed_model as speed_model_of

logger = logging.getLogger(__name__)

#: Marker written in the ``generator`` attribute of OSM XML files that are approximations.
APPROXIMATION_MARKER = "approximation"
_XML_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz")
#: File endings read as OpenStreetMap data.
OSM_SUFFIXES = (*_XML_SUFFIXES, ".pbf")
#: Default border added around a downloaded area, km.
DEFAULT_BUFFER_KM = 10.0


def load_network(
    path: str | Path,
    *,
    speed_profile: str | Mapping[str, float] = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str | SpeedModel = DEFAULT_SPEED_MODEL,
    progress: Progress | None = None,
    cache_dir: str | Path | None = None,
) -> RoadNetwork:
    """Read a road network from a local file and prepare it for routing.

    Parameters
    ----------
    path
        An OpenStreetMap extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``,
        ``.osm.gz``), of which the drivable roads are kept (osmnx's ``"drive"``
        rules), or a GraphML file saved by osmnx or by :func:`save_network`.
    speed_profile
        Name of a profile in :data:`optimizer.settings.SPEED_PROFILES`, or a
        table of km/h per ``highway`` class.
    speed_model
        ``"realistic"`` (default) or ``"free-flow"``, or a
        :class:`~optimizer.speed_model.SpeedModel` (see :mod:`optimizer.speed_model`).
        A GraphML file is re-timed under it from what each edge is made of.
        The embedded offline approximation uses factors calibrated on public
        reference trips unless the model already carries a calibration.
    progress
        Called with a short message before each step.
    cache_dir
        A cache folder (see :mod:`optimizer.netcache`): the prepared network is
        read from it when it holds one for the same file content, profile,
        model and package version, else prepared and written there. None (the
        default): no cache.

    Returns
    -------
    RoadNetwork
        The timed network, its largest strongly connected part only; its
        ``cache`` says whether it was read from the cache or written to it.
    """
    path = Path(path)
    _check_network_file(path)
    if cache_dir is None:
        return _load_network(path, speed_profile, speed_model, progress)
    return _load_cached(path, Path(cache_dir), speed_profile, speed_model, progress)


def _check_network_file(path: Path) -> None:
    """Refuse a missing file, a folder, or a file of no known network format."""
    if not path.exists():
        msg = f"{path}: network file not found. Check the path."
        raise InputError(msg)
    if path.is_dir():
        msg = (
            f"{path}: is a folder. Give a network file (.osm.pbf, .osm, .graphml), or, for a "
            "national network folder (departements.gpkg and OSM files), --scheduler local:N too."
        )
        raise InputError(msg)
    if not path.name.lower().endswith((".graphml", *OSM_SUFFIXES)):
        msg = (
            f"{path}: unknown network format. Give an OpenStreetMap extract (.osm.pbf, .osm, "
            ".osm.bz2, .osm.gz) or a GraphML file (.graphml)."
        )
        raise InputError(msg)


def _load_cached(
    path: Path,
    cache_dir: Path,
    speed_profile: str | Mapping[str, float],
    speed_model: str | SpeedModel,
    progress: Progress | None,
) -> RoadNetwork:
    """Read a network file's prepared network from the cache, or prepare it and write it there."""
    import optimizer.netcache as netcache

    name = path.name.lower()
    started = time.perf_counter()
    speeds, profile_name = _resolve_profile(speed_profile)
    model = _speed_model(speed_model)
    try:
        digest = netcache.file_digest(path)
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror}). Check the file's permissions."
        raise InputError(msg) from None
    approximation = name.endswith(_XML_SUFFIXES) and _xml_is_approximation(path)
    if approximation and model.name == "realistic" and not model.calibration:
        model = speed_model_of(_offline_calibration(model))
    key = netcache.cache_key(
        digest,
        kind="graphml" if name.endswith(".graphml") else "osm",
        speeds=speeds,
        profile_name=profile_name,
        model=model,
    )
    entry = netcache.entry_path(cache_dir, key)
    try:
        cached = netcache.read_entry(entry, key, source=str(path))
    except netcache.CacheCorruptError as exc:
        logger.warning(
            "network cache %s: %s; preparing %s again and rewriting it", entry, exc, path.name
        )
        cached = None
    if cached is not None:
        if progress:
            progress(f"reading prepared road network {path.name} from the cache")
        cached.timings["read_s"] = time.perf_counter() - started
        return cached
    net = _load_network(path, speed_profile, model, progress)
    if progress:
        progress(f"caching the prepared network ({entry.name})")
    written = netcache.write_entry(net, entry, key)
    return replace_network(net, cache=f"written {entry}" if written else "")


def _load_network(
    path: Path,
    speed_profile: str | Mapping[str, float],
    speed_model: str | SpeedModel,
    progress: Progress | None,
) -> RoadNetwork:
    """Read and prepare a network file (no cache)."""
    name = path.name.lower()
    started = time.perf_counter()
    if progress:
        progress(f"reading road network {path.name}")
    if name.endswith(".graphml"):
        from optimizer._graphml import read_graphml

        try:
            # osmnx's graph as lists, read as osmnx reads it; osmnx itself for unusual files
            lists = read_graphml(path)
            graph = ox.load_graphml(path) if lists is None else GraphLists.of(*lists)
        except Exception as exc:
            msg = f"{path}: cannot be read as GraphML ({type(exc).__name__}: {exc})."
            raise NetworkError(msg) from None
        approximate = str(graph.graph.get("approximate", "False")) == "True"
    else:
        approximate = name.endswith(_XML_SUFFIXES) and _xml_is_approximation(path)
        if approximate:
            speed_model = _offline_calibration(speed_model)
        # the same network as graph_from_osm_file and prepare_network give, built on arrays
        from optimizer._roads_prepare import prepare_osm_file

        speeds, profile_name = _resolve_profile(speed_profile)
        return prepare_osm_file(
            path,
            speeds=speeds,
            profile_name=profile_name,
            model=_speed_model(speed_model),
            approximate=approximate,
        )
    read_s = time.perf_counter() - started
    if approximate:
        speed_model = _offline_calibration(speed_model)
    net = prepare_network(
        cast("nx.MultiDiGraph", graph),
        source=str(path),
        approximate=approximate,
        speed_profile=speed_profile,
        speed_model=speed_model,
        in_place=True,  # the graph was read for this call
    )
    net.timings["read_s"] = read_s
    return net


def download_network(
    place: str | None = None,
    *,
    polygon: shapely.Polygon | shapely.MultiPolygon | None = None,
    buffer_km: float = DEFAULT_BUFFER_KM,
    cache_dir: str | Path | None = None,
    speed_profile: str | Mapping[str, float] = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str | SpeedModel = DEFAULT_SPEED_MODEL,
    progress: Progress | None = None,
) -> RoadNetwork:
    """Download the drivable roads of a place or polygon from OpenStreetMap, with a border.

    The area is the place's boundary (geocoded by Nominatim) or the polygon
    (WGS84), widened by ``buffer_km`` so that routes that leave it and come
    back (through a neighbouring département, say) are kept. The raw graph is
    cached as GraphML under a key made from the query and the options; a
    second call with the same arguments reads the cache and needs no network,
    and reads the network prepared (see :mod:`optimizer.netcache`) from the
    same folder.

    Parameters
    ----------
    place
        A place name, e.g. ``"Lozère, France"``.
    polygon
        An area in WGS84, instead of a place.
    buffer_km
        Width of the border added around the area, km.
    cache_dir
        Folder of the cache (default :data:`optimizer.settings.CACHE_DIR`).
    speed_profile
        Profile name or table of km/h per ``highway`` class.
    speed_model
        Speed model or its name (see :mod:`optimizer.speed_model`).
    progress
        Called with a short message before each step.

    Returns
    -------
    RoadNetwork
        The prepared network (not approximate).
    """
    folder = Path(cache_dir) if cache_dir is not None else settings.CACHE_DIR
    found = fetch_drive_graph(place, polygon, buffer_km=buffer_km, folder=folder, progress=progress)
    if found.graph is None:
        if progress:
            progress(f"reading cached network {found.path.name}")
        net = load_network(
            found.path, speed_profile=speed_profile, speed_model=speed_model, cache_dir=folder
        )
        return _relabel(net, f"{found.label} (cache {found.path})")
    return prepare_network(
        found.graph,
        source=found.label,
        approximate=False,
        speed_profile=speed_profile,
        speed_model=speed_model,
    )


def _relabel(net: RoadNetwork, source: str) -> RoadNetwork:
    return replace_network(net, source=source)


def replace_network(net: RoadNetwork, **changes: Any) -> RoadNetwork:
    """:func:`dataclasses.replace` for a network, not building a cached network's graph."""
    changes.setdefault("graph", net.__dict__["_graph"])
    return replace(net, **changes)


def prepare_network(
    graph: nx.MultiDiGraph,
    *,
    source: str = "graph",
    approximate: bool = False,
    speed_profile: str | Mapping[str, float] = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str | SpeedModel = DEFAULT_SPEED_MODEL,
    keep_times: bool = False,
    in_place: bool = False,
) -> RoadNetwork:
    """Keep the largest strongly connected part, time every edge, and compile it.

    Parameters
    ----------
    graph
        An osmnx-style graph in WGS84 (nodes with ``x``, ``y``; edges with
        ``length`` in metres and optionally ``highway``, ``maxspeed``,
        ``geometry``). It is not modified (unless ``in_place``).
    source
        Description kept for reports.
    approximate
        Whether the network is an approximation of the real roads.
    speed_profile
        Profile name or table of km/h per ``highway`` class.
    speed_model
        ``"realistic"`` (default), ``"free-flow"`` or a
        :class:`~optimizer.speed_model.SpeedModel`.
    keep_times
        Keep the ``travel_time`` (seconds) that edges already carry; only
        edges without one are timed from their speed.
    in_place
        Time ``graph`` itself, its nodes outside the largest strongly
        connected part removed, and make it the network's graph: for a graph
        built for this call. Otherwise ``graph`` is read once and left alone,
        and the network's graph (a timed copy) is built when first read.

    Returns
    -------
    RoadNetwork
        The prepared network.
    """
    started = time.perf_counter()
    if next(iter(graph.edges()), None) is None:
        msg = f"{source}: the network has no drivable road (0 edges). Check the extract."
        raise NetworkError(msg)
    speeds, profile_name = _resolve_profile(speed_profile)
    model = _speed_model(speed_model)
    n_before = graph.number_of_nodes()
    timed, timed_graph = _strong_part(graph, in_place=in_place)
    pieces, times = add_travel_times(
        cast("nx.MultiDiGraph", timed), speeds, model=model, keep_times=keep_times
    )
    dropped = _log_dropped(timed.number_of_nodes(), n_before)
    timed.graph["approximate"] = approximate
    timed.graph["speed_profile"] = profile_name
    timed.graph["speed_model"] = model.name
    routing = compile_routing(cast("nx.MultiDiGraph", timed), shares=time_shares(pieces, times))
    elapsed = time.perf_counter() - started
    logger.info(
        "network %s: %d nodes, %d edges (%d routing edges), prepared in %.2f s",
        source,
        timed.number_of_nodes(),
        pieces.n_edges,
        routing.n_edges,
        elapsed,
    )
    return RoadNetwork(
        graph=timed.recipe(timed_graph),
        routing=routing,
        source=source,
        approximate=approximate,
        speed_profile=profile_name,
        dropped_nodes=dropped,
        timings={"prepare_s": elapsed},
        speed_model=model,
        pieces=pieces,
        edge_times=times,
    )


def _log_dropped(kept: int, before: int) -> int:
    """Log how many nodes the largest strongly connected part left out, and return it."""
    dropped = before - kept
    if dropped:
        logger.info(
            "kept the largest strongly connected part: %d of %d nodes (%d dropped)",
            kept,
            before,
            dropped,
        )
    return dropped


def _strong_part(
    graph: nx.MultiDiGraph, *, in_place: bool
) -> tuple[GraphLists, nx.MultiDiGraph | None]:
    """Read the graph's largest strongly connected part once into lists, to be timed.

    The lists hold copies of the attributes unless ``in_place``; then ``graph``
    itself loses the nodes outside the part and is given back as the
    network's graph (None: the graph is built from the lists when first read).
    """
    lists_given = isinstance(graph, GraphLists)  # a file read for this call (GraphML)
    # lists its builder found to be the largest part are not searched again (the extracts)
    known = lists_given and cast("GraphLists", graph).strong
    outside = [] if known else _outside_largest_strong_part(graph)
    if in_place and outside and not lists_given:
        graph.remove_nodes_from(outside)
    # the timed graph's nodes and edges (copies, unless in_place), read once: the osmnx
    # graph of them is built when the network's graph is first read
    timed = GraphLists(
        graph, skip=set(outside) if lists_given or not in_place else set(), copy=not in_place
    )
    return timed, graph if in_place and not lists_given else None


def _outside_largest_strong_part(graph: nx.MultiDiGraph) -> list[Any]:
    """Return the nodes outside the largest strongly connected part (the first, at a tie)."""
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    uv = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    kept = largest_strong_part_of(len(nodes), uv[:, 0], uv[:, 1])
    return [nodes[i] for i in np.flatnonzero(~kept).tolist()]


def _speed_model(model: str | SpeedModel) -> SpeedModel:
    return speed_model(model)


def _offline_calibration(model: str | SpeedModel) -> str | SpeedModel:
    """Give the offline approximation its calibrated factors (realistic model, not calibrated).

    The approximate network's roads are made up from communes, so their
    factors cannot come from road data: they were fitted on public reference
    trips (``data/reference_trips.csv``) and ship beside it.
    """
    chosen = speed_model(model)
    if chosen.name != "realistic" or chosen.calibration:
        return model
    import optimizer.datafiles as datasets
    from optimizer.inputs import read_speed_factors

    file = datasets.path(datasets.NETWORK_FACTORS_FILE)
    factors, params = read_speed_factors(file)
    source = f"calibrated on public reference trips ({file.name})"
    return chosen.with_factors(factors, source=source, **params)


def retime(network: RoadNetwork, times: EdgeTimes | np.ndarray, *, source: str = "") -> RoadNetwork:
    """Return ``network`` with other edge times (same roads, same graph).

    Used for calibration and drive-time scenarios: the routing arrays get the
    new times; the fastest of parallel edges stays the one chosen at
    preparation.

    Parameters
    ----------
    network
        A prepared network.
    times
        New seconds per graph edge (``graph.edges`` order), or :class:`EdgeTimes`.
    source
        A word for reports (default: the network's own).

    Returns
    -------
    RoadNetwork
        A network sharing the graph, with its own routing arrays.
    """
    seconds = times.seconds if isinstance(times, EdgeTimes) else np.asarray(times, dtype=float)
    routing = replace(network.routing, seconds=np.round(seconds[network.routing.edge_source], 3))
    if isinstance(times, EdgeTimes) and times.piece_s is not None and network.pieces is not None:
        routing = with_shares(routing, time_shares(network.pieces, times))
    return replace_network(
        network,
        routing=routing,
        source=source or network.source,
        edge_times=times if isinstance(times, EdgeTimes) else network.edge_times,
    )


def save_network(network: RoadNetwork, path: str | Path) -> Path:
    """Save the timed graph as GraphML (read it back with :func:`load_network`).

    Parameters
    ----------
    network
        The network to save.
    path
        Target ``.graphml`` file; folders are created.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(network.graph, path)
    return path


# --------------------------------------------------------------------------- speeds


def _resolve_profile(profile: str | Mapping[str, float]) -> tuple[Mapping[str, float], str]:
    if isinstance(profile, str):
        if profile not in settings.SPEED_PROFILES:
            known = ", ".join(settings.SPEED_PROFILES)
            msg = f"speed profile '{profile}' is unknown. Choose one of: {known}."
            raise InputError(msg)
        return settings.SPEED_PROFILES[profile], profile
    for road_class, kmh in profile.items():
        if not (isinstance(kmh, (int, float)) and 0 < kmh <= 200):
            msg = f"speed table: '{road_class}' has speed {kmh!r}; give km/h between 0 and 200."
            raise InputError(msg)
    return profile, "custom"


# --------------------------------------------------------------------------- compiling


def _xml_is_approximation(path: Path) -> bool:
    """Tell whether an OSM XML file says, in its header, that it is an approximation."""
    import bz2
    import gzip

    opener: Callable[..., Any]
    if path.suffix == ".bz2":
        opener = bz2.open
    elif path.suffix == ".gz":
        opener = gzip.open
    else:
        opener = open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            head = handle.read(2000)
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc})."
        raise NetworkError(msg) from None
    match = re.search(r"<osm\b[^>]*generator=\"([^\"]*)\"", head)
    return bool(match and APPROXIMATION_MARKER in match.group(1).lower())
