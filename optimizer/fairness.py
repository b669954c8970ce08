"""Fairness: the no-one-worse-off rule, minimax plans, and the saving/fairness frontier.

The no-one-worse-off rule (no agent sent to a telecentre further than the
head office) is a rule of :class:`optimizer.model.AssignmentProblem`, on by
default. This module adds:

- :func:`solve_minimax`: keep as many agents assigned as the plan that saves
  the most, make the longest drive to a telecentre as short as possible, then
  save as much as possible at that level;
- :func:`solve_minimax_weekly`: the same with desks shared by weekday;
- :func:`frontier`: for a range of limits on the longest drive, the best total
  saving, as a table a notebook can plot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.errors import InfeasibleError
from optimizer.model import (
    Assignment,
    AssignmentProblem,
    _candidates,
    _flow_on,
    _result,
    bipartite_max_flow,
    check_feasible,
)
from optimizer.model.result import gain_of_value
from optimizer.schedule import WeeklyPlan, solve_weekly

logger = logging.getLogger(__name__)

#: Seconds a step of the weekly minimax search gets at least, whatever is left of the limit.
_STEP_FLOOR_S = 1.0
#: The clock of the weekly minimax search's time limit.
_now = time.perf_counter


def max_assignable(problem: AssignmentProblem) -> int:
    """Most agents that can be assigned at once under the problem's rules (a max-flow).

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    int
        The largest number of agents assignable.
    """
    flow = bipartite_max_flow(problem.eligible(), problem.capacities, limit=problem.limit)
    return int(flow.optimal_flow())


def _within(problem: AssignmentProblem, drive: float) -> AssignmentProblem:
    """Return the problem with a longest acceptable drive of ``drive`` minutes.

    A drive of 0 (an agent living at a telecentre's point) becomes a tiny
    positive limit: the rule wants a positive one.
    """
    return problem.with_rules(max_minutes=max(float(drive), 1e-6))


def _must_fit(problem: AssignmentProblem) -> bool:
    """Whether every agent who must be assigned can be (see :func:`check_feasible`)."""
    try:
        check_feasible(problem)
    except InfeasibleError:
        return False
    return True


def _longest_drive(problem: AssignmentProblem, telecentre: np.ndarray) -> float:
    agents = np.flatnonzero(telecentre >= 0)
    if agents.size == 0:
        return 0.0
    return float(problem.minutes_to[agents, telecentre[agents]].max())


def solve_minimax(problem: AssignmentProblem) -> Assignment:
    """Shortest longest drive for as many agents as the best plan assigns, then most saving.

    The number of agents assigned is that of the plan that saves the most
    (the problem's own optimum). Among plans assigning that many, the longest
    one-way drive to a telecentre is made as short as possible (binary search
    over the drive times, each step a max-flow); then, at that limit, the
    saving is maximised with that many agents (min-cost flow with the count
    first).

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    Assignment
        The minimax plan; its problem carries the limit found as ``max_minutes``.
    """
    started = time.perf_counter()
    best = problem.solve()
    count = int(best.assigned.sum())
    if count == 0:
        return best
    drives = np.unique(problem.minutes_to[problem.eligible()])
    lo, hi = 0, drives.size - 1  # drives[hi] is always enough (no extra limit)
    while lo < hi:
        mid = (lo + hi) // 2
        within = _within(problem, drives[mid])
        # agents who must be assigned can all be, and as many agents in all: then some
        # plan does both (the sets of agents that can be placed together form a matroid)
        if _must_fit(within) and max_assignable(within) >= count:
            hi = mid
        else:
            lo = mid + 1
    limited = _within(problem, drives[lo]).with_rules(select=count)
    rows, cols, gains = _candidates(limited, limited.n_telecentres)
    heavy = int(max(1, np.abs(gains).sum() + 1))  # one more agent beats any saving
    telecentre, _ = _flow_on(limited, rows, cols, gains + heavy)
    result = _result(
        limited,
        telecentre,
        bound_gain=float(best.gain_total()),
        status="optimal",
        engine="ortools-max-flow + min-cost-flow (minimax)",
        started=started,
    )
    logger.info(
        "minimax: %d agents, longest drive %.1f min (was %.1f), saving %.1f (was %.1f)",
        count,
        drives[lo],
        _longest_drive(problem, best.telecentre),
        result.objective_value,
        best.objective_value,
    )
    return result


def solve_minimax_weekly(
    problem: AssignmentProblem, desks: np.ndarray, **weekly: Any
) -> WeeklyPlan:
    """:func:`solve_minimax` with desks shared by weekday (:func:`optimizer.schedule.solve_weekly`).

    The number of agents is that of the weekly plan that saves the most; the
    longest one-way drive is made as short as possible by a binary search
    over the drive times (each step a weekly plan that places as many agents
    as it can within the limit); then the saving is maximised at that limit.

    Parameters
    ----------
    problem
        The problem.
    desks
        ``(n_telecentres, 5)`` desks per weekday.
    **weekly
        Passed to :func:`optimizer.schedule.solve_weekly` (days, bonus, engine,
        time limit).

    Returns
    -------
    WeeklyPlan
        The minimax plan; it is reported optimal only when every step was.

    Notes
    -----
    The time limit (``time_limit_s``) is for the whole search: the plan that
    saves the most gets half of it, and each step of the binary search (and
    the last solve) an equal share of the other half, fixed in advance so
    that a search cut short stops at the same point on every run (each
    solve's own limit is deterministic, :func:`optimizer.model.configure`);
    no step outlives the whole limit (at least :data:`_STEP_FLOOR_S` each), so
    a step cut short gives a plan that is not proven, never a search many
    times the limit. Solves that overrun their shares anyway (a large weekly
    solve's split-days flow has no limit of its own) end the search once the
    limit and a floor per solve are spent: the plan is then the one at the
    shortest drive proven to fit, not proven optimal.
    """
    started = time.perf_counter()
    total = float(weekly.pop("time_limit_s", settings.SOLVER_TIME_LIMIT_S))
    deadline = _now() + total
    given, begun = _budget(deadline, total / 2), _now()
    best = solve_weekly(problem, desks, time_limit_s=given, **weekly)
    overrun = _now() - begun - given  # how far the last solve ran past its budget
    count = int(best.assignment.assigned.sum())
    if count == 0:
        return best
    drives = np.unique(problem.minutes_to[problem.eligible()])
    # at most ceil(log2(drives)) steps, and the last solve: each an equal share
    share = total / 2 / (int(np.ceil(np.log2(max(drives.size, 2)))) + 1)
    lo, steps, steps_proven, cut = _shortest_drive(
        problem, desks, weekly, (drives, count), (share, deadline, overrun)
    )
    proven = best.assignment.status == "optimal" and steps_proven
    plan = steps.get(lo, best)
    if cut and int(plan.assignment.assigned.sum()) != count:  # no time to place just count
        plan = best
    if int(plan.assignment.assigned.sum()) != count:  # more agents fit: keep the best plan's count
        limited = _within(problem, drives[lo]).with_rules(select=count)
        budget = _budget(deadline, share)
        plan = solve_weekly(limited, desks, count_first=True, time_limit_s=budget, **weekly)
        proven &= plan.assignment.status == "optimal"
    return _minimax_plan(problem, (best, plan), proven, count, started)


def _budget(deadline: float, budget: float) -> float:
    """Return a solve's time limit: ``budget``, within the deadline, at least a floor."""
    return max(_STEP_FLOOR_S, min(budget, deadline - _now()))


def _shortest_drive(
    problem: AssignmentProblem,
    desks: np.ndarray,
    weekly: dict[str, Any],
    target: tuple[np.ndarray, int],
    timing: tuple[float, float, float],
) -> tuple[int, dict[int, WeeklyPlan], bool, bool]:
    """Search the drive times for the shortest within which ``count`` agents are placed.

    ``target`` is ``(drives, count)``, ``timing`` ``(share, deadline, overrun)``:
    each step's budget, the search's deadline and how far the last solve ran
    past its budget. Returns the index of the drive found, the plan of each
    step, whether every step was proven, and whether the search was cut short.
    """
    drives, count = target
    share, deadline, overrun = timing
    lo, hi = 0, drives.size - 1
    steps: dict[int, WeeklyPlan] = {}
    tried = 1
    proven = True
    while lo < hi:
        budget = _budget(deadline, share)
        if _now() + budget + max(0.0, overrun) > deadline + _STEP_FLOOR_S * (tried + 1):
            # the solves overran their shares (parts of a large weekly solve have no time
            # limit of their own) and the next would end past the limit and a floor per
            # solve: stop at the shortest drive proven to fit so far. Solves that keep to
            # their budgets never stop here (the same plan every run)
            logger.warning(
                "weekly minimax: time limit reached after %d solves; the longest drive is "
                "not proven the shortest",
                tried,
            )
            return hi, steps, False, True
        mid = (lo + hi) // 2
        tried += 1
        begun = _now()
        try:
            step = solve_weekly(
                _within(problem, drives[mid]),
                desks,
                count_first=True,
                time_limit_s=budget,
                **weekly,
            )
        except InfeasibleError:  # agents who must be assigned cannot all be within this drive
            lo = mid + 1
            continue
        finally:
            overrun = _now() - begun - budget
        steps[mid] = step
        proven &= step.assignment.status == "optimal"
        if int(step.assignment.assigned.sum()) >= count:
            hi = mid
        else:
            lo = mid + 1
    return lo, steps, proven, False


def _minimax_plan(
    problem: AssignmentProblem,
    plans: tuple[WeeklyPlan, WeeklyPlan],
    proven: bool,
    count: int,
    started: float,
) -> WeeklyPlan:
    """Return the minimax plan, bounded by the plan that saves the most (``plans``: both)."""
    best, plan = plans
    assignment = _result(
        plan.assignment.problem,
        plan.assignment.telecentre,
        # the best plan's saving bounds every plan's only when it is proven: else its solver's
        # bound does (a search cut short is not reported optimal for reaching an unproven plan)
        bound_gain=float(best.assignment.gain_total())
        if best.assignment.status == "optimal"
        else max(
            float(best.assignment.gain_total()),
            gain_of_value(best.assignment.problem, best.assignment.best_bound),
        ),
        status="optimal" if proven else "feasible",
        engine=f"{plan.assignment.engine} (minimax)",
        started=started,
    )
    logger.info(
        "weekly minimax: %d agents, longest drive %.1f min (was %.1f)",
        count,
        _longest_drive(problem, plan.assignment.telecentre),
        _longest_drive(problem, best.assignment.telecentre),
    )
    return replace(plan, assignment=assignment)


def frontier(
    problem: AssignmentProblem,
    *,
    points: int = 20,
    solve: Callable[[AssignmentProblem], Assignment] | None = None,
) -> pd.DataFrame:
    """Trace the trade-off between total saving and the longest drive to a telecentre.

    For each limit on the one-way drive (``points`` limits spread over the
    drive times of eligible pairs), the plan that saves the most under it.

    Parameters
    ----------
    problem
        The problem.
    points
        Number of limits.
    solve
        Solves one problem (default: :meth:`AssignmentProblem.solve`, a desk
        per agent); a weekly plan's solver gives the frontier with desks
        shared by weekday.

    Returns
    -------
    pandas.DataFrame
        ``max_minutes, longest_drive, assigned, objective`` (the objective in
        its unit: minutes saved a week by default), longest limit last. Limits
        under which the agents who must be assigned cannot all be are left out.
    """
    drives = np.unique(problem.minutes_to[problem.eligible()])
    if drives.size == 0:
        return pd.DataFrame(columns=["max_minutes", "longest_drive", "assigned", "objective"])
    limits = np.unique(np.quantile(drives, np.linspace(0, 1, points), method="higher"))
    rows = []
    for limit in limits:
        limited = _within(problem, limit)
        try:
            result = limited.solve() if solve is None else solve(limited)
        except InfeasibleError:  # agents who must be assigned cannot all be within this limit
            continue
        rows.append(
            {
                "max_minutes": float(limit),
                "longest_drive": _longest_drive(problem, result.telecentre),
                "assigned": int(result.assigned.sum()),
                "objective": result.objective_value,
            }
        )
    return pd.DataFrame(rows)
