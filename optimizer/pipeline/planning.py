"""The plan stage of a run: the problem from the travel table, the solve, the ties.

Every mode gives a weekly plan: desks shared by weekday
(:func:`optimizer.schedule.solve_weekly`), dedicated desks, minimax, chosen
telecentres; :func:`plan_frontier` solves the same plan under limits on the
longest drive.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.facilities import choose_telecentres
from optimizer.fairness import frontier, solve_minimax, solve_minimax_weekly
from optimizer.inputs import WEEKDAYS, HeadOffice, day_mask
from optimizer.model import Assignment, AssignmentProblem, check_feasible, explain
from optimizer.network import Progress, RoadNetwork
from optimizer.options import PlanOptions
from optimizer.pipeline.reasons import explained
from optimizer.pipeline.result import RunResult, TieReport
from optimizer.pipeline.travel_stage import own_workplace_times
from optimizer.replan import incumbent_pairs, previous_days
from optimizer.schedule import (
    WeeklyPlan,
    dedicated_capacities,
    dedicated_plan,
    solve_weekly,
    usable_pairs,
)
from optimizer.ties import TieOrder, settle_ties, tie_losses, tie_objective, tie_order, ties_fit
from optimizer.travel import TravelTable

if TYPE_CHECKING:
    from optimizer.national.travel import NetworkFolder


def desks_per_day(telecentres: pd.DataFrame) -> np.ndarray:
    """``(n_telecentres, 5)`` desks each weekday: ``desks_mon`` .. or ``capacity`` every day.

    Parameters
    ----------
    telecentres
        From :func:`optimizer.inputs.read_telecentres`.

    Returns
    -------
    numpy.ndarray
        Whole numbers >= 0.
    """
    if all(f"desks_{d}" in telecentres for d in WEEKDAYS):
        return telecentres[[f"desks_{d}" for d in WEEKDAYS]].to_numpy(np.int64)
    return np.repeat(telecentres["capacity"].to_numpy(np.int64)[:, None], 5, axis=1)


def make_plan(
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    head_office: HeadOffice,
    network: RoadNetwork | NetworkFolder,
    travel: TravelTable,
    options: PlanOptions,
    previous: pd.DataFrame | None = None,
    workplaces: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Make the plan on a travel table: the problem, the solve, the ties, the reasons.

    What :func:`optimizer.pipeline.run` does once the inputs are checked and
    the travel table computed.

    Parameters
    ----------
    agents, telecentres, head_office, network, options, previous, workplaces
        As :func:`optimizer.pipeline.run` takes them (``options`` complete).
    travel
        The travel table of these agents and destinations
        (:func:`optimizer.pipeline.destination_table`).
    progress
        Called with a short message before the solve.

    Returns
    -------
    RunResult
        The run; its timings are the solve's only (``solve_s``), and it has no sources.
    """
    if progress:
        progress("solving the assignment")
    started = time.perf_counter()
    desks, allowed, preferred, opening_cost = _plan_inputs(agents, telecentres)
    days = _telework_days(agents)
    usable = usable_pairs(desks, allowed, days)
    problem, eligible, order, selected = _problem(
        agents, telecentres, travel, options, previous, desks, usable
    )
    choosing = options.max_open is not None or "opening_cost" in telecentres
    mode = "minimax" if options.minimax else "choose" if choosing else "assignment"
    kept = None if previous is None else previous_days(previous, agents["agent_id"].tolist())
    plan = _solved(problem, desks, options, allowed, preferred, opening_cost, kept)
    plan, ties = _settled(
        plan, order, allowed, preferred, kept if options.day_change_penalty > 0 else None
    )
    plan = explained(
        plan, eligible, usable, allowed, days, travel, options, mode, opening_cost is not None, ties
    )
    return RunResult(
        agents=agents,
        telecentres=telecentres,
        head_office=head_office,
        network=network,
        travel=travel,
        problem=plan.assignment.problem,
        assignment=plan.assignment,
        plan=plan,
        open_telecentres=plan.open_telecentres,
        previous=previous,
        mode=mode,
        options=options,
        workplaces=workplaces,
        ties=ties,
        selected=selected,
        timings={"solve_s": time.perf_counter() - started},
    )


