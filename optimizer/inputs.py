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
be empty), ``location`` (``coordinates`` or ``commune``: how the point was
found), ``location_precision_m`` (NaN for coordinates; for a commune, how far a
home in it may lie from its town hall), ``insee`` (the commune's code where
the point is a commune's) and ``priority`` (float, higher served first; 0 if
the column is absent or the cell empty). A row without coordinates is placed at
its commune (``commune``, ``insee`` or ``code_postal``, see
:mod:`optimizer.places`). Headers are matched on their words, as HR software
writes them (``Commune de résidence``, ``Nb jours TT``): see :func:`read_agents`.

Telecentres: ``telecentre_id`` (str), ``name`` (str), ``lon``, ``lat``,
``capacity`` (int >= 0, desks each weekday), with ``commune``, ``location``,
``location_precision_m`` and ``insee`` as for agents: a telecentre, like a
workplace, may be given by its commune instead of ``lon, lat`` (placed at the
town hall).
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import math
import re
import unicodedata
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

import optimizer.settings as settings
from optimizer._text import counted
from optimizer.errors import InputError

logger = logging.getLogger(__name__)

Source = str | Path | pd.DataFrame

AGENT_ALIASES: dict[str, tuple[str, ...]] = {
    "agent_id": ("agent_id", "id", "agent", "matricule", "identifiant"),
    "lon": ("lon", "lng", "longitude", "long", "x"),
    "lat": ("lat", "latitude", "y"),
    "telework_days": (
        "telework_days",
        "days",
        "jours",
        "jours_teletravail",
        "nb_jours",
        "jours_tt",
        "telework_days_per_week",
    ),
    "commune": (
        "commune",
        "town",
        "ville",
        "nom_commune",
        "commune_residence",
        "ville_residence",
        "lieu_residence",
        "city",
    ),
    "insee": ("insee", "code_insee", "code_commune", "codgeo", "insee_code", "cog"),
    "code_postal": ("code_postal", "postcode", "cp", "postal_code", "zip", "code postal"),
    "departement": ("departement", "département", "dep", "code_departement", "dept"),
    "workplace_id": (
        "workplace_id",
        "workplace",
        "lieu_de_travail",
        "site_de_travail",
        "affectation",
        "site_affectation",
        "lieu_affectation",
        "commune_de_travail",
        "ville_de_travail",
        "commune_affectation",
        "residence_administrative",
    ),
    "location": ("location",),
    "location_precision_m": ("location_precision_m",),
    "must_assign": ("must_assign", "must", "obligatoire", "force"),
    "preferred_telecentre": ("preferred_telecentre", "preferred", "prefere", "préféré"),
    "forbidden_telecentres": ("forbidden_telecentres", "forbidden", "exclus", "excluded"),
    "priority": ("priority", "priorite", "priorité", "rang_priorite", "prio"),
    # read by a national run (optimizer.national.files), where each row gives its workplace
    "workplace_lon": ("workplace_lon",),
    "workplace_lat": ("workplace_lat",),
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
for _key in ("commune", "insee", "code_postal", "departement", "location", "location_precision_m"):
    TELECENTRE_ALIASES[_key] = AGENT_ALIASES[_key]
AGENT_ALIASES["preferred_days"] = ("preferred_days", "jours_preferes", "jours_préférés")
AGENT_ALIASES["impossible_days"] = ("impossible_days", "jours_impossibles")

FILLER_WORDS = frozenset(
    {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les"}
    | {"n", "no", "nb", "nombre", "num", "numero", "of", "the", "number"}
    | {"par", "per", "by", "for", "pour", "in", "dans", "sur"}
)
"""Words a header may hold that say nothing of its column (``Nombre de jours``)."""
OPTIONAL_WORDS: dict[str, frozenset[str]] = {
    field: frozenset(words.split())
    for field, words in {
        "agent_id": "agent id identifiant matricule code",
        "lon": "wgs84 gps domicile home residence coord coordonnee degre",
        "lat": "wgs84 gps domicile home residence coord coordonnee degre",
        "telework_days": "teletravail tt telework teleworking semaine week hebdo hebdomadaire",
        "commune": "residence domicile habitation home nom libelle",
        "insee": "code commune residence domicile",
        "code_postal": "residence domicile commune",
        "departement": "code residence domicile",
        "workplace_id": "id identifiant code",
        "preferred_telecentre": "telecentre site",
        "forbidden_telecentres": "telecentre site",
        "preferred_days": "teletravail tt telework",
        "impossible_days": "teletravail tt telework",
        "priority": "rang niveau ordre level rank",
        "telecentre_id": "code",
        "name": "site telecentre",
    }.items()
}
"""Words a header may add to one of its field's names (``Commune de résidence``)."""
LOOKALIKE_WORDS = frozenset(
    {"jour", "day", "teletravail", "telework", "commune", "insee", "postal"}
    | {"lon", "lat", "longitude", "latitude", "priorite", "priority"}
)
"""Words of a roster header that name something the planner reads: not understood, it stops."""
_EXAMPLES = {
    "agent_id": "Matricule",
    "telework_days": "Jours de télétravail",
    "commune": "Commune de résidence",
    "insee": "Code INSEE",
    "code_postal": "Code postal",
    "departement": "Département",
    "workplace_id": "Lieu de travail",
    "preferred_days": "Jours préférés",
    "impossible_days": "Jours impossibles",
    "priority": "Priorité",
}
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
MAX_INPUT_BYTES = 200 * 1024 * 1024
"""Largest input file read (200 MB: about 3 million agent rows); larger is an error."""
MAX_DESKS = 100_000
"""Largest capacity (desks) of one telecentre, and desks on one weekday."""
MAX_OPENING_COST = 1_000_000.0
"""Largest ``opening_cost``, minutes a week."""
MIN_KMH, MAX_KMH = 5.0, 130.0
"""Speeds a planner's speed table may give, km/h."""
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
"""A plain decimal number (no ``_``, no ``nan``/``inf``, ASCII digits only)."""
_BINARY_STARTS = {
    b"PK\x03\x04": "a zip archive (an Excel .xlsx or .ods workbook?)",
    b"\x1f\x8b": "gzip-compressed",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
    b"SQLite format 3": "a GeoPackage or SQLite database (name it .gpkg)",
    b"%PDF": "a PDF document",
}


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
        Two numbers separated by a comma (or a semicolon, and then with a
        decimal point or a decimal comma), longitude first.
    what
        Name of the option or field, for the error message.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.
    """
    if ";" in text:  # "3,5012;44,5178" as a French spreadsheet writes it
        parts = [p.strip().replace(",", ".") for p in text.split(";")]
    else:
        parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        msg = (
            f"{what}: '{text}' is not LON,LAT (two numbers, longitude first, e.g. 3.5012,44.5178)."
        )
        raise InputError(msg)
    if not all(NUMBER.fullmatch(p) for p in parts):
        msg = (
            f"{what}: '{text}' is not LON,LAT (two numbers, longitude first, e.g. 3.5012,44.5178)."
        )
        raise InputError(msg)
    lon, lat = float(parts[0]), float(parts[1])
    _check_lonlat(lon, lat, where=what)
    return lon, lat


def read_agents(
    source: Source,
    *,
    crs: str | None = None,
    area_departements: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read and validate the volunteer agents.

    Headers are matched on their words, as HR software writes them: any case,
    accents, spaces or ``_``, filler words left out (``Commune de résidence``
    is ``commune``, ``Nombre de jours de télétravail`` and ``Nb jours TT`` are
    ``telework_days``, ``Code INSEE`` is ``insee``, ``CP`` is
    ``code_postal``). A column whose name says it matters to the plan (a word
    such as jours, day, télétravail, commune, insee, postal, lon, lat,
    priorité) but that is not understood is an error, as are two columns read
    as one field; other columns are not read, and are named in a warning and
    in ``attrs["columns_not_read"]``.

    Parameters
    ----------
    source
        A CSV, GeoPackage or GeoJSON path, or a (Geo)DataFrame.
    crs
        CRS of the coordinates in a CSV or DataFrame when they are not WGS84
        lon/lat (e.g. ``"EPSG:2154"`` for Lambert-93). Point layers carry
        their own CRS.
    area_departements
        Départements of the area being planned (e.g. ``{"48"}``, the head
        office's): a commune name several départements share (``Villefort``,
        11 and 48) is the one in these when exactly one is, with a warning;
        None: such a name needs a ``departement``, ``code_postal`` or
        ``insee`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``agent_id, commune, lon, lat, location, location_precision_m,
        insee, telework_days, must_assign, preferred_telecentre,
        forbidden_telecentres`` (ids joined by ``|``), ``workplace_id,
        preferred_days, impossible_days`` and ``priority``, in input order. A
        row without ``lon``/``lat`` is placed at the town hall of its commune,
        given by ``commune`` (a name), ``insee`` (``code_insee``,
        ``code_commune``) or ``code_postal``, any commune of France; a
        ``departement`` column tells homonyms apart (:mod:`optimizer.places`).
        Optional columns of the file: ``telework_days``
        (default 1), ``commune`` (a name: no digit, comma or semicolon, at most 60
        characters; an address is refused), ``must_assign`` (yes/no, true/false, 1/0,
        oui/non), ``preferred_telecentre`` (one id), ``forbidden_telecentres``
        (ids separated by ``|`` or spaces), ``priority`` (``priorité``: a
        number, higher is served first when desks are short; an empty cell or
        no column is 0; float64). ``attrs`` holds ``columns`` (field ->
        header read), ``columns_not_read`` (list of headers) and ``warnings``
        (what was logged as a warning, for reports).

    Raises
    ------
    InputError
        Naming the file, the row, the column and the value. Bad communes,
        coordinates, telework days and priorities are reported together,
        every bad row in one error (its ``details``, one line each).
    """
    table, name = _load_table(source, crs=crs)
    cols = _resolve_columns(table, AGENT_ALIASES, required=("agent_id",), name=name)
    places = _place_columns(
        table,
        cols,
        AGENT_ALIASES,
        name,
        what="each agent's home",
        commune="its commune of residence",
    )
    not_read = _unread_columns(table, cols, AGENT_ALIASES, name)
    if table.empty:  # before reading columns: an empty column has no type to work with
        msg = f"{name}: no agents in the file. Give at least one row under the header."
        raise InputError(msg)
    out = pd.DataFrame({"agent_id": _ids(table, cols["agent_id"], name)})
    out["commune"] = _communes(table, cols["commune"], name) if "commune" in cols else ""
    problems = _RowErrors(name)
    located, by_commune = _points(table, cols, places, name, crs=crs, problems=problems)
    for column in located:
        out[column] = located[column].to_numpy()
    out["telework_days"] = (
        _integers(table, cols["telework_days"], name, low=1, high=5, problems=problems)
        if "telework_days" in cols
        else 1
    )
    out["priority"] = (
        _priorities(table, cols["priority"], problems)
        if "priority" in cols
        else np.zeros(len(out), dtype=np.float64)
    )
    warned: list[str] = []
    if by_commune.any():
        resolved = _place_at_communes(
            out, table, cols, places, by_commune, problems, area=area_departements
        )
        if resolved:
            warned.append(
                _homonyms_warning(name, resolved, area_departements, "an agent lives in another")
            )
    problems.raise_all()
    out["must_assign"] = (
        _flags(table, cols["must_assign"], name) if "must_assign" in cols else False
    )
    out["preferred_telecentre"] = (
        _one_id_each(table, cols["preferred_telecentre"], name)
        if "preferred_telecentre" in cols
        else ""
    )
    out["forbidden_telecentres"] = (
        ["|".join(_split_ids(v)) for v in _cell_strings(table, cols["forbidden_telecentres"])]
        if "forbidden_telecentres" in cols
        else ""
    )
    out["workplace_id"] = (
        _one_id_each(table, cols["workplace_id"], name) if "workplace_id" in cols else ""
    )
    for field in ("preferred_days", "impossible_days"):
        if field in cols:
            out[field] = [
                "|".join(_weekdays(v, name=name, row=i, column=cols[field]))
                for i, v in enumerate(_cell_strings(table, cols[field]))
            ]
        else:
            out[field] = ""
    if not_read:
        warned.append(
            f"{name}: {counted(len(not_read), 'column')} not read: "
            f"{', '.join(repr(c) for c in not_read)}."
        )
    for text in warned:
        # also in out.attrs["warnings"], which a caller may show itself (the CLI does)
        logger.warning("%s", text, extra={"in_attrs": True})
    first = ["agent_id", "lon", "lat", "telework_days", "commune"]
    out = out[first + [c for c in out.columns if c not in first]]
    out.attrs["columns"] = {k: v for k, v in cols.items() if v in table.columns}
    out.attrs["columns_not_read"] = not_read
    out.attrs["warnings"] = warned
    out.attrs["name"] = name
    logger.info("read %d agents from %s", len(out), name)
    return out


PLACE_COLUMNS = ("commune", "insee", "code_postal")
"""Columns that place a row (agent, telecentre, workplace) at its commune without coordinates."""
PLACE_ALIASES: dict[str, tuple[str, ...]] = {
    key: AGENT_ALIASES[key]
    for key in (*PLACE_COLUMNS, "departement", "location", "location_precision_m")
}
"""The columns that say where a row is when it has no ``lon, lat`` (and how it was placed)."""


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


WORKPLACE_ALIASES: dict[str, tuple[str, ...]] = {
    "workplace_id": ("workplace_id", "id", "workplace", "site_id", "identifiant"),
    "name": ("name", "nom", "label"),
    "lon": AGENT_ALIASES["lon"],
    "lat": AGENT_ALIASES["lat"],
    **PLACE_ALIASES,
}


def read_workplaces(
    source: Source,
    *,
    crs: str | None = None,
    area_departements: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read the workplaces agents drive to when they do not telework.

    Parameters
    ----------
    source
        A CSV, GeoPackage or GeoJSON path, or a (Geo)DataFrame:
        ``workplace_id, name, lon, lat``, or instead of ``lon, lat`` the
        workplace's commune (``commune``, ``insee`` or ``code_postal``, as
        :func:`read_agents` reads them).
    crs
        CRS of the coordinates when they are not WGS84 lon/lat.
    area_departements
        Départements of the area being planned: a commune name several
        départements share is the one in these (:func:`read_agents`).

    Returns
    -------
    pandas.DataFrame
        ``workplace_id, name, lon, lat, commune, location,
        location_precision_m, insee``, in input order: a row without
        coordinates stands at its commune's town hall (``location`` is then
        ``commune``, ``location_precision_m`` the commune's extent). The id
        ``head_office`` is reserved for the head office, every agent's
        workplace by default.
    """
    table, name = _load_table(source, crs=crs)
    cols = _resolve_columns(table, WORKPLACE_ALIASES, required=("workplace_id",), name=name)
    _place_columns(
        table, cols, WORKPLACE_ALIASES, name, what="each workplace", commune="its commune"
    )
    out = pd.DataFrame({"workplace_id": _ids(table, cols["workplace_id"], name)})
    spaced = out["workplace_id"].str.contains(r"[\s|]", regex=True)
    reserved = out["workplace_id"].str.lower() == "head_office"
    for bad, what in (
        (spaced, "holds a space or '|'"),
        (reserved, "is reserved for the head office"),
    ):
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (
                f"{name}: {_row_label(i)}, column '{cols['workplace_id']}': id "
                f"'{out['workplace_id'].iloc[i]}' {what}. Rename the workplace."
            )
            raise InputError(msg)
    out["name"] = (
        table[cols["name"]].astype(str).str.strip() if "name" in cols else out["workplace_id"]
    )
    if out.empty:
        msg = f"{name}: no workplaces in the file. Give at least one row under the header."
        raise InputError(msg)
    warned = _located_sites(
        table, cols, out, name, crs=crs, area=area_departements, what="a workplace"
    )
    first = ["workplace_id", "name", "lon", "lat"]
    out = out[first + [c for c in out.columns if c not in first]]
    out.attrs["warnings"] = warned
    out.attrs["columns"] = {k: v for k, v in cols.items() if v in table.columns}
    out.attrs["name"] = name
    logger.info("read %d workplaces from %s", len(out), name)
    return out


def check_workplace_refs(
    agents: pd.DataFrame, workplaces: pd.DataFrame | None, telecentres: pd.DataFrame
) -> None:
    """Raise if an agent names an unknown workplace, or a workplace id is a telecentre's.

    Parameters
    ----------
    agents
        From :func:`read_agents` (``workplace_id``: empty or ``head_office`` for
        the head office).
    workplaces
        From :func:`read_workplaces`, or None when there is none.
    telecentres
        From :func:`read_telecentres`.
    """
    known = set(workplaces["workplace_id"]) if workplaces is not None else set()
    clash = known & set(telecentres["telecentre_id"])
    if clash:
        where = workplaces.attrs.get("name", "workplaces") if workplaces is not None else ""
        sites = telecentres.attrs.get("name", "the telecentres")
        msg = (
            f"{where}: workplace id '{sorted(clash)[0]}' is also a telecentre id (in {sites}). "
            "Give workplaces ids of their own."
        )
        raise InputError(msg)
    if "workplace_id" not in agents:
        return
    cols: dict[str, str] = agents.attrs.get("columns", {})
    name = agents.attrs.get("name", "agents")
    for i, ref in enumerate(agents["workplace_id"].astype(str)):
        if ref and ref != "head_office" and ref not in known:
            shown = ", ".join(["head_office", *sorted(known)])
            hint = "" if workplaces is not None else " Give the workplaces file with --workplaces."
            msg = (
                f"{name}: {_row_label(i)}, column '{cols.get('workplace_id', 'workplace_id')}': "
                f"'{ref}' is not a workplace id. Known ids: {shown}.{hint}"
            )
            raise InputError(msg)


def read_telecentres(
    source: Source,
    *,
    crs: str | None = None,
    area_departements: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read and validate the telecentres.

    Parameters
    ----------
    source
        A CSV, GeoPackage or GeoJSON path, or a (Geo)DataFrame.
    crs
        CRS of the coordinates when they are not WGS84 lon/lat.
    area_departements
        Départements of the area being planned (e.g. ``{"48"}``): a commune
        name several départements share (``Villefort``) is the one in these
        when exactly one is, with a warning (:func:`read_agents`).

    Returns
    -------
    pandas.DataFrame
        Columns ``telecentre_id, name, lon, lat, capacity, commune, location,
        location_precision_m, insee``, in input order. A row without ``lon``
        and ``lat`` stands at the town hall of its commune, given by
        ``commune`` (a name), ``insee`` or ``code_postal`` as in
        :func:`read_agents` (``location`` is then ``commune``, and
        ``location_precision_m`` the largest distance from the town hall to
        the commune's boundary); a ``location`` column of ``assign geocode``
        (``address``) is kept with its precision. With desks per weekday (file
        columns ``mon`` .. ``fri``), also ``desks_mon`` .. ``desks_fri``
        (``capacity`` then defaults to the busiest day); with
        ``opening_cost`` (minutes a week), that column.
    """
    table, name = _load_table(source, crs=crs)
    cols = _resolve_columns(table, TELECENTRE_ALIASES, required=("telecentre_id",), name=name)
    _place_columns(
        table, cols, TELECENTRE_ALIASES, name, what="each telecentre", commune="its commune"
    )
    out = pd.DataFrame({"telecentre_id": _ids(table, cols["telecentre_id"], name)})
    spaced = out["telecentre_id"].str.contains(r"[\s|]", regex=True)
    if spaced.any():
        i = int(np.flatnonzero(spaced.to_numpy())[0])
        msg = (
            f"{name}: {_row_label(i)}, column '{cols['telecentre_id']}': id "
            f"'{out['telecentre_id'].iloc[i]}' holds a space or '|', which separate ids in "
            "forbidden_telecentres. Use '-' or '_' instead."
        )
        raise InputError(msg)
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
    warned = (
        _located_sites(table, cols, out, name, crs=crs, area=area_departements, what="a telecentre")
        if not table.empty
        else []
    )
    days = [d for d in WEEKDAYS if d in cols]
    if days and len(days) < len(WEEKDAYS):
        missing = ", ".join(d for d in WEEKDAYS if d not in cols)
        msg = f"{name}: desks per weekday need all five columns mon..fri; missing: {missing}."
        raise InputError(msg)
    for day in days:
        out[f"desks_{day}"] = _integers(table, cols[day], name, low=0, high=MAX_DESKS)
    if "capacity" in cols:
        out["capacity"] = _integers(table, cols["capacity"], name, low=0, high=MAX_DESKS)
    elif days:
        out["capacity"] = out[[f"desks_{d}" for d in WEEKDAYS]].max(axis=1)
    else:
        _resolve_columns(table, TELECENTRE_ALIASES, required=("capacity",), name=name)
    if "opening_cost" in cols:
        costs = _numbers(table, cols["opening_cost"], name)
        bad = np.flatnonzero((costs < 0) | (costs > MAX_OPENING_COST))
        if bad.size:
            msg = (
                f"{name}: {_row_label(int(bad[0]))}, column '{cols['opening_cost']}': "
                f"{costs[bad[0]]:g} is not a cost from 0 to {MAX_OPENING_COST:,.0f} "
                "(minutes a week)."
            )
            raise InputError(msg)
        out["opening_cost"] = costs
    if out.empty:
        msg = f"{name}: no telecentres in the file. Give at least one row under the header."
        raise InputError(msg)
    first = ["telecentre_id", "name", "lon", "lat", "capacity"]
    out = out[first + [c for c in out.columns if c not in first]]
    out.attrs["columns"] = {k: v for k, v in cols.items() if v in table.columns}
    out.attrs["warnings"] = warned
    out.attrs["name"] = name
    logger.info("read %d telecentres from %s", len(out), name)
    return out


# --------------------------------------------------------------------------- loading


def read_table(source: Source) -> tuple[pd.DataFrame, str]:
    """Read any input table as it is (every column, text cells), with a name for messages.

    Parameters
    ----------
    source
        A CSV, GeoPackage or GeoJSON path, or a (Geo)DataFrame.

    Returns
    -------
    tuple
        ``(table, name)``.
    """
    return _load_table(source, crs=None)


def _load_table(source: Source, *, crs: str | None) -> tuple[pd.DataFrame, str]:
    """Return the raw table (strings, or numbers from a DataFrame) and a name for messages."""
    if isinstance(source, gpd.GeoDataFrame):
        return _points_to_columns(source, "the GeoDataFrame"), "the GeoDataFrame"
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), "the DataFrame"
    path, layer = split_layer(source)
    name = str(source)
    if not path.exists():
        msg = f"{name}: file not found. Check the path."
        raise InputError(msg)
    if path.is_dir():
        msg = f"{name}: is a folder, not a file. Give the path of a CSV or GeoPackage file."
        raise InputError(msg)
    if path.is_file() and path.stat().st_size > MAX_INPUT_BYTES:
        msg = (
            f"{name}: {path.stat().st_size / 2**20:,.0f} MB is more than the "
            f"{MAX_INPUT_BYTES // 2**20} MB an input may hold. Split the roster or give only "
            "the columns needed."
        )
        raise InputError(msg)
    if path.suffix.lower() in _GEO_SUFFIXES:
        if crs is not None:
            msg = f"{name}: --crs applies to CSV files only; a point layer carries its own CRS."
            raise InputError(msg)
        return _points_to_columns(_read_layer(path, "point", layer=layer), name), name
    return _read_csv(path), name


def split_layer(source: str | Path) -> tuple[Path, str | None]:
    """Split ``file.gpkg:layer`` into the file and the layer name.

    Parameters
    ----------
    source
        A path, optionally followed by ``:`` and a layer name when the file is
        a GeoPackage (or another multi-layer format) that does not exist
        under the whole name.

    Returns
    -------
    tuple
        ``(path, layer)``; ``layer`` is None when none is named.
    """
    path = Path(source)
    text = str(source)
    if not path.exists() and ":" in text:
        head, _, layer = text.rpartition(":")
        if Path(head).suffix.lower() in _GEO_SUFFIXES and layer:
            return Path(head), layer
    return path, None


def _read_layer(path: Path, kind: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GeoPackage / GeoJSON layer; an unreadable file is an :class:`InputError`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            layers = [str(n) for n in gpd.list_layers(path)["name"]]
            if layer is None and len(layers) > 1:
                msg = (
                    f"{path}: holds {len(layers)} layers ({', '.join(layers)}). Name the one "
                    f"to read: {path}:{layers[0]}"
                )
                raise InputError(msg)
            if layer is not None and layer not in layers:
                msg = (
                    f"{path}: no layer '{layer}'; the file holds: {', '.join(layers)}. "
                    f"Give {path}:LAYER with one of them."
                )
                raise InputError(msg)
            frame = gpd.read_file(path, layer=layer)
        except InputError:
            raise
        except Exception as exc:
            msg = (
                f"{path}: cannot be read as a {kind} layer ({_one_line(str(exc))}). "
                "Check that it is a valid file."
            )
            raise InputError(msg) from None
    for warning in caught:
        logger.info("%s: %s", path, warning.message)
    return frame


def _one_line(text: str, limit: int = 160) -> str:
    """Printable one-line text, cut at ``limit`` characters (for library messages in ours)."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


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
    # the geometry gives the point: attribute columns read as lon or lat would clash with it
    axes = {"lon": AGENT_ALIASES["lon"], "lat": AGENT_ALIASES["lat"]}
    table = table.drop(columns=[c for c in table.columns if _field_of(str(c), axes)])
    table["lon"] = wgs.x.to_numpy()
    table["lat"] = wgs.y.to_numpy()
    return table


def _decode(raw: bytes, name: str) -> str:
    """Decode a text file as UTF-8, or as cp1252 when nothing in it is UTF-8.

    Decided by evidence: a file with accented letters written as UTF-8 and
    also bytes that are not UTF-8 (edited in two programs) is refused, naming
    its lines, never read whole as cp1252 (``José`` would become ``JosÃ©``).
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="surrogateescape")
    if any(ord(ch) > 127 and not 0xDC80 <= ord(ch) <= 0xDCFF for ch in text):
        lines = [
            k + 1
            for k, line in enumerate(text.splitlines())
            if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in line)
        ]
        shown = ", ".join(str(k) for k in lines[:10]) + (" ..." if len(lines) > 10 else "")
        msg = (
            f"{name}: the file is UTF-8 but line(s) {shown} hold bytes that are not (it was "
            "probably saved by two programs): the names there would be misread. Save the "
            "file again as UTF-8 (in Excel: CSV UTF-8), or fix those lines."
        )
        raise InputError(msg)
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        msg = f"{name}: cannot decode the file as UTF-8 or cp1252. Save it as UTF-8 CSV."
        raise InputError(msg) from None


