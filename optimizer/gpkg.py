"""``assignment.gpkg``: a run as a GeoPackage for QGIS, each layer styled as ``map.html``.

Four layers, in EPSG:4326:

- ``telecentres`` (points): the rows of ``telecentres.csv`` (desks, agents,
  desk-days, utilisation...) at each telecentre's point;
- ``communes`` (polygons, the embedded commune boundaries): per commune of
  the département, ``agents, placed, share_placed, unreachable`` and
  ``minutes_saved_per_week``; the agents of smaller communes (and of homes
  outside the département) are counted in one ``other communes`` row without
  geometry, so the rows add up to the roster;
- ``head_office`` (point);
- ``allocation`` (points): in a planner's own run, the rows of
  ``allocation.csv``, each at the home's road access (the nearest point of
  the nearest road; homes given by commune at the commune's town hall; an
  agent off the road network without a point). In a shared run
  (``--pseudonymise``) nothing finer than the shared files: the placed agents
  counted per telecentre and commune, as ``telecentres.csv`` counts them
  (communes with fewer than :data:`optimizer.sharing.MIN_CELL` of a
  telecentre's agents grouped as ``other communes``, without a point), at the
  commune's town hall; the communes layer then gives no drive time, as the
  shared maps.

Each layer has a QGIS style (QML, and SLD for other tools) stored in the
GeoPackage's ``layer_styles`` table, the table QGIS reads, as its default:
the layer opens styled, in the colours of ``map.html`` (:mod:`optimizer.maps`).
This module owns the layers and the file; the styles are made in
:mod:`optimizer.gpkg_styles` (re-exported here).
"""

from __future__ import annotations

import datetime
import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

import optimizer.datasets as datasets
import optimizer.settings as settings
from optimizer.gpkg_styles import EDGE_COLOUR as EDGE_COLOUR  # re-exported: the styles live there
from optimizer.gpkg_styles import HEAD_OFFICE_COLOUR as HEAD_OFFICE_COLOUR
from optimizer.gpkg_styles import OUTLINE_COLOUR as OUTLINE_COLOUR
from optimizer.gpkg_styles import SHARE_CLASSES as SHARE_CLASSES
from optimizer.gpkg_styles import TELECENTRE_COLOUR as TELECENTRE_COLOUR
from optimizer.gpkg_styles import Rule as Rule
from optimizer.gpkg_styles import Style as Style
from optimizer.gpkg_styles import layer_styles as layer_styles
from optimizer.gpkg_styles import qml as qml
from optimizer.gpkg_styles import sld as sld
from optimizer.gpkg_styles import write_styles as write_styles
from optimizer.i18n import Lang, localise_table
from optimizer.map_data import home_communes
from optimizer.network import RoadNetwork
from optimizer.pipeline import RunResult
from optimizer.sharing import OTHER_COMMUNES, group_small_cells
from optimizer.tables import GPKG_FILE
from optimizer.travel import snap_points

logger = logging.getLogger(__name__)

LAYERS = ("telecentres", "communes", "head_office", "allocation")
"""The layers, in the order QGIS lists them."""
CRS = settings.INPUT_CRS

#: Where an agent's point in the allocation layer stands.
ROAD_ACCESS = "road access"
TOWN_HALL = "town hall"
NO_POINT = "none"


def gpkg_layers(
    result: RunResult,
    allocation: pd.DataFrame,
    telecentres: pd.DataFrame,
    *,
    min_cell: int = 1,
    shared: bool = False,
) -> dict[str, gpd.GeoDataFrame]:
    """Build the four layers of ``assignment.gpkg``.

    Parameters
    ----------
    result
        The run's result as its files show it (a shared run's: the displaced
        figures of :func:`optimizer.sharing.shared_result`).
    allocation
        The table written as ``allocation.csv`` (a plain run's: in roster order).
    telecentres
        The table written as ``telecentres.csv``.
    min_cell
        Communes with fewer agents are counted as ``other communes`` (shared runs: 3).
    shared
        A run fit to share: the allocation layer counts agents per telecentre
        and commune, the communes layer gives no drive time.

    Returns
    -------
    dict
        Layer name (:data:`LAYERS`) to its GeoDataFrame (EPSG:4326).
    """
    sites = gpd.GeoDataFrame(
        telecentres.reset_index(drop=True),
        geometry=gpd.points_from_xy(result.telecentres["lon"], result.telecentres["lat"]),
        crs=CRS,
    )
    ho = result.head_office
    office = gpd.GeoDataFrame(
        {"name": [ho.name], "lon": [ho.lon], "lat": [ho.lat]},
        geometry=gpd.points_from_xy([ho.lon], [ho.lat]),
        crs=CRS,
    )
    return {
        "telecentres": sites,
        "communes": commune_layer(result, min_cell=min_cell, shared=shared),
        "head_office": office,
        "allocation": (
            shared_allocation_layer(result, min_cell=min_cell)
            if shared
            else allocation_layer(result, allocation)
        ),
    }


