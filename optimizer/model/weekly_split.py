r"""The split-days relaxation of weekly plans: a bound, and often a plan (min-cost flow).

Owns :func:`_split_days`: each agent-day placed on its own, a min-cost flow solved
exactly by OR-Tools, whose optimum bounds every plan of the configuration model
and which, read back as whole agents (:func:`_flow_as_plan`, :func:`_dealt`), is
often a plan itself; see :mod:`optimizer.model.weekly`.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from optimizer.errors import SolverError
from optimizer.model.flow_network import solve_flow
from optimizer.model.weekly_data import _BITS, _Data

logger = logging.getLogger(__name__)

#: Costs are scaled by this (whole for any number of days, 1 to 5).
_SCALE = 60


def _split_days_bound(data: _Data) -> int | None:
    """Return the split-days bound alone (:func:`_split_days`)."""
    return _split_days(data)[0]


def _split_days(
    data: _Data,
) -> tuple[int | None, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    r"""Bound every plan by the split-days relaxation, a min-cost flow (OR-Tools).

    Each agent-day is placed on its own: group :math:`g` sends
    :math:`n_g d_g` agent-days, at most :math:`n_g` on each weekday, each to a
    usable (telecentre, weekday) of one of its pairs for
    :math:`w_p / d_g + b[\text{preferred}] + k[\text{kept}]`, within the desks; the agent-days
    of groups that must be placed all go; the limit on agents is dropped.
    Every plan of the configuration model is such a flow of the same value (a
    column's agents send one agent-day on each of its days), so the flow's
    optimum bounds them all. Costs are scaled by 60 (whole for any
    :math:`d_g \le 5`).

    Returns the bound (rounded down: plans are worth whole units), or None when
    the relaxation has no flow (agents who must be placed cannot be); and the
    flow read as a plan when it is one (:func:`_flow_as_plan`: every group's
    agent-days at one telecentre, in whole agents), else None. With desks to
    spare, every agent's days go to its best telecentre and the relaxation is
    already the optimal plan: no column generation is needed (20,000 agents of
    1 to 5 days with plentiful desks: a proven plan in seconds, where the
    column generation ran for minutes).
    """
    net = _split_days_network(data)
    try:
        flow = solve_flow(
            *net.arcs, n_nodes=net.n_nodes, source=net.source, sink=net.sink, amount=net.total
        )
    except SolverError as exc:  # the bound is a help, never a reason to fail
        logger.warning("weekly pairs: no split-days bound (%s)", exc)
        return None, None
    if flow is None:
        return None, None
    first = net.first  # the (group, weekday) -> slot arcs, in p_idx order
    used = flow.flows(np.arange(first, first + net.p_idx.size, dtype=np.int32)).astype(np.int64)
    return -int(flow.optimal_cost()) // _SCALE, _flow_as_plan(data, net.p_idx, net.day, used)


class _SplitNetwork(NamedTuple):
    """The split-days flow's arcs ``(tails, heads, capacities, costs)`` and what reads it."""

    arcs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    n_nodes: int
    source: int
    sink: int
    total: int  # agent-days sent
    p_idx: np.ndarray  # the pair of each (group, weekday) -> slot arc
    day: np.ndarray  # and its weekday
    first: int  # the index of the first of those arcs


def _split_days_network(data: _Data) -> _SplitNetwork:
    """Build the split-days flow: source -> group -> (group, weekday) -> slot -> sink.

    Groups that need not be placed may send their agent-days to "stay" instead;
    costs are scaled by :data:`_SCALE`.
    """
    n_groups, m = data.n_groups, data.desks.shape[0]
    stay = 0
    group_day = 1 + np.arange(n_groups * 5).reshape(n_groups, 5)
    slot = 1 + 5 * n_groups + np.arange(m * 5).reshape(m, 5)
    source = 1 + 5 * n_groups + 5 * m
    sink = source + 1
    group_node = sink + 1 + np.arange(n_groups)
    p_idx, day = np.nonzero(_BITS[data.usable].astype(bool))
    group = data.agent[p_idx]
    per_day = data.gain[p_idx] * (_SCALE // data.days[group]) + _SCALE * (
        data.bonus * (data.preferred[group, day] > 0) + data.keep * ((data.kept[p_idx] >> day) & 1)
    )
    days_ok = np.zeros((n_groups, 5), dtype=bool)
    days_ok[group, day] = True
    gd_g, gd_d = np.nonzero(days_ok)
    supply = data.counts * data.days
    free = np.flatnonzero(~data.must)
    total = int(supply.sum())
    return _SplitNetwork(
        (
            np.concatenate(
                [
                    np.full(n_groups, source),
                    group_node[gd_g],
                    group_day[group, day],
                    slot.ravel(),
                    group_node[free],
                    [stay],
                ]
            ),
            np.concatenate(
                [
                    group_node,
                    group_day[gd_g, gd_d],
                    slot[data.site[p_idx], day],
                    np.full(5 * m, sink),
                    np.full(free.size, stay),
                    [sink],
                ]
            ),
            np.concatenate(
                [
                    supply,
                    data.counts[gd_g],
                    data.counts[group],
                    data.desks.ravel(),
                    supply[free],
                    [total],
                ]
            ),
            np.concatenate(
                [np.zeros(n_groups + gd_g.size), -per_day, np.zeros(5 * m + free.size + 1)]
            ),
        ),
        int(group_node[-1]) + 1 if n_groups else sink + 1,
        source,
        sink,
        total,
        p_idx,
        day,
        n_groups + gd_g.size,
    )


def _flow_as_plan(
    data: _Data, p_idx: np.ndarray, day: np.ndarray, used: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Read the split-days flow as columns ``(pair, mask, count)``, or None if it is no plan.

    A group whose agent-days, ``k d_g`` of them with at most ``k`` on any
    weekday, go to one telecentre is ``k`` agents with ``d_g`` distinct
    weekdays each (dealt in turn, weekday by weekday). A group the flow spread
    over telecentres (an agent equally well off at two) is moved whole to one
    of them with room on those weekdays; the plan's value is then checked
    against the bound by the caller. More agents than the limit: no plan.
    """
    sent = used > 0
    pairs, days_sent, amount = p_idx[sent], day[sent], used[sent]
    group = data.agent[pairs]
    load = np.zeros(data.desks.shape, dtype=np.int64)
    np.add.at(load, (data.site[pairs], days_sent), amount)
    by_group: dict[int, list[int]] = {}
    for k, g in enumerate(group.tolist()):
        by_group.setdefault(g, []).append(k)
    out: list[tuple[int, int, int]] = []
    for g, rows in by_group.items():
        per_day = np.zeros(5, dtype=np.int64)
        np.add.at(per_day, days_sent[rows], amount[rows])
        own = np.unique(pairs[rows])
        target = int(own[0])
        if own.size > 1:  # spread over telecentres: all of it to one with room
            load_without = load.copy()
            np.subtract.at(load_without, (data.site[pairs[rows]], days_sent[rows]), amount[rows])
            totals = [int(amount[[r for r in rows if pairs[r] == p]].sum()) for p in own]
            fits = [
                int(p)
                for _, p in sorted(zip(totals, own.tolist(), strict=True), reverse=True)
                if np.all(load_without[data.site[p]] + per_day <= data.desks[data.site[p]])
                and np.all(((int(data.usable[p]) >> np.arange(5)) & 1)[per_day > 0] == 1)
            ]
            if not fits:
                return None
            target = fits[0]
            load = load_without
            load[data.site[target]] += per_day
        columns = _dealt(per_day, int(data.days[g]))
        if columns is None:
            return None
        out += [(target, mask, count) for mask, count in columns]
    placed = (
        np.array([c[0] for c in out], dtype=np.int64),
        np.array([c[1] for c in out], dtype=np.uint8),
        np.array([c[2] for c in out], dtype=np.int64),
    )
    if data.limit is not None and int(placed[2].sum()) > data.limit:
        return None
    return placed


def _dealt(per_day: np.ndarray, days: int) -> list[tuple[int, int]] | None:
    """Deal a group's agent-days per weekday to whole agents: ``(mask, agents)``, or None.

    ``k days`` agent-days with at most ``k`` on a weekday make ``k`` agents
    with ``days`` distinct weekdays: dealt in turn, weekday by weekday, two of
    one weekday never go to one agent.
    """
    total = int(per_day.sum())
    if total % days:
        return None
    k = total // days
    if k == 0 or int(per_day.max()) > k:
        return None
    dealt = np.repeat(np.arange(5), per_day)
    masks = np.zeros(k, dtype=np.int64)
    np.bitwise_or.at(masks, np.arange(dealt.size) % k, 1 << dealt)
    kinds, counts = np.unique(masks, return_counts=True)
    return list(zip(kinds.tolist(), counts.tolist(), strict=True))