def read_input_bytes(path: Path) -> bytes:
    """Read an input text file, refusing what is too large or binary.

    At most :data:`MAX_INPUT_BYTES` are read (a device or a pipe may never
    end); a workbook, an archive or other binary data is an
    :class:`~optimizer.errors.InputError` naming what the file looks like.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    bytes
        Its content.
    """
    name = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        msg = f"{name}: cannot be read ({exc.strerror}). Check the path and its permissions."
        raise InputError(msg) from None
    if len(raw) > MAX_INPUT_BYTES:
        msg = (
            f"{name}: more than the {MAX_INPUT_BYTES // 2**20} MB an input may hold. "
            "Split the roster or give only the columns needed."
        )
        raise InputError(msg)
    for start, what in _BINARY_STARTS.items():
        if raw.startswith(start):
            msg = f"{name}: is {what}, not a CSV text file. Save it as CSV (UTF-8) first."
            raise InputError(msg)
    if b"\x00" in raw:
        msg = f"{name}: holds binary data, not CSV text. Save it as CSV (UTF-8) first."
        raise InputError(msg)
    return raw


def _read_csv(path: Path) -> pd.DataFrame:
    name = str(path)
    text = _decode(read_input_bytes(path), name)
    # 'sep=;' first, as files made for Excel may start: Excel reads it and does not show it
    said = re.match(r"[ \t]*sep=([;,\t])[ \t]*(\r?\n|$)", text)
    if said:
        text = text[said.end() :]
    if not text.strip():
        msg = f"{name}: the file is empty. Give a header line and one row per item."
        raise InputError(msg)
    first = text.lstrip().splitlines()[0]
    unquoted = re.sub(r'"[^"]*"', "", first)  # separators inside quoted names do not count
    delimiter = said.group(1) if said else max((";", ",", "\t"), key=unquoted.count)
    _check_shape(text, delimiter, name)
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
        msg = (
            f"{name}: not a readable CSV table ({_one_line(str(exc))}). "
            "Check the separators and quotes."
        )
        raise InputError(msg) from None
    table.columns = [str(c).strip() for c in table.columns]
    # trailing blank rows (';;;;' as spreadsheets save them) are not items
    filled = table.apply(lambda column: column.str.strip() != "").any(axis=1).to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    table = table.iloc[:last]
    table.attrs["decimal_comma"] = delimiter != ","
    return table


