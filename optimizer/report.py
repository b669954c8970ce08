"""Result tables and the files the ``assign`` command writes.

Every table keeps every input agent, in input order, with a status and a
reason. No table carries home coordinates. Every table is computed first;
then the files are published as one whole run (:mod:`optimizer.publish`), so
the output folder holds the previous run or the new one, never a mix.

Every CSV file goes through the one writer, :func:`optimizer.csvout.csv_text`:
cells a spreadsheet would run as a formula are neutralised (at the start of
the cell and of every line inside it), reversibly, and cells holding a line
break are quoted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.csvout import CSV_STYLES, CsvStyle, csv_text, neutralise_formulas
from optimizer.i18n import Lang, localise_summary, localise_table
from optimizer.inputs import WEEKDAYS
from optimizer.model import HEAD_OFFICE, AssignmentProblem, candidate_ranking, counted, explain
from optimizer.pipeline import RunResult, choosing_rule
from optimizer.publish import OutputFolder
from optimizer.replan import changes_table, no_match_warning, replan_counts
from optimizer.sharing import (
    MIN_CELL,
    SHARED_EXTENT_STEP_M,
    SNAP_STEP_M,
    precision_note,
    shared_result,
    sort_by_pseudonym,
)
from optimizer.tables import (  # the shared tables and file names live there
    ALLOCATION_FILE,
    APPROXIMATE_WARNING,
    CHANGES_FILE,
    FRONTIER_FILE,
    GPKG_FILE,
    ILLUSTRATIVE_WARNING,
    MAP_HTML,
    MAP_PNG,
    OWN_FILES,
    RANKING_FILE,
    SCHEDULE_FILE,
    SUMMARY_FILE,
    SYNTHETIC_WARNING,
    TELECENTRES_FILE,
    TRAVEL_FILE,
    _column,
    made_up,
    telecentre_table,
)
from optimizer.ties import TIE_LOST, TIE_RULE
from optimizer.uncertainty import Robustness

logger = logging.getLogger(__name__)

OBJECTIVE_TEXT = {
    "minutes": "round-trip minutes saved per week (preference bonus included)",
    "km": "round-trip km saved per week (preference bonus included)",
    "travel": "minutes driven per week by all agents (preference bonus deducted)",
}

#: How many ids a warning about agents names at most.
IDS_SHOWN = 5


def off_network_warning(result: RunResult, rename: Callable[[str], str] | None = None) -> str:
    """Warn about the agents whose homes are too far from every road to be routed ("" if none).

    Parameters
    ----------
    result
        A run's result.
    rename
        Shows an agent id (shared runs: its pseudonym).

    Returns
    -------
    str
        The warning, with their count and the first :data:`IDS_SHOWN` ids.
    """
    off = np.flatnonzero(~result.travel.origins["routed"].to_numpy(bool))
    if off.size == 0:
        return ""
    ids = [str(result.problem.agent_ids[i]) for i in off.tolist()]
    shown = [rename(a) if rename else a for a in ids[:IDS_SHOWN]]
    more = f" and {len(ids) - IDS_SHOWN} more" if len(ids) > IDS_SHOWN else ""
    return (
        f"{counted(len(ids), 'agent')} off the road network (home more than "
        f"{result.options.max_snap_m / 1000:g} km from its roads: outside its area?) "
        f"cannot be placed: {', '.join(shown)}{more}. Check their coordinates, or give a "
        "--network that covers them."
    )


def plan_notes(
    result: RunResult, allocation: pd.DataFrame | None = None, *, whole_minutes: bool = False
) -> dict[str, Any]:
    """Say what each mode decided, in figures and in the sentences the command prints.

    Choosing telecentres: which to open. ``--minimax``: the longest one-way
    drive reached. ``--select K`` placing fewer than K: why. The figures are
    those of the output tables (``allocation.csv``, ``telecentres.csv``).

    Parameters
    ----------
    result
        A run's result.
    allocation
        The allocation table, if already computed.
    whole_minutes
        Give the longest drive in whole minutes, rounded up (shared runs: it
        is one agent's drive).

    Returns
    -------
    dict
        ``open_telecentres`` and ``chosen_by`` (None unless telecentres were
        chosen), ``longest_drive_minutes`` (None when no agent is assigned),
        ``selection`` (None without ``--select``) and ``lines``: one sentence
        each, in that order.
    """
    allocation = allocation_table(result) if allocation is None else allocation
    problem, opts = result.problem, result.options
    lines = []
    open_ids = chosen_by = None
    if result.open_telecentres is not None:
        flags = np.asarray(result.open_telecentres, bool)
        open_ids = [t for t, o in zip(problem.telecentre_ids, flags, strict=True) if o]
        closed = [t for t, o in zip(problem.telecentre_ids, flags, strict=True) if not o]
        chosen_by = choosing_rule(opts, "opening_cost" in result.telecentres) or "chosen"
        lines.append(
            f"Telecentres to open ({chosen_by}): {', '.join(open_ids) or 'none'}"
            + (f"; not opened: {', '.join(closed)}." if closed else ".")
        )
    assigned = allocation["status"] == "assigned"
    longest = (
        float(allocation.loc[assigned, "minutes_to_telecentre"].max()) if assigned.any() else None
    )
    if longest is not None and whole_minutes:
        longest = float(np.ceil(longest))
    if result.mode == "minimax":
        limit = f"; --max-minutes {opts.max_minutes:g}" if opts.max_minutes is not None else ""
        placing = counted(int(assigned.sum()), "agent")
        proven = result.assignment.status == "optimal"
        lines.append(
            f"Longest one-way drive to a telecentre: {longest:.1f} min (--minimax: "
            + (
                f"the shortest any plan placing {placing} allows"
                if proven
                else f"the shortest found for {placing} in the time limit, not proven shortest"
            )
            + f"{limit})."
            if longest is not None
            else f"Longest one-way drive to a telecentre: none (--minimax placed no agent{limit})."
        )
    selection = _selection(result, allocation)
    if selection is not None and selection["sentence"]:
        lines.append(selection["sentence"])
    return {
        "open_telecentres": open_ids,
        "chosen_by": chosen_by,
        "longest_drive_minutes": None if longest is None else round(longest, 1),
        "selection": selection,
        "lines": lines,
    }


def _selection(result: RunResult, allocation: pd.DataFrame) -> dict[str, Any] | None:
    """``--select K``: how many were selected and placed, and why fewer than K, if so."""
    opts = result.options
    if opts.select is None:
        return None
    assigned = (allocation["status"] == "assigned").to_numpy()
    placed, wanted = int(assigned.sum()), int(opts.select)
    reasons = allocation["reason"]
    out: dict[str, Any] = {"select": wanted, "select_by": opts.select_by, "placed": placed}
    free = telecentre_table(result)
    free_days = int((free["desk_days_offered"] - free["desk_days_used"]).sum())
    if opts.select_by == "commute" and result.selected is not None:
        chosen = np.asarray(result.selected, bool)
        left = chosen & ~assigned
        full = left & reasons.str.startswith("capacity full").to_numpy()
        out.update(
            selected=int(chosen.sum()),
            selected_left_out=int(left.sum()),
            selected_left_out_capacity_full=int(full.sum()),
        )
        if placed >= wanted:
            out["sentence"] = ""
            return out
        why = []
        if chosen.sum() < wanted:
            why.append(
                f"only {counted(int(chosen.sum()), 'agent')} gain from a telecentre open on "
                "their days"
            )
        if full.any():
            days = "" if opts.dedicated_desks else " on their days"
            why.append(
                f"{int(full.sum())} of the selected had no free desk{days} at a telecentre "
                f"that saves them time (the {free_days} desk-days left free are at "
                "telecentres or on days that do not serve them)"
            )
        if (left & ~full).any():
            counts = reasons[left & ~full].map(_reason_label).value_counts()
            why.append(
                f"{int((left & ~full).sum())} of the selected were left out for other reasons ("
                + ", ".join(f"{n} {r}" for r, n in counts.items())
                + ")"
            )
        out["sentence"] = (
            f"--select {wanted} --select-by commute: {placed} of the "
            f"{int(chosen.sum())} selected placed, not {wanted}: " + "; ".join(why) + "."
        )
        return out
    if placed >= wanted:
        out["sentence"] = ""
        return out
    counts = reasons[~assigned].map(_reason_label).value_counts()
    out["sentence"] = (
        f"--select {wanted}: {placed} placed, not {wanted}; the "
        f"{counted(int((~assigned).sum()), 'agent')} left out: "
        + ", ".join(f"{n} {r}" for r, n in counts.items())
        + " (allocation.csv says why, agent by agent)."
    )
    return out


def replan_summary(
    result: RunResult, allocation: pd.DataFrame | None = None
) -> dict[str, Any] | None:
    """Say what a re-plan changed: the previous file; how many agents stayed, moved, joined, left.

    Parameters
    ----------
    result
        A run's result.
    allocation
        The allocation table, if already computed.

    Returns
    -------
    dict or None
        ``previous_file, move_penalty, day_change_penalty,
        previous_weekdays_known, matched, stayed, stayed_same_weekdays,
        stayed_other_weekdays, moved, added, removed, joined, left`` and
        ``warning`` (when no agent matched), or None when the run is not a
        re-plan.
    """
    if result.previous is None:
        return None
    allocation = allocation_table(result) if allocation is None else allocation
    changes = replan_changes(result, allocation)
    source = result.sources.get("previous_file", "given")
    return {
        "previous_file": source,
        "move_penalty": result.problem.move_penalty,
        "day_change_penalty": result.options.day_change_penalty,
        "previous_weekdays_known": bool(result.previous.attrs.get("weekdays_known", False)),
        **replan_counts(changes, result.previous, allocation),
        "warning": no_match_warning(result.previous, list(result.problem.agent_ids), source),
    }


def replan_changes(result: RunResult, allocation: pd.DataFrame | None = None) -> pd.DataFrame:
    """Build the ``changes.csv`` table of a re-plan (:func:`optimizer.replan.changes_table`).

    Parameters
    ----------
    result
        A re-plan's result (``result.previous`` given).
    allocation
        The allocation table of the true ids, if already computed.

    Returns
    -------
    pandas.DataFrame
        The table.
    """
    if result.previous is None:
        msg = "changes asked of a run that is no re-plan (no previous allocation); this is a bug."
        raise RuntimeError(msg)
    return changes_table(
        result.previous,
        allocation_table(result) if allocation is None else allocation,
        result.telecentres,
        move_penalty=result.problem.move_penalty,
        schedule=result.plan.schedule_table() if result.plan is not None else None,
        day_change_penalty=result.options.day_change_penalty,
    )


def allocation_table(result: RunResult) -> pd.DataFrame:
    """One row per input agent, in input order: where it goes and what it saves.

    Columns: ``agent_id, status, telecentre_id, minutes_to_telecentre,
    km_to_telecentre, minutes_to_head_office, km_to_head_office,
    minutes_saved_per_day, km_saved_per_day, telework_days, snap_m, location,
    location_precision_m, reason``. Minutes and km are one way, home to
    destination; savings are round trip; ``snap_m`` is the straight access leg
    from home to the nearest road; ``location`` says how the home was placed
    (``coordinates``, or ``commune``: at its town hall, with
    ``location_precision_m`` the largest distance from there to the commune's
    boundary).

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
    minutes_day = pick(problem.saving_minutes())
    km_day = pick(problem.saving_km())
    benefits = weekly_benefits(minutes_day, km_day, problem.days)
    table = pd.DataFrame(
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
            "minutes_saved_per_day": minutes_day.round(1),
            "km_saved_per_day": km_day.round(2),
            "telework_days": problem.days,
            "snap_m": result.travel.origins["snap_m"].to_numpy().round(0),
            "location": _column(result.agents, "location", "coordinates"),
            "location_precision_m": _column(result.agents, "location_precision_m", np.nan),
            "reason": list(assignment.reasons),
            "tie_won_by": _tie_winners(result),
        }
    )
    if result.workplaces is not None:  # savings are against each agent's own workplace
        place = _column(result.agents, "workplace_id", "").astype(str)
        table.insert(
            list(table.columns).index("minutes_to_head_office"),
            "workplace_id",
            np.where(place == "", HEAD_OFFICE, place),
        )
    for name, values in benefits.items():
        table[name] = values.round(2)
    table["explanation"] = explanations(
        problem,
        chosen,
        reasons=assignment.reasons,
        days=result.plan.days if result.plan is not None else None,
    )
    if result.workplaces is not None:
        table["explanation"] = table["explanation"].str.replace(
            "against the head office", "against its workplace", regex=False
        )
    return table


