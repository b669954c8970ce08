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
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import osmnx.graph as ox_graph
import requests
import shapely
from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError
from pyproj import Transformer
from scipy import sparse

import optimizer.settings as settings
from optimizer._osm import drivable_overpass_json, write_osm_xml
from optimizer.errors import InputError, NetworkError
from optimizer.roadnet import AT_NODE_M as AT_NODE_M  # re-exported: the data classes live there
from optimizer.roadnet import GraphRecipe as GraphRecipe
from optimizer.roadnet import RoadNetwork as RoadNetwork
from optimizer.roadnet import RoutingArrays as RoutingArrays
from optimizer.speed_model import (
    DEFAULT_SPEED_MODEL,
    EdgePieces,
    EdgeTimes,
    SpeedModel,
    edge_pieces,
    speed_model,
    time_edges,
    time_shares,
)
from optimizer.speed_model import class_speed as class_speed  # re-exported (moved there)
from optimizer.speed_model import parse_maxspeed as parse_maxspeed
from optimizer.speed_model import speed_model as speed_model_of

logger = logging.getLogger(__name__)

#: A progress callback: called with a short message before each step of long work.
Progress = Callable[[str], None]

#: Marker written in the ``generator`` attribute of OSM XML files that are approximations.
APPROXIMATION_MARKER = "approximation"
_XML_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz")
#: File endings read as OpenStreetMap data.
OSM_SUFFIXES = (*_XML_SUFFIXES, ".pbf")
#: Edge attribute listing what a simplified edge is made of (see :func:`simplify`).
SEGMENTS = "segments"
#: Node ``highway`` values that delay traffic (kept on the segments of merged edges).
NODE_CONTROLS = frozenset({"traffic_signals", "stop", "give_way"})
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
    if not path.exists():
        msg = f"{path}: network file not found. Check the path."
        raise InputError(msg)
    if path.is_dir():
        msg = (
            f"{path}: is a folder. Give a network file (.osm.pbf, .osm, .graphml), or, for a "
            "national network folder (departements.gpkg and OSM files), --scheduler local:N too."
        )
        raise InputError(msg)
    name = path.name.lower()
    if not name.endswith((".graphml", *OSM_SUFFIXES)):
        msg = (
            f"{path}: unknown network format. Give an OpenStreetMap extract (.osm.pbf, .osm, "
            ".osm.bz2, .osm.gz) or a GraphML file (.graphml)."
        )
        raise InputError(msg)
    if cache_dir is None:
        return _load_network(path, speed_profile, speed_model, progress)
    import optimizer.netcache as netcache

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
    entry = netcache.entry_path(Path(cache_dir), key)
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
        try:
            graph = ox.load_graphml(path)
        except Exception as exc:
            msg = f"{path}: cannot be read as GraphML ({type(exc).__name__}: {exc})."
            raise NetworkError(msg) from None
        approximate = str(graph.graph.get("approximate", "False")) == "True"
    else:
        approximate = name.endswith(_XML_SUFFIXES) and _xml_is_approximation(path)
        graph = graph_from_osm_file(path)
    read_s = time.perf_counter() - started
    if approximate:
        speed_model = _offline_calibration(speed_model)
    net = prepare_network(
        graph,
        source=str(path),
        approximate=approximate,
        speed_profile=speed_profile,
        speed_model=speed_model,
        in_place=True,  # the graph was read for this call
    )
    net.timings["read_s"] = read_s
    return net