def commune_layer(
    result: RunResult, *, min_cell: int = 1, shared: bool = False
) -> gpd.GeoDataFrame:
    """Agents per commune of the département, on the communes' boundaries.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer agents are counted in the ``other communes`` row.
    shared
        Leave ``minutes_saved_per_week`` empty (a shared run gives no drive
        time per commune).

    Returns
    -------
    geopandas.GeoDataFrame
        ``insee, commune, agents, placed, share_placed, unreachable,
        minutes_saved_per_week`` (round trip, all placed agents of the
        commune), one row per commune with ``min_cell`` agents or more, then
        one ``other communes`` row (no geometry) for the rest, when any.
    """
    communes = datasets.communes()
    problem, chosen = result.problem, result.assignment.telecentre
    placed = chosen >= 0
    saving = np.zeros(problem.n_agents)
    rows = np.flatnonzero(placed)
    saving[rows] = problem.saving_minutes()[rows, chosen[rows]] * problem.days[rows]
    frame = pd.DataFrame(
        {
            "commune": home_communes(result, communes),
            "placed": placed,
            "unreachable": ~result.travel.origins["routed"].to_numpy(bool),
            "minutes": saving,
        }
    )
    grouped = frame.groupby("commune", sort=False).agg(
        agents=("placed", "size"),
        placed=("placed", "sum"),
        unreachable=("unreachable", "sum"),
        minutes_saved_per_week=("minutes", "sum"),
    )
    small = (grouped["agents"] < min_cell) | (grouped.index == "")
    shown = communes.merge(grouped[~small], left_on="nom", right_index=True, how="inner")
    shown = shown.rename(columns={"code": "insee", "nom": "commune"})
    rest = grouped[small]
    if len(rest):
        other = pd.DataFrame(
            {
                "insee": [""],
                "commune": [OTHER_COMMUNES],
                "agents": [int(rest["agents"].sum())],
                "placed": [int(rest["placed"].sum())],
                "unreachable": [int(rest["unreachable"].sum())],
                "minutes_saved_per_week": [float(rest["minutes_saved_per_week"].sum())],
                "geometry": [None],
            }
        )
        shown = pd.concat([shown, other], ignore_index=True)
    columns = ["insee", "commune", "agents", "placed", "unreachable", "minutes_saved_per_week"]
    out = gpd.GeoDataFrame(
        shown[columns].reset_index(drop=True), geometry=list(shown["geometry"]), crs=CRS
    )
    for column in ("agents", "placed", "unreachable"):
        out[column] = out[column].astype(np.int64)
    out.insert(4, "share_placed", (out["placed"] / out["agents"]).round(3))
    out["minutes_saved_per_week"] = (
        np.nan if shared else out["minutes_saved_per_week"].astype(float).round(1)
    )
    return out


def road_access(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Each agent's road access: the nearest point of the nearest road to its home.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)``, WGS84 degrees.
    """
    if not isinstance(result.network, RoadNetwork):  # a network folder: never loaded whole
        from optimizer.national.travel import road_access as folder_access

        at = folder_access(
            result.network,
            result.agents["lon"].to_numpy(float),
            result.agents["lat"].to_numpy(float),
        )
        return at[:, 0], at[:, 1]
    routing = result.network.routing
    snap = snap_points(
        routing,
        result.agents["lon"].to_numpy(float),
        result.agents["lat"].to_numpy(float),
        max_snap_m=result.options.max_snap_m,
    )
    points = shapely.line_interpolate_point(
        routing.geometry[snap.edge], snap.fraction, normalized=True
    )
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, CRS, always_xy=True)
    lon, lat = to_wgs.transform(shapely.get_x(points), shapely.get_y(points))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def allocation_layer(result: RunResult, allocation: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the rows of a planner's own ``allocation.csv``, each at its home's road access.

    Parameters
    ----------
    result
        A run's result (not a shared one).
    allocation
        Its ``allocation.csv`` table, one row per agent in roster order.

    Returns
    -------
    geopandas.GeoDataFrame
        The table with ``point``: ``road access`` (homes given by coordinates
        or address), ``town hall`` (homes given by commune: the point they
        were placed at) or ``none`` (off the road network: no point).
    """
    if list(allocation["agent_id"].astype(str)) != list(result.agents["agent_id"].astype(str)):
        msg = "the allocation layer needs allocation.csv in roster order; this is a bug."
        raise RuntimeError(msg)
    lon, lat = road_access(result)
    by_commune = (
        result.agents["location"].eq("commune").to_numpy(bool)
        if "location" in result.agents
        else np.zeros(len(result.agents), dtype=bool)
    )
    routed = result.travel.origins["routed"].to_numpy(bool)
    lon = np.where(by_commune, result.agents["lon"].to_numpy(float), lon)
    lat = np.where(by_commune, result.agents["lat"].to_numpy(float), lat)
    kind = np.where(by_commune, TOWN_HALL, ROAD_ACCESS)
    kind = np.where(routed, kind, NO_POINT)
    geometry = [
        shapely.Point(x, y) if k != NO_POINT else None
        for x, y, k in zip(lon.tolist(), lat.tolist(), kind.tolist(), strict=True)
    ]
    table = allocation.reset_index(drop=True).assign(point=kind)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=CRS)