def _check_shape(text: str, delimiter: str, name: str) -> None:
    """Refuse duplicated header names and rows with more or fewer cells than the header."""
    try:
        rows = csv.reader(io.StringIO(text.lstrip()), delimiter=delimiter, skipinitialspace=True)
        header = next(rows)
        labels = [c.strip() for c in header]
        seen: dict[str, int] = {}
        for j, label in enumerate(labels):
            key = label.lower()
            if key and key in seen:
                msg = (
                    f"{name}: the header has column '{labels[seen[key]]}' (column "
                    f"{seen[key] + 1}) and '{label}' (column {j + 1}): one name, two columns. "
                    "Keep one, or rename the other."
                )
                raise InputError(msg)
            seen[key] = j
        for i, row in enumerate(rows):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if any("\n" in cell for cell in row):
                return  # an unbalanced quote: pandas says so
            if len(row) != len(header):
                extra = len(row) > len(header)
                hint = (
                    "a separator too many (a trailing one, or one inside an unquoted value?)"
                    if extra
                    else "cells missing"
                )
                last = labels[-1] if labels else ""
                msg = (
                    f"{name}: {_row_label(i)} has {len(row)} cells but the header has "
                    f"{len(header)} columns ({', '.join(labels)}): {hint}. Make every row "
                    f"match the header, whose last column is '{last}'."
                )
                raise InputError(msg)
    except csv.Error:
        return  # pandas says what is wrong with the quoting


