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
desk per agent for the whole week), so that every plan has a schedule.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

import optimizer.settings as settings
from optimizer.errors import InfeasibleError, InputError
from optimizer.model import (
    Assignment,
    AssignmentProblem,
    Engine,
    _result,
    check_feasible,
    cp_workers,
    run_cp_sat,
    solve_flow,
)
from optimizer.model.weekly import solve_weekly_pairs

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
#: Telecentres per agent kept in the CP-SAT model (besides those the bound's flow uses).
CANDIDATES = 8
#: Above this many agent-telecentre pairs, CP-SAT only sees the agents the bound's flow uses.
FOCUS_PAIRS = 20_000
#: Telecentres per agent (besides those the flow uses) when the model is focused.
FOCUS_CANDIDATES = 3
_SCALE = 60  # divisible by every number of days 1..5: per-day values stay whole


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
    choosing = max_open is not None or opening_cost is not None
    if max_open is not None and max_open < 0:
        msg = f"max_open must be 0 or more, got {max_open}."
        raise InputError(msg)
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
    fixed = None if opening_cost is None else problem.whole_units(opening_cost)
    if fixed is not None and (fixed.shape != (m,) or np.any(fixed < 0)):
        msg = f"opening costs must be {m} numbers >= 0, one per telecentre."
        raise InputError(msg)
    # at most max(desks) agents a telecentre: the capacity used for checks and reasons
    weekly = problem.with_rules(capacities=desks.max(axis=1))
    # each agent takes at least one desk-day: a necessary condition, worded in desk-days
    check_feasible(weekly.with_rules(capacities=desks.sum(axis=1)), places="desk-day")
    bonus = int(problem.whole_units(day_bonus))
    keep, kept, before = _kept(problem, kept_days, keep_bonus)
    opened: np.ndarray | None = None
    if by_pairs:
        telecentre, days, bound, heavy, status, label = _pairs_plan(
            weekly,
            desks,
            allowed,
            preferred,
            bonus,
            count_first,
            time_limit_s,
            (keep, kept, before),
        )
    else:
        eligible, gain = weekly.eligible(), weekly.weekly_gain()
        usable = allowed[:, None, :] & (desks > 0)[None, :, :]  # (n, m, 5)
        enough_days = usable.sum(axis=2) >= problem.days[:, None]
        eligible &= enough_days
        # count first: one more agent placed is worth more than any saving
        heavy = int(np.abs(gain).sum() + (bonus + keep) * 5 * n + 1) if count_first else 0
        gain = np.where(eligible, gain + heavy, 0)
        bound, flow_plan, units = _split_days_bound(
            weekly, eligible, gain, usable, preferred, desks, bonus, (keep, kept, before)
        )
        if one_day_flow:
            telecentre, days, total = flow_plan
            status, label = "optimal", "ortools-min-cost-flow (weekly)"
        else:
            telecentre, days, total, proven, opened = _cp_sat_plan(
                weekly,
                eligible,
                gain,
                usable,
                preferred,
                desks,
                bonus,
                time_limit_s,
                units,
                (keep, kept, before),
                max_open=max_open if choosing else None,
                fixed=fixed,
                deciding=choosing,
            )
            status = "optimal" if proven or total >= bound else "feasible"
            label = "ortools-cp-sat (weekly" + (", choosing telecentres)" if choosing else ")")
    granted = float((days & preferred).sum())
    day_bonus_total = float(bonus * granted) / problem.objective_unit
    held = float((days & kept & (telecentre == before)[:, None]).sum())
    assignment = _result(
        weekly,
        telecentre,
        bound_gain=bound - bonus * granted - keep * held - heavy * float((telecentre >= 0).sum()),
        status=status,
        engine=label,
        started=started,
    )
    logger.info(
        "weekly plan: %d agents x %d telecentres, %s, objective %.1f, bound %.1f, %.2f s",
        n,
        m,
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
) -> tuple[np.ndarray, np.ndarray, float, int, str, str]:
    """Plan with :func:`optimizer.model.weekly.solve_weekly_pairs` on the eligible pairs.

    The pairs are read a block of agents at a time (no dense agents x
    telecentres x weekdays array). Returns ``(telecentre, days, bound, heavy,
    status, engine)``, the bound in whole units with the day bonuses and the
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
        usable = np.flatnonzero(allowed[i] & (desks[j] > 0))
        keeps = kept[i, usable] & (before[i] == j)
        order = usable[np.lexsort((usable, ~preferred[i, usable], ~keeps))]
        days[i, order[: int(problem.days[i])]] = True
    return WeeklyPlan(
        assignment=assignment,
        days=days,
        desks=desks,
        dedicated=True,
        open_telecentres=open_telecentres,
    )


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


def _split_days_bound(
    problem: AssignmentProblem,
    eligible: np.ndarray,
    gain: np.ndarray,
    usable: np.ndarray,
    preferred: np.ndarray,
    desks: np.ndarray,
    bonus: int,
    keeping: tuple[int, np.ndarray, np.ndarray],
) -> tuple[float, tuple[np.ndarray, np.ndarray, float], np.ndarray]:
    """Upper bound by min-cost flow when agents may split their days (exact with one day each).

    An agent may spread its days over telecentres, but takes at most one desk a
    weekday (agent -> (agent, weekday) -> (telecentre, weekday) slot).
    A day is worth the preferred-day bonus, and the kept-day bonus at the
    agent's previous telecentre (``keeping``, from :func:`_kept`).

    Returns the bound (objective units x unit), the flow's plan read as
    (telecentre, days, total), which is a valid plan when every agent has one
    day, and the days each agent spends at each telecentre in that flow.
    """
    n, m = problem.n_agents, problem.n_telecentres
    d = problem.days.astype(np.int64)
    one_day = bool(np.all(d == 1))
    i_idx, j_idx, day_idx = np.nonzero(eligible[:, :, None] & usable)
    keep, kept, before = keeping
    value = gain[i_idx, j_idx] * (_SCALE // d[i_idx]) + _SCALE * (
        bonus * preferred[i_idx, day_idx] + keep * (kept[i_idx, day_idx] & (j_idx == before[i_idx]))
    )
    # agent -> (agent, weekday) -> (telecentre, weekday): one desk a day at most for each agent
    agent_day = n + np.arange(5 * n)
    slots = m * 5
    first_slot = 6 * n
    source, hub, sink, stay = first_slot + slots + np.arange(4)
    slot = first_slot + j_idx * 5 + day_idx
    free = ~problem.must if one_day else np.ones(n, bool)
    # one agent per unit with one day each; otherwise the K agents with most days
    limit = problem.limit if one_day else int(np.sort(d)[::-1][: problem.limit].sum())
    agents = np.arange(n)
    n_free = int(free.sum())
    tails = np.concatenate(
        [
            np.full(n, source),
            np.repeat(agents, 5),
            n + i_idx * 5 + day_idx,
            agents[free],
            first_slot + np.arange(slots),
            [hub, stay],
        ]
    )
    heads = np.concatenate(
        [agents, agent_day, slot, np.full(n_free, stay), np.full(slots, hub), [sink, sink]]
    )
    flow = solve_flow(
        tails,
        heads,
        np.concatenate(
            [d, np.ones(5 * n), np.ones(i_idx.size), d[free], desks.ravel(), [limit, d.sum()]]
        ),
        np.concatenate([np.zeros(6 * n), -value, np.zeros(n_free + slots + 2)]),
        n_nodes=first_slot + slots + 4,
        source=int(source),
        sink=int(sink),
        amount=int(d.sum()),
    )
    if flow is None:
        msg = "the agents who must be assigned cannot all get desks on their days."
        raise InfeasibleError(msg)
    first = 6 * n  # the (agent, weekday) -> slot arcs follow the 6n arcs before them
    used = flow.flows(np.arange(first, first + i_idx.size, dtype=np.int32)) > 0
    telecentre = np.full(n, -1, dtype=np.int64)
    days = np.zeros((n, 5), dtype=bool)
    telecentre[i_idx[used]] = j_idx[used]
    days[i_idx[used], day_idx[used]] = True
    bound = -flow.optimal_cost() / _SCALE
    units = np.zeros((n, m), dtype=np.int64)
    np.add.at(units, (i_idx[used], j_idx[used]), 1)
    return bound, (telecentre, days, bound), units


def _cp_sat_plan(
    problem: AssignmentProblem,
    eligible: np.ndarray,
    gain: np.ndarray,
    usable: np.ndarray,
    preferred: np.ndarray,
    desks: np.ndarray,
    bonus: int,
    time_limit_s: float,
    units: np.ndarray,
    keeping: tuple[int, np.ndarray, np.ndarray],
    *,
    max_open: int | None = None,
    fixed: np.ndarray | None = None,
    deciding: bool = False,
) -> tuple[np.ndarray, np.ndarray, float, bool, np.ndarray | None]:
    """CP-SAT on the agents and telecentres the split-days bound points to.

    An agent gets variables for its best telecentres and those where the
    bound's flow put some of its days (an agent who must be assigned, for
    every eligible telecentre); on problems larger than
    :data:`FOCUS_PAIRS` pairs, agents to whom that flow gave no day are left
    out of the model (they would displace better agents). The returned flag
    says whether the optimum of the model is an optimum of the whole problem.
    When ``deciding``, telecentres are opened by decision (at most
    ``max_open``, each at its ``fixed`` cost) and the open ones are returned.
    """
    n, m = problem.n_agents, problem.n_telecentres
    must = problem.must
    focus = n * m > FOCUS_PAIRS
    eligible = eligible & ~(focus & (units.sum(axis=1) == 0) & ~must)[:, None]
    # an agent who must be assigned keeps every telecentre: else the model may have no
    # plan while the problem has one (the flow engine places them)
    eligible = eligible & (
        (units > 0)
        | _top_mask(np.where(eligible, gain, -1), FOCUS_CANDIDATES if focus else CANDIDATES)
        | must[:, None]
    )
    score = np.where(eligible, gain, -1)
    width = min(CANDIDATES, m)
    top = (
        np.argpartition(-score, width - 1, axis=1)[:, :width]
        if width < m
        else np.tile(np.arange(m), (n, 1))
    )
    model = cp_model.CpModel()
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    z: dict[tuple[int, int, int], cp_model.IntVar] = {}
    for i in range(n):
        for j in (np.flatnonzero(eligible[i]) if must[i] else top[i]).tolist():
            if not eligible[i, j]:
                continue
            y[i, j] = model.new_bool_var("")
            for day in np.flatnonzero(usable[i, j]).tolist():
                z[i, j, day] = model.new_bool_var("")
    by_agent: dict[int, list[cp_model.IntVar]] = {}
    for (i, j), var in y.items():
        by_agent.setdefault(i, []).append(var)
        model.add(
            sum(z[i, j, day] for day in range(5) if (i, j, day) in z) == int(problem.days[i]) * var
        )
    for i, vars_ in by_agent.items():
        if must[i]:
            model.add_exactly_one(vars_)
        else:
            model.add_at_most_one(vars_)
    if any(must[i] and i not in by_agent for i in range(n)):
        msg = "an agent who must be assigned has no telecentre open on enough of its days."
        raise InfeasibleError(msg)
    per_slot: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (_, j, day), var in z.items():
        per_slot.setdefault((j, day), []).append(var)
    for (j, day), vars_ in per_slot.items():
        model.add(sum(vars_) <= int(desks[j, day]))
    if problem.limit < n:
        model.add(sum(y.values()) <= problem.limit)
    keep, kept, before = keeping

    def day_worth(i: int, j: int, day: int) -> int:
        return bonus * int(preferred[i, day]) + keep * int(kept[i, day] and before[i] == j)

    worth = {key: day_worth(*key) for key in z}
    terms = list(y.values()) + [v for key, v in z.items() if worth[key]]
    coefficients = [int(gain[i, j]) for (i, j) in y] + [w for w in worth.values() if w]
    is_open = [model.new_bool_var(f"open{j}") for j in range(m)] if deciding else []
    if deciding:
        for (_, j), var in y.items():
            model.add_implication(var, is_open[j])
        if max_open is not None:
            model.add(sum(is_open) <= max_open)
        if fixed is not None:
            terms += is_open
            coefficients += [-int(f) for f in fixed.tolist()]
    model.maximize(cp_model.LinearExpr.weighted_sum(terms, coefficients))
    hint_centre, hint_days = _greedy_plan(
        problem, gain, top, eligible, usable, preferred, desks, max_open=max_open, keeping=keeping
    )
    for (i, j), var in y.items():
        model.add_hint(var, int(hint_centre[i] == j))
    for (i, j, day), var in z.items():
        model.add_hint(var, int(hint_centre[i] == j and hint_days[i, day]))
    for j, var in enumerate(is_open):
        model.add_hint(var, int((hint_centre == j).any()))
    solver, proven = run_cp_sat(
        model,
        time_limit_s=time_limit_s,
        workers=cp_workers(len(y) + len(z)),
        what="weekly plan",
        infeasible="the agents who must be assigned cannot all get desks on their days"
        + (
            f" with at most {max_open} telecentre(s) open (--max-open)."
            if deciding and max_open is not None
            else "."
        ),
    )
    logger.info(
        "weekly CP-SAT: %d + %d variables, objective %.0f, its bound %.0f",
        len(y),
        len(z),
        solver.objective_value,
        solver.best_objective_bound,
    )
    telecentre = np.full(n, -1, dtype=np.int64)
    days = np.zeros((n, 5), dtype=bool)
    for (i, j), var in y.items():
        if solver.boolean_value(var):
            telecentre[i] = j
    for (i, _, day), var in z.items():
        if solver.boolean_value(var):
            days[i, day] = True
    opened = np.array([solver.boolean_value(v) for v in is_open], dtype=bool) if deciding else None
    return (
        telecentre,
        days,
        float(solver.objective_value),
        proven and width >= m and not focus,
        opened,
    )


def _top_mask(score: np.ndarray, width: int) -> np.ndarray:
    """Booleans marking each row's ``width`` largest scores."""
    if width >= score.shape[1]:
        return np.ones(score.shape, dtype=bool)
    top = np.argpartition(-score, width - 1, axis=1)[:, :width]
    mask = np.zeros(score.shape, dtype=bool)
    np.put_along_axis(mask, top, values=True, axis=1)
    return mask


