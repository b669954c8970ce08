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

This module owns the engine's strategy: which pairs to start from, the
samples' prices and pricing; the network and its OR-Tools solve live in
:mod:`optimizer.model.flow_network`, the cycle cancelling in
:mod:`optimizer.model.flow_cycles`.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple, cast

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import floyd_warshall

from optimizer.model.certificate import _residual_arcs
from optimizer.model.flow_cycles import _cancel_cycles
from optimizer.model.flow_network import (
    _agents_subset,
    _assigned_pairs,
    _eligible_pairs,
    _flow_on,
    _pair_gains,
)
from optimizer.model.problem import CACHE_PAIRS, AssignmentProblem
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
            r = int(min(np.max(want), hi - lo))
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