# --------------------------------------------------------------------------- columns


def _resolve_columns(
    table: pd.DataFrame,
    aliases: dict[str, tuple[str, ...]],
    *,
    required: Sequence[str],
    name: str,
) -> dict[str, str]:
    """Map each field of ``aliases`` to the column of ``table`` that holds it.

    A header matches a field on its words (:func:`_field_of`). Of two columns
    read as one field, the one matching the earlier alias is read (``id``
    before ``site`` for a telecentre's id) and the other is not; matching the
    same alias (``Code postal`` and ``code_postal``), they are an error naming
    both.
    """
    found: dict[str, str] = {}
    ranks: dict[str, int] = {}
    for column in table.columns:
        match = _match(str(column), aliases)
        if match is None:
            continue
        field, rank = match
        if field in found and rank == ranks[field]:  # which one is meant?
            msg = (
                f"{name}: columns '{found[field]}' and '{column}' are both read as "
                f"'{field}': keep one, or rename the other."
            )
            raise InputError(msg)
        if field not in found or rank < ranks[field]:
            found[field], ranks[field] = column, rank
    missing = [c for c in required if c not in found]
    if missing:
        have = ", ".join(str(c) for c in table.columns) or "(none)"
        wanted = "; ".join(f"'{c}' (or {', '.join(aliases[c][1:])})" for c in missing)
        msg = f"{name}: missing column {wanted}. The file has: {have}."
        raise InputError(msg)
    return found