def graph_from_osm_file(path: str | Path) -> nx.MultiDiGraph:
    """Build the drivable-road graph of a local OpenStreetMap file with osmnx.

    The drivable ways (osmnx's ``"drive"`` rules: no footways, tracks, service
    roads or private roads) are read with pyosmium and handed to osmnx's graph
    builder as the Overpass-like JSON that :func:`osmnx.graph_from_xml` would
    make of them (no temporary XML), then simplified (:func:`simplify`).

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.

    Returns
    -------
    networkx.MultiDiGraph
        The raw osmnx graph (edges not yet timed).
    """
    path = Path(path)
    try:
        data, counts = drivable_overpass_json(path)
    except (RuntimeError, ValueError, OSError) as exc:
        msg = f"{path}: cannot be read as OpenStreetMap data ({exc}). Is the file complete?"
        raise NetworkError(msg) from None
    if counts["ways_kept"] == 0:
        msg = (
            f"{path}: no drivable road in this extract ({counts['ways_read']} highway ways "
            "read). Check that it covers the area and holds roads (highway=*)."
        )
        raise NetworkError(msg)
    try:
        raw = _graph_from_overpass_json(data)
    except NetworkError:
        raise
    except Exception as exc:
        msg = f"{path}: osmnx cannot build a graph from it ({type(exc).__name__}: {exc})."
        raise NetworkError(msg) from None
    graph = simplify(raw, in_place=True)
    logger.info("%s: %s -> %d nodes, %d edges", path, counts, len(graph), graph.number_of_edges())
    return graph


def _graph_from_overpass_json(data: dict[str, Any]) -> nx.MultiDiGraph:
    """Build osmnx's unsimplified graph from Overpass-like JSON, as ``graph_from_xml`` would.

    osmnx turns an OSM XML file into this JSON, then calls its graph builder;
    handing it the JSON directly skips writing and parsing the XML. When this
    osmnx has no such builder, the XML is written and read as before.
    """
    create = getattr(ox_graph, "_create_graph", None)
    if create is not None:
        return create([data], False)  # osmnx: (response_jsons, bidirectional)
    with tempfile.TemporaryDirectory(prefix="lozere-osm-") as folder:
        xml = Path(folder) / "drivable.osm"
        elements = data["elements"]
        nodes = [(e["id"], e["lon"], e["lat"], e["tags"]) for e in elements if e["type"] == "node"]
        ways = [(e["id"], e["nodes"], e["tags"]) for e in elements if e["type"] == "way"]
        write_osm_xml(xml, nodes, ways, generator=str(data["generator"]))
        return ox.graph_from_xml(xml, simplify=False, retain_all=True)


def simplify(raw: nx.MultiDiGraph, *, in_place: bool = False) -> nx.MultiDiGraph:
    """Simplify an unsimplified osmnx graph, keeping what each merged edge is made of.

    osmnx's simplification merges chains of OSM segments into one edge and
    keeps only the distinct values of their tags, so the speed of a merged
    edge can no longer be known exactly (osmnx averages ``maxspeed`` lists),
    and the nodes it removes (a traffic signal along a road) are lost. Here
    every segment's ``highway``, ``maxspeed``, length and the control at its
    end (``traffic_signals``, ``stop``, ``give_way`` or null) are kept in the
    merged edge's ``segments`` attribute (JSON), from which
    :func:`add_travel_times` times the edge exactly, under any speed model and
    profile, also after a GraphML round trip; the edge's ``geometry`` keeps
    the segments' points, which the bends are read from.

    Parameters
    ----------
    raw
        An osmnx graph that is not yet simplified (left unchanged unless ``in_place``).
    in_place
        Annotate ``raw``'s own edges rather than a copy's: for a graph built for this call.

    Returns
    -------
    networkx.MultiDiGraph
        The simplified graph.
    """
    annotated = raw if in_place else raw.copy()
    node_highway = dict(raw.nodes(data="highway"))
    for _, v, data in annotated.edges(data=True):
        control = node_highway.get(v)
        data[SEGMENTS] = json.dumps(
            [
                [
                    _plain(data.get("highway")),
                    _plain(data.get("maxspeed")),
                    float(data["length"]),
                    control if control in NODE_CONTROLS else None,
                ]
            ]
        )
    return ox.simplify_graph(annotated, edge_attr_aggs={"length": sum, SEGMENTS: _join_segments})


