r"""The min-cost flow engine (OR-Tools ``SimpleMinCostFlow``).

Source -> agent (capacity 1) -> telecentre (cost
:math:`-(d_i s_{ij} + b[ij \in P])`) -> hub (capacity :math:`c_j`) -> sink
(capacity :math:`K`), plus agent -> "stays at the head office" -> sink at no
cost (no such arc for an agent who must be assigned). Costs are whole seconds
(or metres), so the optimum is exact. Each agent first gets arcs to its best
few telecentres only; the solution is then priced against all pairs with the
potentials of :mod:`optimizer.model.certificate`, and the arcs widened until
no pair left out could improve it, which proves it optimal.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse.csgraph import floyd_warshall

from optimizer.errors import SolverError
from optimizer.model.certificate import _candidate_mask, _compressed_residual
from optimizer.model.feasibility import check_feasible
from optimizer.model.problem import AssignmentProblem
from optimizer.model.result import Assignment, _result

logger = logging.getLogger(__name__)

#: Telecentres per agent in the first min-cost flow solve (pricing adds more where needed).
_FIRST_CANDIDATES = 6


def _candidates(
    problem: AssignmentProblem, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each agent's ``width`` best eligible telecentres: ``(agent, telecentre, gain)``.

    Sorted by agent then telecentre.
    """
    m = problem.n_telecentres
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    for lo, _, ok, gain in problem.blocks():
        score = np.where(ok, gain, -1)
        if width < m:
            top = np.argpartition(-score, width - 1, axis=1)[:, :width]
        else:
            top = np.broadcast_to(np.arange(m), score.shape)
        keep = np.take_along_axis(score, top, axis=1) >= 0
        local_rows = np.broadcast_to(np.arange(score.shape[0])[:, None], top.shape)
        rows_out.append(local_rows[keep] + lo)
        cols_out.append(top[keep])
    if not rows_out:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    keys = np.unique(
        np.concatenate(rows_out).astype(np.int64) * m + np.concatenate(cols_out).astype(np.int64)
    )  # sorted by agent then telecentre: a fixed arc order, so the same input, the same answer
    rows, cols = keys // m, keys % m
    return rows, cols, _pair_gains(problem, rows, cols)


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
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        capacities.astype(np.int64),
        costs.astype(np.int64),
    )
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[source], supplies[sink] = amount, -amount
    flow.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
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
    """Solve the assignment flow on the given pairs: each agent's telecentre and the gain."""
    n, m = problem.n_agents, problem.n_telecentres
    source, hub, sink, stay = n + m, n + m + 1, n + m + 2, n + m + 3
    agents = np.arange(n)
    free = ~problem.must
    n_free = int(free.sum())
    flow = solve_flow(
        np.concatenate([np.full(n, source), rows, agents[free], n + np.arange(m), [hub, stay]]),
        np.concatenate([agents, n + cols, np.full(n_free, stay), np.full(m, hub), [sink, sink]]),
        np.concatenate(
            [
                np.ones(n),
                np.ones(rows.size),
                np.ones(n_free),
                problem.capacities,
                [problem.limit, n],
            ]
        ),
        np.concatenate([np.zeros(n), -gains, np.zeros(n_free + m + 2)]),
        n_nodes=n + m + 4,
        source=source,
        sink=sink,
        amount=n,
    )
    if flow is None:
        check_feasible(problem)  # says why, in words
        msg = "min-cost flow found the problem infeasible; please report this."
        raise SolverError(msg)
    used = flow.flows(np.arange(n, n + rows.size, dtype=np.int32)) > 0
    telecentre = np.full(n, -1, dtype=np.int64)
    telecentre[rows[used]] = cols[used]
    return telecentre, -int(flow.optimal_cost())


def _price_out(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs left out of ``candidates`` that could improve the pruned optimum.

    Node potentials of the pruned problem's residual network (shortest
    distances from a virtual root) give every pair a reduced cost; left-out
    pairs with a negative one are returned. None left: the reduced costs of
    all pairs are non-negative, which proves the assignment optimal for the
    whole problem (LP duality).
    """
    m = problem.n_telecentres
    dist = floyd_warshall(_compressed_residual(problem, telecentre, candidates), directed=True)
    potential = np.minimum(dist.min(axis=0), 0.0)
    stay = m
    found_rows, found_cols = [], []
    for lo, hi, ok, gain in problem.blocks():
        where = telecentre[lo:hi]
        position = np.where(where >= 0, where, stay)
        own = np.where(where >= 0, gain[np.arange(hi - lo), np.maximum(where, 0)], 0)
        reduced = own[:, None] - gain + potential[position][:, None] - potential[None, :m]
        better = ok & (reduced < 0) & ~_candidate_mask(candidates, lo, hi, m)
        r, c = np.nonzero(better)
        found_rows.append(r + lo)
        found_cols.append(c)
    return np.concatenate(found_rows), np.concatenate(found_cols)


def solve_min_cost_flow(problem: AssignmentProblem) -> Assignment:
    """Solve ``problem`` exactly as a min-cost flow (see the module docstring).

    Each agent first gets arcs to its few best telecentres; after each solve,
    pairs whose reduced cost shows they could improve the result are added,
    until none is left, which proves the result optimal for all pairs.

    Parameters
    ----------
    problem
        The problem (assumed feasible: see :func:`check_feasible`).

    Returns
    -------
    Assignment
        An optimal assignment, proven so.
    """
    started = time.perf_counter()
    rows, cols, gains = _candidates(problem, min(_FIRST_CANDIDATES, problem.n_telecentres))
    rounds = 0
    while True:
        rounds += 1
        telecentre, gain = _flow_on(problem, rows, cols, gains)
        more_rows, more_cols = _price_out(problem, telecentre, (rows, cols))
        if more_rows.size == 0:
            break
        logger.info("pricing added %d pairs; solving again", more_rows.size)
        rows = np.concatenate([rows, more_rows])
        cols = np.concatenate([cols, more_cols])
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        gains = _pair_gains(problem, rows, cols)
    result = _result(
        problem,
        telecentre,
        bound_gain=gain,
        status="optimal",
        engine="ortools-min-cost-flow",
        started=started,
    )
    logger.info(
        "min-cost flow: %d agents x %d telecentres, %d arcs, %d round(s), %d assigned, "
        "objective %.1f, %.3f s",
        problem.n_agents,
        problem.n_telecentres,
        rows.size,
        rounds,
        int(result.assigned.sum()),
        result.objective_value,
        result.solve_seconds,
    )
    return result


def _pair_gains(problem: AssignmentProblem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.empty(rows.size, dtype=np.int64)
    for lo, hi, _, gain in problem.blocks():
        first, last = np.searchsorted(rows, [lo, hi])
        out[first:last] = gain[rows[first:last] - lo, cols[first:last]]
    return out
