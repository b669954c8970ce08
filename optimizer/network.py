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
"""

from __future__ import annotations

import functools
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
from typing import Any, cast

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
from scipy.sparse import csgraph

import optimizer.settings as settings
from optimizer._osm import check_drivable, drivable_overpass_json, reading_osm, write_osm_xml
from optimizer.errors import InputError, NetworkError
from optimizer.roadnet import AT_NODE_M as AT_NODE_M  # re-exported: the data classes live there
from optimizer.roadnet import GraphRecipe as GraphRecipe
from optimizer.roadnet import LazyLines as LazyLines
from optimizer.roadnet import RoadNetwork as RoadNetwork
from optimizer.roadnet import RoutingArrays as RoutingArrays
from optimizer.roadnet import plain_tag as _plain
from optimizer.roadnet import with_shares as with_shares
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
        from optimizer._graphml import read_graphml

        try:
            # osmnx's graph as lists, read as osmnx reads it; osmnx itself for unusual files
            lists = read_graphml(path)
            graph = ox.load_graphml(path) if lists is None else _GraphLists.of(*lists)
        except Exception as exc:
            msg = f"{path}: cannot be read as GraphML ({type(exc).__name__}: {exc})."
            raise NetworkError(msg) from None
        approximate = str(graph.graph.get("approximate", "False")) == "True"
    else:
        approximate = name.endswith(_XML_SUFFIXES) and _xml_is_approximation(path)
        if approximate:
            speed_model = _offline_calibration(speed_model)
        # the same network as graph_from_osm_file and prepare_network give, built on arrays
        from optimizer._roads import prepare_osm_file

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
    with reading_osm(path):
        data, counts = drivable_overpass_json(path)
    check_drivable(path, counts)
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
    outside = _outside_largest_strong_part(graph)
    lists_given = isinstance(graph, _GraphLists)  # a file read for this call (GraphML)
    if in_place and outside and not lists_given:
        graph.remove_nodes_from(outside)
    # the timed graph's nodes and edges (copies, unless in_place), read once: the osmnx
    # graph of them is built when the network's graph is first read
    timed = _GraphLists(
        graph, skip=set(outside) if lists_given or not in_place else set(), copy=not in_place
    )
    pieces, times = add_travel_times(
        cast("nx.MultiDiGraph", timed), speeds, model=model, keep_times=keep_times
    )
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
        graph=timed.recipe(graph if in_place and not lists_given else None),
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


class _GraphLists:
    """A graph's nodes and edges read once into lists, standing in for the graph.

    What :func:`add_travel_times`, :func:`~optimizer.speed_model.edge_pieces`
    and :func:`compile_routing` read of a graph (``nodes``, ``edges``,
    ``graph``), without networkx's views (each pass over them costs as much
    as the timing itself). With ``copy``, the attribute dicts are copies, so
    that timing leaves the given graph unchanged; :meth:`recipe` builds the
    osmnx graph of them when it is first read.
    """

    @classmethod
    def of(
        cls,
        nodes: list[tuple[Any, dict[str, Any]]],
        edges: list[tuple[Any, Any, Any, dict[str, Any]]],
        attrs: dict[str, Any],
    ) -> _GraphLists:
        """Return the lists of a graph read without networkx (:mod:`optimizer._graphml`)."""
        lists = cls.__new__(cls)
        lists.node_list, lists.edge_list, lists.graph = nodes, edges, attrs
        lists._with_data = None
        return lists

    def __init__(self, graph: nx.MultiDiGraph, *, skip: set[Any], copy: bool) -> None:
        if skip:
            nodes = [(n, d) for n, d in graph.nodes(data=True) if n not in skip]
            edges = [
                e
                for e in graph.edges(keys=True, data=True)
                if e[0] not in skip and e[1] not in skip
            ]
        else:
            nodes = list(graph.nodes(data=True))
            edges = list(graph.edges(keys=True, data=True))
        if copy:
            nodes = [(n, dict(d)) for n, d in nodes]
            edges = [(u, v, k, dict(d)) for u, v, k, d in edges]
        self.node_list: list[tuple[Any, dict[str, Any]]] = nodes
        self.edge_list: list[tuple[Any, Any, Any, dict[str, Any]]] = edges
        self.graph: dict[str, Any] = dict(graph.graph)
        self._with_data: list[tuple[Any, Any, dict[str, Any]]] | None = None

    @property
    def nodes(self) -> _NodeList:
        """The nodes, as ``graph.nodes`` gives them (iterated, or called with ``data``)."""
        return _NodeList(self.node_list)

    def number_of_nodes(self) -> int:
        """Return the number of nodes."""
        return len(self.node_list)

    def edges(self, *, keys: bool = False, data: bool = False) -> list[Any]:
        """Return the edges, as ``graph.edges(keys=..., data=...)`` gives them."""
        if keys and data:
            return self.edge_list
        if keys:
            return [(u, v, k) for u, v, k, _ in self.edge_list]
        if data:
            if self._with_data is None or len(self._with_data) != len(self.edge_list):
                self._with_data = [(u, v, d) for u, v, _, d in self.edge_list]
            return self._with_data
        return [(u, v) for u, v, _, _ in self.edge_list]

    def recipe(self, graph: nx.MultiDiGraph | None) -> GraphRecipe:
        """Return what builds the osmnx graph (``graph``, already timed in place, if given)."""
        lon = [d["x"] for _, d in self.node_list]
        lat = [d["y"] for _, d in self.node_list]

        return GraphRecipe(
            functools.partial(self.build, graph),  # plain functions: a network pickles (Dask)
            n_nodes=len(self.node_list),
            n_edges=len(self.edge_list),
            bounds=(min(lon), min(lat), max(lon), max(lat)),
            columns=self.columns,
        )

    def build(self, graph: nx.MultiDiGraph | None) -> nx.MultiDiGraph:
        """Build the osmnx graph of the lists (or give ``graph``, timed in place)."""
        if graph is not None:
            graph.graph.update(self.graph)
            return graph
        built = nx.MultiDiGraph(**self.graph)
        built.add_nodes_from(self.node_list)
        built.add_edges_from(self.edge_list)
        return built

    def columns(self) -> dict[str, Any]:
        """Return the graph as columns (see :class:`GraphRecipe`)."""
        lines = [d.get("geometry") for _, _, _, d in self.edge_list]
        counts = np.array([0 if g is None else shapely.get_num_coordinates(g) for g in lines])
        ptr = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        drawn = [g for g in lines if g is not None]
        return {
            "ids": np.array([n for n, _ in self.node_list], dtype=np.int64),
            "lon": np.array([d["x"] for _, d in self.node_list], dtype=float),
            "lat": np.array([d["y"] for _, d in self.node_list], dtype=float),
            "node_attrs": [
                {k: v for k, v in d.items() if k not in ("x", "y")} for _, d in self.node_list
            ],
            "u": np.array([e[0] for e in self.edge_list], dtype=np.int64),
            "v": np.array([e[1] for e in self.edge_list], dtype=np.int64),
            "key": np.array([e[2] for e in self.edge_list], dtype=np.int64),
            "edge_attrs": [
                {n: x for n, x in d.items() if n != "geometry"} for _, _, _, d in self.edge_list
            ],
            "line_xy": shapely.get_coordinates(drawn) if drawn else np.zeros((0, 2)),
            "line_ptr": ptr,
            "graph": dict(self.graph),
        }


class _NodeList:
    """``graph.nodes`` of :class:`_GraphLists`."""

    def __init__(self, nodes: list[tuple[Any, dict[str, Any]]]) -> None:
        self._nodes = nodes

    def __iter__(self) -> Iterator[Any]:
        return (n for n, _ in self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __call__(self, data: bool | str = False) -> list[Any]:
        if data is True:
            return self._nodes
        if data is False:
            return [n for n, _ in self._nodes]
        return [(n, d.get(data)) for n, d in self._nodes]


def _outside_largest_strong_part(graph: nx.MultiDiGraph) -> list[Any]:
    """Return the nodes outside the largest strongly connected part (the first, at a tie)."""
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    pairs = [(index[u], index[v]) for u, v in graph.edges()]
    uv = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    matrix = sparse.coo_array((np.ones(len(pairs)), (uv[:, 0], uv[:, 1])), shape=(n, n)).tocsr()
    _, labels = csgraph.connected_components(matrix, directed=True, connection="strong")
    largest = int(np.argmax(np.bincount(labels)))
    return [nodes[i] for i in np.flatnonzero(labels != largest).tolist()]


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
    edges = list(graph.edges(data=True))
    for u, v, data in edges:
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
        given = np.array([_finite_or_nan(d.get("travel_time")) for _, _, d in edges])
        keep = np.isfinite(given) & (given >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(seconds > 0, given / seconds, 0.0)
        times.by_group[keep] *= ratio[keep, None]
        seconds = np.where(keep, given, seconds)
        times = replace(times, seconds=seconds)
    # travel_time: rounded as Python rounds a float; speed_kph as NumPy rounds (what
    # round(length / seconds * 3.6, 3) of a NumPy float gives), all at once
    lengths = np.fromiter((float(d["length"]) for _, _, d in edges), dtype=float, count=len(edges))
    with np.errstate(divide="ignore", invalid="ignore"):
        kph = np.where(seconds > 0, np.round(lengths / seconds * 3.6, 3), 0.0)
    for (_, _, data), edge_s, edge_kph in zip(edges, seconds.tolist(), kph.tolist(), strict=True):
        data["travel_time"] = round(edge_s, 3)
        data["speed_kph"] = edge_kph
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
