"""Result tables and the files the ``assign`` command writes.

Every table keeps every input agent, in input order, with a status and a
reason. No table carries home coordinates. Files are written atomically (a
temporary file in the same folder, then a rename), and only once every table
has been computed, so a run that fails leaves the previous results whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.inputs import WEEKDAYS
from optimizer.model import HEAD_OFFICE, candidate_ranking
from optimizer.pipeline import RunResult
from optimizer.replan import changes_table

logger = logging.getLogger(__name__)

ALLOCATION_FILE = "allocation.csv"
TELECENTRES_FILE = "telecentres.csv"
TRAVEL_FILE = "travel_times.csv"
SUMMARY_FILE = "summary.json"
RANKING_FILE = "ranking.csv"
SCHEDULE_FILE = "schedule.csv"
CHANGES_FILE = "changes.csv"
FRONTIER_FILE = "frontier.csv"

OBJECTIVE_TEXT = {
    "minutes": "round-trip minutes saved per week (preference bonus included)",
    "km": "round-trip km saved per week (preference bonus included)",
    "travel": "minutes driven per week by all agents (preference bonus deducted)",
}

APPROXIMATE_WARNING = (
    "APPROXIMATE road network: not real roads (communes linked to their neighbours, "
    "lengths from a detour factor). Use a real OpenStreetMap network for decisions."
)


def allocation_table(result: RunResult) -> pd.DataFrame:
    """One row per input agent, in input order: where it goes and what it saves.

    Columns: ``agent_id, status, telecentre_id, minutes_to_telecentre,
    km_to_telecentre, minutes_to_head_office, km_to_head_office,
    minutes_saved_per_day, km_saved_per_day, telework_days, snap_m, reason``.
    Minutes and km are one way, home to destination; savings are round trip;
    ``snap_m`` is the straight access leg from home to the nearest road.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    problem, assignment = result.problem, result.assignment
    rows = np.arange(problem.n_agents)
    chosen = assignment.telecentre
    has = chosen >= 0
    col = np.where(has, chosen, 0)

    def pick(matrix: np.ndarray) -> np.ndarray:
        return np.where(has, matrix[rows, col], np.nan)

    tc_ids = np.array(problem.telecentre_ids, dtype=object)
    return pd.DataFrame(
        {
            "agent_id": list(problem.agent_ids),
            "status": np.where(has, "assigned", "not_assigned"),
            "telecentre_id": np.where(has, tc_ids[col], ""),
            "minutes_to_telecentre": pick(problem.minutes_to).round(1),
            "km_to_telecentre": pick(_or_nan(problem.km_to, problem.minutes_to)).round(2),
            "minutes_to_head_office": problem.head_office_minutes_to.round(1),
            "km_to_head_office": _or_nan(
                problem.head_office_km_to, problem.head_office_minutes_to
            ).round(2),
            "minutes_saved_per_day": pick(problem.saving_minutes()).round(1),
            "km_saved_per_day": pick(problem.saving_km()).round(2),
            "telework_days": problem.days,
            "snap_m": result.travel.origins["snap_m"].to_numpy().round(0),
            "reason": list(assignment.reasons),
        }
    )


def _or_nan(values: np.ndarray | None, like: np.ndarray) -> np.ndarray:
    return np.full(like.shape, np.nan) if values is None else values


def telecentre_table(result: RunResult) -> pd.DataFrame:
    """One row per telecentre: ``telecentre_id, name, capacity, assigned, utilisation, snap_m``.

    Choosing telecentres adds ``open``; a weekly plan adds ``desks_mon`` ..
    ``desks_fri`` and the agents present each day, ``present_mon`` .. ``present_fri``.

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    pandas.DataFrame
        The table; utilisation is assigned / capacity (empty when capacity is 0).
    """
    load = result.assignment.load()
    capacity = result.problem.capacities.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(capacity > 0, load / np.maximum(capacity, 1), np.nan)
    table = pd.DataFrame(
        {
            "telecentre_id": list(result.problem.telecentre_ids),
            "name": result.telecentres["name"].to_numpy(),
            "capacity": capacity,
            "assigned": load,
            "utilisation": utilisation.round(3),
            "snap_m": result.travel.destinations["snap_m"].to_numpy()[: len(load)].round(0),
        }
    )
    if result.open_telecentres is not None:
        table["open"] = np.where(result.open_telecentres, "yes", "no")
    if result.plan is not None:
        occupancy = result.plan.occupancy()
        desk_days = result.plan.desks.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            table["utilisation"] = np.where(
                desk_days > 0, occupancy.sum(axis=1) / np.maximum(desk_days, 1), np.nan
            ).round(3)  # desk-days used / desk-days offered
        for d, day in enumerate(WEEKDAYS):
            table[f"desks_{day}"] = result.plan.desks[:, d]
            table[f"present_{day}"] = occupancy[:, d]
    return table


