r"""One exact plan for the whole country: a min-cost flow over groups and (site, weekday).

Formulation (one telework day per agent): groups :math:`g` of :math:`n_g`
interchangeable agents with allowed weekdays :math:`P_g`; sites :math:`j`
with :math:`c_{jt}` desks on weekday :math:`t`; :math:`w_{gj}` the weekly
gain of one agent of :math:`g` at :math:`j` (whole seconds: round-trip
saving against its workplace, times its telework days), for eligible pairs
only (the rules of :meth:`optimizer.model.AssignmentProblem.block`: saving
positive and at least the minimum, one-way drive within the limit and not
longer than to the workplace). The plan is

.. math::

    \max \sum_{gj} w_{gj} x_{gj}
    \;\text{s.t.}\;
    \sum_j x_{gj} \le n_g,\;
    x_{gj} = \sum_{t \in P_g} y_{gjt},\;
    \sum_g y_{gjt} \le c_{jt},\; x, y \in \mathbb{Z}_{\ge 0}.

As a network: group :math:`g` (supply :math:`n_g`) -> node :math:`(j, P_g)`
(cost :math:`-w_{gj}`, capacity :math:`n_g`) -> :math:`(j, t)` for
:math:`t \in P_g` -> sink (capacity :math:`c_{jt}`), and group -> "stays
at work" -> sink at no cost. Groups sharing a day pattern share the
:math:`(j, P)` node, which is exact because every agent routed through it may
take any of its days. The constraint matrix is a network matrix, so the
integral min-cost flow (OR-Tools) is an optimum of the agent-level plan:
splitting each group into its agents gives the same optimum as
:func:`optimizer.schedule.solve_weekly` on the agents (a test checks it).
Agents of one group are interchangeable: which of them are placed (the first
in input order) is a tie.

Agents teleworking more than one day a week (:func:`solve_weekly_groups`):
a day pattern per agent is no longer a flow (an agent takes one site on
several days at once), so the plan is the configuration model of
:func:`optimizer.model.weekly.solve_weekly_pairs` on the same pairs and
groups (one-day groups included: the desks are shared), with a valid bound
and a proven or feasible status.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from optimizer.errors import InputError, SolverError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupPlan:
    """The optimum of the group flow.

    Attributes
    ----------
    placements
        ``group, site, days, agents``: how many agents of each group go
        where, on which weekdays (site as an index, ``days`` a 5-bit mask,
        bit 0 Monday); the flow's also give ``weekday`` (its one day).
    gain
        Objective, whole seconds a week.
    seconds
        Solve time.
    arcs
        Arcs in the flow network (pairs, for the weekly model).
    bound
        A valid upper bound on every plan's gain (the gain when proven).
    status
        ``"optimal"`` (proven) or ``"feasible"``.
    prices
        The flow's node potentials (:class:`FlowPrices`), when found.
    wider_bound, hopeful_out
        The weekly model's, when given hopeful pairs (see
        :class:`optimizer.model.weekly_data.WeeklyPairsPlan`): a bound on every
        plan that may use them too, and which of them cannot raise
        :attr:`bound`.
    time_cut
        The weekly model's stages the time limit ended (empty: the plan does
        not depend on the machine's speed).
    """

    placements: pd.DataFrame
    gain: int
    seconds: float
    arcs: int
    bound: int = 0
    status: str = "optimal"
    prices: FlowPrices | None = None
    wider_bound: int | None = None
    hopeful_out: np.ndarray | None = None
    time_cut: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        """True when the plan is proven optimal."""
        return self.status == "optimal"

    @property
    def gap(self) -> float:
        """Relative distance between the gain and the bound."""
        return (self.bound - self.gain) / max(1.0, abs(self.bound))


@dataclass(frozen=True)
class FlowPrices:
    """Node potentials of an optimal group flow: what a pair left out would have to beat.

    Every arc of the optimal flow's residual network has a non-negative
    reduced cost ``cost + d[tail] - d[head]`` (LP duality), so a pair left
    out, group ``g`` to site ``j`` with weekly gain ``w``, cannot improve the
    plan when its arcs' reduced costs are non-negative too: ``w <= d[g] -
    d[(j, P_g, Q_g)]`` where that (site, pattern, preferred days) node exists
    and ``w <= d[g] - d[(j, t)] - b_t`` on each open allowed day ``t`` (a
    route through a new node reaches the flow at those days; ``b_t`` the day
    bonus when ``t`` is a preferred day of ``g``). Sufficient, not necessary:
    a pair that fails it may still not improve the plan.

    Attributes
    ----------
    group
        ``(n_groups,)`` potentials of the group nodes.
    day
        ``(n_sites, 5)`` potentials of the (site, weekday) nodes.
    pattern_key, pattern
        Sorted ``site * 1024 + pattern * 32 + preferred`` of the (site,
        pattern, preferred days) nodes, and their potentials.
    day_bonus
        Whole bonus of each preferred weekday granted.
    """

    group: np.ndarray
    day: np.ndarray
    pattern_key: np.ndarray
    pattern: np.ndarray
    day_bonus: int = 0

    def cannot_improve(
        self,
        group: np.ndarray,
        site: np.ndarray,
        gain: np.ndarray,
        patterns: np.ndarray,
        desks: np.ndarray,
        preferred: np.ndarray | None = None,
    ) -> np.ndarray:
        """Whether each pair (``group, site``, weekly ``gain``) surely cannot improve the plan.

        ``patterns`` are the groups' allowed weekdays and ``preferred`` their
        preferred ones (5-bit masks, None: none), ``desks`` ``(n_sites, 5)``.
        A pair on no open allowed day cannot be used at all.
        """
        group, site = np.asarray(group, np.int64), np.asarray(site, np.int64)
        gain = np.asarray(gain, np.int64)
        wanted = _preferred_masks(patterns, preferred)[group]
        allowed = ((patterns[group][:, None] >> np.arange(5)) & 1).astype(bool)
        usable = allowed & (np.asarray(desks)[site] > 0)
        some = usable.any(axis=1)
        # the highest potential plus bonus among the usable days (0 where none: useless)
        bonus = ((wanted[:, None] >> np.arange(5)) & 1) * np.int64(self.day_bonus)
        reach = np.where(usable, self.day[site] + bonus, np.iinfo(np.int64).min).max(axis=1)
        reach = np.where(some, reach, 0)
        if self.pattern_key.size:
            key = site * 1024 + patterns[group] * 32 + wanted
            at = np.minimum(np.searchsorted(self.pattern_key, key), self.pattern_key.size - 1)
            exists = self.pattern_key[at] == key
            reach = np.where(exists, np.maximum(reach, self.pattern[at]), reach)
        return np.asarray(~some | (gain <= self.group[group] - reach))


def _preferred_masks(patterns: np.ndarray, preferred: np.ndarray | None) -> np.ndarray:
    """Each group's preferred weekdays among its allowed ones (5-bit masks; 0 without)."""
    patterns = np.asarray(patterns, dtype=np.int64)
    if preferred is None:
        return np.zeros_like(patterns)
    return np.asarray(np.asarray(preferred, dtype=np.int64) & patterns)


