"""A national network folder: its départements, their extracts, and its roads' access points.

A network folder (département boundaries and their OpenStreetMap files, see
:mod:`.files` and :mod:`.sources`) stands where one network file stands in a
plain run, but is never one routable graph: :func:`open_network_folder`
opens it (splitting its big file once, if it has one) as a
:class:`NetworkFolder`, which :func:`.travel.folder_travel` routes per
département; :func:`road_access` gives the points' road access for the maps.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import Transformer

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.national.extracts import NetworkSource
from optimizer.national.groups import locate, one_row_per_code
from optimizer.national.options import (
    DEFAULT_BUFFER_KM,
    DEFAULT_WIDEN_ROUNDS,
    NationalOptions,
    Widen,
)
from optimizer.network import Progress
from optimizer.speed_model import DEFAULT_SPEED_MODEL, SpeedModel, speed_model


@dataclass(frozen=True)
class NetworkFolder:
    """A national network folder, ready for the travel stage.

    It stands where a :class:`optimizer.network.RoadNetwork` stands in
    :func:`optimizer.pipeline.run` and its reports (it has the attributes the
    reports read), but is never loaded whole: each département's extract is
    loaded by its task.

    Attributes
    ----------
    path
        The folder.
    areas
        Département polygons (WGS84) with a ``code`` column.
    sources
        Each département's extract (``code -> source``, :mod:`.extracts`).
    widen
        Gives extracts of wider regions (:data:`.options.Widen`), or None.
    buffer_km
        Border around each département's network.
    speed_profile
        The road speeds of every extract.
    speed_model
        The speed model of every extract.
    widen_rounds
        Rounds of wider extracts for the pairs the first did not certify
        (:func:`open_network_folder`: enough for the last round's regions to
        span the whole folder, :func:`rounds_to_cover`).
    timings
        Seconds spent preparing (splitting the big file, if any).
    """

    path: Path
    areas: gpd.GeoDataFrame
    sources: Mapping[str, NetworkSource]
    widen: Widen | None = None
    buffer_km: float = DEFAULT_BUFFER_KM
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE
    speed_model: SpeedModel = field(default_factory=lambda: speed_model(DEFAULT_SPEED_MODEL))
    widen_rounds: int = DEFAULT_WIDEN_ROUNDS
    timings: dict[str, float] = field(default_factory=dict)
    approximate: bool = False
    cache: str = ""
    dropped_nodes: int = 0
    n_nodes: int | None = None
    n_edges: int | None = None

    @property
    def source(self) -> str:
        """What the summary says the network is."""
        return f"network folder {self.path} ({len(self.areas)} départements)"

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``west, south, east, north`` of the départements and their border buffers, degrees."""
        metric = self.areas.to_crs(settings.WORKING_CRS).buffer(self.buffer_km * 1000.0)
        west, south, east, north = (
            float(v) for v in metric.to_crs(settings.INPUT_CRS).total_bounds
        )
        return west, south, east, north


def open_network_folder(
    path: str | Path,
    *,
    buffer_km: float = DEFAULT_BUFFER_KM,
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE,
    speed_model_name: str = DEFAULT_SPEED_MODEL,
    progress: Progress | None = None,
) -> NetworkFolder:
    """Open a national network folder (splitting its big file once, if it has one).

    Parameters
    ----------
    path
        The folder: ``departements.gpkg`` (or ``.geojson``) and one OSM file
        per département or one large file (see :mod:`.files`).
    buffer_km
        Border around each département's network.
    speed_profile
        A profile name of :data:`optimizer.settings.SPEED_PROFILES`.
    speed_model_name
        A speed model name (:mod:`optimizer.speed_model`).
    progress
        Called with a short message before long steps.

    Returns
    -------
    NetworkFolder
        The folder, for :func:`optimizer.pipeline.run`.

    Raises
    ------
    InputError
        No boundaries, no OSM files, or both kinds of OSM files.
    """
    from optimizer.national.sources import national_sources, read_departements, wider_sources

    started = time.perf_counter()
    folder = Path(path)
    if speed_profile not in settings.SPEED_PROFILES:
        known = ", ".join(sorted(settings.SPEED_PROFILES))
        msg = (
            f"--speed-profile: '{speed_profile}' is not a profile ({known}); a network folder "
            "is timed by a named profile."
        )
        raise InputError(msg)
    areas = read_departements(folder)
    sources = national_sources(
        folder,
        areas,
        buffer_km=buffer_km,
        speed_profile=speed_profile,
        speed_model=speed_model_name,
        progress=progress,
    )
    widen = wider_sources(
        folder, areas, speed_profile=speed_profile, speed_model=speed_model_name, progress=progress
    )
    return NetworkFolder(
        path=folder,
        areas=areas,
        sources=sources,
        widen=widen,
        buffer_km=buffer_km,
        speed_profile=speed_profile,
        speed_model=speed_model(speed_model_name),
        widen_rounds=rounds_to_cover(areas, buffer_km),
        timings={"network_s": time.perf_counter() - started},
    )


def rounds_to_cover(areas: gpd.GeoDataFrame, buffer_km: float) -> int:
    """Widening rounds until a region's margin spans every département of a folder.

    Round ``r`` routes the pairs not yet certified again in their region and
    :meth:`NationalOptions.margin_km` ``(r)`` around it (doubled each round).
    Once that margin is as wide as the départements' extent, a region holds
    every département: what it routes is the merged network's, so every pair
    that may be eligible ends certified or proven out of reach. The rounds stop
    sooner when no pair is left to route; the pairs left are few by then (the
    first rounds certify most), so the wide regions are routed for them only.

    Parameters
    ----------
    areas
        The folder's département polygons.
    buffer_km
        Their border buffer (the first round's margin is at least that).

    Returns
    -------
    int
        At least :data:`DEFAULT_WIDEN_ROUNDS`.
    """
    west, south, east, north = (float(v) for v in areas.to_crs(settings.WORKING_CRS).total_bounds)
    extent_km = max(east - west, north - south) / 1000.0
    margins = NationalOptions(buffer_km=buffer_km)
    rounds = DEFAULT_WIDEN_ROUNDS
    while margins.margin_km(rounds) < extent_km:
        rounds += 1
    return rounds


def road_access(network: NetworkFolder, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Each point's nearest point of the nearest road, in its own département's extract.

    Parameters
    ----------
    network
        The folder.
    lon, lat
        Points, WGS84 degrees.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` longitude and latitude of each point's road access (the
        point itself where it lies in no département).
    """
    import shapely

    from optimizer.travel import snap_points

    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.column_stack([lon, lat])
    code = locate(lon, lat, one_row_per_code(network.areas))
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
    for here in sorted(set(code.tolist()) - {""}):
        if here not in network.sources:
            continue
        rows = np.flatnonzero(code == here)
        routing = network.sources[here].load().routing
        snap = snap_points(routing, lon[rows], lat[rows])
        points = shapely.line_interpolate_point(
            routing.geometry[snap.edge], snap.fraction, normalized=True
        )
        x, y = to_wgs.transform(shapely.get_x(points), shapely.get_y(points))
        out[rows] = np.column_stack([x, y])
    return out