def _tie_winners(result: RunResult) -> list[str]:
    """Each agent left out for an equal: the id of the equal placed instead ("" otherwise)."""
    ids = result.problem.agent_ids
    out = [""] * len(ids)
    if result.ties is not None:
        for loser, (winner, _) in result.ties.lost.items():
            out[loser] = ids[winner]
    return out


def _reason_label(reason: str) -> str:
    """Return a reason's first words, for counts in a sentence (a tie names no one)."""
    return "tie lost to an equal" if reason.startswith(TIE_LOST) else reason.split(":")[0]


def reason_kind(reason: str) -> str:
    """Return a reason without the agent it names, for counts (ties lost read alike).

    Parameters
    ----------
    reason
        A ``reason`` of ``allocation.csv``.

    Returns
    -------
    str
        The reason, or for a tie lost, the same words for every winner.
    """
    if not reason.startswith(TIE_LOST):
        return reason
    return f"{TIE_LOST}an equal; decided by {reason.rsplit('decided by ', 1)[-1]}"


BENEFIT_COLUMNS = (
    "hours_saved_per_week",
    "km_saved_per_week",
    "kg_co2_saved_per_week",
    "eur_saved_per_week",
    "hours_saved_per_year",
    "km_saved_per_year",
    "kg_co2_saved_per_year",
    "eur_saved_per_year",
)


