"""The large-problem path of the min-cost flow: a sample's prices choose the first pairs.

Every test forces that path on small instances (no pair limit, a sample from 40 agents)
and checks the optimum against an independent 0-1 program (HiGHS) and against plain
OR-Tools min-cost flow on every eligible pair, on every shape of the benchmark, with
ties, a limit on agents, agents who must be assigned and 1-3 telework days.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from optimizer.errors import InfeasibleError
from optimizer.model import AssignmentProblem, flow_cycles, is_optimal, solve_flow
from optimizer.model import flow as flow_module
from optimizer.model import problem as problem_module
from optimizer.model.feasibility import check_feasible
from tests.test_model import _shaped_problem

SHAPES = ["uniform-plentiful", "uniform-scarce", "clustered-plentiful", "clustered-scarce"]


def _shaped(
    rng: np.random.Generator, shape: str, n: int, m: int, *, select: bool, ties: bool
) -> AssignmentProblem:
    """The model tests' shapes, with six towns of very different sizes (1/k weights)."""
    weight = 1.0 / np.arange(1, 7)
    return _shaped_problem(rng, shape, n, m, select=select, ties=ties, town_p=weight / weight.sum())


def _milp_optimum(problem: AssignmentProblem) -> int:
    """A 0-1 program solved by HiGHS: at most one telecentre each, exactly one if must."""
    eligible, gain = problem.eligible(), problem.weekly_gain()
    n, m = problem.n_agents, problem.n_telecentres
    pi, pj = np.nonzero(eligible)
    k = pi.size
    rows = np.concatenate([pi, n + pj, np.full(k, n + m)])
    a = coo_array((np.ones(3 * k), (rows, np.tile(np.arange(k), 3))), shape=(n + m + 1, k))
    lower = np.concatenate([problem.must.astype(float), np.full(m + 1, -np.inf)])
    upper = np.concatenate([np.ones(n), problem.capacities, [problem.limit]])
    res = milp(
        -gain[pi, pj].astype(float),
        constraints=LinearConstraint(a.tocsr(), lower, upper),
        integrality=np.ones(k),
        bounds=Bounds(0, 1),
    )
    assert res.success
    return round(-res.fun)


def _plain_flow_optimum(problem: AssignmentProblem) -> int:
    """OR-Tools min-cost flow on every eligible pair (the benchmark's reference)."""
    n, m = problem.n_agents, problem.n_telecentres
    pi, pj = np.nonzero(problem.eligible())
    gain = problem.weekly_gain()[pi, pj]
    source, hub, sink, stay = n + m, n + m + 1, n + m + 2, n + m + 3
    free = np.flatnonzero(~problem.must)
    tails = np.concatenate([np.full(n, source), pi, free, n + np.arange(m), [hub, stay]])
    heads = np.concatenate(
        [np.arange(n), n + pj, np.full(free.size, stay), np.full(m, hub), [sink, sink]]
    )
    caps = np.concatenate(
        [np.ones(n), np.ones(pi.size), np.ones(free.size), problem.capacities, [problem.limit, n]]
    )
    costs = np.concatenate([np.zeros(n), -gain, np.zeros(free.size + m + 2)])
    flow = solve_flow(
        tails, heads, caps, costs, n_nodes=n + m + 4, source=source, sink=sink, amount=n
    )
    assert flow is not None
    return -int(flow.optimal_cost())


