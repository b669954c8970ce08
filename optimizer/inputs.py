"""Reading and validating agents, telecentres and the head office.

Inputs come from CSV files exported by spreadsheets and HR software (``,`` or
``;`` separated, decimal comma, UTF-8 with or without BOM, or cp1252), from
GeoPackage / GeoJSON point layers, or from (Geo)DataFrames built in a notebook.
Whatever the source, the readers return a plain :class:`pandas.DataFrame` with
the canonical columns below and WGS84 longitudes and latitudes, or raise
:class:`~optimizer.errors.InputError` with a message that names the file, the
row, the column and the value at fault.

Agents: ``agent_id`` (str), ``lon``, ``lat`` (float, EPSG:4326),
``telework_days`` (int, 1-5; 1 if the column is absent), ``commune`` (str, may
be empty).

Telecentres: ``telecentre_id`` (str), ``name`` (str), ``lon``, ``lat``,
``capacity`` (int >= 0, desks each weekday).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from optimizer import settings
from optimizer.errors import InputError

logger = logging.getLogger(__name__)

Source = str | Path | pd.DataFrame

AGENT_ALIASES: dict[str, tuple[str, ...]] = {
    "agent_id": ("agent_id", "id", "agent", "matricule", "identifiant"),
    "lon": ("lon", "lng", "longitude", "long", "x"),
    "lat": ("lat", "latitude", "y"),
    "telework_days": ("telework_days", "days", "jours", "jours_teletravail", "nb_jours"),
    "commune": ("commune", "town", "ville", "nom_commune"),
    "must_assign": ("must_assign", "must", "obligatoire", "force"),
    "preferred_telecentre": ("preferred_telecentre", "preferred", "prefere", "préféré"),
    "forbidden_telecentres": ("forbidden_telecentres", "forbidden", "exclus", "excluded"),
}
TELECENTRE_ALIASES: dict[str, tuple[str, ...]] = {
    "telecentre_id": ("telecentre_id", "site_id", "id", "telecentre", "site", "identifiant"),
    "name": ("name", "nom", "label"),
    "lon": AGENT_ALIASES["lon"],
    "lat": AGENT_ALIASES["lat"],
    "capacity": ("capacity", "capacite", "capacité", "desks", "places", "postes"),
    "opening_cost": ("opening_cost", "cost", "cout", "coût", "rent"),
    "mon": ("mon", "monday", "lundi", "desks_mon"),
    "tue": ("tue", "tuesday", "mardi", "desks_tue"),
    "wed": ("wed", "wednesday", "mercredi", "desks_wed"),
    "thu": ("thu", "thursday", "jeudi", "desks_thu"),
    "fri": ("fri", "friday", "vendredi", "desks_fri"),
}
AGENT_ALIASES["preferred_days"] = ("preferred_days", "jours_preferes", "jours_préférés")
AGENT_ALIASES["impossible_days"] = ("impossible_days", "jours_impossibles")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
_DAY_NAMES = {
    **{d: d for d in WEEKDAYS},
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "lundi": "mon",
    "mardi": "tue",
    "mercredi": "wed",
    "jeudi": "thu",
    "vendredi": "fri",
    "lun": "mon",
    "mar": "tue",
    "mer": "wed",
    "jeu": "thu",
    "ven": "fri",
}
_GEO_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}


@dataclass(frozen=True)
class HeadOffice:
    """The place every agent drives to when not teleworking.

    Parameters
    ----------
    lon, lat
        WGS84 coordinates.
    name
        A label for reports.
    """

    lon: float
    lat: float
    name: str = "head_office"


def parse_lonlat(text: str, *, what: str = "--head-office") -> tuple[float, float]:
    """Parse ``"LON,LAT"`` (WGS84 degrees) into a pair of floats.

    Parameters
    ----------
    text
        Two numbers separated by a comma (or a semicolon), longitude first.
    what
        Name of the option or field, for the error message.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.
    """
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    if len(parts) != 2:
        msg = (
            f"{what}: '{text}' is not LON,LAT (two numbers, longitude first, e.g. 3.5012,44.5178)."
        )
        raise InputError(msg)
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        msg = (
            f"{what}: '{text}' is not LON,LAT (two numbers, longitude first, e.g. 3.5012,44.5178)."
        )
        raise InputError(msg) from None
    _check_lonlat(lon, lat, where=what)
    return lon, lat


def read_agents(source: Source, *, crs: str | None = None) -> pd.DataFrame:
    """Read and validate the volunteer agents.

    Parameters
    ----------
    source
        A CSV, GeoPackage or GeoJSON path, or a (Geo)DataFrame.
    crs
        CRS of the coordinates in a CSV or DataFrame when they are not WGS84
        lon/lat (e.g. ``"EPSG:2154"`` for Lambert-93). Point layers carry
        their own CRS.

    Returns
    -------
    pandas.DataFrame
        Columns ``agent_id, lon, lat, telework_days, commune, must_assign,
        preferred_telecentre, forbidden_telecentres`` (ids joined by ``|``),
        in input order. Optional columns of the file: ``telework_days``
        (default 1), ``commune``, ``must_assign`` (yes/no, true/false, 1/0,
        oui/non), ``preferred_telecentre`` (one id), ``forbidden_telecentres``
        (ids separated by ``|`` or spaces).
    """
    table, name = _load_table(source, crs=crs)
    cols = _resolve_columns(table, AGENT_ALIASES, required=("agent_id", "lon", "lat"), name=name)
    out = pd.DataFrame({"agent_id": _ids(table, cols["agent_id"], name)})
    out["lon"], out["lat"] = _coordinates(table, cols, name, crs=crs)
    if "telework_days" in cols:
        out["telework_days"] = _integers(table, cols["telework_days"], name, low=1, high=5)
    else:
        out["telework_days"] = 1
    out["commune"] = table[cols["commune"]].astype(str).str.strip() if "commune" in cols else ""
    out["must_assign"] = (
        _flags(table, cols["must_assign"], name) if "must_assign" in cols else False
    )
    out["preferred_telecentre"] = (
        _cell_strings(table, cols["preferred_telecentre"]) if "preferred_telecentre" in cols else ""
    )
    out["forbidden_telecentres"] = (
        ["|".join(_split_ids(v)) for v in _cell_strings(table, cols["forbidden_telecentres"])]
        if "forbidden_telecentres" in cols
        else ""
    )
    for field in ("preferred_days", "impossible_days"):
        if field in cols:
            out[field] = [
                "|".join(_weekdays(v, name=name, row=i, column=cols[field]))
                for i, v in enumerate(_cell_strings(table, cols[field]))
            ]
        else:
            out[field] = ""
    out.attrs["columns"] = cols
    out.attrs["name"] = name
    if out.empty:
        msg = f"{name}: no agents in the file. Give at least one row under the header."
        raise InputError(msg)
    logger.info("read %d agents from %s", len(out), name)
    return out


def read_telecentres(source: Source, *, crs: str | None = None) -> pd.DataFrame:
    """Read and validate the telecentres.

    Parameters
    ----------
    source
        A CSV, GeoPackage or GeoJSON path, or a (Geo)DataFrame.
    crs
        CRS of the coordinates when they are not WGS84 lon/lat.

    Returns
    -------
    pandas.DataFrame
        Columns ``telecentre_id, name, lon, lat, capacity``, in input order;
        with desks per weekday (file columns ``mon`` .. ``fri``), also
        ``desks_mon`` .. ``desks_fri`` (``capacity`` then defaults to the
        busiest day); with ``opening_cost`` (minutes a week), that column.
    """
    table, name = _load_table(source, crs=crs)
    cols = _resolve_columns(
        table,
        TELECENTRE_ALIASES,
        required=("telecentre_id", "lon", "lat"),
        name=name,
    )
    out = pd.DataFrame({"telecentre_id": _ids(table, cols["telecentre_id"], name)})
    reserved = out["telecentre_id"].str.lower() == "head_office"
    if reserved.any():
        row = _row_label(int(np.flatnonzero(reserved.to_numpy())[0]))
        msg = (
            f"{name}: {row}: 'head_office' is reserved for the head office; rename the telecentre."
        )
        raise InputError(msg)
    out["name"] = (
        table[cols["name"]].astype(str).str.strip() if "name" in cols else out["telecentre_id"]
    )
    out["lon"], out["lat"] = _coordinates(table, cols, name, crs=crs)
    days = [d for d in WEEKDAYS if d in cols]
    if days and len(days) < len(WEEKDAYS):
        missing = ", ".join(d for d in WEEKDAYS if d not in cols)
        msg = f"{name}: desks per weekday need all five columns mon..fri; missing: {missing}."
        raise InputError(msg)
    for day in days:
        out[f"desks_{day}"] = _integers(table, cols[day], name, low=0, high=None)
    if "capacity" in cols:
        out["capacity"] = _integers(table, cols["capacity"], name, low=0, high=None)
    elif days:
        out["capacity"] = out[[f"desks_{d}" for d in WEEKDAYS]].max(axis=1)
    else:
        _resolve_columns(table, TELECENTRE_ALIASES, required=("capacity",), name=name)
    if "opening_cost" in cols:
        costs = _numbers(table, cols["opening_cost"], name)
        bad = np.flatnonzero(costs < 0)
        if bad.size:
            msg = (
                f"{name}: {_row_label(int(bad[0]))}, column '{cols['opening_cost']}': "
                f"{costs[bad[0]]:g} is negative. Give a cost of 0 or more (minutes a week)."
            )
            raise InputError(msg)
        out["opening_cost"] = costs
    if out.empty:
        msg = f"{name}: no telecentres in the file. Give at least one row under the header."
        raise InputError(msg)
    logger.info("read %d telecentres from %s", len(out), name)
    return out


# --------------------------------------------------------------------------- loading


def _load_table(source: Source, *, crs: str | None) -> tuple[pd.DataFrame, str]:
    """Return the raw table (strings, or numbers from a DataFrame) and a name for messages."""
    if isinstance(source, gpd.GeoDataFrame):
        return _points_to_columns(source, "the GeoDataFrame"), "the GeoDataFrame"
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), "the DataFrame"
    path = Path(source)
    name = str(path)
    if not path.exists():
        msg = f"{name}: file not found. Check the path."
        raise InputError(msg)
    if path.is_dir():
        msg = f"{name}: is a folder, not a file. Give the path of a CSV or GeoPackage file."
        raise InputError(msg)
    if path.suffix.lower() in _GEO_SUFFIXES:
        if crs is not None:
            msg = f"{name}: --crs applies to CSV files only; a point layer carries its own CRS."
            raise InputError(msg)
        return _points_to_columns(_read_layer(path, "point"), name), name
    return _read_csv(path), name


def _read_layer(path: Path, kind: str) -> gpd.GeoDataFrame:
    """Read a GeoPackage / GeoJSON layer; an unreadable file is an :class:`InputError`."""
    try:
        return gpd.read_file(path)
    except Exception as exc:
        msg = f"{path}: cannot be read as a {kind} layer ({exc}). Check that it is a valid file."
        raise InputError(msg) from None


def _points_to_columns(layer: gpd.GeoDataFrame, name: str) -> pd.DataFrame:
    if layer.crs is None:
        msg = f"{name}: the layer has no CRS. Set one (e.g. EPSG:4326) before reading it."
        raise InputError(msg)
    geom = layer.geometry
    bad = ~(geom.geom_type == "Point") | geom.is_empty
    if bad.any():
        row = _row_label(int(np.flatnonzero(bad.to_numpy())[0]))
        msg = f"{name}: {row}: geometry is not a point. Give one point per feature."
        raise InputError(msg)
    wgs = geom.to_crs(settings.INPUT_CRS)
    table = pd.DataFrame(layer.drop(columns=layer.geometry.name)).reset_index(drop=True)
    table = table.drop(columns=[c for c in table.columns if str(c).lower() in {"lon", "lat"}])
    table["lon"] = wgs.x.to_numpy()
    table["lat"] = wgs.y.to_numpy()
    return table


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    msg = f"{name}: cannot decode the file as UTF-8 or cp1252. Save it as UTF-8 CSV."
    raise InputError(msg)


def _read_csv(path: Path) -> pd.DataFrame:
    name = str(path)
    text = _decode(path.read_bytes(), name)
    if not text.strip():
        msg = f"{name}: the file is empty. Give a header line and one row per item."
        raise InputError(msg)
    first = text.lstrip().splitlines()[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        msg = f"{name}: not a readable CSV table ({exc}). Check the separators and quotes."
        raise InputError(msg) from None
    table.columns = [str(c).strip() for c in table.columns]
    # trailing blank rows (';;;;' as spreadsheets save them) are not items
    filled = table.apply(lambda column: column.str.strip() != "").any(axis=1).to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    table = table.iloc[:last]
    table.attrs["decimal_comma"] = delimiter != ","
    return table


# --------------------------------------------------------------------------- columns


def _resolve_columns(
    table: pd.DataFrame,
    aliases: dict[str, tuple[str, ...]],
    *,
    required: Sequence[str],
    name: str,
) -> dict[str, str]:
    by_lower: dict[str, str] = {}
    for column in table.columns:
        by_lower.setdefault(str(column).strip().lower(), column)
    found: dict[str, str] = {}
    for canonical, names in aliases.items():
        for alias in names:
            if alias in by_lower:
                found[canonical] = by_lower[alias]
                break
    missing = [c for c in required if c not in found]
    if missing:
        have = ", ".join(str(c) for c in table.columns) or "(none)"
        wanted = "; ".join(f"'{c}' (or {', '.join(aliases[c][1:])})" for c in missing)
        msg = f"{name}: missing column {wanted}. The file has: {have}."
        raise InputError(msg)
    return found


def _row_label(index: int) -> str:
    """Human row number: the header is line 1, so data row ``index`` is line ``index + 2``."""
    return f"row {index + 2}"


def _cell_strings(table: pd.DataFrame, column: str) -> list[str]:
    return ["" if _is_missing(v) else str(v).strip() for v in table[column].tolist()]


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _ids(table: pd.DataFrame, column: str, name: str) -> pd.Series:
    values = _cell_strings(table, column)
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if not value:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': the id is empty. "
                "Give every row an id."
            )
            raise InputError(msg)
        if value in seen:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': id '{value}' is already used on "
                f"{_row_label(seen[value])}. Ids must be unique."
            )
            raise InputError(msg)
        seen[value] = i
    return pd.Series(values, dtype=str)


_TRUE = {"1", "yes", "y", "true", "oui", "o", "x", "vrai"}
_FALSE = {"", "0", "no", "n", "false", "non", "faux"}


def _flags(table: pd.DataFrame, column: str, name: str) -> list[bool]:
    out = []
    for i, value in enumerate(_cell_strings(table, column)):
        low = value.lower()
        if low not in _TRUE | _FALSE:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' is not yes or no. "
                "Write yes/no (or 1/0, true/false, oui/non)."
            )
            raise InputError(msg)
        out.append(low in _TRUE)
    return out


def _weekdays(text: str, *, name: str, row: int, column: str) -> list[str]:
    out = []
    for part in _split_ids(text.replace(",", " ").replace(";", " ")):
        day = _DAY_NAMES.get(part.lower())
        if day is None:
            msg = (
                f"{name}: {_row_label(row)}, column '{column}': '{part}' is not a weekday. "
                "Write mon, tue, wed, thu, fri (or lundi..vendredi), separated by |."
            )
            raise InputError(msg)
        out.append(day)
    return out


def day_mask(values: pd.Series) -> np.ndarray:
    """``(n, 5)`` booleans from ``|``-joined weekday codes (as :func:`read_agents` gives them)."""
    mask = np.zeros((len(values), 5), dtype=bool)
    for i, text in enumerate(values.astype(str)):
        for day in text.split("|"):
            if day:
                mask[i, WEEKDAYS.index(day)] = True
    return mask


def _split_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[|\s]+", text.strip()) if part]


def check_telecentre_refs(agents: pd.DataFrame, telecentres: pd.DataFrame) -> None:
    """Raise if an agent names a telecentre id that is not in the telecentres table.

    Parameters
    ----------
    agents
        From :func:`read_agents`.
    telecentres
        From :func:`read_telecentres`.
    """
    known = set(telecentres["telecentre_id"])
    cols: dict[str, str] = agents.attrs.get("columns", {})
    name = agents.attrs.get("name", "agents")
    for field in ("preferred_telecentre", "forbidden_telecentres"):
        if field not in agents:
            continue
        for i, value in enumerate(agents[field].astype(str)):
            for ref in _split_ids(value.replace("|", " ")):
                if ref not in known:
                    shown = ", ".join(sorted(known))
                    msg = (
                        f"{name}: {_row_label(i)}, column '{cols.get(field, field)}': "
                        f"'{ref}' is not a telecentre id. Known ids: {shown}."
                    )
                    raise InputError(msg)


def _numbers(table: pd.DataFrame, column: str, name: str) -> np.ndarray:
    decimal_comma = bool(table.attrs.get("decimal_comma", False))
    out = np.empty(len(table), dtype=float)
    for i, raw in enumerate(table[column].tolist()):
        if isinstance(raw, (int, float, np.integer, np.floating)) and not _is_missing(raw):
            out[i] = float(raw)
            continue
        text = "" if _is_missing(raw) else str(raw).strip()
        if decimal_comma:
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            shown = "" if _is_missing(raw) else str(raw)
            what = "is empty" if not text else f"'{shown}' is not a number"
            msg = f"{name}: {_row_label(i)}, column '{column}': {what}. Give a number."
            raise InputError(msg) from None
        if not math.isfinite(value):
            msg = f"{name}: {_row_label(i)}, column '{column}': '{raw}' is not a finite number."
            raise InputError(msg)
        out[i] = value
    return out


def _integers(
    table: pd.DataFrame, column: str, name: str, *, low: int, high: int | None
) -> np.ndarray:
    values = _numbers(table, column, name)
    raw = table[column].tolist()
    for i, value in enumerate(values):
        span = f"from {low} to {high}" if high is not None else f"of {low} or more"
        if value != round(value) or value < low or (high is not None and value > high):
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{raw[i]}' is not a whole number "
                f"{span}."
            )
            raise InputError(msg)
    return values.astype(np.int64)


def _coordinates(
    table: pd.DataFrame, cols: dict[str, str], name: str, *, crs: str | None
) -> tuple[np.ndarray, np.ndarray]:
    xs = _numbers(table, cols["lon"], name)
    ys = _numbers(table, cols["lat"], name)
    if crs is not None:
        try:
            source_crs = CRS.from_user_input(crs)
        except CRSError:
            msg = f"--crs: '{crs}' is not a known CRS. Give e.g. EPSG:2154 (Lambert-93)."
            raise InputError(msg) from None
        if not source_crs.equals(CRS.from_user_input(settings.INPUT_CRS)):
            to_wgs = Transformer.from_crs(source_crs, settings.INPUT_CRS, always_xy=True)
            xs, ys = to_wgs.transform(xs, ys)
            xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        _check_lonlat(
            float(x), float(y), where=f"{name}: {_row_label(i)}", projected_hint=crs is None
        )
    return xs, ys


def _check_lonlat(lon: float, lat: float, *, where: str, projected_hint: bool = True) -> None:
    if abs(lon) > 180 or abs(lat) > 90:
        hint = (
            " They look projected: give --crs (e.g. EPSG:2154 for Lambert-93)."
            if projected_hint and (abs(lon) > 1000 or abs(lat) > 1000)
            else ""
        )
        msg = f"{where}: ({lon}, {lat}) is not a longitude/latitude pair in degrees.{hint}"
        raise InputError(msg)


def check_in_area(
    frame: pd.DataFrame,
    bounds: tuple[float, float, float, float],
    *,
    name: str,
    id_column: str,
    margin_deg: float = 0.5,
) -> None:
    """Raise if points lie far outside the network's area, naming swapped coordinates.

    Parameters
    ----------
    frame
        Canonical table with ``lon`` and ``lat``.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` of the road network.
    name
        File or table name for the message.
    id_column
        Column holding the ids, named in the message.
    margin_deg
        Tolerance around the bounds, in degrees.
    """
    west, south, east, north = bounds
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    inside = (
        (lon >= west - margin_deg)
        & (lon <= east + margin_deg)
        & (lat >= south - margin_deg)
        & (lat <= north + margin_deg)
    )
    if inside.all():
        return
    i = int(np.flatnonzero(~inside)[0])
    swapped_inside = (
        west - margin_deg <= lat[i] <= east + margin_deg
        and south - margin_deg <= lon[i] <= north + margin_deg
    )
    hint = (
        " Longitude and latitude look swapped: check which column is which."
        if swapped_inside
        else " Check the coordinates, or give a road network that covers them."
    )
    msg = (
        f"{name}: {_row_label(i)} ({id_column} '{frame[id_column].iloc[i]}'): point "
        f"({lon[i]:.5f}, {lat[i]:.5f}) lies outside the road network's area "
        f"(lon {west:.2f}..{east:.2f}, lat {south:.2f}..{north:.2f}).{hint}"
    )
    raise InputError(msg)


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
    classes = _ids(table, cols["highway"], name)
    speeds = _numbers(table, cols["kmh"], name)
    for i, kmh in enumerate(speeds):
        if not 0 < kmh <= 130:
            msg = (
                f"{name}: {_row_label(i)}, column '{cols['kmh']}': {kmh:g} km/h is not a speed "
                "between 0 and 130."
            )
            raise InputError(msg)
    return dict(zip(classes, (float(v) for v in speeds), strict=True))


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