def shared_allocation_layer(result: RunResult, *, min_cell: int) -> gpd.GeoDataFrame:
    """Count the placed agents per telecentre and commune, as ``telecentres.csv`` counts them.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        Communes with fewer of a telecentre's agents are grouped as ``other
        communes`` (:func:`optimizer.sharing.group_small_cells`), without a point.

    Returns
    -------
    geopandas.GeoDataFrame
        ``telecentre_id, commune, agents, point`` (``town hall`` or ``none``),
        at the town hall of the commune (of the département) so named.
    """
    labels = (
        result.agents["commune"].replace("", "unknown commune")
        if "commune" in result.agents
        else pd.Series(["unknown commune"] * len(result.agents))
    )
    halls = datasets.communes().drop_duplicates("nom").set_index("nom")
    ids = result.problem.telecentre_ids
    rows: list[dict[str, object]] = []
    for j, site in enumerate(ids):
        members = result.assignment.telecentre == j
        if not members.any():
            continue
        counts = group_small_cells(labels[members].value_counts(), min_cell=min_cell)
        for commune, count in counts.items():
            known = commune != OTHER_COMMUNES and commune in halls.index
            rows.append(
                {
                    "telecentre_id": site,
                    "commune": str(commune),
                    "agents": int(count),
                    "point": TOWN_HALL if known else NO_POINT,
                    "geometry": (
                        shapely.Point(
                            float(halls.loc[commune, "mairie_lon"]),
                            float(halls.loc[commune, "mairie_lat"]),
                        )
                        if known
                        else None
                    ),
                }
            )
    table = pd.DataFrame(rows, columns=["telecentre_id", "commune", "agents", "point", "geometry"])
    table["agents"] = table["agents"].astype(np.int64)
    return gpd.GeoDataFrame(table, geometry="geometry", crs=CRS)


def gpkg_timestamp() -> str:
    """Return the fixed time of the GeoPackage's timestamps, ISO 8601 in UTC.

    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) when set, else
    the epoch: two runs of one plan write the same bytes, as they write the
    same CSV files.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    seconds = int(epoch) if epoch.isdigit() else 0
    when = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _fix_timestamps(path: Path) -> None:
    """Set every timestamp GDAL and the styles wrote to :func:`gpkg_timestamp`, then compact."""
    stamp = gpkg_timestamp()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_contents SET last_change = ?", (stamp,))
        columns = {row[1] for row in db.execute("PRAGMA table_info(layer_styles)")}
        if "update_time" in columns:
            db.execute("UPDATE layer_styles SET update_time = ?", (stamp,))
    db.close()
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("VACUUM")
    db.close()


_GEOMETRY_TYPES = {
    "telecentres": "Point",
    "communes": "MultiPolygon",
    "head_office": "Point",
    "allocation": "Point",
}


def render_gpkg(
    result: RunResult,
    allocation: pd.DataFrame,
    telecentres: pd.DataFrame,
    *,
    min_cell: int = 1,
    shared: bool = False,
    lang: Lang = "en",
) -> bytes:
    """Write ``assignment.gpkg`` (:func:`gpkg_layers`, styled) and return its bytes.

    The file is written in a private temporary folder, then read back, so
    that it is published with the run's other files
    (:class:`optimizer.publish.OutputFolder`).

    Parameters
    ----------
    result, allocation, telecentres, min_cell, shared
        As :func:`gpkg_layers` (the tables in English, as the library computes them).
    lang
        The language of the fields, values and legends (the layers' names stay).

    Returns
    -------
    bytes
        The GeoPackage.
    """
    started = time.perf_counter()
    layers = {
        name: gpd.GeoDataFrame(
            localise_table(layer, lang), geometry=layer.geometry.name, crs=layer.crs
        )
        for name, layer in gpkg_layers(
            result, allocation, telecentres, min_cell=min_cell, shared=shared
        ).items()
    }
    styles = layer_styles(shared=shared, lang=lang)
    with tempfile.TemporaryDirectory(prefix="assign-gpkg-") as folder:
        path = Path(folder) / GPKG_FILE
        for name in LAYERS:
            layers[name].to_file(
                path,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                mode="a" if path.exists() else "w",
                geometry_type=_GEOMETRY_TYPES[name],
                promote_to_multi=_GEOMETRY_TYPES[name].startswith("Multi"),
            )
        write_styles(path, [styles[name] for name in LAYERS])
        _fix_timestamps(path)
        data = path.read_bytes()
    logger.info(
        "assignment.gpkg: %d layers, %d bytes, in %.2f s",
        len(LAYERS),
        len(data),
        time.perf_counter() - started,
    )
    return data


__all__ = [
    "GPKG_FILE",
    "LAYERS",
    "allocation_layer",
    "commune_layer",
    "gpkg_layers",
    "render_gpkg",
    "road_access",
    "shared_allocation_layer",
]