def travel_times_table(result: RunResult) -> pd.DataFrame:
    """One row per agent and destination (``head_office`` for the head office).

    Columns: ``agent_id, destination_id, minutes_to, km_to, minutes_back,
    km_back, reason`` (the reason is empty where the pair is routed).

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    table = result.travel.table.rename(columns={"origin_id": "agent_id"}).copy()
    for column in ("minutes_to", "minutes_back"):
        table[column] = table[column].round(2)
    for column in ("km_to", "km_back"):
        table[column] = table[column].round(3)
    return table


def ranking_table(result: RunResult) -> pd.DataFrame:
    """Rank volunteers by commute to the head office (:func:`optimizer.model.candidate_ranking`).

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    pandas.DataFrame
        The ranking, longest commute first.
    """
    return candidate_ranking(result.problem)


def summary(result: RunResult, allocation: pd.DataFrame | None = None) -> dict[str, Any]:
    """Describe the run for JSON: inputs, network, solver, totals, timings.

    Parameters
    ----------
    result
        A run's result.
    allocation
        The allocation table, if already computed.

    Returns
    -------
    dict
        The summary.
    """
    allocation = allocation_table(result) if allocation is None else allocation
    problem, assignment, network = result.problem, result.assignment, result.network
    assigned = allocation["status"] == "assigned"
    weekly_min, weekly_km = weekly_savings(result)
    reasons = allocation.loc[~assigned, "reason"].value_counts().sort_index()
    snaps = result.travel.origins["snap_m"]
    return {
        "inputs": {
            **result.sources,
            "agents": int(problem.n_agents),
            "telecentres": int(problem.n_telecentres),
            "head_office": {
                "name": result.head_office.name,
                "lon": result.head_office.lon,
                "lat": result.head_office.lat,
            },
        },
        "network": {
            "source": network.source,
            "approximate": network.approximate,
            "warning": APPROXIMATE_WARNING if network.approximate else "",
            "speed_profile": network.speed_profile,
            "nodes": network.graph.number_of_nodes(),
            "edges": network.graph.number_of_edges(),
            "dropped_nodes_not_strongly_connected": network.dropped_nodes,
            "access_leg_m": {"median": _r(snaps.median()), "max": _r(snaps.max())},
        },
        "options": {
            "select": problem.select,
            "max_minutes": problem.max_minutes,
            "min_saving": problem.min_saving,
            "objective": problem.objective,
            "must_assign": int(problem.must.sum()),
            "preferred_pairs": int(np.asarray(problem.preferred[0]).size)
            if problem.preferred
            else 0,
            "forbidden_pairs": int(np.asarray(problem.forbidden[0]).size)
            if problem.forbidden
            else 0,
            "preference_bonus": problem.preference_bonus,
            "no_worse_off": problem.no_worse_off,
            "move_penalty": problem.move_penalty,
        },
        "mode": result.mode,
        "open_telecentres": (
            [t for t, o in zip(problem.telecentre_ids, result.open_telecentres, strict=True) if o]
            if result.open_telecentres is not None
            else None
        ),
        "solver": {
            "engine": assignment.engine,
            "status": assignment.status,
            "objective": OBJECTIVE_TEXT[problem.objective],
            "objective_value": round(assignment.objective_value, 2),
            "best_bound": round(assignment.best_bound, 2),
            "gap": round(assignment.gap, 6),
            "solve_seconds": round(assignment.solve_seconds, 4),
        },
        "totals": {
            "agents": int(problem.n_agents),
            "assigned": int(assigned.sum()),
            "not_assigned": int((~assigned).sum()),
            "not_assigned_by_reason": {str(k): int(v) for k, v in reasons.items()},
            "desks": int(problem.capacities.sum()),
            "desk_days_per_week": (
                int(result.plan.desks.sum()) if result.plan is not None else None
            ),
            "minutes_saved_per_week": round(weekly_min, 1),
            "hours_saved_per_week": round(weekly_min / 60.0, 2),
            "km_saved_per_week": round(weekly_km, 1),
        },
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
    }


def weekly_savings(result: RunResult) -> tuple[float, float]:
    """Round-trip minutes and km saved a week by the assigned agents (unrounded).

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    tuple of float
        ``(minutes, km)``.
    """
    problem, chosen = result.problem, result.assignment.telecentre
    agents = np.flatnonzero(chosen >= 0)
    days = problem.days[agents]
    minutes = float((problem.saving_minutes()[agents, chosen[agents]] * days).sum())
    km = float((problem.saving_km()[agents, chosen[agents]] * days).sum())
    return minutes, km


def _r(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 1)


def write_outputs(
    result: RunResult,
    out_dir: str | Path,
    *,
    extra_timings: Mapping[str, float] | None = None,
    pseudonymise_salt: str | None = None,
    frontier: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write the result files: allocation, telecentres, travel times, ranking, summary.

    Every table is computed first; then each file is written to a temporary
    file in ``out_dir``, and only when all are written are they renamed into
    place. A run that fails leaves the previous results whole.

    Parameters
    ----------
    result
        A run's result.
    out_dir
        Folder to write into (created if needed).
    extra_timings
        More timings for the summary (e.g. the command's wall time so far).
    pseudonymise_salt
        When given, agent ids are replaced by :func:`pseudonym` of the id with
        this salt in every file.
    frontier
        A saving/fairness frontier (:func:`optimizer.fairness.frontier`) to write
        as ``frontier.csv``.

    Returns
    -------
    dict
        File name to path written.
    """
    allocation = allocation_table(result)
    tables = {
        ALLOCATION_FILE: allocation,
        TELECENTRES_FILE: telecentre_table(result),
        TRAVEL_FILE: travel_times_table(result),
        RANKING_FILE: ranking_table(result),
    }
    if result.plan is not None:
        tables[SCHEDULE_FILE] = result.plan.schedule_table()
    if result.previous is not None:
        tables[CHANGES_FILE] = changes_table(
            result.previous,
            allocation,
            result.telecentres,
            move_penalty=result.problem.move_penalty,
        )
    if frontier is not None:
        tables[FRONTIER_FILE] = frontier
    info = summary(result, allocation)
    info["privacy"] = {
        "home_coordinates_in_outputs": False,
        "agent_ids_pseudonymised": pseudonymise_salt is not None,
    }
    if extra_timings:
        info["timings_s"].update({k: round(v, 4) for k, v in extra_timings.items()})
    if pseudonymise_salt is not None:
        for name in (ALLOCATION_FILE, TRAVEL_FILE, RANKING_FILE, SCHEDULE_FILE, CHANGES_FILE):
            if name not in tables:
                continue
            frame = tables[name].copy()
            frame["agent_id"] = [pseudonym(a, pseudonymise_salt) for a in frame["agent_id"]]
            tables[name] = frame
    contents = {
        name: frame.to_csv(index=False, lineterminator="\n") for name, frame in tables.items()
    }
    contents[SUMMARY_FILE] = json.dumps(info, indent=2, ensure_ascii=False) + "\n"
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        msg = f"--out: '{folder}' is a file, not a folder. Give a folder for the results."
        raise InputError(msg)
    folder.mkdir(parents=True, exist_ok=True)
    written = write_all_atomic({folder / name: text for name, text in contents.items()})
    logger.info("wrote %d files to %s", len(written), folder)
    return {path.name: path for path in written}


