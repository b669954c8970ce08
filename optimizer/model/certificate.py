"""The optimality certificate: no negative cycle in the compressed residual network.

An assignment is optimal over all eligible pairs when its residual network,
compressed to the telecentres, "stays at the head office", the hub and the
sink, has no negative cycle (no improving exchange of agents). The same
network of a pruned problem gives node potentials, hence reduced costs for
the pairs left out (pricing, :mod:`optimizer.model.flow`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import NegativeCycleError, floyd_warshall

from optimizer.model.problem import AssignmentProblem


def _compressed_residual(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray] | None = None,
) -> sparse.csr_array:
    """Build the residual network of an assignment, compressed to telecentres and 3 nodes.

    Nodes: the telecentres ``0..m-1``, "stays" ``m``, the hub ``m+1`` and the
    sink ``m+2``. Moving an agent from X to Y costs ``gain[i, X] - gain[i, Y]``
    (the cheapest such agent gives the arc); a free desk, room under the limit
    on agents, and agents assigned or staying give zero-cost arcs. With
    ``candidates`` (agent, telecentre pairs sorted by agent), only those pairs
    count as moves: the residual network of the pruned problem.
    """
    return _residual_arcs(problem, telecentre, _cheapest_moves(problem, telecentre, candidates))


def _cheapest_moves(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Cheapest move of an agent from each place to each other, ``(m + 1, m + 1)``.

    Places are the telecentres and "stays" (``m``); inf where no agent can
    move (see :func:`_compressed_residual`).
    """
    m = problem.n_telecentres
    stay = m
    best = np.full((m + 1, m + 1), np.inf)
    must = problem.must
    for lo, hi, ok, gain in problem.blocks():
        allowed = ok if candidates is None else ok & _candidate_mask(candidates, lo, hi, m)
        where = telecentre[lo:hi]
        position = np.where(where >= 0, where, stay)
        own = np.where(where >= 0, gain[np.arange(hi - lo), np.maximum(where, 0)], 0)
        moves = np.full((hi - lo, m + 1), np.inf)
        moves[:, :m] = np.where(allowed, own[:, None] - gain, np.inf)
        moves[:, stay] = np.where(must[lo:hi], np.inf, own)
        order = np.argsort(position, kind="stable")
        groups, starts = np.unique(position[order], return_index=True)
        np.minimum.at(best, groups, np.minimum.reduceat(moves[order], starts, axis=0))
    return best


def _residual_arcs(
    problem: AssignmentProblem, telecentre: np.ndarray, best: np.ndarray
) -> sparse.csr_array:
    """Assemble the compressed residual network from its cheapest moves ``best``.

    ``best`` is ``(m + 1, m + 1)``: the cheapest move of an agent between
    telecentres and "stays"; the zero-cost arcs of free desks, room under the
    limit on agents and agents assigned or staying are added here.
    """
    m = problem.n_telecentres
    stay, hub, sink = m, m + 1, m + 2
    np.fill_diagonal(best, np.inf)
    load = np.bincount(telecentre[telecentre >= 0], minlength=m)
    assigned = int(load.sum())
    x, y = np.nonzero(np.isfinite(best))
    free = np.flatnonzero(load < problem.capacities)  # a free desk at j: j -> hub
    used = np.flatnonzero(load > 0)  # hub -> j
    extra: list[tuple[int, int]] = []
    if assigned < problem.limit:
        extra.append((hub, sink))  # room under the limit on agents
    if assigned > 0:
        extra += [(sink, hub), (stay, sink)]
    if assigned < problem.n_agents:
        extra.append((sink, stay))
    more = np.array(extra, dtype=np.int64).reshape(-1, 2)
    tails = np.concatenate([x, free, np.full(used.size, hub), more[:, 0]])
    heads = np.concatenate([y, np.full(free.size, hub), used, more[:, 1]])
    costs = np.concatenate([best[x, y], np.zeros(free.size + used.size + len(extra))])
    return sparse.csr_array((costs, (tails, heads)), shape=(m + 3, m + 3))


def _candidate_mask(
    candidates: tuple[np.ndarray, np.ndarray], lo: int, hi: int, m: int
) -> np.ndarray:
    rows, cols = candidates
    first, last = np.searchsorted(rows, [lo, hi])
    mask = np.zeros((hi - lo, m), dtype=bool)
    mask[rows[first:last] - lo, cols[first:last]] = True
    return mask


def is_optimal(problem: AssignmentProblem, telecentre: np.ndarray) -> bool:
    """Certify that a feasible assignment is optimal over all eligible pairs.

    Looks for a negative cycle (an improving exchange of agents) in the
    compressed residual network with Floyd-Warshall: none means optimal.

    Parameters
    ----------
    problem
        The problem.
    telecentre
        A feasible assignment (index per agent, -1 for none).

    Returns
    -------
    bool
        True when optimal.
    """
    try:
        floyd_warshall(_compressed_residual(problem, telecentre), directed=True)
    except NegativeCycleError:
        return False
    return True
