"""Downloading a place's or polygon's drivable roads from OpenStreetMap (Overpass).

:func:`fetch_drive_graph` finds the area (Nominatim), widens it by a border,
downloads its drivable roads and simplifies them (:func:`optimizer.osmgraph.simplify`),
keeping the raw graph as GraphML in a cache folder under a key made from the
query; :func:`optimizer.network.download_network` prepares what it gives.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import osmnx as ox
import requests
import shapely
from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

import optimizer.settings as settings
from optimizer.errors import InputError, NetworkError
from optimizer.osmgraph import simplify
from optimizer.roadnet import Progress

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Fetched:
    """A downloaded area's drivable roads, or the cached GraphML file of an earlier download.

    Attributes
    ----------
    path
        The GraphML file the raw graph is cached in.
    label
        What was downloaded, for reports.
    graph
        The simplified raw graph just downloaded; None when it was read from
        ``path`` (an earlier download with the same query and options).
    """

    path: Path
    label: str
    graph: nx.MultiDiGraph | None


def fetch_drive_graph(
    place: str | None,
    polygon: shapely.Polygon | shapely.MultiPolygon | None,
    *,
    buffer_km: float,
    folder: Path,
    progress: Progress | None = None,
) -> Fetched:
    """Download the drivable roads of a place or polygon with a border, or find them cached.

    Parameters
    ----------
    place
        A place name, e.g. ``"Lozère, France"`` (or None with a polygon).
    polygon
        An area in WGS84, instead of a place.
    buffer_km
        Width of the border added around the area, km.
    folder
        The cache folder: the raw graph is kept there as GraphML, under a key
        made from the query and the options; osmnx's HTTP cache too.
    progress
        Called with a short message before each step.

    Returns
    -------
    Fetched
        The graph just downloaded (and cached), or the cached file.
    """
    if (place is None) == (polygon is None):
        msg = "give a place name or a polygon (one of the two)."
        raise InputError(msg)
    if not buffer_km >= 0:
        msg = f"--buffer-km must be 0 or more, got {buffer_km}."
        raise InputError(msg)
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
        return Fetched(cached, label, None)
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
    return Fetched(cached, label, graph)