def _telework_days(agents: pd.DataFrame) -> np.ndarray:
    """``(n_agents,)`` telework days a week (1 without the column)."""
    return (
        agents["telework_days"].to_numpy(np.int64)
        if "telework_days" in agents
        else np.ones(len(agents), np.int64)
    )


def _problem(
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    travel: TravelTable,
    opts: PlanOptions,
    previous: pd.DataFrame | None,
    desks: np.ndarray,
    usable: np.ndarray,
) -> tuple[AssignmentProblem, np.ndarray, TieOrder, np.ndarray | None]:
    """Build the problem under the agents' rules, the tie rule and the options' policies.

    Returns the problem, its eligible pairs before the weekdays count, the tie
    order and the agents ``--select-by commute`` chose (None without it).
    """
    rules = agent_rules(agents, telecentres)
    problem = AssignmentProblem.from_travel_times(
        own_workplace_times(travel.table, agents),
        agents,
        telecentres,
        select=opts.select,
        max_minutes=opts.max_minutes,
        min_saving=opts.min_saving,
        objective=opts.objective,
        preference_bonus=opts.preference_bonus,
        no_worse_off=opts.no_worse_off,
        move_penalty=opts.move_penalty if previous is not None else 0.0,
        incumbent=(
            incumbent_pairs(
                previous, agents["agent_id"].tolist(), telecentres["telecentre_id"].tolist()
            )
            if previous is not None
            else None
        ),
        **rules,
    )
    eligible = problem.eligible()  # before the weekdays count
    order = tie_order(
        problem.agent_ids,
        priority=agents["priority"].to_numpy(float) if "priority" in agents else None,
        commute=problem.head_office_minutes_to,
        seed=opts.seed,
    )
    weights, scale = tie_objective(order, most_placed=min(problem.limit, int(desks.sum())))
    if ties_fit(problem, scale, count_first=opts.minimax):
        problem = problem.with_rules(tie_weight=weights, tie_scale=scale)
    if opts.dedicated_desks:
        # a desk held all week: the desks there every open day; only telecentres open on
        # enough of the agent's days
        problem = problem.with_rules(
            capacities=dedicated_capacities(desks),
            forbidden=_with_pairs(rules["forbidden"], np.nonzero(~usable)),
        )
    selected = None
    if opts.select is not None and opts.select_by == "commute":
        left_out = by_commute(problem, opts.select, usable, rank=order.rank)
        problem = problem.with_rules(excluded=left_out)
        selected = ((problem.eligible() & usable).any(axis=1) | problem.must) & ~left_out
    return problem, eligible, order, selected


def _solved(
    problem: AssignmentProblem,
    desks: np.ndarray,
    opts: PlanOptions,
    allowed: np.ndarray | None,
    preferred: np.ndarray | None,
    opening_cost: np.ndarray | None,
    kept: np.ndarray | None,
) -> WeeklyPlan:
    """Solve the problem in the options' mode: minimax (weekly or dedicated), or not."""
    if opts.minimax and not opts.dedicated_desks:
        return solve_minimax_weekly(
            problem, desks, **_weekly_arguments(opts, allowed, preferred, kept)
        )
    if opts.minimax:
        check_feasible(problem)
        return dedicated_plan(
            solve_minimax(problem),
            desks,
            allowed_days=allowed,
            preferred_days=preferred,
            kept_days=kept,
        )
    return solve_plan(
        problem,
        desks,
        opts,
        allowed_days=allowed,
        preferred_days=preferred,
        max_open=opts.max_open,
        opening_cost=opening_cost,
        kept_days=kept,
    )