@pytest.fixture
def sampled(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Force the large-problem path: no problem solved on all pairs, samples from 40 agents."""
    monkeypatch.setattr(flow_module, "_ALL_PAIRS", 0)
    monkeypatch.setattr(flow_module, "_THIN_PAIRS", 0)
    monkeypatch.setattr(flow_module, "_SAMPLE_ABOVE", 40)
    return monkeypatch


def _must(rng: np.random.Generator, problem: AssignmentProblem, count: int) -> AssignmentProblem:
    """Force ``count`` agents among those who save least, where the desks allow it."""
    gain = problem.weekly_gain()
    some = np.flatnonzero((problem.eligible() & (problem.capacities > 0)).any(axis=1))
    weakest = some[np.argsort(gain[some].max(axis=1), kind="stable")[: 3 * count]]
    for _ in range(50):
        must = np.zeros(problem.n_agents, dtype=bool)
        must[rng.choice(weakest, size=min(count, weakest.size), replace=False)] = True
        forced = problem.with_rules(must_assign=must)
        try:
            check_feasible(forced)
        except InfeasibleError:
            continue
        return forced
    pytest.fail("no feasible set of agents to force")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("select", [False, True])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("margin", [0.0, 0.3, 2.0])
@pytest.mark.parametrize("cycles", [0, 1, 200])
def test_sampled_prices_reach_the_optimum_on_every_shape(
    shape: str, select: bool, ties: bool, margin: float, cycles: int, sampled: pytest.MonkeyPatch
) -> None:
    # margin 0: the first pairs are each agent's best at the sample's prices only, so
    # cancelling cycles (or, when it gives up after 0 or 1 cycle, pricing and solving
    # again) must bring the rest; 2.0: nearly every pair from the start
    sampled.setattr(flow_module, "_PRICE_MARGIN", margin)
    sampled.setattr(flow_module, "_SPREAD_WEIGHT", margin)
    sampled.setattr(flow_cycles, "_MOST_CYCLES", cycles)
    rng = np.random.default_rng(1500 + 7 * len(shape) + 3 * select + ties)
    problem = _shaped(rng, shape, 360, 12, select=select, ties=ties)
    result = problem.solve()
    assert result.status == "optimal"
    assert result.gain_total() == _milp_optimum(problem) == _plain_flow_optimum(problem)
    assert np.all(result.load() <= problem.capacities)
    assert int(result.assigned.sum()) <= problem.limit
    assert is_optimal(problem, result.telecentre)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("select", [False, True])
def test_must_assign_holds_on_the_sampled_path(
    shape: str, select: bool, sampled: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(1600 + len(shape) + select)
    problem = _must(rng, _shaped(rng, shape, 300, 10, select=select, ties=False), 12)
    result = problem.solve()
    assert np.all(result.telecentre[problem.must] >= 0)
    assert result.gain_total() == _milp_optimum(problem) == _plain_flow_optimum(problem)


def test_a_misleading_sample_still_gives_the_optimum(sampled: pytest.MonkeyPatch) -> None:
    # a sample of 2 % of the agents prices the desks badly; pricing repairs the first solve
    sampled.setattr(flow_module, "_SAMPLE_SHARE", 0.02)
    sampled.setattr(flow_module, "_PRICE_MARGIN", 0.05)
    rng = np.random.default_rng(17)
    problem = _shaped(rng, "clustered-scarce", 500, 14, select=False, ties=False)
    assert problem.solve().gain_total() == _milp_optimum(problem)


def test_final_potentials_certify_every_eligible_pair(sampled: pytest.MonkeyPatch) -> None:
    # reduced cost of every eligible pair >= 0 under the potentials the flow returns,
    # recomputed here from the matrices (not from the library's pricing pass)
    rng = np.random.default_rng(18)
    problem = _shaped(rng, "uniform-scarce", 400, 12, select=True, ties=True)
    telecentre, _, _, _, potential = flow_module._priced_flow(problem)
    m = problem.n_telecentres
    gain, eligible = problem.weekly_gain(), problem.eligible()
    position = np.where(telecentre >= 0, telecentre, m)
    own = np.where(telecentre >= 0, gain[np.arange(problem.n_agents), telecentre.clip(0)], 0)
    reduced = own[:, None] + potential[position][:, None] - gain - potential[None, :m]
    assert reduced[eligible].min() >= 0
    load = np.bincount(telecentre[telecentre >= 0], minlength=m)
    assert np.all(
        potential[:m][load < problem.capacities] >= potential[m + 1]
    )  # free desk: unpriced


def test_certificate_rejects_a_suboptimal_plan_from_the_sampled_path(
    sampled: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(19)
    problem = _shaped(rng, "clustered-scarce", 300, 10, select=False, ties=False)
    best = problem.solve().telecentre
    gain = problem.weekly_gain()
    assert is_optimal(problem, best)
    # two agents at different telecentres, each eligible at the other's: swap them
    for a, b in ((a, b) for a in np.flatnonzero(best >= 0) for b in np.flatnonzero(best >= 0)):
        ja, jb = best[a], best[b]
        if ja == jb or not (problem.eligible()[a, jb] and problem.eligible()[b, ja]):
            continue
        if gain[a, jb] + gain[b, ja] < gain[a, ja] + gain[b, jb]:
            worse = best.copy()
            worse[a], worse[b] = jb, ja
            assert not is_optimal(problem, worse)
            break
    else:
        pytest.fail("no strictly worse swap found")


def test_sampled_path_is_deterministic(sampled: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(20)
    problem = _shaped(rng, "uniform-plentiful", 300, 10, select=False, ties=True)
    first, second = problem.solve(), problem.solve()
    assert np.array_equal(first.telecentre, second.telecentre)


def test_cancelling_cycles_repairs_a_poor_start(sampled: pytest.MonkeyPatch) -> None:
    # each agent's single best telecentre at the sample's prices: far from the optimum,
    # repaired by exchanges alone (no second solve)
    sampled.setattr(flow_module, "_PRICE_MARGIN", 0.0)
    sampled.setattr(flow_module, "_SPREAD_WEIGHT", 0.0)
    sampled.setattr(flow_module, "_SAMPLE_SHARE", 0.05)
    rng = np.random.default_rng(21)
    problem = _shaped(rng, "clustered-plentiful", 500, 14, select=True, ties=False)
    telecentre, gain, _, rounds, _ = flow_module._priced_flow(problem)
    assert rounds == 1
    assert gain == _milp_optimum(problem)
    assert is_optimal(problem, telecentre)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_rule_holds_on_the_sampled_path(shape: str, sampled: pytest.MonkeyPatch) -> None:
    # forbidden and preferred pairs, a previous plan with a move penalty, a longest drive
    # and a minimum saving: all in the gains and eligibility the prices and cycles see
    rng = np.random.default_rng(1700 + len(shape))
    base = _shaped(rng, shape, 320, 10, select=True, ties=True)
    pairs = rng.random((base.n_agents, base.n_telecentres))
    agents = rng.choice(base.n_agents, 60, replace=False)
    problem = base.with_rules(
        forbidden=np.nonzero(pairs < 0.1),
        preferred=np.nonzero(pairs > 0.9),
        preference_bonus=20.0,
        incumbent=(agents, rng.integers(0, base.n_telecentres, agents.size)),
        move_penalty=15.0,
        max_minutes=40.0,
        min_saving=5.0,
    )
    result = problem.solve()
    assert result.gain_total() == _milp_optimum(problem) == _plain_flow_optimum(problem)
    forbidden = np.zeros((problem.n_agents, problem.n_telecentres), dtype=bool)
    forbidden[np.nonzero(pairs < 0.1)] = True
    placed = np.flatnonzero(result.telecentre >= 0)
    assert not forbidden[placed, result.telecentre[placed]].any()


def test_matrices_too_large_to_keep_fall_back_to_pricing(sampled: pytest.MonkeyPatch) -> None:
    # no whole matrices in memory: no cycle cancelling, pricing and solving again instead
    sampled.setattr(problem_module, "CACHE_PAIRS", 0)
    sampled.setattr(flow_module, "_PRICE_MARGIN", 0.0)
    sampled.setattr(flow_module, "_SPREAD_WEIGHT", 0.0)
    rng = np.random.default_rng(22)
    problem = _shaped(rng, "uniform-scarce", 400, 12, select=False, ties=False)
    telecentre, gain, _, rounds, _ = flow_module._priced_flow(problem)
    assert rounds > 1
    assert gain == _milp_optimum(problem)
    assert is_optimal(problem, telecentre)


@pytest.mark.parametrize("seed", range(4))
def test_must_assign_filling_the_desks_on_the_few_agents_many_pairs_path(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # few agents, many pairs (no sample): the first pairs are each agent's best few and each
    # telecentre's best agents; agents who must be assigned and fill every desk exactly
    # need pairs outside those, and the pruned problem must stay feasible
    monkeypatch.setattr(flow_module, "_ALL_PAIRS", 0)
    monkeypatch.setattr(flow_module, "_THIN_PAIRS", 0)
    monkeypatch.setattr(flow_module, "_DESK_EXTRA", 0)
    rng = np.random.default_rng(1800 + seed)
    base = _shaped(rng, "clustered-plentiful", 200, 12, select=False, ties=True)
    eligible = base.eligible()
    load = np.zeros(base.n_telecentres, dtype=np.int64)
    must = np.zeros(base.n_agents, dtype=bool)
    for i in rng.permutation(base.n_agents).tolist():
        open_ = np.flatnonzero(eligible[i] & (load < base.capacities))
        if open_.size:
            load[open_[-1]] += 1  # the last telecentre open to it, not its best
            must[i] = True
    problem = base.with_rules(capacities=load, must_assign=must)
    result = problem.solve()
    assert np.all(result.telecentre[must] >= 0)
    assert result.gain_total() == _milp_optimum(problem) == _plain_flow_optimum(problem)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_eligible_pairs_decide_whether_to_solve_on_them_all(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the rule counts eligible pairs, not agents x telecentres: a problem with many pairs,
    # few of them eligible, is solved on them all at once (optimal by construction, no
    # sample); with more eligible pairs than the limits, the sampled path is taken. Both
    # reach the optimum of the whole problem.
    rng = np.random.default_rng(2100 + len(shape))
    problem = _shaped(rng, shape, 600, 12, select=True, ties=True)
    eligible = int(problem.eligible().sum())
    monkeypatch.setattr(flow_module, "_SAMPLE_ABOVE", 40)
    monkeypatch.setattr(flow_module, "_ALL_PAIRS", eligible)  # below 600 x 12
    monkeypatch.setattr(flow_module, "_THIN_PAIRS", 0)
    assert flow_module._all_at_once(problem)
    assert flow_module._sample_potentials(problem) is None
    telecentre, gain, arcs, _, potential = flow_module._priced_flow(problem, potentials=False)
    assert (arcs, potential) == (eligible, None)
    assert gain == _plain_flow_optimum(problem) == _milp_optimum(problem)
    assert is_optimal(problem, telecentre)

    monkeypatch.setattr(flow_module, "_ALL_PAIRS", eligible - 1)
    assert not flow_module._all_at_once(problem)
    monkeypatch.setattr(flow_module, "_THIN_PAIRS", eligible)  # 50 agents a telecentre: thin
    assert flow_module._all_at_once(problem)
    monkeypatch.setattr(flow_module, "_SAMPLE_DENSITY", 50)  # not thin any more
    assert not flow_module._all_at_once(problem)
    assert flow_module._sample_potentials(problem) is not None
    result = problem.solve()
    assert result.gain_total() == gain
    assert is_optimal(problem, result.telecentre)
