"""Reading the inputs about the roads: speed tables and factors, an area, reference trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.inputs.cells import _ids, _is_missing, _numbers, _row_label
from optimizer.inputs.headers import _resolve_columns
from optimizer.inputs.loading import _load_table, _read_layer

MIN_KMH, MAX_KMH = 5.0, 130.0
"""Speeds a planner's speed table may give, km/h."""


def read_speed_table(path: str | Path) -> dict[str, float]:
    """Read a planner's speed table: a CSV with columns ``highway, kmh``.

    Parameters
    ----------
    path
        The CSV file (same dialects as the other inputs).

    Returns
    -------
    dict
        km/h per OSM ``highway`` class, for
        :func:`optimizer.network.load_network`'s ``speed_profile``.
    """
    table, name = _load_table(Path(path), crs=None)
    cols = _resolve_columns(
        table,
        {
            "highway": ("highway", "road_class", "class"),
            "kmh": ("kmh", "speed", "km/h", "speed_kmh"),
        },
        required=("highway", "kmh"),
        name=name,
    )
    classes = _road_classes(table, cols["highway"], name)
    speeds = _numbers(table, cols["kmh"], name)
    for i, kmh in enumerate(speeds):
        if not MIN_KMH <= kmh <= MAX_KMH:
            msg = (
                f"{name}: {_row_label(i)}, column '{cols['kmh']}': {kmh:g} km/h is not a speed "
                f"from {MIN_KMH:g} to {MAX_KMH:g}."
            )
            raise InputError(msg)
    return dict(zip(classes, (float(v) for v in speeds), strict=True))


def _road_classes(table: pd.DataFrame, column: str, name: str) -> list[str]:
    """Return the ``highway`` classes of a speed table, lower case (an unknown one: an error)."""
    known = settings.SPEED_PROFILES["france"]
    values = _ids(table.assign(**{column: table[column].str.lower()}), column, name).tolist()
    for i, value in enumerate(values):
        if value not in known:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{table[column].iloc[i]}' is not a "
                f"road class. Give one of: {', '.join(known)}."
            )
            raise InputError(msg)
    return values


