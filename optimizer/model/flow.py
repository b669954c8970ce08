r"""The min-cost flow engine (OR-Tools ``SimpleMinCostFlow``).

Agent (a supply of 1) -> telecentre (cost
:math:`-(d_i s_{ij} + b[ij \in P])`) -> hub (capacity :math:`c_j`) -> sink
(capacity :math:`K`), plus agent -> "stays at the head office" -> sink at no
cost (no such arc for an agent who must be assigned). Costs are whole seconds
(or metres), so the optimum is exact.

Up to :data:`_ALL_PAIRS` eligible pairs, the flow takes every eligible pair
in one solve: that solve is optimal over all pairs by construction, so no
certificate is computed (samples still read their node potentials). Larger
problems (above :data:`_SAMPLE_ABOVE` agents) first estimate
what a desk at each telecentre is worth: two disjoint random halves of
:data:`_SAMPLE_SHARE` of the agents, each with its share of the desks, are
solved (themselves from samples when still large); the mean of their node
potentials estimates the prices and their difference the error of each
(:func:`_sample_potentials`). Each agent then starts with every telecentre
whose gain plus price is within a margin of its best option, staying
included, the margin following the error (:func:`_margin_candidates`); only
agents with a pair are nodes of the flow. The one solve on these pairs is
then certified over all eligible pairs in the residual network compressed to
the telecentres (:mod:`optimizer.model.certificate`): each negative cycle
found there, an exchange of agents that gains, is applied at once
(:func:`_cancel_cycles`), until none is left, which proves the assignment
optimal for all pairs; the Bellman-Ford distances are its node potentials.
Should that take too long, or the problem be too large to keep its matrices,
pricing takes over: the potentials of the pruned optimum price every pair
left out, each moving agent's most improving pairs (and its near-competitive
ones) are added and the flow is solved again, until no pair has a negative
reduced cost (LP duality). Problems with few agents but many pairs start
from candidate pairs from both sides (each agent's best few telecentres,
each telecentre's best agents, several times its desks, and every pair of
an agent who must be assigned) and are priced the same way. The samples
and the candidates only decide how fast the proof comes, never the optimum.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import NamedTuple, cast

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy import sparse
from scipy.sparse.csgraph import floyd_warshall

from optimizer.errors import SolverError
from optimizer.model.certificate import _cheapest_moves, _residual_arcs
from optimizer.model.feasibility import check_feasible
from optimizer.model.problem import CACHE_PAIRS, AssignmentProblem, _pairs
from optimizer.model.result import Assignment, _result

logger = logging.getLogger(__name__)

#: Telecentres per agent in the first min-cost flow solve (pricing adds more where needed).
_FIRST_CANDIDATES = 3
#: Each telecentre's best agents in the first solve: this many per desk ...
_DESK_DEPTH = 2.0
#: ... plus this many.
_DESK_EXTRA = 16
#: Pairs pricing adds per agent and round (its most improving ones).
_PRICED_PER_AGENT = 2
#: Pricing also adds pairs whose reduced cost is below this share of the mean gain of a pair.
_MARGIN = 0.05
#: Negative cycles cancelled at most after a pruned solve, before solving again instead
#: (:func:`_cancel_cycles`).
_MOST_CYCLES = 100
#: Up to this many eligible agent-telecentre pairs, the flow takes them all in one solve
#: (below it, estimating prices on samples costs more than it saves: see
#: ``benchmarks/assign.py``) ...
_ALL_PAIRS = 120_000
#: ... and up to this many when there are fewer than :data:`_SAMPLE_DENSITY` agents per
#: telecentre: the samples then hold too few agents per desk to price it well.
_THIN_PAIRS = 400_000
_SAMPLE_DENSITY = 100
#: Above this many agents, the first candidates use potentials estimated on a sample ...
_SAMPLE_ABOVE = 2_000
#: ... of this share of the agents, in two halves.
_SAMPLE_SHARE = 0.125
#: With a sample's potentials, each agent starts with every telecentre whose value (gain plus
#: potential) is within a margin of its best option (staying counts as an option worth 0):
#: this share of the sample's mean gain of a pair ...
_PRICE_MARGIN = 0.08
#: ... plus this many times the spread of the two estimates of the prices at the two
#: telecentres (their price error), so that one solve is usually proven optimal at once.
_SPREAD_WEIGHT = 0.75


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


def _all_at_once(problem: AssignmentProblem) -> bool:
    """Whether the flow should take every eligible pair in one solve.

    Yes up to :data:`_ALL_PAIRS` eligible pairs, or :data:`_THIN_PAIRS` with
    fewer than :data:`_SAMPLE_DENSITY` agents per telecentre. Counted only
    when the whole matrices are kept (otherwise the problem is far above).
    """
    n, m = problem.n_agents, problem.n_telecentres
    if n * m <= _ALL_PAIRS:
        return True
    if n * m > CACHE_PAIRS:
        return False
    next(problem.blocks(), None)  # builds the whole matrices and keeps them
    whole = problem._cache.get("pairs")
    if not isinstance(whole, tuple):
        return False
    eligible = int(np.count_nonzero(whole[0]))
    return eligible <= _ALL_PAIRS or (eligible <= _THIN_PAIRS and n < _SAMPLE_DENSITY * m)


def _candidates(
    problem: AssignmentProblem,
    width: int,
    *,
    depth: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs ``(agent, telecentre, gain)``, sorted by agent then telecentre.

    Each agent's ``width`` best eligible telecentres; with ``depth`` > 0, each
    telecentre's ``depth x desks + _DESK_EXTRA`` best eligible agents (by
    gain), kept in one pass over the blocks. An agent who must be assigned
    keeps all its eligible pairs, so that the pruned problem is feasible when
    the whole one is (others may stay; those agents alone fit their desks).
    """
    n, m = problem.n_agents, problem.n_telecentres
    if width >= m:  # every eligible pair
        return _eligible_pairs(problem)
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    want = (
        np.minimum(
            np.ceil(depth * problem.capacities.astype(float)).astype(np.int64) + _DESK_EXTRA, n
        )
        if depth > 0
        else np.zeros(m, dtype=np.int64)
    )
    pool_score: list[np.ndarray] = []
    pool_agent: list[np.ndarray] = []
    must = problem.must
    for lo, hi, ok, gain in problem.blocks():
        forced, forced_cols = np.nonzero(ok & must[lo:hi, None])
        rows_out.append(forced + lo)
        cols_out.append(forced_cols)
        score = np.where(ok, gain, -1)
        if width < m:
            top = np.argpartition(-score, width - 1, axis=1)[:, :width]
        else:
            top = np.broadcast_to(np.arange(m), score.shape)
        keep = np.take_along_axis(score, top, axis=1) >= 0
        local_rows = np.broadcast_to(np.arange(score.shape[0])[:, None], top.shape)
        rows_out.append(local_rows[keep] + lo)
        cols_out.append(top[keep])
        if depth > 0:  # each telecentre's best of this block, merged after the pass
            by_centre = np.ascontiguousarray(score.T)
            r = int(min(want.max(), hi - lo))
            best = np.argpartition(-by_centre, r - 1, axis=1)[:, :r] if r < hi - lo else None
            if best is None:
                pool_score.append(by_centre)
                pool_agent.append(np.broadcast_to(np.arange(lo, hi), by_centre.shape))
            else:
                pool_score.append(np.take_along_axis(by_centre, best, axis=1))
                pool_agent.append(best + lo)
    if pool_score:
        scores, agents = np.concatenate(pool_score, axis=1), np.concatenate(pool_agent, axis=1)
        for j in range(m):
            r = int(want[j])
            part = np.argpartition(-scores[j], r - 1)[:r] if r < scores.shape[1] else slice(None)
            good = scores[j][part] >= 0
            rows_out.append(agents[j][part][good])
            cols_out.append(np.full(int(good.sum()), j, dtype=np.int64))
    if not rows_out:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    # one flag per pair, read in order: sorted by agent then telecentre, a fixed arc order
    flags = np.zeros(n * m, dtype=bool)
    flags[np.concatenate(rows_out).astype(np.int64) * m + np.concatenate(cols_out)] = True
    keys = np.flatnonzero(flags)
    rows, cols = keys // m, keys % m
    return rows, cols, _pair_gains(problem, rows, cols)