@functools.cache
def _header_words(text: str) -> frozenset[str]:
    """Return the words a header (or an alias) matches on.

    Lower case, no accents, split on anything but letters and digits, a plural
    ``s`` dropped, filler words (:data:`FILLER_WORDS`) left out unless nothing
    else remains: ``Nombre de jours de télétravail`` is ``{jour, teletravail}``.
    """
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    tokens = [t for t in re.split(r"[^0-9a-z]+", plain) if t]
    kept = [t for t in tokens if t not in FILLER_WORDS] or tokens
    return frozenset(t[:-1] if len(t) > 3 and t.endswith("s") else t for t in kept)


def _field_of(header: str, aliases: dict[str, tuple[str, ...]]) -> str | None:
    """Return the field a header names, or None (see :func:`_match`)."""
    match = _match(header, aliases)
    return None if match is None else match[0]


def _match(header: str, aliases: dict[str, tuple[str, ...]]) -> tuple[str, int] | None:
    """Return the field a header names and the position of the alias it matches, or None.

    A header names a field when it holds every word of one of the field's
    aliases and no other word but the field's :data:`OPTIONAL_WORDS`. When
    several fields match, the one whose alias has the most words wins (``Jours
    préférés`` is preferred_days, not telework_days); a tie names none.
    """
    words = _header_words(header)
    best: dict[str, tuple[int, int]] = {}  # field -> (words of its longest alias, first alias)
    for field, names in aliases.items():
        optional = OPTIONAL_WORDS.get(field, frozenset())
        for rank, alias in enumerate(names):
            pattern = _header_words(alias)
            if pattern <= words and words - pattern <= optional:
                size, first = best.get(field, (0, rank))
                best[field] = (max(size, len(pattern)), min(first, rank))
    if not best:
        return None
    top = max(size for size, _ in best.values())
    fields = [f for f, (size, _) in best.items() if size == top]
    return (fields[0], best[fields[0]][1]) if len(fields) == 1 else None


