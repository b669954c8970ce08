"""Why each agent left out is left out, in the plan's words rather than the solver's.

The model gives a reason per agent (:func:`optimizer.model.explain`); these
steps reword it where the plan knows more: closed weekdays, too few weekdays,
a home off the network, full telecentres day by day, telecentres not opened,
``--minimax`` limits, ties lost to an equal.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer.model import (
    REASON_CLOSED_DAYS,
    REASON_FULL,
    REASON_MUST_FIRST,
    REASON_NOT_SELECTED,
    REASON_SHORTER_COMMUTE,
    REASON_TOO_FAR,
    Assignment,
)
from optimizer.model.explain import (
    REASON_FULL_OR_CLOSED,
    REASON_MINIMAX_COUNT,
    REASON_MINIMAX_FAR,
    REASON_MINIMAX_FULL,
    REASON_NOT_OPENED,
    REASON_SELECTED_FULL,
    REASON_TIME_LIMIT,
)
from optimizer.options import PlanOptions
from optimizer.pipeline.result import TieReport
from optimizer.schedule import WeeklyPlan
from optimizer.ties import tie_reason
from optimizer.travel import TravelTable


def explained(
    plan: WeeklyPlan,
    eligible: np.ndarray,
    usable: np.ndarray,
    allowed: np.ndarray | None,
    days: np.ndarray,
    travel: TravelTable,
    options: PlanOptions,
    mode: str,
    opening_cost: bool,
    ties: TieReport,
) -> WeeklyPlan:
    """Reword the reasons of the agents left out where the plan knows more than the model.

    Parameters
    ----------
    plan
        The settled plan.
    eligible
        ``(n_agents, n_telecentres)`` pairs eligible before the weekdays count.
    usable
        ``(n_agents, n_telecentres)`` telecentres open on enough of the agent's days.
    allowed
        ``(n_agents, 5)`` the days each agent can telework (None: all).
    days
        ``(n_agents,)`` telework days a week.
    travel
        The travel table (homes off the network).
    options
        The plan's options.
    mode
        ``"assignment"``, ``"minimax"`` or ``"choose"``.
    opening_cost
        Whether the telecentres have opening costs.
    ties
        How the ties were settled.

    Returns
    -------
    WeeklyPlan
        The plan, its assignment's reasons reworded.
    """
    assignment = _closed_days_reasons(plan.assignment, eligible, usable)
    assignment = _off_network_reasons(assignment, travel, options.max_snap_m)
    assignment = _must_first_reasons(assignment)
    assignment = _too_few_days_reasons(assignment, allowed, days)
    plan = replace(plan, assignment=assignment)
    rule = choosing_rule(options, opening_cost)
    assignment = _room_reasons(plan, eligible & usable, allowed, options, mode=mode, rule=rule)
    assignment = _minimax_far_reasons(assignment, eligible & usable, mode=mode)
    return replace(plan, assignment=_tie_reasons(assignment, ties))


def _tie_reasons(assignment: Assignment, ties: TieReport) -> Assignment:
    """Say "tie lost to ..." for agents left out while an equal was placed."""
    reasons = list(assignment.reasons)
    ids = assignment.problem.agent_ids
    for loser, (winner, rule) in ties.lost.items():
        reasons[loser] = tie_reason(ids[winner], rule, ties.order.seed)
    return replace(assignment, reasons=tuple(reasons)) if ties.lost else assignment


def _closed_days_reasons(
    assignment: Assignment, eligible: np.ndarray, usable: np.ndarray
) -> Assignment:
    """Say "closed on its days" for agents left out because no telecentre opens on enough days."""
    stuck = (assignment.telecentre < 0) & eligible.any(axis=1) & ~(eligible & usable).any(axis=1)
    return _reworded(assignment, stuck, REASON_CLOSED_DAYS)


def _must_first_reasons(assignment: Assignment) -> Assignment:
    """Say "went first to agents who must be assigned" where one of them commutes less.

    With ``--select-by commute``, agents who must be assigned take their places first: an
    agent left out with a longer commute than one of them lost its place to the rule, not
    to longer commutes.
    """
    problem = assignment.problem
    if problem.excluded is None or not problem.must.any():
        return assignment
    commute = np.nan_to_num(problem.head_office_minutes_to, nan=-np.inf)
    shortest = commute[problem.must & (assignment.telecentre >= 0)]
    if shortest.size == 0:
        return assignment
    left = np.asarray(problem.excluded, dtype=bool) & (assignment.telecentre < 0)
    return _reworded(
        assignment, left & (commute > shortest.min()), REASON_MUST_FIRST, was=REASON_SHORTER_COMMUTE
    )


#: Why an agent whose impossible_days leave fewer weekdays than its telework_days is left out.
REASON_TOO_FEW_DAYS = (
    "cannot telework: its impossible_days leave fewer weekdays than its telework_days"
)


def _too_few_days_reasons(
    assignment: Assignment, allowed: np.ndarray | None, days: np.ndarray
) -> Assignment:
    """Say the roster leaves too few weekdays, not "closed on its days", where it does."""
    if allowed is None:
        return assignment
    free = allowed.sum(axis=1)
    too_few = (free < days) & (assignment.telecentre < 0)
    return _reworded(assignment, too_few, REASON_TOO_FEW_DAYS, was=REASON_CLOSED_DAYS)


def _off_network_reasons(
    assignment: Assignment, travel: TravelTable, max_snap_m: float
) -> Assignment:
    """Say that a home too far from every road is off the network, not "no road route"."""
    off = ~travel.origins["routed"].to_numpy(bool) & (assignment.telecentre < 0)
    reason = (
        f"unreachable: home more than {max_snap_m / 1000:g} km from the road network's roads "
        "(outside its area?)"
    )
    return _reworded(assignment, off, reason)


def room_on_days(plan: WeeklyPlan, allowed: np.ndarray | None) -> np.ndarray:
    """``(n_agents, n_telecentres)`` booleans: the agent would fit there as the plan stands.

    With desks shared by weekday, the telecentre has a free desk on at least
    as many of the days the agent can telework as it teleworks; with dedicated
    desks, it hosts fewer agents than its dedicated desks. A telecentre not
    opened has no room.

    Parameters
    ----------
    plan
        The weekly plan.
    allowed
        ``(n_agents, 5)`` booleans: the days each agent can telework (None: all).

    Returns
    -------
    numpy.ndarray
        The mask.
    """
    problem = plan.assignment.problem
    n = problem.n_agents
    if plan.dedicated:
        free = problem.capacities - plan.assignment.load()
        room = np.repeat((free > 0)[None, :], n, axis=0)
    else:
        free_days = (plan.desks - plan.occupancy() > 0).astype(np.int64)  # (m, 5)
        days_ok = np.ones((n, 5), np.int64) if allowed is None else allowed.astype(np.int64)
        room = days_ok @ free_days.T >= problem.days[:, None]
    if plan.open_telecentres is not None:
        room &= np.asarray(plan.open_telecentres, bool)[None, :]
    return np.asarray(room)


def choosing_rule(options: PlanOptions, opening_cost: bool) -> str:
    """Name the rule that chose the telecentres as the user wrote it: ``--max-open 4``.

    Parameters
    ----------
    options
        The plan's options.
    opening_cost
        Whether the telecentres file has an ``opening_cost`` column.

    Returns
    -------
    str
        ``--max-open K``, ``opening costs`` or both.
    """
    rules = [f"--max-open {options.max_open}"] if options.max_open is not None else []
    if opening_cost:
        rules.append("opening costs")
    return " and ".join(rules)


def longest_drive(assignment: Assignment) -> float | None:
    """Return the longest one-way drive to a telecentre of the assigned agents (None: none)."""
    agents = np.flatnonzero(assignment.telecentre >= 0)
    if agents.size == 0:
        return None
    return float(assignment.problem.minutes_to[agents, assignment.telecentre[agents]].max())


def _room_reasons(
    plan: WeeklyPlan,
    options_mask: np.ndarray,
    allowed: np.ndarray | None,
    opts: PlanOptions,
    *,
    mode: str,
    rule: str,
) -> Assignment:
    """Say "capacity full" / "not selected" only where true, day by day; name closed telecentres.

    The model's reason tells full from limited by the agents each telecentre
    hosts; an agent's days decide. For each agent left out as full or not
    selected, ``options_mask`` (the telecentres that would save it time under
    the user's rules, open on enough of its days) is checked against the plan:
    a telecentre where it would fit means the limit (``--select``), the
    ``--minimax`` count or the time limit left it out; otherwise the
    telecentres are full on its days, or not opened when telecentres were
    chosen.
    """
    assignment = plan.assignment
    problem = assignment.problem
    reasons = list(assignment.reasons)
    todo = [
        i
        for i in np.flatnonzero(assignment.telecentre < 0).tolist()
        if reasons[i] in (REASON_FULL, REASON_NOT_SELECTED) and options_mask[i].any()
    ]
    if not todo:
        return assignment
    room = room_on_days(plan, allowed) & options_mask
    opened = (
        np.ones(problem.n_telecentres, bool)
        if plan.open_telecentres is None
        else np.asarray(plan.open_telecentres, bool)
    )
    limit_reached = int((assignment.telecentre >= 0).sum()) >= problem.limit
    count = int((assignment.telecentre >= 0).sum())
    longest = longest_drive(assignment)
    near = (
        problem.minutes_to <= problem.max_minutes
        if mode == "minimax" and problem.max_minutes is not None
        else np.ones(options_mask.shape, bool)
    )
    ids = problem.telecentre_ids
    for i in todo:
        mine = options_mask[i]
        if mode == "minimax":
            if (room[i] & near[i]).any():
                reasons[i] = REASON_MINIMAX_COUNT.format(count=count)
            elif room[i].any() and longest is not None:
                reasons[i] = REASON_MINIMAX_FULL.format(longest=f"{np.round(longest, 1):.1f}")
            else:
                reasons[i] = REASON_FULL
        elif room[i].any():
            if limit_reached and opts.select is not None:
                reasons[i] = REASON_NOT_SELECTED
            elif assignment.status != "optimal":
                reasons[i] = REASON_TIME_LIMIT
        elif not (mine & opened).any():
            closed = np.flatnonzero(mine)
            j = int(closed[np.argmin(problem.minutes_to[i, closed])])
            reasons[i] = REASON_NOT_OPENED.format(rule=rule, nearest=ids[j])
        elif (mine & ~opened).any():
            reasons[i] = REASON_FULL_OR_CLOSED.format(rule=rule)
        elif problem.excluded is not None:
            reasons[i] = REASON_SELECTED_FULL.format(select=opts.select)
        else:
            reasons[i] = REASON_FULL
    return replace(assignment, reasons=tuple(reasons))


def _minimax_far_reasons(
    assignment: Assignment, options_mask: np.ndarray, *, mode: str
) -> Assignment:
    """Say "left out by --minimax" where its limit, not ``--max-minutes``, is what is too far.

    ``options_mask``: the telecentres that would save each agent time under
    the user's rules (``--max-minutes`` included), open on enough of its days.
    """
    longest = longest_drive(assignment)
    if mode != "minimax" or longest is None:
        return assignment
    far = np.array([r == REASON_TOO_FAR for r in assignment.reasons]) & (assignment.telecentre < 0)
    far &= options_mask.any(axis=1)
    return _reworded(
        assignment, far, REASON_MINIMAX_FAR.format(longest=f"{np.round(longest, 1):.1f}")
    )


def _reworded(
    assignment: Assignment, where: np.ndarray, reason: str, *, was: str | None = None
) -> Assignment:
    """Give the agents ``where`` (a mask) ``reason``.

    With ``was``, only those of them whose reason was ``was`` are reworded.
    """
    reasons = list(assignment.reasons)
    changed = False
    for i in np.flatnonzero(where).tolist():
        if was is None or reasons[i] == was:
            reasons[i] = reason
            changed = True
    return replace(assignment, reasons=tuple(reasons)) if changed else assignment