def _plain(value: object) -> object:
    """Return a tag value that JSON can hold (osmnx may give lists)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return None if value is None else str(value)


def _join_segments(values: list[str]) -> str:
    """Concatenate JSON lists of segments, in path order."""
    return "[" + ",".join(value[1:-1] for value in values) + "]"


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
    if (place is None) == (polygon is None):
        msg = "give a place name or a polygon (one of the two)."
        raise InputError(msg)
    if not buffer_km >= 0:
        msg = f"--buffer-km must be 0 or more, got {buffer_km}."
        raise InputError(msg)
    folder = Path(cache_dir) if cache_dir is not None else settings.CACHE_DIR
    query = place if place is not None else shapely.to_wkt(polygon, rounding_precision=7)
    key = hashlib.sha256(
        json.dumps(
            {"query": query, "buffer_km": buffer_km, "network": "drive", "osmnx": ox.__version__},
            sort_keys=True,
        ).encode()
    ).hexdigest()[:20]
    cached = folder / f"osm-drive-{key}.graphml"
    label = f"OpenStreetMap: {place or 'polygon'} + {buffer_km:g} km border"
    if cached.exists():
        if progress:
            progress(f"reading cached network {cached.name}")
        net = load_network(
            cached, speed_profile=speed_profile, speed_model=speed_model, cache_dir=folder
        )
        return _relabel(net, f"{label} (cache {cached})")
    folder.mkdir(parents=True, exist_ok=True)
    with _osmnx_http_cache(folder / "http"):
        if place is not None:
            if progress:
                progress(f"finding '{place}' (Nominatim)")
            area = _geocode(place)
        else:
            area = polygon
        if progress:
            progress(f"downloading drivable roads (Overpass), {buffer_km:g} km border")
        graph = _download_graph(_buffered(area, buffer_km), label)
    ox.save_graphml(graph, cached)
    logger.info("cached %s as %s", label, cached)
    return prepare_network(
        graph,
        source=label,
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


@contextmanager
def _osmnx_http_cache(folder: Path) -> Iterator[None]:
    """Keep osmnx's HTTP cache in our cache folder (not the working directory) for a call."""
    before = ox.settings.cache_folder
    ox.settings.cache_folder = folder
    try:
        yield
    finally:
        ox.settings.cache_folder = before


_OFFLINE_HINT = (
    "To work offline, get a département extract (e.g. lozere.osm.pbf) where there is "
    "internet and run: assign network --from-file lozere.osm.pbf --out lozere.graphml"
)


def _geocode(place: str) -> shapely.Polygon | shapely.MultiPolygon:
    try:
        found = ox.geocode_to_gdf(place)
    except InsufficientResponseError:
        msg = f"place '{place}' was not found by OpenStreetMap's geocoder. Check the spelling."
        raise InputError(msg) from None
    except TypeError:
        msg = f"place '{place}' is not an area in OpenStreetMap. Give a commune, département..."
        raise InputError(msg) from None
    except requests.exceptions.RequestException as exc:
        msg = f"cannot reach OpenStreetMap's geocoder ({type(exc).__name__}). {_OFFLINE_HINT}"
        raise NetworkError(msg) from None
    except ResponseStatusCodeError as exc:
        msg = f"OpenStreetMap's geocoder refused the request ({exc}). Try again later."
        raise NetworkError(msg) from None
    geometry = found.geometry.iloc[0]
    if not isinstance(geometry, (shapely.Polygon, shapely.MultiPolygon)):
        msg = f"place '{place}' is a {geometry.geom_type}, not an area. Give an area's name."
        raise InputError(msg)
    return geometry


def _buffered(
    area: shapely.Polygon | shapely.MultiPolygon, buffer_km: float
) -> shapely.Polygon | shapely.MultiPolygon:
    """``area`` (WGS84) widened by ``buffer_km``, computed in the working CRS."""
    if buffer_km == 0:
        return area
    series = gpd.GeoSeries([area], crs=settings.INPUT_CRS).to_crs(settings.WORKING_CRS)
    return series.buffer(buffer_km * 1000.0).to_crs(settings.INPUT_CRS).iloc[0]


