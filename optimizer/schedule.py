r"""Weekly desk plans: which telecentre, and which weekdays.

A telecentre has desks per weekday (some days closed: 0 desks); an agent
teleworks :math:`d_i` days a week, all at one telecentre, on weekdays it can
(and preferably wants to) telework. The plan never puts more agents on a day
than the telecentre has desks that day.

With one telework day each, the plan is a transportation problem and is
solved exactly by min-cost flow (agent -> (telecentre, day) -> hub -> sink).
Otherwise CP-SAT solves it, with :math:`y_{ij}` (agent at telecentre) and
:math:`z_{ijd}` (agent there on day :math:`d`):

.. math::

    \max \sum_{ij} g_{ij} y_{ij} + b \sum_{ijd} [d \text{ preferred by } i] z_{ijd}
    + k \sum_{id} [d \text{ kept by } i] z_{i p_i d}
    \;\text{s.t.}\;
    \sum_j y_{ij} \le 1,\;
    \sum_d z_{ijd} = d_i y_{ij},\;
    \sum_i z_{ijd} \le \text{desks}_{jd},\;
    \sum_{ij} y_{ij} \le K.

In a re-plan, :math:`p_i` is the agent's previous telecentre and its kept
days are its previous weekdays: each one it keeps there is worth :math:`k`
(the day-change penalty), as staying at :math:`p_i` is worth the move penalty.

Each agent's CP-SAT model keeps its best telecentres only, so its optimum is
checked against an upper bound valid for the whole problem: the same plan
where an agent may split its days between telecentres (still one desk a
weekday at most), a transportation problem solved exactly by min-cost flow.
The gap reported is against that bound; when the two meet, the plan is
proven optimal. CP-SAT plans in this way only problems it sees whole (at
most :data:`CANDIDATES` telecentres and :data:`FOCUS_PAIRS` pairs) and
problems where telecentres are chosen; other multi-day plans go to
:func:`optimizer.model.weekly.solve_weekly_pairs` (the configuration LP, its
Lagrangian bound on every pair, reduced-cost fixing and HiGHS's integer
program: proven optimal at 2,000 x 30, within 1 % at 100,000 x 200), whose
bound is the one reported.

Choosing telecentres (at most :math:`p` open, or a cost :math:`f_j` to open
each) adds :math:`o_j` (telecentre open) to the CP-SAT model:
:math:`y_{ij} \le o_j`, :math:`\sum_j o_j \le p`, and
:math:`-\sum_j f_j o_j` in the objective.

:func:`dedicated_plan` gives the weekdays of a plan with dedicated desks (one
desk per agent all week; :func:`dedicated_capacities`, :func:`dedicated_days`).

This module owns the plan and the choice of planner; the CP-SAT model lives in
:mod:`optimizer.schedule_cpsat`, the split-days bound in
:mod:`optimizer.schedule_bound`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.model import (
    Assignment,
    AssignmentProblem,
    Engine,
    _result,
    check_feasible,
)
from optimizer.model.weekly import solve_weekly_pairs
from optimizer.schedule_bound import _split_days_bound
from optimizer.schedule_cpsat import CANDIDATES, FOCUS_PAIRS, _cp_sat_plan

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class WeeklyPlan:
    """A weekly plan.

    Attributes
    ----------
    assignment
        Who goes to which telecentre (status, bound and reasons included).
    days
        ``(n_agents, 5)`` booleans: the weekdays each agent teleworks.
    desks
        ``(n_telecentres, 5)`` desks per weekday.
    day_bonus_total
        Preferred-weekday bonus earned, in the objective's unit.
    dedicated
        True when each agent holds its desk all week (dedicated desks), False
        when desks are shared by weekday.
    open_telecentres
        ``(n_telecentres,)`` booleans when telecentres were chosen, else None.
    """

    assignment: Assignment
    days: np.ndarray
    desks: np.ndarray
    day_bonus_total: float = 0.0
    dedicated: bool = False
    open_telecentres: np.ndarray | None = None

    def occupancy(self) -> np.ndarray:
        """``(n_telecentres, 5)`` agents present per telecentre and weekday."""
        out = np.zeros(self.desks.shape, dtype=np.int64)
        chosen = self.assignment.telecentre
        for i in np.flatnonzero(chosen >= 0):
            out[chosen[i]] += self.days[i].astype(np.int64)
        return out

    def desk_days_used(self) -> np.ndarray:
        """``(n_telecentres, 5)`` desks taken per telecentre and weekday.

        With shared desks, the agents present; with dedicated desks, every
        agent holds a desk on every day its telecentre is open.
        """
        if not self.dedicated:
            return self.occupancy()
        load = self.assignment.load()
        return load[:, None] * (self.desks > 0).astype(np.int64)

    def schedule_table(self) -> pd.DataFrame:
        """One row per agent and telework day: ``agent_id, weekday, telecentre_id``."""
        problem = self.assignment.problem
        rows = [
            (problem.agent_ids[i], WEEKDAYS[d], problem.telecentre_ids[j])
            for i, j in enumerate(self.assignment.telecentre.tolist())
            if j >= 0
            for d in np.flatnonzero(self.days[i])
        ]
        return pd.DataFrame(rows, columns=["agent_id", "weekday", "telecentre_id"])


def solve_weekly(
    problem: AssignmentProblem,
    desks: np.ndarray,
    *,
    allowed_days: np.ndarray | None = None,
    preferred_days: np.ndarray | None = None,
    day_bonus: float = 0.0,
    kept_days: np.ndarray | None = None,
    keep_bonus: float = 0.0,
    engine: Engine = "flow",
    max_open: int | None = None,
    opening_cost: np.ndarray | None = None,
    count_first: bool = False,
    time_limit_s: float = settings.SOLVER_TIME_LIMIT_S,
) -> WeeklyPlan:
    """Plan telecentres and weekdays for every agent, desks shared by weekday.

    Parameters
    ----------
    problem
        The assignment problem (its ``days`` are the telework days a week;
        its ``capacities`` are not used: ``desks`` replace them).
    desks
        ``(n_telecentres, 5)`` desks per weekday, Monday to Friday.
    allowed_days
        ``(n_agents, 5)`` booleans: weekdays the agent can telework (default all).
    preferred_days
        ``(n_agents, 5)`` booleans: weekdays the agent prefers.
    day_bonus
        Bonus per preferred weekday granted, in the objective's unit a week.
    kept_days
        ``(n_agents, 5)`` booleans: a re-plan's previous weekdays. Each one an
        agent keeps at its incumbent telecentre (``problem.incumbent``) is worth
        ``keep_bonus``.
    keep_bonus
        Bonus per previous weekday kept at the previous telecentre, in the
        objective's unit a week (the day-change penalty).
    engine
        ``"flow"``: min-cost flow where it is exact (every agent teleworks one
        day and no telecentre is chosen), CP-SAT otherwise; ``"cp-sat"``:
        CP-SAT always. Both are exact where both apply.
    max_open
        Choose telecentres: at most this many open.
    opening_cost
        ``(n_telecentres,)`` cost of opening each telecentre, in the
        objective's unit a week; with it (or ``max_open``) telecentres are chosen.
    count_first
        Place as many agents as possible first, then save the most (minimax plans).
    time_limit_s
        CP-SAT's time limit.

    Returns
    -------
    WeeklyPlan
        The plan.
    """
    started = time.perf_counter()
    desks, allowed, preferred = _checked(problem, desks, allowed_days, preferred_days, max_open)
    choosing = max_open is not None or opening_cost is not None
    problem, one_day_flow, by_pairs = _route(problem, engine, choosing)
    fixed = _opening_costs(problem, opening_cost)
    weekly = _weekly_problem(problem, desks)
    bonus = int(problem.whole_units(day_bonus))
    keeping = _kept(problem, kept_days, keep_bonus)
    opened: np.ndarray | None = None
    if by_pairs:
        solved = _pairs_plan(
            weekly, desks, allowed, preferred, bonus, count_first, time_limit_s, keeping
        )
    else:
        week = (desks, allowed, preferred, bonus, keeping)
        opening = (max_open if choosing else None, fixed, choosing)
        solved, opened = _flow_or_cp_sat(
            weekly, week, count_first, time_limit_s, one_day_flow, opening
        )
    return _weekly_plan(weekly, solved, (desks, preferred, bonus, keeping), opened, started)


def _route(
    problem: AssignmentProblem, engine: Engine, choosing: bool
) -> tuple[AssignmentProblem, bool, bool]:
    """Which planner: ``(problem, one_day_flow, by_pairs)`` (else CP-SAT).

    The min-cost flow when every agent has one day and no telecentre is
    chosen; CP-SAT when it sees every pair (a small problem) or telecentres
    are chosen; else the configuration LP on pairs. The problem loses its tie
    order for the last two.
    """
    n, m = problem.n_agents, problem.n_telecentres
    one_day_flow = bool(np.all(problem.days == 1)) and engine == "flow" and not choosing
    # CP-SAT sees every pair when the problem is small: then it is exact and kept
    small = n * m <= FOCUS_PAIRS and m <= CANDIDATES
    by_pairs = not one_day_flow and not choosing and engine == "flow" and not small
    if not one_day_flow:
        # the tie order stays in the flow's objective only: CP-SAT could not prove the
        # lexicographic optimum in its time limit (60 s for 400 agents, 1.8 s without),
        # HiGHS works in floats and groups interchangeable agents; there the ties are
        # settled by exchange after the solve (optimizer.ties)
        problem = problem.untied_problem()
    return problem, one_day_flow, by_pairs


def _opening_costs(
    problem: AssignmentProblem, opening_cost: np.ndarray | None
) -> np.ndarray | None:
    """Return the cost of opening each telecentre in whole units (None: none given)."""
    m = problem.n_telecentres
    fixed = None if opening_cost is None else problem.whole_units(opening_cost)
    if fixed is not None and (fixed.shape != (m,) or np.any(fixed < 0)):
        msg = f"opening costs must be {m} numbers >= 0, one per telecentre."
        raise InputError(msg)
    return fixed


def _weekly_problem(problem: AssignmentProblem, desks: np.ndarray) -> AssignmentProblem:
    """Return the problem with a telecentre's most desks a day as its capacity, if feasible."""
    # at most max(desks) agents a telecentre: the capacity used for checks and reasons
    weekly = problem.with_rules(capacities=desks.max(axis=1))
    # each agent takes at least one desk-day: a necessary condition, worded in desk-days
    check_feasible(weekly.with_rules(capacities=desks.sum(axis=1)), places="desk-day")
    return weekly


