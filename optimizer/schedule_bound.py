"""The split-days flow of weekly plans: a bound on every plan, the plan with one day each.

Owns :func:`_split_days_bound`: agents may spread their days over telecentres
(one desk a weekday at most), a transportation problem solved exactly by
min-cost flow. Its optimum bounds every weekly plan of
:func:`optimizer.schedule.solve_weekly`; with one telework day each, its flow is
the optimal plan, and otherwise its days show CP-SAT where to look.
"""

from __future__ import annotations

import numpy as np

from optimizer.errors import InfeasibleError
from optimizer.model import AssignmentProblem, solve_flow

_SCALE = 60  # divisible by every number of days 1..5: per-day values stay whole


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