def _settled(
    plan: WeeklyPlan,
    order: TieOrder,
    allowed: np.ndarray | None,
    preferred: np.ndarray | None,
    kept_days: np.ndarray | None,
) -> tuple[WeeklyPlan, TieReport]:
    """Settle the plan's ties by the rule (:func:`optimizer.ties.settle_ties`) and name them."""
    problem = plan.assignment.problem
    in_objective = problem.tie_scale > 1  # the engines that could carry it kept it
    untied = problem.untied_problem()
    kept = None
    if kept_days is not None and problem.incumbent is not None:
        before = np.full(problem.n_agents, -1, dtype=np.int64)
        before[np.asarray(problem.incumbent[0], np.int64)] = problem.incumbent[1]
        kept = (np.asarray(kept_days, bool) & (before >= 0)[:, None], before)
    days_rules: dict[str, Any] = {"allowed": allowed, "preferred": preferred, "kept": kept}
    telecentre, days, exchanges = settle_ties(
        untied, plan.assignment.telecentre, plan.days, order, **days_rules
    )
    if exchanges:
        assignment = replace(
            plan.assignment, telecentre=telecentre, reasons=explain(problem, telecentre)
        )
        plan = replace(plan, assignment=assignment, days=days)
    lost = tie_losses(untied, telecentre, days, order, **days_rules)
    return plan, TieReport(order=order, in_objective=in_objective, exchanges=exchanges, lost=lost)


def solve_plan(
    problem: AssignmentProblem,
    desks: np.ndarray,
    options: PlanOptions,
    *,
    allowed_days: np.ndarray | None = None,
    preferred_days: np.ndarray | None = None,
    max_open: int | None = None,
    opening_cost: np.ndarray | None = None,
    kept_days: np.ndarray | None = None,
) -> WeeklyPlan:
    """Solve one problem under the options' capacity policy (not minimax).

    Desks shared by weekday: :func:`optimizer.schedule.solve_weekly`.
    Dedicated desks: :meth:`AssignmentProblem.solve` (or
    :func:`optimizer.facilities.choose_telecentres`), then
    :func:`optimizer.schedule.dedicated_plan` for the weekdays.

    Parameters
    ----------
    problem
        The problem (with dedicated desks, its capacities are the desks).
    desks
        ``(n_telecentres, 5)`` desks per weekday.
    options
        The plan's options (policy, engine, day bonus, time limit).
    allowed_days, preferred_days
        ``(n_agents, 5)`` booleans, or None.
    max_open, opening_cost
        Choose telecentres (see :func:`optimizer.schedule.solve_weekly`).
    kept_days
        Re-plans: ``(n_agents, 5)`` previous weekdays, each worth
        ``options.day_change_penalty`` when kept at the previous telecentre.

    Returns
    -------
    WeeklyPlan
        The plan.
    """
    choosing = max_open is not None or opening_cost is not None
    if not options.dedicated_desks:
        return solve_weekly(
            problem,
            desks,
            max_open=max_open,
            opening_cost=opening_cost,
            **_weekly_arguments(options, allowed_days, preferred_days, kept_days),
        )
    opened: np.ndarray | None = None
    if choosing:
        assignment, opened = choose_telecentres(
            problem,
            max_open=max_open,
            opening_cost=opening_cost,
            time_limit_s=options.time_limit_s,
        )
    else:
        assignment = problem.solve(options.engine, time_limit_s=options.time_limit_s)
    return dedicated_plan(
        assignment,
        desks,
        allowed_days=allowed_days,
        preferred_days=preferred_days,
        open_telecentres=opened,
        kept_days=kept_days,
    )


def plan_frontier(result: RunResult, *, points: int = 20) -> pd.DataFrame:
    """Trace the saving / longest-drive frontier of a run, under its capacity policy.

    Parameters
    ----------
    result
        A run's result.
    points
        Number of limits on the longest drive.

    Returns
    -------
    pandas.DataFrame
        See :func:`optimizer.fairness.frontier`.
    """
    opts = result.options
    desks, allowed, preferred, opening_cost = _plan_inputs(result.agents, result.telecentres)

    def solve(limited: AssignmentProblem) -> Assignment:
        return solve_plan(
            limited,
            desks,
            opts,
            allowed_days=allowed,
            preferred_days=preferred,
            max_open=opts.max_open,
            opening_cost=opening_cost,
        ).assignment

    return frontier(result.problem, points=points, solve=solve)