def _potentials(
    n_nodes: int,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    costs: np.ndarray,
    flows: np.ndarray,
    max_rounds: int = 5_000,
) -> np.ndarray | None:
    """Potentials ``d`` with ``d[head] <= d[tail] + cost`` on every residual arc, or None.

    Shortest distances from a source joined to every node at no cost
    (Bellman-Ford, every arc relaxed each round, until nothing changes); an
    optimal flow's residual network has no negative cycle, so they exist.
    None when ``max_rounds`` do not settle them.
    """
    forward, backward = flows < caps, flows > 0
    rt = np.concatenate([tails[forward], heads[backward]])
    rh = np.concatenate([heads[forward], tails[backward]])
    rc = np.concatenate([costs[forward], -costs[backward]])
    order = np.argsort(rh, kind="stable")
    rt, rh, rc = rt[order], rh[order], rc[order]
    nodes, starts = np.unique(rh, return_index=True)
    d = np.zeros(n_nodes, dtype=np.int64)
    if rt.size == 0:
        return d
    for _ in range(max_rounds):
        best = np.minimum.reduceat(d[rt] + rc, starts)
        lower = best < d[nodes]
        if not lower.any():
            return d
        d[nodes[lower]] = best[lower]
    return None


def solve_groups(
    sizes: np.ndarray,
    patterns: np.ndarray,
    pair_group: np.ndarray,
    pair_site: np.ndarray,
    pair_gain: np.ndarray,
    desks: np.ndarray,
    limit: int | None = None,
    preferred: np.ndarray | None = None,
    day_bonus: int = 0,
) -> GroupPlan:
    """Solve the group flow exactly.

    Parameters
    ----------
    sizes
        ``(n_groups,)`` agents per group.
    patterns
        ``(n_groups,)`` allowed weekdays as 5-bit masks (bit 0 Monday).
    pair_group, pair_site, pair_gain
        Eligible pairs and their whole weekly gain (> 0).
    desks
        ``(n_sites, 5)`` desks per weekday.
    limit
        At most this many agents placed (``--select``; None: no limit): every
        (site, weekday) node drains through one node whose arc to the sink
        holds ``limit``, so the plan is still a flow, and exact.
    preferred, day_bonus
        ``(n_groups,)`` preferred weekdays (5-bit masks; None: none) and the
        whole bonus of each one granted (``--day-bonus``): groups meet the
        days through a (site, allowed days, preferred days) node, whose arc
        to a preferred day earns the bonus, so the plan is still a flow.

    Returns
    -------
    GroupPlan
        The optimal placements.
    """
    started = time.perf_counter()
    desks = np.asarray(desks, dtype=np.int64)
    if np.any(desks < 0):
        msg = "desks must be whole numbers >= 0."
        raise InputError(msg)
    days = (_preferred_masks(patterns, preferred), int(day_bonus))
    net = _GroupFlow.of(sizes, patterns, pair_group, pair_site, pair_gain, desks, limit, days)
    every, gain = net.solve(sizes)
    first_sp = sizes.size + net.g.size
    day_flow = every[first_sp : first_sp + net.sp_rows.size]
    placements = _to_days(
        net.g, net.j, net.sp_of_pair, every[: net.g.size], net.sp_rows, net.sp_days, day_flow
    )
    prices = net.prices(every)
    elapsed = time.perf_counter() - started
    logger.info(
        "national flow: %d groups, %d pairs, %d arcs, gain %d s, %.2f s (prices %s)",
        sizes.size,
        net.g.size,
        net.tails.size,
        gain,
        elapsed,
        "found" if prices is not None else "not found",
    )
    return GroupPlan(
        placements=placements,
        gain=gain,
        seconds=elapsed,
        arcs=int(net.tails.size),
        bound=gain,
        prices=prices,
    )


