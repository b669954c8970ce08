"""The result tables that the written files and the maps share, and the files' names.

:func:`telecentre_table` (one row per telecentre) and :func:`made_up` (the
warnings about made-up inputs) are read by the writer (:mod:`optimizer.report`)
and by the maps (:mod:`optimizer.maps`, :mod:`optimizer.gpkg`), which draw
from them without importing the writer. :mod:`optimizer.report` re-exports
every name here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import optimizer.datafiles as datafiles
from optimizer.inputs import WEEKDAYS
from optimizer.sharing import group_small_cells

if TYPE_CHECKING:
    from optimizer.pipeline import RunResult

ALLOCATION_FILE = "allocation.csv"
TELECENTRES_FILE = "telecentres.csv"
TRAVEL_FILE = "travel_times.csv"
SUMMARY_FILE = "summary.json"
RANKING_FILE = "ranking.csv"
SCHEDULE_FILE = "schedule.csv"
CHANGES_FILE = "changes.csv"
FRONTIER_FILE = "frontier.csv"
MAP_PNG = "map.png"
MAP_HTML = "map.html"
GPKG_FILE = "assignment.gpkg"
OWN_FILES = (
    ALLOCATION_FILE,
    TELECENTRES_FILE,
    TRAVEL_FILE,
    RANKING_FILE,
    SCHEDULE_FILE,
    CHANGES_FILE,
    FRONTIER_FILE,
    SUMMARY_FILE,
    MAP_PNG,
    MAP_HTML,
    GPKG_FILE,
)
"""Every file name the tool writes in ``--out``: the only ones a new run removes."""

APPROXIMATE_WARNING = (
    "APPROXIMATE road network: not real roads (communes linked to their neighbours, "
    "lengths from a detour factor). Use a real OpenStreetMap network for decisions."
)


SYNTHETIC_WARNING = (
    "SYNTHETIC roster: the agents are the embedded demo, made up (no real person). "
    "Give --agents with the real volunteers."
)
ILLUSTRATIVE_WARNING = (
    "ILLUSTRATIVE capacities: the embedded telecentres' desk counts are assumptions "
    "(real counts unknown). Give --telecentres with the real desks."
)


def made_up(result: RunResult) -> list[str]:
    """Warnings about made-up inputs: the approximate network, the synthetic roster, the capacities.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    list of str
        One warning per made-up input (empty when all are real).
    """
    warnings = [APPROXIMATE_WARNING] if result.network.approximate else []
    if _embedded(result, "agents", datafiles.AGENTS_FILE):
        warnings.append(SYNTHETIC_WARNING)
    if _embedded(result, "telecentres", datafiles.TELECENTRES_FILE):
        warnings.append(ILLUSTRATIVE_WARNING)
    return warnings


def _embedded(result: RunResult, key: str, name: str) -> bool:
    table = result.agents if key == "agents" else result.telecentres
    if table.attrs.get("embedded"):
        return True
    given = result.sources.get(f"{key}_file")
    return given is not None and Path(given).resolve() == datafiles.path(name).resolve()


def _communes_served(result: RunResult, *, min_cell: int = 1) -> list[str]:
    """Per telecentre, the communes its agents come from: ``Mende (3); Badaroux (1)``.

    Communes with fewer than ``min_cell`` of the telecentre's agents are grouped
    as ``other communes`` (:func:`optimizer.sharing.group_small_cells`).
    """
    communes = (
        result.agents["commune"].replace("", "unknown commune")
        if "commune" in result.agents
        else None
    )
    out = []
    for j in range(result.problem.n_telecentres):
        members = result.assignment.telecentre == j
        if communes is None or not members.any():
            out.append("")
            continue
        counts = communes[members].value_counts()
        if min_cell > 1:
            counts = group_small_cells(counts, min_cell=min_cell)
        out.append("; ".join(f"{name} ({count})" for name, count in counts.items()))
    return out


#: A telecentre this close to the head office (metres) is said to stand at its point.
AT_HEAD_OFFICE_M = 1_000.0


def _empty_notes(result: RunResult, load: np.ndarray, offered: np.ndarray) -> list[str]:
    """Why a telecentre hosts nobody ("" for those that host agents); ``offered``: its desk-days."""
    problem = result.problem
    saving = problem.saving_minutes()
    ho = result.head_office
    lon, lat = result.telecentres["lon"].to_numpy(), result.telecentres["lat"].to_numpy()
    metres = 6_371_000.0 * np.hypot(
        np.radians(lon - ho.lon) * np.cos(np.radians(ho.lat)), np.radians(lat - ho.lat)
    )
    notes = []
    for j in range(problem.n_telecentres):
        with np.errstate(invalid="ignore"):
            gains = saving[:, j] > 0
            enough = saving[:, j] >= max(problem.min_saving, 1e-9)
        if load[j] > 0:
            notes.append("")
        elif result.open_telecentres is not None and not result.open_telecentres[j]:
            notes.append("not opened: the plan does better with the telecentres it opens")
        elif offered[j] == 0:
            notes.append("offers no desk: capacity 0 or closed every weekday")
        elif not gains.any() and metres[j] <= AT_HEAD_OFFICE_M:
            notes.append(
                f"saves no agent time: it stands at the head office's point "
                f"({metres[j]:.0f} m away), so driving there is driving to the head office"
            )
        elif not gains.any():
            notes.append("saves no agent time: the head office is nearer for every agent")
        elif not enough.any():
            notes.append(
                f"no agent saves the minimum saving ({problem.min_saving:g} min a day) here"
            )
        else:
            notes.append("the agents it would save time save more elsewhere, or were not chosen")
    return notes


def _column(table: pd.DataFrame, name: str, default: object) -> np.ndarray:
    """Return a column of ``table`` as an array, or ``default`` on every row if absent."""
    if name in table:
        return table[name].to_numpy()
    return np.full(len(table), default, dtype=object if isinstance(default, str) else float)


def telecentre_table(result: RunResult, *, min_cell: int = 1) -> pd.DataFrame:
    """One row per telecentre: its desks, the agents it hosts and the desk-days used.

    Columns: ``telecentre_id, name, capacity`` (desks each weekday; with
    dedicated desks, agents hosted all week), ``assigned`` (agents),
    ``desk_days_offered`` (0 when not opened), ``desk_days_used, utilisation``
    (used / offered, never above 1; empty when nothing is offered), ``snap_m``,
    ``location, location_precision_m`` (how the telecentre was placed:
    ``coordinates``, ``address``, or ``commune``: at its town hall, with the
    commune's extent), ``communes``, then
    ``desks_mon`` .. ``desks_fri`` and ``used_mon`` .. ``used_fri`` (desks
    taken each weekday). Choosing telecentres adds ``open``.

    Parameters
    ----------
    result
        A run's result.
    min_cell
        In ``communes``, a commune with fewer of the telecentre's agents is
        grouped as ``other communes`` (shared runs: :data:`optimizer.sharing.MIN_CELL`).

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    load = result.assignment.load()
    plan = result.plan
    if plan is None:  # a hand-made result: one desk per agent, every day
        capacity = result.problem.capacities.astype(np.int64)
        desks = np.repeat(capacity[:, None], 5, axis=1)
        used = np.repeat(load[:, None], 5, axis=1)
    else:
        desks = plan.desks
        used = plan.desk_days_used()
        capacity = (
            result.problem.capacities.astype(np.int64)
            if plan.dedicated
            else result.telecentres["capacity"].to_numpy(np.int64)
        )
    opened = (
        np.ones(len(load), bool)
        if result.open_telecentres is None
        else np.asarray(result.open_telecentres, bool)
    )
    offered, taken = desks.sum(axis=1) * opened, used.sum(axis=1)  # closed ones offer none
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(offered > 0, taken / np.maximum(offered, 1), np.nan)
    table = pd.DataFrame(
        {
            "telecentre_id": list(result.problem.telecentre_ids),
            "name": result.telecentres["name"].to_numpy(),
            "capacity": capacity,
            "assigned": load,
            "desk_days_offered": offered,
            "desk_days_used": taken,
            "utilisation": utilisation.round(3),
            "snap_m": result.travel.destinations["snap_m"].to_numpy()[: len(load)].round(0),
            "location": _column(result.telecentres, "location", "coordinates"),
            "location_precision_m": _column(result.telecentres, "location_precision_m", np.nan),
        }
    )
    table["communes"] = _communes_served(result, min_cell=min_cell)
    table["note"] = _empty_notes(result, load, offered)
    if result.open_telecentres is not None:
        table["open"] = np.where(result.open_telecentres, "yes", "no")
    for d, day in enumerate(WEEKDAYS):
        table[f"desks_{day}"] = desks[:, d]
    for d, day in enumerate(WEEKDAYS):
        table[f"used_{day}"] = used[:, d]
    return table