def by_commute(
    problem: AssignmentProblem,
    select: int,
    usable: np.ndarray,
    *,
    rank: np.ndarray | None = None,
) -> np.ndarray:
    """Agents left out when the ``select`` longest commutes among those who gain are chosen.

    An agent gains when some telecentre is eligible for it (under the
    problem's rules) and open on enough of its days. Agents who must be
    assigned are chosen first; then the longest one-way drives to the head
    office; equal drives by ``rank`` (the tie rule, :mod:`optimizer.ties`;
    default: input order).

    Parameters
    ----------
    problem
        The problem.
    select
        How many agents to choose.
    usable
        ``(n_agents, n_telecentres)`` booleans: the telecentre is open on
        enough of the agent's days.
    rank
        ``(n_agents,)`` the tie order (0 first), or None.

    Returns
    -------
    numpy.ndarray
        ``(n_agents,)`` True for gainers left out.
    """
    gains = (problem.eligible() & usable).any(axis=1)
    commute = np.nan_to_num(problem.head_office_minutes_to, nan=-np.inf)
    ties = np.arange(problem.n_agents) if rank is None else np.asarray(rank)
    order = np.lexsort((ties, -commute, ~problem.must))
    chosen = np.zeros(problem.n_agents, dtype=bool)
    picked = [i for i in order.tolist() if gains[i] or problem.must[i]][:select]
    chosen[picked] = True
    return np.asarray(gains & ~chosen)


def _plan_inputs(
    agents: pd.DataFrame, telecentres: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Desks per weekday, allowed and preferred days, opening costs: what every plan reads."""
    allowed = ~day_mask(agents["impossible_days"]) if "impossible_days" in agents else None
    preferred = day_mask(agents["preferred_days"]) if "preferred_days" in agents else None
    opening_cost = telecentres["opening_cost"].to_numpy() if "opening_cost" in telecentres else None
    return desks_per_day(telecentres), allowed, preferred, opening_cost


def _weekly_arguments(
    options: PlanOptions,
    allowed: np.ndarray | None,
    preferred: np.ndarray | None,
    kept: np.ndarray | None = None,
) -> dict[str, Any]:
    return {
        "allowed_days": allowed,
        "preferred_days": preferred,
        "day_bonus": options.day_bonus,
        "kept_days": kept,
        "keep_bonus": options.day_change_penalty if kept is not None else 0.0,
        "engine": options.engine,
        "time_limit_s": options.time_limit_s,
    }


def _with_pairs(
    pairs: tuple[np.ndarray, np.ndarray], more: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.concatenate([pairs[0], more[0]]).astype(int),
        np.concatenate([pairs[1], more[1]]).astype(int),
    )


def agent_rules(agents: pd.DataFrame, telecentres: pd.DataFrame) -> dict[str, Any]:
    """Turn the agents' rule columns into :class:`AssignmentProblem` arguments.

    Parameters
    ----------
    agents
        From :func:`optimizer.inputs.read_agents` (``must_assign``,
        ``preferred_telecentre``, ``forbidden_telecentres``).
    telecentres
        From :func:`optimizer.inputs.read_telecentres`.

    Returns
    -------
    dict
        ``must_assign``, ``preferred`` and ``forbidden``.
    """
    index = {tc: j for j, tc in enumerate(telecentres["telecentre_id"])}
    preferred: tuple[list[int], list[int]] = ([], [])
    forbidden: tuple[list[int], list[int]] = ([], [])
    for i, value in enumerate(agents.get("preferred_telecentre", pd.Series(dtype=str))):
        if value:
            preferred[0].append(i)
            preferred[1].append(index[value])
    for i, value in enumerate(agents.get("forbidden_telecentres", pd.Series(dtype=str))):
        for ref in str(value).split("|"):
            if ref:
                forbidden[0].append(i)
                forbidden[1].append(index[ref])
    must = agents["must_assign"].to_numpy(bool) if "must_assign" in agents else None
    return {
        "must_assign": must,
        "preferred": (np.array(preferred[0], int), np.array(preferred[1], int)),
        "forbidden": (np.array(forbidden[0], int), np.array(forbidden[1], int)),
    }
