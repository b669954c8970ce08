"""The assignment's flow network and its solve (OR-Tools ``SimpleMinCostFlow``).

Owns the network of :mod:`optimizer.model.flow`: the eligible pairs and their
gains (:func:`_eligible_pairs`, :func:`_pair_gains`), a min-cost flow solved with
OR-Tools (:func:`solve_flow`, also used by the weekly plans' bounds), the
assignment flow on given pairs (:func:`_flow_on`: agent -> telecentre -> hub ->
sink, or agent -> "stays" -> sink) and a problem restricted to some agents
(:func:`_agents_subset`, the samples that estimate prices).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from ortools.graph.python import min_cost_flow

from optimizer.errors import SolverError
from optimizer.model.feasibility import check_feasible
from optimizer.model.problem import AssignmentProblem, _pairs


def _eligible_pairs(problem: AssignmentProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every eligible pair ``(agent, telecentre, gain)``, sorted by agent then telecentre."""
    rows_out, cols_out, gains_out = [], [], []
    for lo, _, ok, gain in problem.blocks():
        r, c = np.nonzero(ok)
        rows_out.append(r + lo)
        cols_out.append(c)
        gains_out.append(gain[r, c])
    if not rows_out:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(gains_out)


def _pair_gains(problem: AssignmentProblem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.empty(rows.size, dtype=np.int64)
    for lo, hi, _, gain in problem.blocks():
        first, last = np.searchsorted(rows, [lo, hi])
        out[first:last] = gain[rows[first:last] - lo, cols[first:last]]
    return out


def _assigned_pairs(telecentre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.flatnonzero(telecentre >= 0)
    return rows, telecentre[rows]


def solve_flow(
    tails: np.ndarray,
    heads: np.ndarray,
    capacities: np.ndarray,
    costs: np.ndarray,
    *,
    n_nodes: int,
    source: int,
    sink: int,
    amount: int,
) -> min_cost_flow.SimpleMinCostFlow | None:
    """Send ``amount`` units from ``source`` to ``sink`` at least cost (OR-Tools).

    Parameters
    ----------
    tails, heads, capacities, costs
        The arcs, integer costs.
    n_nodes
        Number of nodes.
    source, sink
        Where the flow starts and ends.
    amount
        Units to send.

    Returns
    -------
    SimpleMinCostFlow or None
        The solved flow (read ``flows`` and ``optimal_cost``), or None when
        the amount cannot be sent.
    """
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[source], supplies[sink] = amount, -amount
    return _solve_supplied(tails, heads, capacities, costs, supplies)


def _solve_supplied(
    tails: np.ndarray,
    heads: np.ndarray,
    capacities: np.ndarray,
    costs: np.ndarray,
    supplies: np.ndarray,
) -> min_cost_flow.SimpleMinCostFlow | None:
    """Min-cost flow with a supply (> 0) or demand (< 0) per node; None when infeasible."""
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        capacities.astype(np.int64),
        costs.astype(np.int64),
    )
    flow.set_nodes_supplies(np.arange(supplies.size, dtype=np.int32), supplies)
    status = flow.solve()
    if status == flow.INFEASIBLE:
        return None
    if status != flow.OPTIMAL:
        msg = f"min-cost flow stopped with status {status}; please report this."
        raise SolverError(msg)
    return flow


def _flow_on(
    problem: AssignmentProblem, rows: np.ndarray, cols: np.ndarray, gains: np.ndarray
) -> tuple[np.ndarray, int]:
    """Solve the assignment flow on the given pairs: each agent's telecentre and the gain.

    Only agents with a pair (or who must be assigned) are nodes; the others stay.
    """
    n_all, m = problem.n_agents, problem.n_telecentres
    must_all = problem.must
    present = np.zeros(n_all, dtype=bool)
    present[rows] = True
    present |= must_all
    agents_in = np.flatnonzero(present)
    compact = np.full(n_all, -1, dtype=np.int64)
    compact[agents_in] = np.arange(agents_in.size)
    n = agents_in.size
    rows_c = compact[rows]
    # each agent supplies its unit (no source node: OR-Tools is 3-18 % faster so)
    hub, sink, stay = n + m, n + m + 1, n + m + 2
    agents = np.arange(n)
    free = ~must_all[agents_in]
    n_free = int(free.sum())
    supplies = np.zeros(n + m + 3, dtype=np.int64)
    supplies[:n], supplies[sink] = 1, -n
    flow = _solve_supplied(
        np.concatenate([rows_c, agents[free], n + np.arange(m), [hub, stay]]),
        np.concatenate([n + cols, np.full(n_free, stay), np.full(m, hub), [sink, sink]]),
        np.concatenate(
            [np.ones(rows.size), np.ones(n_free), problem.capacities, [problem.limit, n]]
        ),
        np.concatenate([-gains, np.zeros(n_free + m + 2)]),
        supplies,
    )
    if flow is None:
        check_feasible(problem)  # says why, in words
        msg = "min-cost flow found the problem infeasible; please report this."
        raise SolverError(msg)
    used = flow.flows(np.arange(rows.size, dtype=np.int32)) > 0
    telecentre = np.full(n_all, -1, dtype=np.int64)
    telecentre[rows[used]] = cols[used]
    return telecentre, -int(flow.optimal_cost())


def _agents_subset(
    problem: AssignmentProblem, chosen: np.ndarray, *, capacities: np.ndarray, select: int | None
) -> AssignmentProblem:
    """Restrict the problem to agents ``chosen`` (sorted): other desks and limit, none forced."""
    position = np.full(problem.n_agents, -1, dtype=np.int64)
    position[chosen] = np.arange(chosen.size)

    def pairs(given: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
        if given is None:
            return None
        rows, cols = _pairs(given)
        inside = position[rows] >= 0
        return position[rows[inside]], cols[inside]

    def rows_of(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.asarray(values)[chosen]

    return replace(
        problem,
        agent_ids=tuple(problem.agent_ids[i] for i in chosen.tolist()),
        minutes_to=problem.minutes_to[chosen],
        minutes_back=problem.minutes_back[chosen],
        head_office_minutes_to=problem.head_office_minutes_to[chosen],
        head_office_minutes_back=problem.head_office_minutes_back[chosen],
        km_to=rows_of(problem.km_to),
        km_back=rows_of(problem.km_back),
        head_office_km_to=rows_of(problem.head_office_km_to),
        head_office_km_back=rows_of(problem.head_office_km_back),
        capacities=capacities,
        days=problem.days[chosen],
        select=select,
        must_assign=None,
        forbidden=pairs(problem.forbidden),
        preferred=pairs(problem.preferred),
        incumbent=pairs(problem.incumbent),
        excluded=rows_of(problem.excluded),
        _cache={},
    )