def read_area(path: str | Path) -> shapely.Polygon | shapely.MultiPolygon:
    """Read an area (the union of a GeoPackage / GeoJSON layer's polygons), in WGS84.

    Parameters
    ----------
    path
        A polygon layer.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        The area.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: file not found. Check the path."
        raise InputError(msg)
    layer = _read_layer(path, "polygon")
    if layer.crs is None:
        msg = f"{path}: the layer has no CRS. Set one (e.g. EPSG:4326)."
        raise InputError(msg)
    polygons = layer[layer.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        msg = f"{path}: no polygon in the layer. Give the area as polygons."
        raise InputError(msg)
    return polygons.to_crs(settings.INPUT_CRS).union_all()


def read_speed_factors(path: str | Path) -> tuple[dict[str, float], dict[str, float]]:
    """Read the calibrated part of a speed profile CSV (``factor``, ``junction_delay_s``).

    A calibrated profile (``assign calibrate``) gives, per road class, the
    fraction of the limit a car cruises at under the ``realistic`` speed
    model, and may give the delay at junctions (the same on every row). A
    table without these columns gives none.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    tuple of dict
        Factor per OSM ``highway`` class, and model parameters
        (``junction_delay_s``); empty where the columns are absent.
    """
    table, name = _load_table(Path(path), crs=None)
    cols = _resolve_columns(
        table,
        {
            "highway": ("highway", "road_class", "class"),
            "factor": ("factor", "facteur"),
            "junction_delay_s": ("junction_delay_s",),
        },
        required=("highway",),
        name=name,
    )
    params: dict[str, float] = {}
    if "junction_delay_s" in cols:
        delays = _numbers(table, cols["junction_delay_s"], name)
        if delays.size and not (np.all(delays == delays[0]) and 0 <= delays[0] <= 600):
            msg = (
                f"{name}: column '{cols['junction_delay_s']}': give one delay in seconds "
                "(0 to 600), the same on every row."
            )
            raise InputError(msg)
        if delays.size:
            params["junction_delay_s"] = float(delays[0])
    if "factor" not in cols:
        return {}, params
    classes = _road_classes(table, cols["highway"], name)
    factors = _numbers(table, cols["factor"], name)
    for i, value in enumerate(factors):
        if not 0 < value <= 1.5:
            msg = (
                f"{name}: {_row_label(i)}, column '{cols['factor']}': {value:g} is not a factor "
                "in (0, 1.5]: the fraction of the speed limit a car cruises at."
            )
            raise InputError(msg)
    return dict(zip(classes, (float(v) for v in factors), strict=True)), params


#: Fastest implied straight-line speed of a reference trip, km/h.
MAX_REFERENCE_KMH = 130.0


def read_reference_trips(path: str | Path) -> pd.DataFrame:
    """Read reference trips for calibration: ``from_lon, from_lat, to_lon, to_lat, minutes[, km]``.

    Each row is a trip whose real drive time is known (a mileage claim, a
    route planner's time). A row whose time is not positive, whose
    straight-line speed would exceed 130 km/h, or whose ``km`` is shorter
    than the straight line is an error naming the row. An optional ``label``
    column names trips in reports.

    Parameters
    ----------
    path
        CSV file (same dialects as the other inputs), coordinates in WGS84.

    Returns
    -------
    pandas.DataFrame
        ``label, from_lon, from_lat, to_lon, to_lat, minutes`` and ``km`` (NaN where not given).
    """
    table, name = _load_table(Path(path), crs=None)
    cols = _resolve_columns(
        table,
        {
            "from_lon": ("from_lon", "lon_from", "origin_lon"),
            "from_lat": ("from_lat", "lat_from", "origin_lat"),
            "to_lon": ("to_lon", "lon_to", "destination_lon"),
            "to_lat": ("to_lat", "lat_to", "destination_lat"),
            "minutes": ("minutes", "min", "duration_min"),
            "km": ("km", "distance_km"),
            "label": ("label", "trip", "name", "nom"),
        },
        required=("from_lon", "from_lat", "to_lon", "to_lat", "minutes"),
        name=name,
    )
    if table.empty:
        msg = f"{name}: no reference trip in the file. Give one row per trip."
        raise InputError(msg)
    out = _trips(table, cols, name)
    _check_trips(out, cols, name)
    return out


def _trips(table: pd.DataFrame, cols: dict[str, str], name: str) -> pd.DataFrame:
    """Read the trips' columns: a label, the two points, the minutes, the km (NaN if none)."""
    out = pd.DataFrame(
        {
            key: _numbers(table, cols[key], name)
            for key in ("from_lon", "from_lat", "to_lon", "to_lat", "minutes")
        }
    )
    out["km"] = np.nan
    if "km" in cols:
        given = np.array([not _is_missing(v) and str(v).strip() != "" for v in table[cols["km"]]])
        if given.any():
            out.loc[given, "km"] = _numbers(table[given], cols["km"], name)
    out.insert(
        0,
        "label",
        [str(v) for v in table[cols["label"]]]
        if "label" in cols
        else [_row_label(i) for i in range(len(table))],
    )
    return out


def _check_trips(out: pd.DataFrame, cols: dict[str, str], name: str) -> None:
    """Refuse a trip off the globe, not positive, faster than a car, or shorter than a line."""
    for key, limit in (("from_lon", 180), ("to_lon", 180), ("from_lat", 90), ("to_lat", 90)):
        bad = np.flatnonzero(np.abs(out[key].to_numpy(float)) > limit)
        if bad.size:
            i = int(bad[0])
            msg = (
                f"{name}: {_row_label(i)}, column '{cols[key]}': {out[key].iloc[i]:g} is not a "
                "WGS84 coordinate (degrees)."
            )
            raise InputError(msg)
    minutes = out["minutes"].to_numpy(float)
    for i in np.flatnonzero(~(minutes > 0)).tolist():
        msg = (
            f"{name}: {_row_label(i)}, column '{cols['minutes']}': {minutes[i]:g} minutes; "
            "a reference trip takes a positive time."
        )
        raise InputError(msg)
    straight = _haversine_km(out).to_numpy(float)
    kmh = straight / (minutes / 60.0)
    for i in np.flatnonzero(kmh > MAX_REFERENCE_KMH).tolist():
        msg = (
            f"{name}: {_row_label(i)}: {minutes[i]:g} minutes for {straight[i]:.1f} km as the "
            f"crow flies is {kmh[i]:.0f} km/h, faster than {MAX_REFERENCE_KMH:g} km/h. Check the "
            "minutes and the coordinates."
        )
        raise InputError(msg)
    km = out["km"].to_numpy(float)
    for i in np.flatnonzero(km < straight * 0.98).tolist():
        msg = (
            f"{name}: {_row_label(i)}, column '{cols['km']}': {km[i]:g} km is shorter than the "
            f"straight line ({straight[i]:.1f} km). Give the road distance."
        )
        raise InputError(msg)


def _haversine_km(trips: pd.DataFrame) -> pd.Series:
    lat1, lat2 = np.radians(trips["from_lat"]), np.radians(trips["to_lat"])
    dlon = np.radians(trips["to_lon"] - trips["from_lon"])
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return pd.Series(2 * 6371.009 * np.arcsin(np.sqrt(h)), index=trips.index)
