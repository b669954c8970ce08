"""Reading and validating the roster of volunteer agents (:func:`read_agents`).

Headers are matched on their words, as HR software writes them: any case,
accents, spaces or ``_``, filler words left out (``Commune de résidence``
is ``commune``, ``Nombre de jours de télétravail`` and ``Nb jours TT`` are
``telework_days``, ``Code INSEE`` is ``insee``, ``CP`` is
``code_postal``). A column whose name says it matters to the plan (a word
such as jours, day, télétravail, commune, insee, postal, lon, lat,
priorité) but that is not understood is an error, as are two columns read
as one field; other columns are not read, and are named in a warning and
in ``attrs["columns_not_read"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

import numpy as np
import pandas as pd

from optimizer._text import counted
from optimizer.errors import InputError
from optimizer.inputs.cells import (
    _cell_strings,
    _communes,
    _flags,
    _ids,
    _integers,
    _one_id_each,
    _priorities,
    _RowErrors,
    _split_ids,
    _weekdays,
)
from optimizer.inputs.headers import AGENT_ALIASES, _resolve_columns, _unread_columns
from optimizer.inputs.loading import Source, _load_table
from optimizer.inputs.own_workplaces import workplace_points
from optimizer.inputs.placing import _homonyms_warning, _place_at_communes, _place_columns, _points

logger = logging.getLogger(__name__)


def read_agents(
    source: Source,
    *,
    crs: str | None = None,
    area_departements: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read and validate the volunteer agents.

    Headers are matched on their words, as HR software writes them: see the
    module's description (:mod:`optimizer.inputs.roster`).

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
        preferred_days, impossible_days`` and ``priority``, in input order
        (and ``workplace_lon, workplace_lat`` when the file has them: each
        row's own workplace, NaN where it names one or none,
        :mod:`optimizer.inputs.own_workplaces`). A
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
    table, name, cols, places, not_read = _roster(source, crs=crs)
    out = pd.DataFrame({"agent_id": _ids(table, cols["agent_id"], name)})
    warned = _homes(out, table, cols, places, name, crs=crs, area=area_departements)
    _rules(out, table, cols, name)
    points = workplace_points(table, name, crs=crs)  # each row's own workplace, when given
    if points is not None:
        out["workplace_lon"], out["workplace_lat"] = points
    return _finished(out, table, cols, name, not_read=not_read, warned=warned)


def _roster(
    source: Source, *, crs: str | None
) -> tuple[pd.DataFrame, str, dict[str, str], list[str], list[str]]:
    """Load the roster and read its header.

    Returns the table, its name, the columns read (field -> header), the place
    columns it has and the headers not read.
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
    return table, name, cols, places, not_read


def _homes(
    out: pd.DataFrame,
    table: pd.DataFrame,
    cols: dict[str, str],
    places: list[str],
    name: str,
    *,
    crs: str | None,
    area: Collection[str] | None,
) -> list[str]:
    """Add each agent's commune, home, telework days and priority to ``out`` (in place).

    Bad communes, coordinates, days and priorities are gathered and raised together.
    Returns the warning about commune names read as the area's, if any.
    """
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
        resolved = _place_at_communes(out, table, cols, places, by_commune, problems, area=area)
        if resolved:
            warned.append(_homonyms_warning(name, resolved, area, "an agent lives in another"))
    problems.raise_all()
    return warned


def _rules(out: pd.DataFrame, table: pd.DataFrame, cols: dict[str, str], name: str) -> None:
    """Add the per-agent rules to ``out`` (in place): telecentres, workplace, weekdays."""
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


def _finished(
    out: pd.DataFrame,
    table: pd.DataFrame,
    cols: dict[str, str],
    name: str,
    *,
    not_read: list[str],
    warned: list[str],
) -> pd.DataFrame:
    """Log the warnings, put the columns in order and say in ``attrs`` what was read."""
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