def _unread_columns(
    table: pd.DataFrame, cols: dict[str, str], aliases: dict[str, tuple[str, ...]], name: str
) -> list[str]:
    """Return the columns not read; one that names something read (``Jours TT``...) stops.

    Returns
    -------
    list of str
        The headers of the columns no field reads, in file order.

    Raises
    ------
    InputError
        A column holds a word of :data:`LOOKALIKE_WORDS` and is not read: it
        is not understood, or another column holds its field.
    """
    read = set(cols.values())
    unread = [str(c) for c in table.columns if c not in read]
    for column in unread:
        if not _header_words(column) & LOOKALIKE_WORDS:
            continue
        taken = _field_of(column, aliases)
        if taken is not None:  # 'Matricule' and 'Identifiant' both the id: one is read
            msg = (
                f"{name}: columns '{cols[taken]}' and '{column}' are both read as '{taken}': "
                "keep one, or rename the other."
            )
            raise InputError(msg)
        shown = ", ".join(
            f"{field} ({_EXAMPLES[field]})" if field in _EXAMPLES else field
            for field in aliases
            if not field.startswith(("location", "workplace_l"))
        )
        msg = (
            f"{name}: column '{column}' is not understood, and its name says it may matter "
            f"to the plan. Rename it as one of the columns read, or remove it: {shown}."
        )
        raise InputError(msg)
    return unread


