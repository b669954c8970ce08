"""The offline approximate road network of Lozère, written as OSM XML.

No OpenStreetMap data can be downloaded where this project is built and
tested, so the embedded default network is made from what is at hand: the
town-hall point and the boundary of each commune. Two communes whose
boundaries touch are linked by a two-way road; the road zigzags so that its
length is the straight line times :data:`optimizer.settings.OFFLINE_DETOUR_FACTOR`
(mountain roads wind), which also gives routing a point every few hundred
metres to snap homes to. The road class comes from the populations of the two
towns linked (both of 2,000 or more: ``primary``; both of 500 or more:
``secondary``; otherwise ``tertiary``: a road to a hamlet is a small road), and
its speed from the speed profile.

The file says it is an approximation in its ``generator`` attribute, which
:func:`optimizer.network.load_network` reads, so that every result computed on
it is labelled approximate. It is read through exactly the same osmnx code path
as real OSM XML.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

import optimizer.settings as settings
from optimizer._osm import Node, Way, write_osm_xml
from optimizer.network import APPROXIMATION_MARKER

logger = logging.getLogger(__name__)

#: Towns of this population or more are linked by primary roads.
PRIMARY_POPULATION = 2000
#: A link touching a town of this population or more is a secondary road.
SECONDARY_POPULATION = 500
#: Target spacing of the zigzag's points along the straight line, in metres.
ZIGZAG_STEP_M = 1000.0
_TOWN_NODE_BASE = 1_000_000
_ROAD_NODE_BASE = 100_000_000


def town_points(communes: gpd.GeoDataFrame) -> np.ndarray:
    """Return each commune's town-hall point, ``(n, 2)`` lon/lat, checked against its boundary.

    A town-hall point that lies outside its own commune (the source data gives
    one commune its neighbour's town hall) is replaced by the commune's
    representative point (``rep_lon``, ``rep_lat``), which is inside it.

    Parameters
    ----------
    communes
        Communes with ``mairie_lon``, ``mairie_lat``, ``rep_lon``, ``rep_lat``
        and boundaries in EPSG:4326.
    """
    lon = communes["mairie_lon"].to_numpy(dtype=float).copy()
    lat = communes["mairie_lat"].to_numpy(dtype=float).copy()
    metric = communes.geometry.to_crs(settings.WORKING_CRS).to_numpy()
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    points = shapely.points(*to_metric.transform(lon, lat))
    outside = ~shapely.contains(shapely.buffer(metric, 100.0), points)
    for i in np.flatnonzero(outside):
        logger.info(
            "town hall of %s lies outside the commune; using its representative point",
            communes["nom"].iloc[i],
        )
        lon[i] = float(communes["rep_lon"].iloc[i])
        lat[i] = float(communes["rep_lat"].iloc[i])
    return np.column_stack([lon, lat])


def road_class(pop_a: int, pop_b: int) -> str:
    """Return the OSM ``highway`` class of the link between two towns."""
    if min(pop_a, pop_b) >= PRIMARY_POPULATION:
        return "primary"
    if min(pop_a, pop_b) >= SECONDARY_POPULATION:
        return "secondary"
    return "tertiary"


def neighbour_pairs(
    communes: gpd.GeoDataFrame, *, tolerance_m: float = 50.0
) -> list[tuple[int, int]]:
    """Return the index pairs ``(i, j)``, ``i < j``, of communes whose boundaries touch.

    Parameters
    ----------
    communes
        Commune polygons in a metric CRS.
    tolerance_m
        Gap between boundaries still counted as touching (digitising slivers).
    """
    geoms = communes.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, tolerance_m), predicate="intersects")
    return sorted({(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b})


def zigzag(start: np.ndarray, end: np.ndarray, detour: float, step_m: float) -> np.ndarray:
    """Points of a zigzag from ``start`` to ``end`` whose length is ``detour`` times the line.

    Parameters
    ----------
    start, end
        Metric coordinates ``(x, y)``.
    detour
        Ratio of the zigzag's length to the straight line (>= 1).
    step_m
        Approximate distance along the line between two peaks.

    Returns
    -------
    numpy.ndarray
        ``(k, 2)`` points, ``start`` and ``end`` included.
    """
    delta = end - start
    length = float(np.hypot(*delta))
    teeth = max(1, round(length / step_m))
    half = length / (2 * teeth)
    offset = half * math.sqrt(max(detour * detour - 1.0, 0.0))
    normal = np.array([-delta[1], delta[0]]) / length
    t = np.arange(2 * teeth + 1) / (2 * teeth)
    side = np.zeros(t.size)
    side[1::2] = np.where(np.arange(teeth) % 2 == 0, 1.0, -1.0)
    return start + np.outer(t, delta) + np.outer(side * offset, normal)


def write_offline_network(
    communes: gpd.GeoDataFrame,
    path: str | Path,
    *,
    detour: float = settings.OFFLINE_DETOUR_FACTOR,
    step_m: float = ZIGZAG_STEP_M,
) -> dict[str, int]:
    """Write the approximate network of ``communes`` as an OSM XML file.

    Parameters
    ----------
    communes
        Communes with ``code``, ``nom``, ``population_cog2026``, the town-hall
        and representative points and their boundaries (see :func:`town_points`).
    path
        Target ``.osm`` file.
    detour
        Ratio of road length to straight-line length.
    step_m
        Spacing of the zigzag's peaks.

    Returns
    -------
    dict
        Counts of towns, links, nodes and ways written.
    """
    communes = communes.reset_index(drop=True)
    metric = communes.to_crs(settings.WORKING_CRS)
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
    lonlat = town_points(communes)
    halls = np.column_stack(to_metric.transform(lonlat[:, 0], lonlat[:, 1]))
    population = metric["population_cog2026"].astype(int).to_numpy()
    names = metric["nom"].astype(str).to_numpy()
    town_ids = [_TOWN_NODE_BASE + int(code) for code in metric["code"]]

    nodes: list[Node] = [
        (town_ids[i], float(lon), float(lat), {"name": str(names[i])})
        for i, (lon, lat) in enumerate(lonlat)
    ]
    ways: list[Way] = []
    next_node = _ROAD_NODE_BASE
    pairs = neighbour_pairs(metric)
    for way_id, (a, b) in enumerate(pairs, start=1):
        points = zigzag(halls[a], halls[b], detour, step_m)[1:-1]
        lon, lat = to_wgs.transform(points[:, 0], points[:, 1])
        refs = [town_ids[a]]
        for plon, plat in zip(lon, lat, strict=True):
            nodes.append((next_node, float(plon), float(plat), {}))
            refs.append(next_node)
            next_node += 1
        refs.append(town_ids[b])
        tags = {
            "highway": road_class(population[a], population[b]),
            "name": f"{names[a]} - {names[b]} (approximate link)",
        }
        ways.append((way_id, refs, tags))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_osm_xml(
        path,
        nodes,
        ways,
        generator=f"lozere-optimizer offline {APPROXIMATION_MARKER}: not real roads; "
        f"communes linked to their neighbours, detour factor {detour}",
    )
    counts = {"towns": len(town_ids), "links": len(pairs), "nodes": len(nodes), "ways": len(ways)}
    logger.info("wrote offline network %s: %s", path, counts)
    return counts