def mileage_eur(km_per_year: np.ndarray) -> np.ndarray:
    """Value of kilometres a year at the civil-service mileage rates, band by band.

    Parameters
    ----------
    km_per_year
        Kilometres a year (NaN stays NaN).

    Returns
    -------
    numpy.ndarray
        Euros a year (:data:`optimizer.settings.MILEAGE_TIERS`).
    """
    km = np.asarray(km_per_year, dtype=float)
    out = np.zeros_like(km)
    lower = 0.0
    for upper, rate in settings.MILEAGE_TIERS:
        out += np.clip(km - lower, 0.0, upper - lower) * rate
        lower = upper
    return np.where(np.isnan(km), np.nan, out)


def weekly_benefits(
    minutes_per_day: np.ndarray, km_per_day: np.ndarray, days: np.ndarray
) -> dict[str, np.ndarray]:
    """Hours, km, kgCO2e and euros saved per week and per year, per agent.

    Per week: the round-trip saving per telework day times the telework days.
    Per year: times :data:`optimizer.settings.WORKING_WEEKS_PER_YEAR`. CO2 at
    :data:`optimizer.settings.CO2_KG_PER_KM` (ADEME); euros at the
    civil-service mileage rates (:func:`mileage_eur`, on the yearly km).

    Parameters
    ----------
    minutes_per_day, km_per_day
        Round-trip saving per telework day (NaN when not assigned).
    days
        Telework days a week.

    Returns
    -------
    dict
        Column name to values (:data:`BENEFIT_COLUMNS`).
    """
    weeks = settings.WORKING_WEEKS_PER_YEAR
    km_week = km_per_day * days
    km_year = km_week * weeks
    eur_year = mileage_eur(km_year)
    return {
        "hours_saved_per_week": minutes_per_day * days / 60.0,
        "km_saved_per_week": km_week,
        "kg_co2_saved_per_week": km_week * settings.CO2_KG_PER_KM,
        "eur_saved_per_week": eur_year / weeks,
        "hours_saved_per_year": minutes_per_day * days / 60.0 * weeks,
        "km_saved_per_year": km_year,
        "kg_co2_saved_per_year": km_year * settings.CO2_KG_PER_KM,
        "eur_saved_per_year": eur_year,
    }