def _header_key(text: str) -> str:
    """Return the key a header matches its aliases on: any case, no accents, ``_`` for spaces.

    ``Jours télétravail`` and ``Code-Postal`` match ``jours_teletravail`` and ``code_postal``.
    """
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[\s\-.'\u2019]+", "_", plain).strip("_")


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


def _one_id_each(table: pd.DataFrame, column: str, name: str) -> list[str]:
    values = _cell_strings(table, column)
    for i, value in enumerate(values):
        if len(_split_ids(value)) > 1:
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' names several "
                "telecentres; give one id (forbidden_telecentres takes several, separated by |)."
            )
            raise InputError(msg)
    return values


def _communes(table: pd.DataFrame, column: str, name: str) -> list[str]:
    values = _cell_strings(table, column)
    for i, value in enumerate(values):
        if re.fullmatch(r"\d[\dAB]\d{3}", value):
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' is a code, not a commune "
                "name. Put INSEE codes in a code_insee column and postcodes in a code_postal "
                "column."
            )
            raise InputError(msg)
        if len(value) > 60 or re.search(r"[\d,;]", value):
            msg = (
                f"{name}: {_row_label(i)}, column '{column}': '{value}' is not a commune name "
                "(an address?). Give the commune's name only: this column is copied into "
                "telecentres.csv and home addresses are personal data."
            )
            raise InputError(msg)
    return values


_TRUE = {"1", "1.0", "yes", "y", "true", "oui", "o", "x", "vrai"}  # 1.0: a spreadsheet's number
_FALSE = {"", "0", "0.0", "no", "n", "false", "non", "faux"}


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
                    parts = [part for part in re.split(r"[,;]", ref) if part]
                    hint = (
                        " Separate ids with '|' (e.g. marvejols|langogne)."
                        if len(parts) > 1 or ref.rstrip(",;") in known
                        else ""
                    )
                    msg = (
                        f"{name}: {_row_label(i)}, column '{cols.get(field, field)}': "
                        f"'{ref}' is not a telecentre id. Known ids: {shown}.{hint}"
                    )
                    raise InputError(msg)


MAX_ROWS_SHOWN = 20
"""Most bad rows one error lists; it says how many more there are."""