@dataclass(frozen=True)
class _GroupFlow:
    """The network of :func:`solve_groups`: its arcs, and what each node stands for.

    Nodes: groups, (site, pattern, preferred days) nodes, (site, day) nodes,
    stay, placed, sink; every (site, day) node drains into ``placed``, whose
    arc to the sink holds the limit on agents placed (every agent when there
    is none); an arc into a preferred day earns the day bonus.
    """

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    g: np.ndarray  # the useful pairs: group, site
    j: np.ndarray
    sp_of_pair: np.ndarray  # each pair's (site, pattern) node
    sp_site: np.ndarray  # each (site, pattern) node's site and pattern
    sp_pattern: np.ndarray
    sp_preferred: np.ndarray
    sp_rows: np.ndarray  # the (site, pattern) -> (site, day) arcs
    sp_days: np.ndarray
    n_groups: int
    n_sites: int
    sink: int
    day_bonus: int

    @classmethod
    def of(
        cls,
        sizes: np.ndarray,
        patterns: np.ndarray,
        pair_group: np.ndarray,
        pair_site: np.ndarray,
        pair_gain: np.ndarray,
        desks: np.ndarray,
        limit: int | None = None,
        preferred_days: tuple[np.ndarray, int] | None = None,
    ) -> _GroupFlow:
        """Build the arcs (the arguments of :func:`solve_groups`)."""
        n, m = sizes.size, desks.shape[0]
        # keep pairs whose site is open on one of the group's days
        open_mask = (desks > 0) @ (1 << np.arange(5))
        useful = (open_mask[pair_site] & patterns[pair_group]) > 0
        g, j, w = pair_group[useful], pair_site[useful], pair_gain[useful]
        wanted, bonus = preferred_days or (np.zeros_like(patterns), 0)
        pat_codes, pat_index = np.unique(patterns[g] * 32 + wanted[g], return_inverse=True)
        sp_key = j * pat_codes.size + pat_index
        sp_unique, sp_of_pair = np.unique(sp_key, return_inverse=True)
        base_sp, base_sd = n, n + sp_unique.size
        stay, placed, sink = base_sd + m * 5, base_sd + m * 5 + 1, base_sd + m * 5 + 2
        sp_site = sp_unique // pat_codes.size
        sp_pattern, sp_preferred = np.divmod(pat_codes[sp_unique % pat_codes.size], 32)
        day_of = np.arange(5)
        sp_rows, sp_days = np.nonzero(((sp_pattern[:, None] >> day_of) & 1) > 0)
        sp_ok = desks[sp_site[sp_rows], sp_days] > 0
        sp_rows, sp_days = sp_rows[sp_ok], sp_days[sp_ok]
        total = int(sizes.sum())
        most = total if limit is None else min(total, int(limit))
        tails = np.concatenate(
            [g, np.arange(n), base_sp + sp_rows, base_sd + np.arange(m * 5), [stay, placed]]
        )
        heads = np.concatenate(
            [
                base_sp + sp_of_pair,
                np.full(n, stay),
                base_sd + sp_site[sp_rows] * 5 + sp_days,
                np.full(m * 5, placed),
                [sink, sink],
            ]
        )
        caps = np.concatenate(
            [sizes[g], sizes, np.full(sp_rows.size, total), desks.ravel(), [total, most]]
        )
        earns = -bonus * ((sp_preferred[sp_rows] >> sp_days) & 1)
        costs = np.concatenate(
            [-w, np.zeros(n, dtype=np.int64), earns, np.zeros(m * 5 + 2, dtype=np.int64)]
        )
        return cls(
            tails, heads, caps, costs, g, j, sp_of_pair, sp_site, sp_pattern, sp_preferred,
            sp_rows, sp_days, n_groups=n, n_sites=m, sink=sink, day_bonus=int(bonus),
        )  # fmt: skip

    def solve(self, sizes: np.ndarray) -> tuple[np.ndarray, int]:
        """Solve the min-cost flow: every arc's flow, and the gain (the cost's opposite)."""
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            self.tails.astype(np.int32),
            self.heads.astype(np.int32),
            self.caps.astype(np.int64),
            self.costs,
        )
        supplies = np.zeros(self.sink + 1, dtype=np.int64)
        supplies[: sizes.size] = sizes
        supplies[self.sink] = -int(sizes.sum())
        flow.set_nodes_supplies(np.arange(self.sink + 1, dtype=np.int32), supplies)
        status = flow.solve()
        if status != flow.OPTIMAL:
            msg = f"the national min-cost flow stopped with status {status}; please report this."
            raise SolverError(msg)
        every = flow.flows(np.arange(self.tails.size, dtype=np.int32))
        return np.asarray(every), int(-flow.optimal_cost())

    def prices(self, flows: np.ndarray) -> FlowPrices | None:
        """Return the optimal flow's prices (None when they are not found)."""
        n, m, n_sp = self.n_groups, self.n_sites, self.sp_site.size
        d = _potentials(self.sink + 1, self.tails, self.heads, self.caps, self.costs, flows)
        if d is None:
            return None
        base_sp, base_sd = n, n + n_sp
        return FlowPrices(
            group=d[:n],
            day=d[base_sd : base_sd + m * 5].reshape(m, 5),
            pattern_key=self.sp_site * 1024 + self.sp_pattern * 32 + self.sp_preferred,
            pattern=d[base_sp : base_sp + n_sp],
            day_bonus=self.day_bonus,
        )


