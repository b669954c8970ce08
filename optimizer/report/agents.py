"""The per-agent tables of a run: the allocation, travel times, the ranking, the re-plan's changes.

Every table keeps every input agent, in input order, with a status and a
reason; none carries home coordinates. Also the benefits each agent's plan
brings (time, km, CO2, mileage allowance) and the weekly savings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.benefits import BENEFIT_COLUMNS as BENEFIT_COLUMNS
from optimizer.benefits import mileage_eur as mileage_eur
from optimizer.benefits import weekly_benefits as weekly_benefits
from optimizer.inputs import WEEKDAYS
from optimizer.model import HEAD_OFFICE, AssignmentProblem, candidate_ranking, explain
from optimizer.pipeline import RunResult
from optimizer.replan import changes_table
from optimizer.tables import (
    _column,
)
from optimizer.uncertainty import Robustness


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