class _RowErrors:
    """The bad rows of one table, gathered to be reported in one error.

    Parameters
    ----------
    name
        The file's name, for the message.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[tuple[int, str]] = []

    def add(self, row: int, text: str) -> None:
        """Record the row at position ``row``: ``text`` names it and says what is wrong."""
        self.items.append((row, _one_line(text, limit=400)))

    def raise_all(self) -> None:
        """Raise one :class:`InputError` listing every bad row, if any (row order).

        One bad row gives today's one-line message; several give a short first
        line and one line per row (the first :data:`MAX_ROWS_SHOWN`, then how
        many more).
        """
        if not self.items:
            return
        items = [text for _, text in sorted(self.items, key=lambda item: item[0])]
        if len(items) == 1:
            raise InputError(f"{self.name}: {items[0]}")
        rows = len({row for row, _ in self.items})
        shown = items[:MAX_ROWS_SHOWN]
        if len(items) > MAX_ROWS_SHOWN:
            shown.append(f"and {len(items) - MAX_ROWS_SHOWN} more")
        msg = (
            f"{self.name}: {len(items)} problems on {rows} rows (the header is row 1); fix them "
            "all, then run again:"
        )
        raise InputError(msg, shown)


def _numbers(
    table: pd.DataFrame, column: str, name: str, problems: _RowErrors | None = None
) -> np.ndarray:
    """Return the column's numbers; a bad cell raises, or is NaN and put in ``problems``."""
    decimal_comma = bool(table.attrs.get("decimal_comma", False))
    out = np.empty(len(table), dtype=float)
    for i, raw in enumerate(table[column].tolist()):
        where = f"{_row_label(i)}, column '{column}'"
        if isinstance(raw, (int, float, np.integer, np.floating)) and not _is_missing(raw):
            out[i] = float(raw)
            if not math.isfinite(out[i]):
                _bad_row(problems, name, i, f"{where}: {raw} is not a finite number.")
                out[i] = np.nan
            continue
        text = "" if _is_missing(raw) else str(raw).strip()
        if decimal_comma:
            text = text.replace(",", ".")
        if not NUMBER.fullmatch(text):
            shown = "" if _is_missing(raw) else str(raw)
            what = "is empty" if not text else f"'{shown}' is not a number"
            _bad_row(problems, name, i, f"{where}: {what}. Give a number.")
            out[i] = np.nan
            continue
        value = float(text)
        if not math.isfinite(value):
            _bad_row(problems, name, i, f"{where}: '{raw}' is too large. Give a finite number.")
            value = np.nan
        out[i] = value
    return out


def _bad_row(problems: _RowErrors | None, name: str, row: int, text: str) -> None:
    """Raise ``text`` as an error of file ``name``, or record it in ``problems``."""
    if problems is None:
        raise InputError(f"{name}: {text}")
    problems.add(row, text)


def _integers(
    table: pd.DataFrame,
    column: str,
    name: str,
    *,
    low: int,
    high: int | None,
    problems: _RowErrors | None = None,
) -> np.ndarray:
    """Whole numbers from ``low`` to ``high``; with ``problems``, a bad cell is ``low``."""
    values = _numbers(table, column, name, problems)
    raw = table[column].tolist()
    for i, value in enumerate(values):
        if np.isnan(value):  # recorded already
            values[i] = low
            continue
        span = f"from {low} to {high}" if high is not None else f"of {low} or more"
        if value != round(value) or value < low or (high is not None and value > high):
            text = f"{_row_label(i)}, column '{column}': '{raw[i]}' is not a whole number {span}."
            _bad_row(problems, name, i, text)
            values[i] = low
    return values.astype(np.int64)


def _priorities(table: pd.DataFrame, column: str, problems: _RowErrors) -> np.ndarray:
    """Read ``priority``: finite numbers, a blank cell 0; bad cells go to ``problems``."""
    decimal_comma = bool(table.attrs.get("decimal_comma", False))
    out = np.zeros(len(table), dtype=np.float64)
    for i, raw in enumerate(table[column].tolist()):
        if isinstance(raw, (int, float, np.integer, np.floating)) and not _is_missing(raw):
            value = float(raw)
        else:
            text = "" if _is_missing(raw) else str(raw).strip()
            if not text:
                continue
            if decimal_comma:
                text = text.replace(",", ".")
            value = float(text) if NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(value):
            problems.add(
                i,
                f"{_row_label(i)}, column '{column}': '{raw}' is not a priority. Give a number "
                "(higher is served first), or leave the cell empty.",
            )
            continue
        out[i] = value
    return out


def _coordinates(
    table: pd.DataFrame,
    cols: dict[str, str],
    name: str,
    *,
    crs: str | None,
    problems: _RowErrors | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 ``lon, lat``; with ``problems``, bad rows are recorded there (and NaN)."""
    xs = _numbers(table, cols["lon"], name, problems)
    ys = _numbers(table, cols["lat"], name, problems)
    read = np.isfinite(xs) & np.isfinite(ys)  # the others are recorded already
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
    for i in np.flatnonzero(read).tolist():
        x, y = xs[i], ys[i]
        try:
            _check_lonlat(float(x), float(y), where=_row_label(i), projected_hint=crs is None)
        except InputError as exc:
            _bad_row(problems, name, i, str(exc))
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
    return out


def _haversine_km(trips: pd.DataFrame) -> pd.Series:
    lat1, lat2 = np.radians(trips["from_lat"]), np.radians(trips["to_lat"])
    dlon = np.radians(trips["to_lon"] - trips["from_lon"])
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return pd.Series(2 * 6371.009 * np.arcsin(np.sqrt(h)), index=trips.index)