def _margin_candidates(
    problem: AssignmentProblem, prices: _Prices
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs ``(agent, telecentre, gain)`` near each agent's best at estimated prices.

    At the estimated potentials ``prices.values`` (added to the gains), each
    agent keeps every eligible telecentre whose gain plus value is within a
    margin of its best option: :data:`_PRICE_MARGIN` of the mean gain, plus
    :data:`_SPREAD_WEIGHT` times the spread of the two estimates at that
    telecentre and at the best one (the price error of each). Staying is an
    option worth 0 (no spread) unless the agent must be assigned, so agents
    far from any desk at these prices get no pair. An agent who must be
    assigned keeps all its eligible pairs, so that the pruned problem is
    feasible when the whole one is. Sorted by agent then telecentre.
    """
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    gains_out: list[np.ndarray] = []
    must = problem.must
    base = _PRICE_MARGIN * prices.scale
    spread = _SPREAD_WEIGHT * prices.spread
    for lo, hi, ok, gain in problem.blocks():
        valued = np.where(ok, gain + prices.values[None, :], -np.inf)
        first = valued.argmax(axis=1)
        best = valued[np.arange(hi - lo), first]
        staying = ~must[lo:hi] & ~(best > 0)
        best = np.where(staying, 0.0, best)
        slack = base + np.where(staying, 0.0, spread[first])
        near = valued >= (best - slack)[:, None] - spread[None, :]
        near[must[lo:hi]] |= ok[must[lo:hi]]  # all theirs: the pruned problem stays feasible
        r, c = np.nonzero(near)
        rows_out.append(r + lo)
        cols_out.append(c)
        gains_out.append(gain[r, c])
    return np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(gains_out)


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


def _pruned_residual(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    gains: np.ndarray,
) -> sparse.csr_array:
    """Build the compressed residual network of the pruned problem from its pairs alone.

    The same network as :func:`optimizer.model.certificate._compressed_residual`
    with candidates, built in time proportional to the candidate pairs.
    """
    m = problem.n_telecentres
    stay = m
    own = np.zeros(problem.n_agents, dtype=np.int64)
    used = telecentre[rows] == cols
    own[rows[used]] = gains[used]
    position = np.where(telecentre >= 0, telecentre, stay)
    tails = position[rows]
    moving = tails != cols
    best = np.full((m + 1) * (m + 1), np.inf)
    np.minimum.at(
        best,
        tails[moving] * (m + 1) + cols[moving],
        (own[rows[moving]] - gains[moving]).astype(float),
    )
    leaving = np.flatnonzero((telecentre >= 0) & ~problem.must)
    np.minimum.at(best, position[leaving] * (m + 1) + stay, own[leaving].astype(float))
    return _residual_arcs(problem, telecentre, best.reshape(m + 1, m + 1))


def _pruned_potentials(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Node potentials of the pruned optimum: shortest distances from a virtual root.

    Read from the compressed residual network of the pruned problem (no
    negative cycle there, since the flow is optimal on its pairs).
    """
    rows, cols, gains = candidates
    dist = floyd_warshall(_pruned_residual(problem, telecentre, rows, cols, gains), directed=True)
    return np.asarray(np.minimum(dist.min(axis=0), 0.0))


def _price_out(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    per_agent: int | None = None,
    margin: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Pairs left out of ``candidates`` that could improve the pruned optimum.

    Node potentials of the pruned problem's residual network (shortest
    distances from a virtual root) give every pair a reduced cost; pairs with
    a negative one are returned (at most ``per_agent`` per agent, the most
    negative, with their pairs below ``margin``). None left: the reduced costs
    of all pairs are non-negative, which proves the assignment optimal for the
    whole problem (LP duality). The potentials are returned last.

    The candidate pairs have non-negative reduced costs (the flow is optimal
    on them), so a single pass computes each agent's least reduced cost over
    all its eligible pairs; only the agents with a negative one are looked at
    pair by pair, and pairs already candidates are dropped there.
    """
    m = problem.n_telecentres
    rows, cols, _ = candidates
    potential = _pruned_potentials(problem, telecentre, candidates)
    stay = m
    found_rows, found_cols = [], []
    for lo, hi, ok, gain in problem.blocks() if m else ():  # no telecentre: nothing to price
        where = telecentre[lo:hi]
        position = np.where(where >= 0, where, stay)
        local = np.arange(hi - lo)
        own = np.where(where >= 0, gain[local, np.maximum(where, 0)], 0)
        base = own + potential[position]  # reduced cost = base - (gain + potential[j])
        offer = np.where(ok, gain + potential[None, :m], -np.inf)
        moving = np.flatnonzero(offer.max(axis=1, initial=-np.inf) > base)
        if moving.size == 0:
            continue
        reduced = base[moving, None] - offer[moving]
        if per_agent is not None and per_agent < m:
            top = np.argpartition(reduced, per_agent - 1, axis=1)[:, :per_agent]
            values = np.take_along_axis(reduced, top, axis=1)
            r, k = np.nonzero(values < margin)
            c = top[r, k]
        else:
            r, c = np.nonzero(reduced < margin)
        found_rows.append(moving[r] + lo)
        found_cols.append(c)
    if not found_rows:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, potential, False
    more_rows, more_cols = np.concatenate(found_rows), np.concatenate(found_cols)
    fresh = ~np.isin(more_rows * m + more_cols, rows * m + cols)
    return more_rows[fresh], more_cols[fresh], potential, True


def solve_min_cost_flow(problem: AssignmentProblem) -> Assignment:
    """Solve ``problem`` exactly as a min-cost flow (see the module docstring).

    Small problems are solved on every pair; large ones on the pairs near
    each agent's best at prices estimated on samples, then certified over all
    pairs and improved by exchanges of agents (negative cycles) until none
    gains, which proves the result optimal for all pairs (pricing and
    solving again when that takes too long).

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
    telecentre, gain, arcs, rounds = _priced_flow(problem, potentials=False)[:4]
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
        arcs,
        rounds,
        int(result.assigned.sum()),
        result.objective_value,
        result.solve_seconds,
    )
    return result


