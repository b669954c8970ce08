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
    """

    placements: pd.DataFrame
    gain: int
    seconds: float
    arcs: int
    bound: int = 0
    status: str = "optimal"

    @property
    def proven(self) -> bool:
        """True when the plan is proven optimal."""
        return self.status == "optimal"

    @property
    def gap(self) -> float:
        """Relative distance between the gain and the bound."""
        return (self.bound - self.gain) / max(1.0, abs(self.bound))


def solve_groups(
    sizes: np.ndarray,
    patterns: np.ndarray,
    pair_group: np.ndarray,
    pair_site: np.ndarray,
    pair_gain: np.ndarray,
    desks: np.ndarray,
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

    Returns
    -------
    GroupPlan
        The optimal placements.
    """
    started = time.perf_counter()
    n, m = sizes.size, desks.shape[0]
    desks = np.asarray(desks, dtype=np.int64)
    if np.any(desks < 0):
        msg = "desks must be whole numbers >= 0."
        raise InputError(msg)
    # keep pairs whose site is open on one of the group's days
    open_mask = (desks > 0) @ (1 << np.arange(5))
    useful = (open_mask[pair_site] & patterns[pair_group]) > 0
    g, j, w = pair_group[useful], pair_site[useful], pair_gain[useful]
    pat_codes, pat_index = np.unique(patterns[g], return_inverse=True)
    # node numbering: groups, (site, pattern) nodes, (site, day) nodes, stay, sink
    sp_key = j * pat_codes.size + pat_index
    sp_unique, sp_of_pair = np.unique(sp_key, return_inverse=True)
    n_sp = sp_unique.size
    base_sp, base_sd = n, n + n_sp
    stay, sink = base_sd + m * 5, base_sd + m * 5 + 1
    sp_site = sp_unique // pat_codes.size
    sp_pattern = pat_codes[sp_unique % pat_codes.size]
    day_of = np.arange(5)
    sp_rows, sp_days = np.nonzero(((sp_pattern[:, None] >> day_of) & 1) > 0)
    sp_ok = desks[sp_site[sp_rows], sp_days] > 0
    sp_rows, sp_days = sp_rows[sp_ok], sp_days[sp_ok]
    total = int(sizes.sum())
    tails = np.concatenate(
        [
            g,
            np.arange(n),
            base_sp + sp_rows,
            base_sd + np.arange(m * 5),
            [stay],
        ]
    )
    heads = np.concatenate(
        [
            base_sp + sp_of_pair,
            np.full(n, stay),
            base_sd + sp_site[sp_rows] * 5 + sp_days,
            np.full(m * 5, sink),
            [sink],
        ]
    )
    caps = np.concatenate([sizes[g], sizes, np.full(sp_rows.size, total), desks.ravel(), [total]])
    costs = np.concatenate([-w, np.zeros(n + sp_rows.size + m * 5 + 1, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n] = sizes
    supplies[sink] = -total
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        msg = f"the national min-cost flow stopped with status {status}; please report this."
        raise SolverError(msg)
    pair_flow = flow.flows(np.arange(g.size, dtype=np.int32))
    first_sp = n + g.size
    day_flow = flow.flows(np.arange(first_sp, first_sp + sp_rows.size, dtype=np.int32))
    placements = _to_days(g, j, sp_of_pair, pair_flow, sp_rows, sp_days, day_flow)
    gain = int(-flow.optimal_cost())
    elapsed = time.perf_counter() - started
    logger.info(
        "national flow: %d groups, %d pairs, %d arcs, gain %d s, %.2f s",
        n,
        g.size,
        tails.size,
        gain,
        elapsed,
    )
    return GroupPlan(
        placements=placements, gain=gain, seconds=elapsed, arcs=int(tails.size), bound=gain
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

    Returns
    -------
    GroupPlan
        The plan, its bound and status (see
        :func:`optimizer.model.weekly.solve_weekly_pairs`).
    """
    from optimizer.model.weekly import solve_weekly_pairs

    started = time.perf_counter()
    allowed = ((np.asarray(patterns)[:, None] >> np.arange(5)) & 1) > 0
    result = solve_weekly_pairs(
        np.asarray(pair_group, dtype=np.int64),
        np.asarray(pair_site, dtype=np.int64),
        np.asarray(pair_gain, dtype=np.int64),
        counts=np.asarray(sizes, dtype=np.int64),
        days=np.asarray(days, dtype=np.int64),
        allowed=allowed,
        preferred=np.zeros_like(allowed),
        bonus=0,
        desks=np.asarray(desks, dtype=np.int64),
        time_limit_s=time_limit_s,
    )
    placements = pd.DataFrame(
        {
            "group": result.group.astype(np.int64),
            "site": result.site.astype(np.int64),
            "days": result.mask.astype(np.int64),
            "agents": result.count.astype(np.int64),
        }
    )
    elapsed = time.perf_counter() - started
    logger.info(
        "national weekly model: %d groups, %d pairs, gain %d s, bound %d s (%s), %.2f s",
        sizes.size,
        pair_group.size,
        result.objective,
        result.bound,
        result.status,
        elapsed,
    )
    return GroupPlan(
        placements=placements,
        gain=int(result.objective),
        seconds=elapsed,
        arcs=int(pair_group.size),
        bound=int(result.bound),
        status=result.status,
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
