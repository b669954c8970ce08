"""Where each row of a roster or a sites file stands: its coordinates, or its commune.

A row gives ``lon, lat`` (any CRS, see ``--crs``) or its commune (``commune``,
``insee`` or ``code_postal``), and is then placed at the commune's town hall
(:mod:`optimizer.places`). :func:`check_in_area` refuses points far outside the
road network's area.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

import numpy as np
import pandas as pd

from optimizer._text import counted
from optimizer.errors import InputError
from optimizer.inputs.cells import (
    NUMBER,
    _cell_strings,
    _communes,
    _coordinates,
    _row_label,
    _RowErrors,
)
from optimizer.inputs.headers import PLACE_COLUMNS, _resolve_columns

logger = logging.getLogger(__name__)


def _place_columns(
    table: pd.DataFrame,
    cols: dict[str, str],
    aliases: dict[str, tuple[str, ...]],
    name: str,
    *,
    what: str,
    commune: str,
) -> list[str]:
    """Return the place columns the table has; without any, ``lon, lat`` are required.

    ``what`` and ``commune`` say, in the error, what the coordinates place
    (``each telecentre``) and which commune stands for them (``its commune``).
    """
    places = [c for c in PLACE_COLUMNS if c in cols]
    if not places:
        try:
            _resolve_columns(table, aliases, required=("lon", "lat"), name=name)
        except InputError as exc:
            msg = (
                f"{exc} Give {what} as lon, lat, or {commune} as commune (a name), insee "
                "(INSEE code) or code_postal (an adresse column: geocode it first with "
                "'assign geocode')."
            )
            raise InputError(msg) from None
    return places


def _points(
    table: pd.DataFrame,
    cols: dict[str, str],
    places: list[str],
    name: str,
    *,
    crs: str | None,
    problems: _RowErrors,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read each row's point, and say which rows are to be placed at their commune.

    Returns ``lon, lat, location`` (``coordinates``, or ``address`` where a
    ``location`` column from ``assign geocode`` says so), ``location_precision_m``
    (NaN for coordinates) and ``insee`` (empty), one row per row of ``table``;
    and the rows without coordinates whose commune is given (their ``lon, lat``
    are 0 until :func:`_place_at_communes` places them). Rows with neither are
    recorded in ``problems``. Adds ``lon``/``lat`` to ``cols`` when the table
    has no such column (every row is then by commune).
    """
    by_commune, stranded = _without_coordinates(table, cols, places, problems)
    coords = table
    if (by_commune | stranded).any():  # rows without coordinates: read the others'
        coords = table.copy()
        for key in ("lon", "lat"):
            if key not in cols:
                cols[key] = key
                coords[key] = "0"
            coords[cols[key]] = coords[cols[key]].astype(object)
            coords.loc[by_commune | stranded, cols[key]] = "0"
    out = pd.DataFrame(index=pd.RangeIndex(len(table)))
    out["lon"], out["lat"] = _coordinates(coords, cols, name, crs=crs, problems=problems)
    out["location"] = "coordinates"
    out["location_precision_m"] = np.nan
    out["insee"] = ""
    if "location" in cols:  # a file from 'assign geocode': rows placed at their address
        given = np.array([v.lower() == "address" for v in _cell_strings(table, cols["location"])])
        given &= ~by_commune
        out.loc[given, "location"] = "address"
        if "location_precision_m" in cols:
            cells = _cell_strings(table, cols["location_precision_m"])
            for i in np.flatnonzero(given).tolist():
                value = float(cells[i]) if NUMBER.fullmatch(cells[i]) else np.nan
                out.loc[i, "location_precision_m"] = value
    return out, by_commune


def _homonyms_warning(
    name: str, resolved: list[str], area: Collection[str] | None, other: str
) -> str:
    """Return the warning about commune names read as the area's (``other``: who may differ)."""
    codes = sorted(area or ())
    where = f"département{'s' if len(codes) > 1 else ''} {', '.join(codes)}"
    return (
        f"{name}: {counted(len(resolved), 'commune name')} that other départements share "
        f"too, read as the commune in {where}: {', '.join(resolved)}. If {other}, add a "
        "departement or code_postal column."
    )


def _located_sites(
    table: pd.DataFrame,
    cols: dict[str, str],
    out: pd.DataFrame,
    name: str,
    *,
    crs: str | None,
    area: Collection[str] | None,
    what: str,
) -> list[str]:
    """Add ``lon, lat, commune, insee, location, location_precision_m`` to sites (in place).

    Telecentres and workplaces are placed as agents' homes are: by ``lon,
    lat``, or at the town hall of the commune a ``commune``, ``insee`` or
    ``code_postal`` column names (``what``: ``a telecentre``, for the warning
    about homonyms). Returns the warnings logged (a commune name read as the
    one in ``area``).
    """
    places = [c for c in PLACE_COLUMNS if c in cols]
    problems = _RowErrors(name)
    out["commune"] = _communes(table, cols["commune"], name) if "commune" in cols else ""
    located, by_commune = _points(table, cols, places, name, crs=crs, problems=problems)
    for column in located:
        out[column] = located[column].to_numpy()
    resolved = []
    if by_commune.any():
        resolved = _place_at_communes(out, table, cols, places, by_commune, problems, area=area)
    problems.raise_all()
    warned = [_homonyms_warning(name, resolved, area, f"{what} stands in another")] * bool(resolved)
    for text in warned:
        logger.warning("%s", text)
    return warned