def solve_weekly_groups(
    sizes: np.ndarray,
    days: np.ndarray,
    patterns: np.ndarray,
    pair_group: np.ndarray,
    pair_site: np.ndarray,
    pair_gain: np.ndarray,
    desks: np.ndarray,
    *,
    time_limit_s: float = 60.0,
    hopeful: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    limit: int | None = None,
    preferred: np.ndarray | None = None,
    day_bonus: int = 0,
) -> GroupPlan:
    """Plan groups teleworking one to five days a week (the configuration model).

    Parameters
    ----------
    sizes
        ``(n_groups,)`` agents per group.
    days
        ``(n_groups,)`` telework days a week of the group's agents.
    patterns
        ``(n_groups,)`` allowed weekdays as 5-bit masks (bit 0 Monday).
    pair_group, pair_site, pair_gain
        Eligible pairs and their whole weekly gain (> 0).
    desks
        ``(n_sites, 5)`` desks per weekday.
    time_limit_s
        Time for the solve and its proof.
    hopeful
        ``(group, site, gain)``: pairs not certified, at their best weekly
        gain; not used, but priced (:mod:`optimizer.model.weekly_hopeful`).
    limit
        At most this many agents placed (``--select``; None: no limit).
    preferred, day_bonus
        ``(n_groups,)`` preferred weekdays (5-bit masks; None: none) and the
        whole bonus of each one granted.

    Returns
    -------
    GroupPlan
        The plan, its bound and status (see
        :func:`optimizer.model.weekly.solve_weekly_pairs`).
    """
    from optimizer.model.weekly import solve_weekly_pairs

    started = time.perf_counter()
    allowed = ((np.asarray(patterns)[:, None] >> np.arange(5)) & 1) > 0
    wanted = ((_preferred_masks(patterns, preferred)[:, None] >> np.arange(5)) & 1) > 0
    whole = [np.asarray(a, dtype=np.int64) for a in (pair_group, pair_site, pair_gain, sizes, days)]
    result = solve_weekly_pairs(
        *whole[:3], counts=whole[3], days=whole[4], allowed=allowed,
        preferred=wanted, bonus=int(day_bonus), desks=np.asarray(desks, dtype=np.int64),
        limit=limit, time_limit_s=time_limit_s, hopeful=hopeful,
    )  # fmt: skip
    columns = {"group": result.group, "site": result.site, "days": result.mask}
    placements = pd.DataFrame({**columns, "agents": result.count}).astype(np.int64)
    elapsed = time.perf_counter() - started
    figures = (sizes.size, pair_group.size, result.objective, result.bound, result.status, elapsed)
    logger.info(
        "national weekly model: %d groups, %d pairs, gain %d s, bound %d s (%s), %.2f s", *figures
    )
    return GroupPlan(
        placements=placements,
        gain=int(result.objective),
        seconds=elapsed,
        arcs=int(pair_group.size),
        bound=int(result.bound),
        status=result.status,
        wider_bound=result.wider_bound,
        hopeful_out=result.hopeful_out,
        time_cut=result.time_cut,
    )