def _greedy_plan(
    problem: AssignmentProblem,
    gain: np.ndarray,
    top: np.ndarray,
    eligible: np.ndarray,
    usable: np.ndarray,
    preferred: np.ndarray,
    desks: np.ndarray,
    *,
    max_open: int | None = None,
    keeping: tuple[int, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Build a first plan for CP-SAT: agents by saving per desk-day, each to its best room.

    Must-assign agents go first. Each agent takes its best candidate
    telecentre with enough free desks on its allowed days, preferring its
    kept weekdays there (``keeping``, from :func:`_kept`), then its preferred
    weekdays, then the emptiest days; no more than ``max_open`` telecentres
    are used.
    """
    n = problem.n_agents
    free = desks.copy()
    centre = np.full(n, -1, dtype=np.int64)
    days = np.zeros((n, 5), dtype=bool)
    per_day = np.where(eligible, gain, -1) / problem.days[:, None]
    best = per_day.max(axis=1, initial=-1.0)
    order = np.lexsort((-best, ~problem.must))
    used = np.zeros(desks.shape[0], dtype=bool)
    placed = 0
    for i in order.tolist():
        if placed >= problem.limit or best[i] < 0:
            break
        need = int(problem.days[i])
        for j in sorted(top[i].tolist(), key=lambda c: -gain[i, c]):
            if not eligible[i, j]:
                continue
            if max_open is not None and not used[j] and used.sum() >= max_open:
                continue
            open_days = np.flatnonzero(usable[i, j] & (free[j] > 0))
            if open_days.size < need:
                continue
            keeps = (
                keeping[1][i, open_days] & (keeping[2][i] == j)
                if keeping is not None
                else np.zeros(open_days.size, dtype=bool)
            )
            rank = np.lexsort((-free[j, open_days], ~preferred[i, open_days], ~keeps))
            chosen = open_days[rank[:need]]
            centre[i] = j
            used[j] = True
            days[i, chosen] = True
            free[j, chosen] -= 1
            placed += 1
            break
    return centre, days
