"""Reading and validating the places agents drive to: telecentres, workplaces, the head office.

Also the checks that the agents' references to them (``preferred_telecentre``,
``forbidden_telecentres``, ``workplace_id``) name known ids.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.inputs.cells import (
    NUMBER,
    WEEKDAYS,
    _check_lonlat,
    _ids,
    _integers,
    _numbers,
    _row_label,
    _split_ids,
)
from optimizer.inputs.headers import TELECENTRE_ALIASES, WORKPLACE_ALIASES, _resolve_columns
from optimizer.inputs.loading import Source, _load_table
from optimizer.inputs.placing import _located_sites, _place_columns

logger = logging.getLogger(__name__)

MAX_DESKS = 100_000
"""Largest capacity (desks) of one telecentre, and desks on one weekday."""
MAX_OPENING_COST = 1_000_000.0
"""Largest ``opening_cost``, minutes a week."""


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
    out = pd.DataFrame({"telecentre_id": _telecentre_ids(table, cols, name)})
    out["name"] = (
        table[cols["name"]].astype(str).str.strip() if "name" in cols else out["telecentre_id"]
    )
    warned = (
        _located_sites(table, cols, out, name, crs=crs, area=area_departements, what="a telecentre")
        if not table.empty
        else []
    )
    _desks(out, table, cols, name)
    if "opening_cost" in cols:
        out["opening_cost"] = _opening_costs(table, cols["opening_cost"], name)
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


def _telecentre_ids(table: pd.DataFrame, cols: dict[str, str], name: str) -> pd.Series:
    """Return the telecentres' ids: unique, without spaces or ``|``, not ``head_office``."""
    ids = _ids(table, cols["telecentre_id"], name)
    spaced = ids.str.contains(r"[\s|]", regex=True)
    if spaced.any():
        i = int(np.flatnonzero(spaced.to_numpy())[0])
        msg = (
            f"{name}: {_row_label(i)}, column '{cols['telecentre_id']}': id "
            f"'{ids.iloc[i]}' holds a space or '|', which separate ids in "
            "forbidden_telecentres. Use '-' or '_' instead."
        )
        raise InputError(msg)
    reserved = ids.str.lower() == "head_office"
    if reserved.any():
        row = _row_label(int(np.flatnonzero(reserved.to_numpy())[0]))
        msg = (
            f"{name}: {row}: 'head_office' is reserved for the head office; rename the telecentre."
        )
        raise InputError(msg)
    return ids


def _desks(out: pd.DataFrame, table: pd.DataFrame, cols: dict[str, str], name: str) -> None:
    """Add ``capacity`` to ``out`` (in place), and ``desks_mon`` .. ``desks_fri`` if given."""
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


def _opening_costs(table: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """Read ``opening_cost``: minutes a week, from 0 to :data:`MAX_OPENING_COST`."""
    costs = _numbers(table, column, name)
    bad = np.flatnonzero((costs < 0) | (costs > MAX_OPENING_COST))
    if bad.size:
        msg = (
            f"{name}: {_row_label(int(bad[0]))}, column '{column}': "
            f"{costs[bad[0]]:g} is not a cost from 0 to {MAX_OPENING_COST:,.0f} "
            "(minutes a week)."
        )
        raise InputError(msg)
    return costs


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