def _to_days(
    g: np.ndarray,
    j: np.ndarray,
    sp_of_pair: np.ndarray,
    pair_flow: np.ndarray,
    sp_rows: np.ndarray,
    sp_days: np.ndarray,
    day_flow: np.ndarray,
) -> pd.DataFrame:
    """Split each (site, pattern) node's flow over its days, group by group (a valid decomposition).

    A group's agents at the node take the node's day flows in weekday order;
    each day flow goes to days of the node's pattern, which every group at the
    node allows.
    """
    rows: list[tuple[int, int, int, int]] = []
    used = np.flatnonzero(pair_flow > 0)
    by_node: dict[int, list[int]] = {}
    for k in used[np.argsort(sp_of_pair[used], kind="stable")].tolist():
        by_node.setdefault(int(sp_of_pair[k]), []).append(k)
    day_left: dict[int, list[list[int]]] = {}
    for r in np.flatnonzero(day_flow > 0).tolist():
        day_left.setdefault(int(sp_rows[r]), []).append([int(sp_days[r]), int(day_flow[r])])
    for node, pairs in by_node.items():
        days = sorted(day_left.get(node, []))
        cursor = 0
        for k in pairs:
            need = int(pair_flow[k])
            while need > 0:
                day, left = days[cursor]
                take = min(need, left)
                rows.append((int(g[k]), int(j[k]), day, take))
                need -= take
                days[cursor][1] -= take
                if days[cursor][1] == 0:
                    cursor += 1
    out = pd.DataFrame(rows, columns=["group", "site", "weekday", "agents"])
    out.insert(3, "days", np.left_shift(1, out["weekday"].to_numpy(np.int64)))
    return out