def _without_coordinates(
    table: pd.DataFrame, cols: dict[str, str], places: list[str], problems: _RowErrors
) -> tuple[np.ndarray, np.ndarray]:
    """Rows to place at their commune (no lon/lat, a place column filled), and rows with neither.

    The rows with neither are recorded in ``problems``.
    """
    n = len(table)
    lon = _cell_strings(table, cols["lon"]) if "lon" in cols else [""] * n
    lat = _cell_strings(table, cols["lat"]) if "lat" in cols else [""] * n
    empty = np.array([not x and not y for x, y in zip(lon, lat, strict=True)], dtype=bool)
    if not places:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    filled = np.zeros(n, dtype=bool)
    for key in places:
        filled |= np.array([bool(v) for v in _cell_strings(table, cols[key])], dtype=bool)
    given = ", ".join(cols[k] for k in places)
    for i in np.flatnonzero(empty & ~filled).tolist():
        problems.add(
            i,
            f"{_row_label(i)}: no coordinates and no commune ({given} empty). Give the home's "
            "lon and lat, or its commune.",
        )
    return empty & filled, empty & ~filled


def _place_at_communes(
    out: pd.DataFrame,
    table: pd.DataFrame,
    cols: dict[str, str],
    places: list[str],
    rows: np.ndarray,
    problems: _RowErrors,
    *,
    area: Collection[str] | None,
) -> list[str]:
    """Put the ``rows`` without coordinates at their commune's town hall (in place).

    Rows whose commune cannot be found are recorded in ``problems``.

    Returns
    -------
    list of str
        The names ``area`` told apart from homonyms, as ``NAME (Commune, insee)``.
    """
    from optimizer.places import PlaceError, locate_communes

    picked = table[rows].reset_index(drop=True)
    index = np.flatnonzero(rows)

    def column(key: str) -> list[str]:
        return _cell_strings(picked, cols[key]) if key in cols else [""] * len(picked)

    try:
        found = locate_communes(
            column("commune"),
            insee=column("insee"),
            postcodes=column("code_postal"),
            departements=column("departement"),
            area_departements=area,
        )
    except PlaceError as exc:
        for at, error in exc.problems or [(exc.row or 0, exc)]:
            key = next(
                (k for k in ("insee", "commune", "code_postal") if k in places and column(k)[at]),
                places[0],
            )
            problems.add(
                int(index[at]), f"{_row_label(int(index[at]))}, column '{cols[key]}': {error}"
            )
        return []
    out.loc[rows, "lon"] = found["lon"].to_numpy()
    out.loc[rows, "lat"] = found["lat"].to_numpy()
    out.loc[rows, "commune"] = found["commune"].to_numpy()
    out.loc[rows, "insee"] = found["insee"].to_numpy()
    out.loc[rows, "location"] = "commune"
    out.loc[rows, "location_precision_m"] = found["extent_m"].to_numpy()
    logger.info("%s: placed %d rows at their commune's town hall", problems.name, int(rows.sum()))
    names = column("commune")
    resolved: dict[str, None] = {}
    for at in np.flatnonzero(found["by_area"].to_numpy()).tolist():
        label = f"{names[at]} ({found['commune'].iloc[at]}, {found['insee'].iloc[at]})"
        resolved.setdefault(label, None)
    return list(resolved)


def check_in_area(
    frame: pd.DataFrame,
    bounds: tuple[float, float, float, float],
    *,
    name: str,
    id_column: str,
    margin_deg: float = 0.5,
    one_point: bool = False,
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
    one_point
        ``frame`` is one point given by an option (``--head-office``): the message
        names no row.
    """
    file = str(frame.attrs.get("name") or "")
    # the file read wins over a generic label, but not over a label that names that file
    # (``embedded telecentres <path>``)
    name = name if file and file in name else (file or name)
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
    where = "" if one_point else f"{_row_label(i)} ({id_column} '{frame[id_column].iloc[i]}'): "
    msg = (
        f"{name}: {where}point "
        f"({lon[i]:.5f}, {lat[i]:.5f}) lies outside the road network's area "
        f"(lon {west:.2f}..{east:.2f}, lat {south:.2f}..{north:.2f}).{hint}"
    )
    raise InputError(msg)
