"""The CSV tables of a national plan, as a plain run writes them.

:func:`allocation_file` (``allocation.csv``: a plain run's columns and
rounding, its km and benefits, nothing that tells who lives with whom),
:func:`site_file` (``telecentres.csv``: each site's desks and use per
weekday) and :func:`totals` (``summary.json``'s ``totals``, a plain run's
keys), written by :func:`.files.run_national_files`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.benefits import BENEFIT_COLUMNS, benefit_totals, weekly_benefits
from optimizer.errors import InputError
from optimizer.inputs import WEEKDAYS
from optimizer.inputs.own_workplaces import point_ids
from optimizer.model import HEAD_OFFICE
from optimizer.national.checks import site_desks
from optimizer.schedule import dedicated_capacities
from optimizer.ties import reason_kind

#: Decimals of the minutes written to ``allocation.csv`` (6 s, as a plain run writes them).
MINUTE_DECIMALS = 1


#: How each home was placed, copied from the roster as a plain run's ``allocation.csv`` has it.
LOCATION_COLUMNS = ("location", "location_precision_m")


#: Decimals of the km written to ``allocation.csv`` (10 m, as a plain run writes them).
KM_DECIMALS = 2

#: The plan's columns and the names a plain run's ``allocation.csv`` gives them (the weekly
#: saving becomes the saving per telework day, beside ``telework_days``).
PLAIN_NAMES = {
    "minutes_to_site": "minutes_to_telecentre",
    "km_to_site": "km_to_telecentre",
    "minutes_to_work": "minutes_to_head_office",
    "km_to_work": "km_to_head_office",
    "saving_minutes_week": "minutes_saved_per_day",
    "km_saving_day": "km_saved_per_day",
}


def allocation_file(
    allocation: pd.DataFrame, agents: pd.DataFrame | None = None, *, workplaces: bool = False
) -> pd.DataFrame:
    """Return the allocation as written to ``allocation.csv``: what was asked for, no more.

    The columns have a plain run's names and meaning (:data:`PLAIN_NAMES`:
    ``minutes_to_telecentre``, ``km_to_telecentre``, ``minutes_to_head_office``
    and ``km_to_head_office`` (to the agent's own workplace),
    ``minutes_saved_per_day`` and ``km_saved_per_day`` (round trip) and
    ``telework_days``), ``agent_id`` and ``status`` first, so that one filter
    serves both; ``snap_m`` (the home's access leg to its road, whole
    metres); ``tie_won_by`` names the equal placed instead; then the
    hours, km, CO2 and euros saved per week and per year
    (:func:`optimizer.benefits.weekly_benefits`).

    ``group`` (an internal number shared by the agents of one home point,
    workplace and days: it would tell who lives with whom) is left out, and
    minutes are rounded to :data:`MINUTE_DECIMALS` decimals and km to
    :data:`KM_DECIMALS`, as a plain run writes them, instead of sixteen
    digits that pin each home's route to the centimetre.

    Parameters
    ----------
    allocation
        The plan's allocation (:attr:`.plan.NationalPlan.allocation`).
    agents
        The roster planned (same rows, same order), as
        :func:`optimizer.inputs.read_agents` or :func:`roster_resolver` give
        it: its ``location`` (``coordinates``, ``address`` or ``commune``) and
        ``location_precision_m`` (for a home at its commune's town hall, the
        largest distance from there to the commune's boundary; NaN for
        coordinates) are written before ``reason``, as a plain run writes them.
        Columns it lacks are left out.
    workplaces
        The run has workplaces besides the head office (a workplaces file, or
        rows with their workplace's point): ``workplace_id`` says each
        agent's, before ``minutes_to_head_office``, as a plain run writes it
        (``xy:LON,LAT`` for a point, ``head_office`` for none).

    Raises
    ------
    InputError
        ``agents`` is not the roster of ``allocation`` (other ids or order).
    """
    out = allocation.drop(columns=["group"], errors="ignore").copy()
    days = (
        agents["telework_days"].to_numpy(np.int64)
        if agents is not None and "telework_days" in agents
        else np.ones(len(out), np.int64)
    )
    if "saving_minutes_week" in out:
        out["saving_minutes_week"] = out["saving_minutes_week"].astype(float) / days
        last = "km_saving_day" if "km_saving_day" in out else "saving_minutes_week"
        out.insert(out.columns.tolist().index(last) + 1, "telework_days", days)
    if "snap_m" in out:  # the access leg, whole metres as a plain run writes it
        out["snap_m"] = out["snap_m"].astype(float).round(0)
    out = out.rename(columns=PLAIN_NAMES)
    first = [c for c in ("agent_id", "status") if c in out]
    out = out[first + [c for c in out.columns if c not in first]]
    if agents is not None:
        _check_roster(out, agents)
        ids = workplace_ids(agents)
        if workplaces or (ids != HEAD_OFFICE).any():  # as a plain run: with workplaces only
            names = out.columns.tolist()
            head = "minutes_to_head_office"
            out.insert(names.index(head) if head in names else len(names), "workplace_id", ids)
        names = out.columns.tolist()
        at = names.index("reason") if "reason" in names else len(names)
        for column in reversed([c for c in LOCATION_COLUMNS if c in agents and c not in out]):
            out.insert(at, column, agents[column].to_numpy())
    return _with_benefits(out, days)


def workplace_ids(agents: pd.DataFrame) -> np.ndarray:
    """Each agent's workplace as a plain run names it: its point's, its id's, or the head office."""
    named = (
        agents["workplace_id"].fillna("").astype(str).to_numpy()
        if "workplace_id" in agents
        else np.full(len(agents), "", dtype=object)
    )
    if "workplace_lon" in agents:
        lon = agents["workplace_lon"].to_numpy(float)
        lat = agents["workplace_lat"].to_numpy(float)
        given = ~(np.isnan(lon) | np.isnan(lat))
        named = np.where(given, point_ids(lon, lat), named)
    return np.where(named == "", HEAD_OFFICE, named)


def _with_benefits(out: pd.DataFrame, days: np.ndarray) -> pd.DataFrame:
    """Add the hours, km, CO2 and euros saved; round minutes and km as a plain run does."""
    if "minutes_saved_per_day" in out:  # hours, km, CO2 and euros, as a plain run gives them
        km = out.get("km_saved_per_day", pd.Series(np.nan, index=out.index))
        benefits = weekly_benefits(
            out["minutes_saved_per_day"].to_numpy(float), km.to_numpy(float), days
        )
        for name, values in benefits.items():
            out[name] = np.round(np.asarray(values, dtype=float), 2)
    for column in out.columns:
        if column.startswith("minutes_"):
            out[column] = out[column].astype(float).round(MINUTE_DECIMALS)
        elif column.startswith("km_") and column not in BENEFIT_COLUMNS:
            out[column] = out[column].astype(float).round(KM_DECIMALS)
    return out


def _check_roster(out: pd.DataFrame, agents: pd.DataFrame) -> None:
    """Raise when ``agents`` is not the roster of the allocation ``out`` (ids and order)."""
    ids = agents["agent_id"].astype(str).to_numpy()
    if len(ids) != len(out) or not np.array_equal(ids, out["agent_id"].astype(str)):
        msg = (
            "allocation_file: agents must be the roster the allocation was planned for, "
            "in its order."
        )
        raise InputError(msg)


def site_file(
    allocation: pd.DataFrame, sites: pd.DataFrame, *, dedicated: bool = False
) -> pd.DataFrame:
    """Return each site's use, as a plain run's ``telecentres.csv`` gives it.

    Parameters
    ----------
    allocation
        The plan's allocation (``telecentre_id``, ``weekday`` as ``mon|tue``).
    sites
        The sites planned (``telecentre_id``, optionally ``name``, and desks).
    dedicated
        Dedicated desks (``--dedicated-desks``): ``capacity`` is the agents a
        site hosts all week, and each of them holds a desk on every day its
        site is open (as a plain run counts them).

    Returns
    -------
    pandas.DataFrame
        ``telecentre_id, [name,] capacity, assigned, desk_days_offered,
        desk_days_used, utilisation, desks_mon..desks_fri, used_mon..used_fri``,
        one row per site in the file's order; ``capacity`` is the most desks
        of a weekday (shared desks) or the dedicated desks.
    """
    desks = site_desks(sites)
    ids = sites["telecentre_id"].astype(str).to_numpy()
    placed = allocation[allocation["telecentre_id"].astype(str) != ""]
    row = pd.Index(ids).get_indexer(pd.Index(placed["telecentre_id"].astype(str)))
    assigned = np.bincount(row, minlength=len(ids))
    used = np.zeros_like(desks)
    if dedicated:
        used = assigned[:, None] * (desks > 0)
    else:
        days = placed["weekday"].astype(str).str.split("|")  # split once, read for each weekday
        for k, day in enumerate(WEEKDAYS):
            on = days.map(lambda d, day=day: day in d)
            np.add.at(used[:, k], row[on.to_numpy(bool)], 1)
    offered, taken = desks.sum(axis=1), used.sum(axis=1)
    table = pd.DataFrame({"telecentre_id": ids})
    if "name" in sites:
        table["name"] = sites["name"].to_numpy()
    table["capacity"] = dedicated_capacities(desks) if dedicated else desks.max(axis=1)
    table["assigned"] = assigned
    table["desk_days_offered"] = offered
    table["desk_days_used"] = taken
    table["utilisation"] = np.round(
        np.divide(taken, offered, out=np.zeros(len(ids)), where=offered > 0), 3
    )
    for k, day in enumerate(WEEKDAYS):
        table[f"desks_{day}"] = desks[:, k]
    for k, day in enumerate(WEEKDAYS):
        table[f"used_{day}"] = used[:, k]
    return table


def totals(
    allocation: pd.DataFrame, written: pd.DataFrame, sites: pd.DataFrame
) -> dict[str, object]:
    """Return ``summary.json``'s ``totals``, with a plain run's keys and meaning.

    Parameters
    ----------
    allocation
        The plan's allocation (unrounded: the weekly saving in minutes, the
        km a telework day).
    written
        The same as written (:func:`allocation_file`: ``telework_days`` and
        the benefit columns).
    sites
        ``telecentres.csv`` (:func:`site_file`).
    """
    assigned = (allocation["status"] == "assigned").to_numpy()
    left = allocation.loc[~assigned, "reason"].map(reason_kind).value_counts().sort_index()
    minutes = float(np.nansum(allocation["saving_minutes_week"].to_numpy(float)))
    km_day = allocation.get("km_saving_day", pd.Series(np.nan, index=allocation.index))
    km = float(np.nansum(km_day.to_numpy(float) * written["telework_days"].to_numpy(float)))
    offered = sites["desk_days_offered"].to_numpy() > 0
    return {
        "agents": len(allocation),
        "assigned": int(assigned.sum()),
        "not_assigned": int((~assigned).sum()),
        "not_assigned_by_reason": {str(k): int(v) for k, v in left.items()},
        "desks_each_weekday": int(sites["capacity"].to_numpy()[offered].sum()),
        "desk_days_offered": int(sites["desk_days_offered"].sum()),
        "desk_days_used": int(sites["desk_days_used"].sum()),
        "minutes_saved_per_week": round(minutes, 1),
        "hours_saved_per_week": round(minutes / 60.0, 2),
        "km_saved_per_week": round(km, 1),
        **benefit_totals(written),
    }