def _priced_flow(
    problem: AssignmentProblem, *, repair: bool = True, potentials: bool = True
) -> tuple[np.ndarray, int, int, int, np.ndarray | None]:
    """Solve on candidate pairs and price until optimal.

    When the first candidates came from a sample's prices, the first pruned
    optimum is certified over all pairs and, where pairs were missing,
    improved by cancelling negative cycles (:func:`_cancel_cycles`) rather
    than by solving again, unless ``repair`` is False (samples, whose solves
    are cheap). Returns each agent's telecentre, the gain, the arcs used,
    the rounds and the final node potentials: None when ``potentials`` is
    False and the one solve took every eligible pair (optimal by
    construction, nothing to price).
    """
    m = problem.n_telecentres
    clock = time.perf_counter()
    prices = None
    whole = _all_at_once(problem)
    if whole:
        rows, cols, gains = _eligible_pairs(problem)
    else:
        prices = _sample_potentials(problem)
        logger.debug("sample potentials: %.3f s", time.perf_counter() - clock)
        clock = time.perf_counter()
        if prices is None:
            rows, cols, gains = _candidates(problem, min(_FIRST_CANDIDATES, m), depth=_DESK_DEPTH)
        else:
            rows, cols, gains = _margin_candidates(problem, prices)
    logger.debug(
        "%d agents: %d candidate pairs in %.3f s",
        problem.n_agents,
        rows.size,
        time.perf_counter() - clock,
    )
    rounds = 0
    while True:
        rounds += 1
        clock = time.perf_counter()
        telecentre, gain = _flow_on(problem, rows, cols, gains)
        logger.debug("flow on %d pairs: %.3f s", rows.size, time.perf_counter() - clock)
        if whole and not potentials:
            return telecentre, gain, int(rows.size), rounds, None
        if repair and prices is not None and rounds == 1:
            clock = time.perf_counter()
            repaired = _cancel_cycles(problem, telecentre)
            logger.debug("cycle cancelling: %.3f s", time.perf_counter() - clock)
            if repaired is not None:
                telecentre, potential = repaired
                gain = int(_pair_gains(problem, *_assigned_pairs(telecentre)).sum())
                return telecentre, gain, int(rows.size), rounds, potential
        clock = time.perf_counter()
        more_rows, more_cols, potential, improving = _price_out(
            problem,
            telecentre,
            (rows, cols, gains),
            per_agent=_PRICED_PER_AGENT,
            margin=_MARGIN * float(gains.mean()) if gains.size else 0.0,
        )
        logger.debug("pricing: %.3f s", time.perf_counter() - clock)
        if not improving:
            return telecentre, gain, int(rows.size), rounds, potential
        logger.info("pricing added %d pairs; solving again", more_rows.size)
        rows = np.concatenate([rows, more_rows])
        cols = np.concatenate([cols, more_cols])
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        gains = _pair_gains(problem, rows, cols)


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
    ok_all, gain_all = whole
    m = problem.n_telecentres
    must = problem.must
    telecentre = telecentre.copy()
    position = np.where(telecentre >= 0, telecentre, m)
    best = _cheapest_moves(problem, telecentre)

    def moves(agents: np.ndarray, place: int, cols: np.ndarray) -> np.ndarray:
        """Cost of moving ``agents`` (all at ``place``) to ``cols``: ``(agents, cols)``."""
        own = gain_all[agents, place] if place < m else np.zeros(agents.size, dtype=np.int64)
        out = np.full((agents.size, cols.size), np.inf)
        to_centre = cols < m
        rows = agents[:, None]
        out[:, to_centre] = np.where(
            ok_all[rows, cols[to_centre]], own[:, None] - gain_all[rows, cols[to_centre]], np.inf
        )
        out[:, ~to_centre] = np.where(must[agents], np.inf, own)[:, None]
        return out

    every = np.arange(m + 1)
    centres = np.arange(m)
    for count in range(_MOST_CYCLES):
        cycle, dist = _negative_cycle(_dense_residual(problem, telecentre, best))
        if cycle is None:
            logger.debug("cancelled %d cycle(s)", count)
            return telecentre, np.minimum(dist, 0.0)
        if not cycle:
            return None
        steps = _steps(cycle)
        load = np.bincount(telecentre[telecentre >= 0], minlength=m)
        assigned = int(load.sum())
        room = np.full((m + 3, m + 3), problem.n_agents)  # units each arc can carry
        room[centres, m + 1] = problem.capacities - load  # free desks
        room[m + 1, m + 2] = problem.limit - assigned  # room under the limit
        room[m + 2, m + 1] = room[m, m + 2] = assigned
        room[m + 2, m] = problem.n_agents - assigned
        units = min(int(room[tail, head]) for tail, head in steps)
        queues = []
        for tail, head in steps:
            if tail <= m and head <= m:  # agents move (the other arcs: desks, the limit)
                members = np.flatnonzero(position == tail)
                cost = moves(members, tail, np.array([head]))[:, 0]
                order = np.argsort(cost, kind="stable")
                queues.append((members[order], cost[order], tail, head))
                units = min(units, members.size)
        if not queues or units < 1:
            return None  # not an exchange of agents: let a solve decide
        # the k-th cheapest agent of every move makes the k-th exchange: take all that gain
        marginal = np.sum([cost[:units] for _, cost, _, _ in queues], axis=0)
        units = int(np.searchsorted(marginal >= 0, True))  # marginal costs only grow
        if units == 0:
            return None  # not an improving exchange after all: let a solve decide
        before = []
        for members, _, tail, head in queues:
            agents = members[:units]
            before.append(moves(agents, tail, every).min(axis=0))
            telecentre[agents] = head if head < m else -1
            position[agents] = head
        for (members, _, tail, head), old in zip(queues, before, strict=True):
            stale = np.flatnonzero(old <= best[tail])  # a leaver may have been the cheapest
            staying = np.flatnonzero(position == tail)
            best[tail, stale] = moves(staying, tail, stale).min(axis=0, initial=np.inf)
            joined = moves(members[:units], head, every).min(axis=0)
            best[head] = np.minimum(best[head], joined)
    return None


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