def explanations(
    problem: AssignmentProblem,
    chosen: np.ndarray,
    *,
    reasons: tuple[str, ...] | None = None,
    days: np.ndarray | None = None,
) -> list[str]:
    """One line per agent: why this telecentre and what the next best option was.

    An agent left out is explained by its reason (the ``reason`` column), and
    the telecentre that would save it the most, when one saves time at all,
    so the two never contradict each other.

    Parameters
    ----------
    problem
        The problem solved.
    chosen
        Each agent's telecentre index (-1: none).
    reasons
        Each agent's reason (default: :func:`optimizer.model.explain`).
    days
        ``(n_agents, 5)`` booleans: the weekdays of each agent, when planned.

    Returns
    -------
    list of str
        The explanations.
    """
    saving = problem.saving_minutes()
    eligible = problem.eligible()
    ids = problem.telecentre_ids
    reasons = explain(problem, chosen) if reasons is None else reasons
    lines = []
    for i, j in enumerate(chosen.tolist()):
        if j >= 0:
            options = np.where(eligible[i], saving[i], -np.inf)
            others = [
                int(k)
                for k in np.argsort(-options, kind="stable")
                if np.isfinite(options[k]) and k != j
            ]
            line = (
                f"{ids[j]} saves {saving[i, j]:.0f} min a day (round trip) against the head office"
            )
            if days is not None and days[i].any():
                line += " on " + ", ".join(WEEKDAYS[d] for d in np.flatnonzero(days[i]))
            if others:
                k = others[0]
                line += f"; next best {ids[k]} would save {saving[i, k]:.0f} min"
            else:
                line += "; no other telecentre is open to this agent"
        else:
            line = f"not assigned ({reasons[i].split(':')[0]})"
            row = np.where(np.isfinite(saving[i]), saving[i], -np.inf)
            k = int(np.argmax(row))
            if row[k] > 0:
                line += (
                    f"; the telecentre saving the most would be {ids[k]} ({row[k]:.0f} min a day)"
                )
        lines.append(line)
    return lines


