"""Negative cycles in the compressed residual network: exchanges of agents that gain.

Owns :func:`_cancel_cycles`, which certifies an assignment over all eligible
pairs and improves it first by applying each improving exchange found
(Bellman-Ford on the residual network compressed to the telecentres, see
:mod:`optimizer.model.certificate`), and the dense graph search it uses
(:func:`_dense_residual`, :func:`_negative_cycle`, :func:`_predecessor_cycle`).
"""

from __future__ import annotations

import logging

import numpy as np

from optimizer.model.certificate import _cheapest_moves
from optimizer.model.problem import AssignmentProblem

logger = logging.getLogger(__name__)


#: Negative cycles cancelled at most after a pruned solve, before solving again instead
#: (:func:`_cancel_cycles`).
_MOST_CYCLES = 100


def _cancel_cycles(
    problem: AssignmentProblem, telecentre: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Certify an assignment over all pairs, improving it first by cancelling negative cycles.

    The compressed residual network over all eligible pairs
    (:mod:`optimizer.model.certificate`: telecentres, "stays", hub, sink; the
    cheapest agent for each move) is searched for a negative cycle with
    Bellman-Ford; each one found is an improving exchange of agents, applied
    at once as many times as it gains (the k-th cheapest agent of each move
    making the k-th exchange, within the free desks and the limit), and only
    the cheapest moves it can have changed are recomputed. None left: the
    assignment is optimal over all pairs, and the distances are its node
    potentials. Meant for the pruned optimum on candidates from a sample's
    prices, a few exchanges from the optimum at most: they replace pricing
    and a whole solve. Returns None when the whole matrices are not kept in
    memory or after :data:`_MOST_CYCLES` cycles (the caller solves again).
    """
    whole = problem._cache.get("pairs")
    if not isinstance(whole, tuple):
        return None
    state = _Exchanges(problem, whole, telecentre)
    for count in range(_MOST_CYCLES):
        cycle, dist = _negative_cycle(_dense_residual(problem, state.telecentre, state.best))
        if cycle is None:
            logger.debug("cancelled %d cycle(s)", count)
            return state.telecentre, np.minimum(dist, 0.0)
        if not cycle or not state.cancel(cycle):
            return None
    return None


#: One move of an exchange: its agents and their costs (cheapest first), from and to.
_Queue = tuple[np.ndarray, np.ndarray, int, int]


class _Exchanges:
    """An assignment improved by exchanges of agents, and the cheapest agent of each move.

    ``best[a, b]`` is the least cost of moving one agent from ``a`` to ``b``
    (telecentres, or ``m``: "stays"), kept up to date as agents move.
    """

    def __init__(
        self, problem: AssignmentProblem, whole: tuple[np.ndarray, np.ndarray], start: np.ndarray
    ) -> None:
        self.problem = problem
        self.ok_all, self.gain_all = whole
        self.m = problem.n_telecentres
        self.must = problem.must
        self.telecentre = start.copy()
        self.position = np.where(self.telecentre >= 0, self.telecentre, self.m)
        self.best = _cheapest_moves(problem, self.telecentre)

    def moves(self, agents: np.ndarray, place: int, cols: np.ndarray) -> np.ndarray:
        """Cost of moving ``agents`` (all at ``place``) to ``cols``: ``(agents, cols)``."""
        m, gain_all = self.m, self.gain_all
        own = gain_all[agents, place] if place < m else np.zeros(agents.size, dtype=np.int64)
        out = np.full((agents.size, cols.size), np.inf)
        to_centre = cols < m
        rows = agents[:, None]
        out[:, to_centre] = np.where(
            self.ok_all[rows, cols[to_centre]],
            own[:, None] - gain_all[rows, cols[to_centre]],
            np.inf,
        )
        out[:, ~to_centre] = np.where(self.must[agents], np.inf, own)[:, None]
        return out

    def cancel(self, cycle: list[int]) -> bool:
        """Apply the exchange along ``cycle`` as many times as it gains; False if it is none.

        The k-th cheapest agent of every move makes the k-th exchange, within
        the free desks and the limit (False: not an improving exchange of
        agents, let a solve decide).
        """
        units, queues = self._queues(_steps(cycle))
        if not queues or units < 1:
            return False  # not an exchange of agents: let a solve decide
        # the k-th cheapest agent of every move makes the k-th exchange: take all that gain
        marginal = np.sum([cost[:units] for _, cost, _, _ in queues], axis=0)
        units = int(np.searchsorted(marginal >= 0, True))  # marginal costs only grow
        if units == 0:
            return False  # not an improving exchange after all: let a solve decide
        self._move(queues, units)
        return True

    def _queues(self, steps: list[tuple[int, int]]) -> tuple[int, list[_Queue]]:
        """Return the units the cycle can carry and, for each move of agents, its queue."""
        problem, m, telecentre = self.problem, self.m, self.telecentre
        load = np.bincount(telecentre[telecentre >= 0], minlength=m)
        assigned = int(load.sum())
        room = np.full((m + 3, m + 3), problem.n_agents)  # units each arc can carry
        room[np.arange(m), m + 1] = problem.capacities - load  # free desks
        room[m + 1, m + 2] = problem.limit - assigned  # room under the limit
        room[m + 2, m + 1] = room[m, m + 2] = assigned
        room[m + 2, m] = problem.n_agents - assigned
        units = min(int(room[tail, head]) for tail, head in steps)
        queues = []
        for tail, head in steps:
            if tail <= m and head <= m:  # agents move (the other arcs: desks, the limit)
                members = np.flatnonzero(self.position == tail)
                cost = self.moves(members, tail, np.array([head]))[:, 0]
                order = np.argsort(cost, kind="stable")
                queues.append((members[order], cost[order], tail, head))
                units = min(units, members.size)
        return units, queues

    def _move(self, queues: list[_Queue], units: int) -> None:
        """Move the first ``units`` agents of each queue; recompute the moves it changed."""
        every = np.arange(self.m + 1)
        before = []
        for members, _, tail, head in queues:
            agents = members[:units]
            before.append(self.moves(agents, tail, every).min(axis=0))
            self.telecentre[agents] = head if head < self.m else -1
            self.position[agents] = head
        for (members, _, tail, head), old in zip(queues, before, strict=True):
            stale = np.flatnonzero(old <= self.best[tail])  # a leaver may have been the cheapest
            staying = np.flatnonzero(self.position == tail)
            self.best[tail, stale] = self.moves(staying, tail, stale).min(axis=0, initial=np.inf)
            joined = self.moves(members[:units], head, every).min(axis=0)
            self.best[head] = np.minimum(self.best[head], joined)


def _dense_residual(
    problem: AssignmentProblem, telecentre: np.ndarray, best: np.ndarray
) -> np.ndarray:
    """Build the compressed residual network as a dense matrix (inf: no arc).

    The same arcs as :func:`optimizer.model.certificate._residual_arcs`.
    """
    m = problem.n_telecentres
    stay, hub, sink = m, m + 1, m + 2
    weight = np.full((m + 3, m + 3), np.inf)
    weight[: m + 1, : m + 1] = best
    np.fill_diagonal(weight, np.inf)
    load = np.bincount(telecentre[telecentre >= 0], minlength=m)
    assigned = int(load.sum())
    centres = np.arange(m)
    weight[centres[load < problem.capacities], hub] = 0.0  # a free desk
    weight[hub, centres[load > 0]] = 0.0
    if assigned < problem.limit:
        weight[hub, sink] = 0.0  # room under the limit on agents
    if assigned > 0:
        weight[sink, hub] = weight[stay, sink] = 0.0
    if assigned < problem.n_agents:
        weight[sink, stay] = 0.0
    return weight


def _negative_cycle(weight: np.ndarray) -> tuple[list[int] | None, np.ndarray]:
    """Find a negative cycle of the dense graph ``weight`` (inf: no arc), or None and distances.

    Bellman-Ford from a virtual root joined to every node at no cost, all
    nodes relaxed at once; every few rounds, a cycle among the predecessors
    is looked for and returned if negative. No improvement left: no negative
    cycle, and the distances are node potentials.
    """
    size = weight.shape[0]
    dist = np.zeros(size)
    pred = np.full(size, -1, dtype=np.int64)
    columns = np.arange(size)
    for rounds in range(1, 2 * size + 2):
        through = dist[:, None] + weight
        tails = through.argmin(axis=0)
        offer = through[tails, columns]
        better = offer < dist - 0.5  # integer costs
        if not better.any():
            return None, dist
        dist[better] = offer[better]
        pred[better] = tails[better]
        if rounds % 8 == 0 or rounds > size:
            cycle = _predecessor_cycle(pred)
            if cycle is not None and sum(weight[t, h] for t, h in _steps(cycle)) < -0.5:
                return cycle, dist
    return [], dist  # improving still, but no cycle seen: the caller gives up


def _predecessor_cycle(pred: np.ndarray) -> list[int] | None:
    """Find a cycle of the predecessor graph ``pred`` (-1: none), in arc order, or None."""
    size = pred.size
    follow = np.append(pred, -1)  # -1 leads to the sentinel, which stays there
    follow[follow < 0] = size
    node = np.arange(size + 1)
    for _ in range(size):
        node = follow[node]
    on_cycle = np.flatnonzero(node[:size] < size)
    if on_cycle.size == 0:
        return None
    start = int(node[on_cycle[0]])
    cycle = [start]
    back = int(pred[start])
    while back != start:
        cycle.append(back)
        back = int(pred[back])
    cycle.reverse()
    return cycle


def _steps(cycle: list[int]) -> list[tuple[int, int]]:
    """List the arcs ``(tail, head)`` of a cycle given as its nodes in order."""
    return list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