class _Prices(NamedTuple):
    """Estimated node potentials of the telecentres, from two halves of a sample."""

    values: np.ndarray  # (n_telecentres,) the mean of the two estimates, relative to staying
    spread: np.ndarray  # (n_telecentres,) how far apart the two estimates are
    scale: float  # the samples' mean gain of an eligible pair


def _sample_potentials(problem: AssignmentProblem) -> _Prices | None:
    """Estimate the telecentres' node potentials on samples of the agents (large problems).

    Two disjoint random halves of :data:`_SAMPLE_SHARE` of the agents, each
    with the desks and the limit on agents scaled alike, are solved exactly
    (themselves from samples when still large); their potentials are what a
    desk at each telecentre is worth. Their mean is close to the potentials
    of the whole problem, and how far apart they are says how close, desk by
    desk (the margin of :func:`_margin_candidates`). Only the first candidates
    depend on them, never the optimum or its proof. None when the problem is
    small enough to be solved without.
    """
    n, m = problem.n_agents, problem.n_telecentres
    if n <= _SAMPLE_ABOVE or _all_at_once(problem):
        return None
    order = np.random.default_rng(2015).permutation(n)
    half = max(1, int(n * _SAMPLE_SHARE / 2))
    estimates = []
    total, count = 0, 0
    for part in (order[:half], order[half : 2 * half]):
        chosen = np.sort(part)
        share = chosen.size / n
        sample = _agents_subset(
            problem,
            chosen,
            capacities=np.round(problem.capacities * share).astype(np.int64),
            select=None if problem.select is None else round(problem.limit * share),
        )
        potential = cast("np.ndarray", _priced_flow(sample, repair=False)[4])  # asked for
        estimates.append(potential[:m] - potential[m])  # relative to staying
        for _, _, ok, gain in sample.blocks():
            total += int(gain.sum())  # 0 where not eligible
            count += int(ok.sum())
    return _Prices(
        values=(estimates[0] + estimates[1]) / 2,
        spread=np.abs(estimates[0] - estimates[1]),
        scale=total / max(count, 1),
    )


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


def _assigned_pairs(telecentre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.flatnonzero(telecentre >= 0)
    return rows, telecentre[rows]


def _pair_gains(problem: AssignmentProblem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.empty(rows.size, dtype=np.int64)
    for lo, hi, _, gain in problem.blocks():
        first, last = np.searchsorted(rows, [lo, hi])
        out[first:last] = gain[rows[first:last] - lo, cols[first:last]]
    return out