def _download_graph(area: shapely.Polygon | shapely.MultiPolygon, label: str) -> nx.MultiDiGraph:
    try:
        raw = ox.graph_from_polygon(
            area, network_type="drive", simplify=False, retain_all=True, truncate_by_edge=True
        )
    except requests.exceptions.RequestException as exc:
        msg = f"cannot reach the OpenStreetMap servers ({type(exc).__name__}). {_OFFLINE_HINT}"
        raise NetworkError(msg) from None
    except ResponseStatusCodeError as exc:
        msg = f"the OpenStreetMap server refused the request ({exc}). Try again later."
        raise NetworkError(msg) from None
    except InsufficientResponseError:
        msg = f"{label}: OpenStreetMap has no drivable road in this area."
        raise NetworkError(msg) from None
    return simplify(raw, in_place=True)


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
        connected part removed, rather than a copy (a fifth faster): for a
        graph built for this call.

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
    largest = max(nx.strongly_connected_components(graph), key=len)
    # a copy, then drop the rest: twice as fast as copying a subgraph view
    timed = graph if in_place else graph.copy()
    if len(largest) < n_before:
        timed.remove_nodes_from([node for node in graph if node not in largest])
    pieces, times = add_travel_times(timed, speeds, model=model, keep_times=keep_times)
    dropped = n_before - timed.number_of_nodes()
    if dropped:
        logger.info(
            "kept the largest strongly connected part: %d of %d nodes (%d dropped)",
            timed.number_of_nodes(),
            n_before,
            dropped,
        )
    timed.graph["approximate"] = approximate
    timed.graph["speed_profile"] = profile_name
    timed.graph["speed_model"] = model.name
    routing = compile_routing(timed, shares=time_shares(pieces, times))
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
        graph=timed,
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
    for u, v, data in graph.edges(data=True):
        length = data.get("length")
        try:
            ok = length is not None and math.isfinite(float(length)) and float(length) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            msg = f"edge {u}->{v} has no valid length ({length!r}); the network file is damaged."
            raise NetworkError(msg)
    chosen = speed_model(model)
    pieces = edge_pieces(graph, speeds, chosen)
    times = time_edges(pieces, chosen)
    seconds = times.seconds
    if keep_times:
        given = np.array(
            [_finite_or_nan(d.get("travel_time")) for _, _, d in graph.edges(data=True)]
        )
        keep = np.isfinite(given) & (given >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(seconds > 0, given / seconds, 0.0)
        times.by_group[keep] *= ratio[keep, None]
        seconds = np.where(keep, given, seconds)
        times = replace(times, seconds=seconds)
    for k, (_, _, data) in enumerate(graph.edges(data=True)):
        data["travel_time"] = round(float(seconds[k]), 3)
        length = float(data["length"])
        data["speed_kph"] = round(length / seconds[k] * 3.6, 3) if seconds[k] > 0 else 0.0
    return pieces, times


def _finite_or_nan(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


# --------------------------------------------------------------------------- compiling


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
    lon = np.array([graph.nodes[n]["x"] for n in graph.nodes], dtype=float)
    lat = np.array([graph.nodes[n]["y"] for n in graph.nodes], dtype=float)
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    x, y = (np.asarray(a, dtype=float) for a in to_metric.transform(lon, lat))

    m = graph.number_of_edges()
    tail = np.empty(m, dtype=np.int64)
    head = np.empty(m, dtype=np.int64)
    seconds = np.empty(m, dtype=float)
    metres = np.empty(m, dtype=float)
    lines: list[Any] = []
    for k, (u, v, data) in enumerate(graph.edges(data=True)):
        tail[k], head[k] = index[u], index[v]
        seconds[k] = float(data["travel_time"])
        metres[k] = float(data["length"])
        lines.append(data.get("geometry"))
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