def _checked(
    problem: AssignmentProblem,
    desks: np.ndarray,
    allowed_days: np.ndarray | None,
    preferred_days: np.ndarray | None,
    max_open: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the inputs of :func:`solve_weekly`: the desks, allowed and preferred days."""
    n, m = problem.n_agents, problem.n_telecentres
    desks = np.asarray(desks, dtype=np.int64)
    if desks.shape != (m, 5) or np.any(desks < 0):
        msg = f"desks must be whole numbers >= 0, one per telecentre and weekday ({m} x 5)."
        raise InputError(msg)
    allowed = np.ones((n, 5), bool) if allowed_days is None else np.asarray(allowed_days, bool)
    preferred = (
        np.zeros((n, 5), bool) if preferred_days is None else np.asarray(preferred_days, bool)
    )
    if allowed.shape != (n, 5) or preferred.shape != (n, 5):
        msg = f"allowed and preferred days must be {n} x 5 booleans."
        raise InputError(msg)
    if np.any(problem.days > 5):
        msg = "telework days must be 5 or fewer for a weekly plan."
        raise InputError(msg)
    if max_open is not None and max_open < 0:
        msg = f"max_open must be 0 or more, got {max_open}."
        raise InputError(msg)
    return desks, allowed, preferred


#: What a planner returns: ``(telecentre, days, bound, heavy, status, engine, time_cut)``, the bound
#: in whole units with the day bonuses and the count-first weight ``heavy`` included.
_Solved = tuple[np.ndarray, np.ndarray, float, int, str, str, tuple[str, ...]]
#: The week's data: ``(desks, allowed, preferred, bonus, keeping)`` (``keeping`` from
#: :func:`_kept`).
_Week = tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple[int, np.ndarray, np.ndarray]]


def _flow_or_cp_sat(
    weekly: AssignmentProblem,
    week: _Week,
    count_first: bool,
    time_limit_s: float,
    one_day_flow: bool,
    opening: tuple[int | None, np.ndarray | None, bool],
) -> tuple[_Solved, np.ndarray | None]:
    """Plan with the split-days flow (one day each) or CP-SAT, on dense agent x telecentre arrays.

    ``opening`` is ``(max_open, fixed, choosing)``. Returns the plan and, when
    telecentres are chosen, those open.
    """
    desks, allowed, preferred, bonus, keeping = week
    max_open, fixed, choosing = opening
    n = weekly.n_agents
    keep = keeping[0]
    eligible, gain = weekly.eligible(), weekly.weekly_gain()
    usable = allowed[:, None, :] & (desks > 0)[None, :, :]  # (n, m, 5)
    enough_days = usable.sum(axis=2) >= weekly.days[:, None]
    eligible &= enough_days
    # count first: one more agent placed is worth more than any saving
    heavy = int(np.abs(gain).sum() + (bonus + keep) * 5 * n + 1) if count_first else 0
    gain = np.where(eligible, gain + heavy, 0)
    bound, flow_plan, units = _split_days_bound(
        weekly, eligible, gain, usable, preferred, desks, bonus, keeping
    )
    if one_day_flow:
        telecentre, days, _ = flow_plan
        flow = "ortools-min-cost-flow (weekly)"
        return (telecentre, days, bound, heavy, "optimal", flow, ()), None
    telecentre, days, total, proven, opened, cut = _cp_sat_plan(
        weekly,
        eligible,
        gain,
        usable,
        preferred,
        desks,
        bonus,
        time_limit_s,
        units,
        keeping,
        max_open=max_open,
        fixed=fixed,
        deciding=choosing,
    )
    status = "optimal" if proven or total >= bound else "feasible"
    label = "ortools-cp-sat (weekly" + (", choosing telecentres)" if choosing else ")")
    return (telecentre, days, bound, heavy, status, label, cut), opened


def _weekly_plan(
    weekly: AssignmentProblem,
    solved: _Solved,
    week: tuple[np.ndarray, np.ndarray, int, tuple[int, np.ndarray, np.ndarray]],
    opened: np.ndarray | None,
    started: float,
) -> WeeklyPlan:
    """Build the plan's assignment (its bound without the bonuses) and log it."""
    telecentre, days, bound, heavy, status, label, cut = solved
    desks, preferred, bonus, (keep, kept, before) = week
    granted = float((days & preferred).sum())
    day_bonus_total = float(bonus * granted) / weekly.objective_unit
    held = float((days & kept & (telecentre == before)[:, None]).sum())
    assignment = _result(
        weekly,
        telecentre,
        bound_gain=bound - bonus * granted - keep * held - heavy * float((telecentre >= 0).sum()),
        status=status,
        engine=label,
        started=started,
    )
    assignment = replace(assignment, time_cut=cut)
    logger.info(
        "weekly plan: %d agents x %d telecentres, %s, objective %.1f, bound %.1f, %.2f s",
        weekly.n_agents,
        weekly.n_telecentres,
        status,
        assignment.objective_value,
        assignment.best_bound,
        assignment.solve_seconds,
    )
    return WeeklyPlan(
        assignment=assignment,
        days=days,
        desks=desks,
        day_bonus_total=day_bonus_total,
        open_telecentres=opened,
    )


def _kept(
    problem: AssignmentProblem, kept_days: np.ndarray | None, keep_bonus: float
) -> tuple[int, np.ndarray, np.ndarray]:
    """Whole bonus per kept weekday, the kept days and each agent's previous telecentre (-1).

    Only agents with an incumbent telecentre keep days; with no kept days or no
    bonus, nobody does.
    """
    n = problem.n_agents
    before = np.full(n, -1, dtype=np.int64)
    if problem.incumbent is not None:
        before[np.asarray(problem.incumbent[0], np.int64)] = problem.incumbent[1]
    keep = int(problem.whole_units(keep_bonus))
    if kept_days is None or keep <= 0:
        return 0, np.zeros((n, 5), dtype=bool), before
    kept = np.asarray(kept_days, dtype=bool)
    if kept.shape != (n, 5):
        msg = f"kept days must be {n} x 5 booleans."
        raise InputError(msg)
    return keep, kept & (before >= 0)[:, None], before


def _pairs_plan(
    problem: AssignmentProblem,
    desks: np.ndarray,
    allowed: np.ndarray,
    preferred: np.ndarray,
    bonus: int,
    count_first: bool,
    time_limit_s: float,
    keeping: tuple[int, np.ndarray, np.ndarray],
) -> _Solved:
    """Plan with :func:`optimizer.model.weekly.solve_weekly_pairs` on the eligible pairs.

    The pairs are read a block of agents at a time (no dense agents x
    telecentres x weekdays array). Returns ``(telecentre, days, bound, heavy,
    status, engine, time_cut)``, the bound in whole units with the day bonuses and the
    count-first weight ``heavy`` included. ``keeping`` is ``(keep, kept, before)``
    from :func:`_kept`: the kept days are worth ``keep`` on the previous telecentre's pair.
    """
    n = problem.n_agents
    keep, kept, before = keeping
    kept_bits = kept.astype(np.int64) @ (1 << np.arange(5))
    agents, sites, gains, keeps = [], [], [], []
    total_gain = 0
    for lo, _, ok, gain in problem.blocks():
        rows, cols = np.nonzero(ok)
        agents.append((rows + lo).astype(np.int64))
        sites.append(cols.astype(np.int64))
        gains.append(gain[rows, cols].astype(np.int64))
        keeps.append(np.where(cols == before[rows + lo], kept_bits[rows + lo], 0))
        # any plan gains at most each agent's best pair: the least weight that counts first
        total_gain += int(np.where(ok, np.abs(gain), 0).max(axis=1, initial=0).sum())
    heavy = total_gain + (bonus + keep) * 5 * n + 1 if count_first else 0
    plan = solve_weekly_pairs(
        np.concatenate(agents),
        np.concatenate(sites),
        np.concatenate(gains) + heavy,
        counts=None,
        days=problem.days,
        allowed=allowed,
        preferred=preferred,
        bonus=bonus,
        desks=desks,
        must=problem.must,
        limit=problem.limit if problem.limit < n else None,
        kept=np.concatenate(keeps) if keep else None,
        keep=keep,
        time_limit_s=time_limit_s,
    )
    telecentre = np.full(n, -1, dtype=np.int64)
    telecentre[plan.group] = plan.site
    days = np.zeros((n, 5), dtype=bool)
    days[plan.group] = plan.days()
    return (
        telecentre,
        days,
        float(plan.bound),
        heavy,
        plan.status,
        "highs (weekly configuration LP)",
        plan.time_cut,
    )


def dedicated_plan(
    assignment: Assignment,
    desks: np.ndarray,
    *,
    allowed_days: np.ndarray | None = None,
    preferred_days: np.ndarray | None = None,
    open_telecentres: np.ndarray | None = None,
    kept_days: np.ndarray | None = None,
) -> WeeklyPlan:
    """Give the weekdays of a plan with dedicated desks (a desk per agent all week).

    Each assigned agent teleworks on its previous weekdays first when it stays
    at its previous telecentre (a re-plan), then its preferred days, then the
    earliest others, among the days it can and its telecentre is open.

    Parameters
    ----------
    assignment
        The plan (its problem's capacities are the dedicated desks).
    desks
        ``(n_telecentres, 5)`` desks per weekday (0: closed that day).
    allowed_days, preferred_days
        ``(n_agents, 5)`` booleans, as for :func:`solve_weekly`.
    open_telecentres
        Which telecentres are open, when they were chosen.
    kept_days
        ``(n_agents, 5)`` booleans: a re-plan's previous weekdays, kept at the
        incumbent telecentre (``problem.incumbent``).

    Returns
    -------
    WeeklyPlan
        The plan, marked dedicated.
    """
    problem = assignment.problem
    n = problem.n_agents
    allowed = np.ones((n, 5), bool) if allowed_days is None else np.asarray(allowed_days, bool)
    preferred = (
        np.zeros((n, 5), bool) if preferred_days is None else np.asarray(preferred_days, bool)
    )
    desks = np.asarray(desks, dtype=np.int64)
    _, kept, before = _kept(problem, kept_days, 1.0 if kept_days is not None else 0.0)
    days = np.zeros((n, 5), dtype=bool)
    for i in np.flatnonzero(assignment.telecentre >= 0).tolist():
        j = int(assignment.telecentre[i])
        keeps = kept[i] & (before[i] == j)
        days[i] = dedicated_days(allowed[i] & (desks[j] > 0), preferred[i], problem.days[i], keeps)
    return WeeklyPlan(
        assignment=assignment,
        days=days,
        desks=desks,
        dedicated=True,
        open_telecentres=open_telecentres,
    )


def dedicated_capacities(desks: np.ndarray) -> np.ndarray:
    """Dedicated desks of each telecentre: the desks it has on every day it is open.

    Parameters
    ----------
    desks
        ``(n_telecentres, 5)`` desks per weekday.

    Returns
    -------
    numpy.ndarray
        ``(n_telecentres,)`` agents each can host all week (0 when never open).
    """
    desks = np.asarray(desks, dtype=np.int64)
    open_days = np.where(desks > 0, desks, np.iinfo(np.int64).max)
    return np.asarray(np.where((desks > 0).any(axis=1), open_days.min(axis=1), 0))


def dedicated_days(
    usable: np.ndarray, preferred: np.ndarray, days: int, kept: np.ndarray | None = None
) -> np.ndarray:
    """Choose the weekdays an agent with a dedicated desk teleworks (as :func:`dedicated_plan`).

    Its previous weekdays first (``kept``, a re-plan at its previous
    telecentre), then its preferred ones, then the earliest, among ``usable``.

    Parameters
    ----------
    usable, preferred, kept
        ``(5,)`` booleans: the days it can telework and its telecentre is
        open; its preferred days; its previous days kept (None: none).
    days
        How many days it teleworks.

    Returns
    -------
    numpy.ndarray
        ``(5,)`` booleans: its telework days.
    """
    on = np.flatnonzero(usable)
    keeps = np.zeros(on.size, bool) if kept is None else np.asarray(kept, bool)[on]
    order = on[np.lexsort((on, ~np.asarray(preferred, bool)[on], ~keeps))]
    out = np.zeros(5, dtype=bool)
    out[order[: int(days)]] = True
    return out


def usable_pairs(
    desks: np.ndarray, allowed_days: np.ndarray | None, days: np.ndarray
) -> np.ndarray:
    """``(n_agents, n_telecentres)`` booleans: the telecentre is open on enough of the agent's days.

    Parameters
    ----------
    desks
        ``(n_telecentres, 5)`` desks per weekday.
    allowed_days
        ``(n_agents, 5)`` booleans (None: every day).
    days
        ``(n_agents,)`` telework days a week.

    Returns
    -------
    numpy.ndarray
        The mask.
    """
    n = days.shape[0]
    allowed = np.ones((n, 5), bool) if allowed_days is None else np.asarray(allowed_days, bool)
    usable = allowed[:, None, :] & (np.asarray(desks) > 0)[None, :, :]
    return np.asarray(usable.sum(axis=2) >= days[:, None])