def _or_nan(values: np.ndarray | None, like: np.ndarray) -> np.ndarray:
    return np.full(like.shape, np.nan) if values is None else values


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

    With workplaces, the commute is to each agent's own workplace (``workplace_id``).

    Parameters
    ----------
    result
        A run's result.

    Returns
    -------
    pandas.DataFrame
        The ranking, longest commute first.
    """
    table = candidate_ranking(result.problem)
    if result.workplaces is not None:
        place = dict(
            zip(
                result.agents["agent_id"].astype(str),
                _column(result.agents, "workplace_id", "").astype(str),
                strict=True,
            )
        )
        table.insert(
            list(table.columns).index("minutes_to_head_office"),
            "workplace_id",
            [place.get(a) or HEAD_OFFICE for a in table["agent_id"].astype(str)],
        )
    return table


def summary(
    result: RunResult,
    allocation: pd.DataFrame | None = None,
    *,
    rename: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """Describe the run for JSON: inputs, network, solver, totals, timings.

    Parameters
    ----------
    result
        A run's result.
    allocation
        The allocation table, if already computed.
    rename
        Shows an agent id in a warning (shared runs: its pseudonym).

    Returns
    -------
    dict
        The summary.
    """
    allocation = allocation_table(result) if allocation is None else allocation
    problem, assignment, network = result.problem, result.assignment, result.network
    assigned = allocation["status"] == "assigned"
    weekly_min, weekly_km = weekly_savings(result)
    reasons = allocation.loc[~assigned, "reason"].map(reason_kind).value_counts().sort_index()
    snaps = result.travel.origins["snap_m"]
    centres = telecentre_table(result)
    warnings = made_up(result)
    off_network = off_network_warning(result, rename)
    notes = plan_notes(result, allocation, whole_minutes=rename is not None)
    replan = replan_summary(result, allocation)
    outcome = solver_outcome(
        assignment.status,
        assignment.objective_value,
        assignment.best_bound,
        minimise=problem.objective == "travel",
    )
    roster = list(result.agents.attrs.get("warnings", []))  # columns not read, homonyms
    return {
        "warnings": warnings
        + roster
        + ([replan["warning"]] if replan and replan["warning"] else [])
        + ([off_network] if off_network else []),
        "inputs": {
            **result.sources,
            "agents_columns_not_read": list(result.agents.attrs.get("columns_not_read", [])),
            "synthetic_roster": SYNTHETIC_WARNING in warnings,
            "illustrative_capacities": ILLUSTRATIVE_WARNING in warnings,
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
            "speed_model": network.speed_model.describe(),
            "nodes": network.n_nodes,
            "edges": network.n_edges,
            # the entry only: whether this run read or wrote it is in timings_s
            # (cache_read_s), so that two runs of one plan write the same summary
            "prepared_network_cache": network.cache.partition(" ")[2] or "not used",
            "dropped_nodes_not_strongly_connected": network.dropped_nodes,
            "access_leg_m": {"median": _r(snaps.median()), "max": _r(snaps.max())},
        },
        "options": {
            **{
                name: value
                for name, value in asdict(result.options).items()
                if name not in ("select", "max_minutes")
            },
            "capacity_policy": result.options.capacity_policy,
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
        "ties": _ties_summary(result),
        "replan": replan,
        "open_telecentres": notes["open_telecentres"],
        "telecentres_chosen_by": notes["chosen_by"],
        "selection": (
            {k: v for k, v in notes["selection"].items() if k != "sentence"}
            | {"why_fewer": notes["selection"]["sentence"]}
            if notes["selection"] is not None
            else None
        ),
        "longest_drive_minutes": notes["longest_drive_minutes"],
        "statements": notes["lines"],
        "solver": {
            "engine": assignment.engine,
            "objective": OBJECTIVE_TEXT[problem.objective],
            **outcome,
            "proven_optimal": outcome["status"] == "optimal",
            "solve_seconds": round(assignment.solve_seconds, 4),
        },
        "totals": {
            "agents": int(problem.n_agents),
            "assigned": int(assigned.sum()),
            "not_assigned": int((~assigned).sum()),
            "not_assigned_by_reason": {str(k): int(v) for k, v in reasons.items()},
            "desks_each_weekday": int(centres["capacity"][centres["desk_days_offered"] > 0].sum()),
            "desk_days_offered": int(centres["desk_days_offered"].sum()),
            "desk_days_used": int(centres["desk_days_used"].sum()),
            "minutes_saved_per_week": round(weekly_min, 1),
            "hours_saved_per_week": round(weekly_min / 60.0, 2),
            "km_saved_per_week": round(weekly_km, 1),
            **{
                name: round(float(allocation[name].sum()), 1)
                for name in BENEFIT_COLUMNS
                if name.startswith(("kg_co2", "eur", "hours_saved_per_year", "km_saved_per_year"))
            },
        },
        "factors": {
            "co2_kg_per_km": settings.CO2_KG_PER_KM,
            "co2_source": "ADEME Base Carbone, average car, fuel production and combustion",
            "mileage_eur_per_km_by_band": [list(t) for t in settings.MILEAGE_TIERS[:-1]]
            + [["beyond", settings.MILEAGE_TIERS[-1][1]]],
            "mileage_source": "civil-service mileage allowance, car of 5 CV or less "
            "(arrêté of 3 July 2006 as amended 14 March 2022)",
            "working_weeks_per_year": settings.WORKING_WEEKS_PER_YEAR,
        },
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
        **({"exactness": result.exactness} if result.exactness is not None else {}),
    }


def _ties_summary(result: RunResult) -> dict[str, Any] | None:
    """Return the tie rule, its seed, and how many agents lost a tie by each step of it."""
    ties = result.ties
    if ties is None:
        return None
    return {
        "rule": TIE_RULE,
        "seed": ties.order.seed,
        "priority_column": bool("priority" in result.agents),
        "in_objective": ties.in_objective,
        "exchanges_after_solve": ties.exchanges,
        "lost": len(ties.lost),
        "lost_by": ties.counts(),
    }


def solver_outcome(status: str, value: float, bound: float, *, minimise: bool) -> dict[str, Any]:
    """Status, objective, bound and gap that never contradict one another.

    ``optimal`` means the bound equals the objective and the gap is 0; a
    plan that reaches its bound is optimal; otherwise the bound lies beyond
    the objective (above when maximising) and the gap is their relative
    distance. A bound on the wrong side is no bound: it is reported as
    missing (``null``), with the gap.

    Parameters
    ----------
    status
        The solver's status (``optimal`` or ``feasible``).
    value
        The plan's objective value.
    bound
        The best bound the solver proved.
    minimise
        Whether the objective is minimised (``travel``).

    Returns
    -------
    dict
        ``status, objective_value, best_bound, gap`` (rounded as written).
    """
    value_r, bound_r = round(value, 2), round(bound, 2)
    beyond = bound_r < value_r if minimise else bound_r > value_r
    if status == "optimal" or bound_r == value_r:
        return {"status": "optimal", "objective_value": value_r, "best_bound": value_r, "gap": 0.0}
    if not beyond or not math.isfinite(bound):
        return {"status": status, "objective_value": value_r, "best_bound": None, "gap": None}
    gap = abs(bound_r - value_r) / max(1.0, abs(bound_r))
    return {
        "status": status,
        "objective_value": value_r,
        "best_bound": bound_r,
        "gap": round(gap, 6),
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


def _step(value: float, step: float) -> float:
    return float(np.round(value / step) * step)


def _r(value: float) -> float | None:
    return None if pd.isna(value) else round(float(value), 1)


#: How CSV files are written: ``standard`` (``,`` separated, decimal points, UTF-8), or
#: ``excel-fr`` (``;`` separated, decimal commas, UTF-8 with a byte-order mark, Windows line
#: ends): what French Excel opens by a double click, accents and columns right.
def with_robustness(allocation: pd.DataFrame, robustness: Robustness) -> pd.DataFrame:
    """Add the drive-time scenario columns to an allocation table (same agents, same order).

    Parameters
    ----------
    allocation
        :func:`allocation_table` of the run.
    robustness
        The run's drive-time scenarios.

    Returns
    -------
    pandas.DataFrame
        The table with ``plan_holds`` (yes / no: the agent, or an identical
        twin of it, keeps its telecentre in every scenario),
        ``scenarios_same``, ``scenarios_twin_swap`` (scenarios in which it
        traded places with an identical twin: a tie, not a flip),
        ``saving_week_low`` and ``saving_week_high``.
    """
    extra = robustness.agents
    if list(extra["agent_id"]) != list(allocation["agent_id"]):
        msg = "drive-time scenarios and the allocation list other agents; this is a bug."
        raise RuntimeError(msg)
    out = allocation.copy()
    out["plan_holds"] = np.where(extra["holds"].to_numpy(), "yes", "no")
    for column in ("scenarios_same", "scenarios_twin_swap", "saving_week_low", "saving_week_high"):
        out[column] = extra[column].to_numpy()
    return out


def write_outputs(
    result: RunResult,
    out_dir: str | Path | OutputFolder,
    *,
    extra_timings: Mapping[str, float] | None = None,
    pseudonymise_salt: str | None = None,
    frontier: pd.DataFrame | None = None,
    maps: bool = True,
    robustness: Robustness | None = None,
    csv_style: CsvStyle = "standard",
    lang: Lang = "en",
) -> dict[str, Path]:
    """Write the result files: allocation, telecentres, travel times, ranking, summary.

    Every table is computed first; then the files are published as one whole
    run (:class:`optimizer.publish.OutputFolder`): the folder holds the
    previous run or this one, never a mix, and files of the tool's own names
    (:data:`OWN_FILES`) that this run does not write are gone. Files the user
    put in the folder stay.

    Parameters
    ----------
    result
        A run's result.
    out_dir
        Folder to write into (created if needed), or an
        :class:`~optimizer.publish.OutputFolder` whose lock the caller holds.
    extra_timings
        More timings for the summary (e.g. the command's wall time so far).
    pseudonymise_salt
        When given, the files are fit to share (:mod:`optimizer.sharing`):
        agent ids are replaced by :func:`pseudonym` of the id with this salt in
        every file, rows sorted by pseudonym; per-agent figures come from a
        point 800 to 1,600 m from the home, rounded (whole minutes, whole km,
        access legs to 100 m); communes with fewer than 3 agents are grouped
        as ``other communes`` in ``telecentres.csv`` and the maps.
    frontier
        A saving/fairness frontier (:func:`optimizer.fairness.frontier`) to write
        as ``frontier.csv``.
    maps
        Also draw ``map.png`` and ``map.html`` (:mod:`optimizer.maps`) and write
        ``assignment.gpkg`` (:mod:`optimizer.gpkg`).
    robustness
        Drive-time scenarios (:func:`optimizer.uncertainty.assess`): adds
        ``plan_holds``, ``scenarios_same``, ``scenarios_twin_swap``,
        ``saving_week_low`` and ``saving_week_high`` to ``allocation.csv`` (a
        shared run counts twin swaps in ``scenarios_same``, keeps neither
        that column nor the savings' range) and a
        ``drive_time_uncertainty`` section to ``summary.json``.
    csv_style
        How the CSV files are written (:func:`csv_text`).
    lang
        The files' language (:mod:`optimizer.i18n`): ``en``, or ``fr`` for French
        column names, values, reasons, the summary's sentences and the maps' labels
        (the summary's keys stay English).

    Returns
    -------
    dict
        File name to path written.
    """
    folder = (
        out_dir if isinstance(out_dir, OutputFolder) else OutputFolder(out_dir, own_names=OWN_FILES)
    )
    allocation = allocation_table(result)
    if robustness is not None:
        allocation = with_robustness(allocation, robustness)
    info = summary(  # the plan's totals, from the true homes
        result,
        allocation,
        rename=None if pseudonymise_salt is None else lambda a: pseudonym(a, pseudonymise_salt),
    )
    # a shared run publishes per-agent figures of displaced points (optimizer.sharing)
    shown = result if pseudonymise_salt is None else shared_result(result, pseudonymise_salt)
    min_cell = 1 if pseudonymise_salt is None else MIN_CELL
    if pseudonymise_salt is not None:
        allocation = allocation_table(shown)
        if robustness is not None:  # the scenarios' savings are the true homes': not shared
            allocation = with_robustness(allocation, robustness)
            # nor the twin swaps: they would say which agents share a home point (counted in
            # scenarios_same instead: the agent or a twin of it kept the place)
            allocation["scenarios_same"] += allocation["scenarios_twin_swap"]
            allocation = allocation.drop(
                columns=["saving_week_low", "saving_week_high", "scenarios_twin_swap"]
            )
        # a commune's exact extent would name it: whole 5 km only
        allocation["location_precision_m"] = (
            np.ceil(allocation["location_precision_m"] / SHARED_EXTENT_STEP_M)
            * SHARED_EXTENT_STEP_M
        )
        limit = info["options"]["max_minutes"]
        if result.mode == "minimax" and limit is not None:  # one agent's drive: whole minutes
            info["options"]["max_minutes"] = float(np.ceil(limit))
        # the reasons --minimax gives name one agent's drive to 0.1 min: not shared
        allocation["reason"] = allocation["reason"].map(shared_reason)
        info["totals"]["not_assigned_by_reason"] = {
            shared_reason(k): v for k, v in info["totals"]["not_assigned_by_reason"].items()
        }
        snaps = shown.travel.origins["snap_m"]
        info["network"]["access_leg_m"] = {
            "median": _r(_step(snaps.median(), SNAP_STEP_M)),
            "max": _r(_step(snaps.max(), SNAP_STEP_M)),
        }
    tables = {
        ALLOCATION_FILE: allocation,
        TELECENTRES_FILE: telecentre_table(shown, min_cell=min_cell),
        TRAVEL_FILE: travel_times_table(shown),
        RANKING_FILE: ranking_table(shown),
    }
    if result.plan is not None:
        tables[SCHEDULE_FILE] = result.plan.schedule_table()
    if result.previous is not None:
        tables[CHANGES_FILE] = replan_changes(result)
    if frontier is not None:
        tables[FRONTIER_FILE] = frontier
        if pseudonymise_salt is not None:  # each limit and longest drive is one agent's drive
            drives = [c for c in ("max_minutes", "longest_drive") if c in frontier]
            tables[FRONTIER_FILE] = frontier.assign(**{c: frontier[c].round() for c in drives})
    info["privacy"] = {
        "home_coordinates_in_outputs": False,
        "gpkg_allocation_points": (
            None
            if not maps
            else "per telecentre and commune, at the town hall"
            if pseudonymise_salt is not None
            else "per agent, at the home's road access (the town hall for a home by commune)"
        ),
        "agent_ids_pseudonymised": pseudonymise_salt is not None,
        "fit_to_share": pseudonymise_salt is not None,
        **({"shared_figures": precision_note()} if pseudonymise_salt is not None else {}),
    }
    if robustness is not None:
        info["drive_time_uncertainty"] = robustness.summary
    if extra_timings:
        info["timings_s"].update({k: round(v, 4) for k, v in extra_timings.items()})
    if pseudonymise_salt is not None:
        for name in (ALLOCATION_FILE, TRAVEL_FILE, RANKING_FILE, SCHEDULE_FILE, CHANGES_FILE):
            if name not in tables:
                continue
            frame = tables[name].copy()
            frame["agent_id"] = [pseudonym(a, pseudonymise_salt) for a in frame["agent_id"]]
            if "tie_won_by" in frame:  # the winner of a tie is an agent too
                frame = _pseudonymised_winners(frame, pseudonymise_salt)
            tables[name] = frame if name == RANKING_FILE else sort_by_pseudonym(frame)
    names = [*tables, SUMMARY_FILE, *((MAP_PNG, MAP_HTML, GPKG_FILE) if maps else ())]
    info["files"] = names
    info["language"] = lang
    contents = {
        name: csv_text(localise_table(frame, lang), csv_style) for name, frame in tables.items()
    }
    contents[SUMMARY_FILE] = (
        json.dumps(localise_summary(info, lang), indent=2, ensure_ascii=False) + "\n"
    )
    files: dict[str, str | bytes] = dict(contents)
    if maps:
        from optimizer.gpkg import render_gpkg
        from optimizer.maps import render_html, render_png

        files[MAP_PNG] = render_png(shown, min_cell=min_cell, lang=lang)
        files[MAP_HTML] = render_html(shown, min_cell=min_cell, lang=lang)
        files[GPKG_FILE] = render_gpkg(
            shown,
            tables[ALLOCATION_FILE],
            tables[TELECENTRES_FILE],
            min_cell=min_cell,
            shared=pseudonymise_salt is not None,
            lang=lang,
        )
    written = folder.publish({name: files[name] for name in names})
    logger.info("wrote %d files to %s", len(written), folder.path)
    return {path.name: path for path in written}


def _pseudonymised_winners(frame: pd.DataFrame, salt: str) -> pd.DataFrame:
    """``tie_won_by``, and the reason and explanation that name it, with the winner's pseudonym."""
    won = frame["tie_won_by"].tolist()
    shown = [pseudonym(w, salt) if w else "" for w in won]
    for column in ("reason", "explanation"):
        if column in frame:
            frame[column] = [
                text.replace(f"{TIE_LOST}{w}", f"{TIE_LOST}{p}", 1) if w else text
                for text, w, p in zip(frame[column], won, shown, strict=True)
            ]
    frame["tie_won_by"] = shown
    return frame


_LONGEST_DRIVE = re.compile(r"to keep the longest drive at \d+(\.\d+)? min")


def shared_reason(reason: str) -> str:
    """Return a reason fit to share: the longest drive --minimax kept is not named.

    Parameters
    ----------
    reason
        A reason of ``allocation.csv``.

    Returns
    -------
    str
        The reason, "to keep the longest drive at 38.5 min" said "as short as it is".
    """
    return _LONGEST_DRIVE.sub("to keep the longest drive as short as it is", reason)


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


__all__ = [
    "ALLOCATION_FILE",
    "APPROXIMATE_WARNING",
    "CHANGES_FILE",
    "CSV_STYLES",
    "FRONTIER_FILE",
    "GPKG_FILE",
    "HEAD_OFFICE",
    "ILLUSTRATIVE_WARNING",
    "MAP_HTML",
    "MAP_PNG",
    "OWN_FILES",
    "RANKING_FILE",
    "SCHEDULE_FILE",
    "SUMMARY_FILE",
    "SYNTHETIC_WARNING",
    "TELECENTRES_FILE",
    "TRAVEL_FILE",
    "CsvStyle",
    "allocation_table",
    "csv_text",
    "made_up",
    "neutralise_formulas",
    "pseudonym",
    "ranking_table",
    "solver_outcome",
    "summary",
    "telecentre_table",
    "travel_times_table",
    "write_outputs",
]