def pseudonym(agent_id: str, salt: str) -> str:
    """Return a stable pseudonym of ``agent_id``: ``P`` + 12 hex digits of SHA-256(salt, id).

    The same salt gives the same pseudonym run after run, so results can be
    compared; without the salt, the id cannot be recovered from it.

    Parameters
    ----------
    agent_id
        The id.
    salt
        The planner's secret.

    Returns
    -------
    str
        The pseudonym.
    """
    digest = hashlib.sha256(f"{salt}\x00{agent_id}".encode()).hexdigest()
    return f"P{digest[:12]}"


def write_all_atomic(contents: Mapping[Path, str]) -> list[Path]:
    """Write several files so that either all are replaced or none is.

    Parameters
    ----------
    contents
        Path to text (UTF-8).

    Returns
    -------
    list of pathlib.Path
        The paths written.
    """
    temporary: dict[Path, Path] = {}
    try:
        for path, text in contents.items():
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temporary[path] = Path(name)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
    except BaseException:
        for leftover in temporary.values():
            leftover.unlink(missing_ok=True)
        raise
    for path, done in temporary.items():
        done.replace(path)
    return list(contents)


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename.

    Parameters
    ----------
    path
        Target file.
    text
        Content.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_all_atomic({path: text})[0]


__all__ = [
    "ALLOCATION_FILE",
    "HEAD_OFFICE",
    "RANKING_FILE",
    "SUMMARY_FILE",
    "TELECENTRES_FILE",
    "TRAVEL_FILE",
    "allocation_table",
    "pseudonym",
    "ranking_table",
    "summary",
    "telecentre_table",
    "travel_times_table",
    "write_all_atomic",
    "write_atomic",
    "write_outputs",
]
