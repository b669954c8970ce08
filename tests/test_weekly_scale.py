"""The weekly planner on sparse pairs (:mod:`optimizer.model.weekly`) against brute force."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult

from optimizer.errors import InfeasibleError, SolverError
from optimizer.model import (
    weekly,
    weekly_data,
    weekly_greedy,
    weekly_large,
    weekly_lp,
    weekly_split,
)
from optimizer.model.weekly import solve_weekly_pairs

#: The weekly planner's modules: a name patched is patched wherever they look it up.
WEEKLY_MODULES = (weekly, weekly_data, weekly_greedy, weekly_large, weekly_lp, weekly_split)


def _patch(monkeypatch: pytest.MonkeyPatch, name: str, value: object) -> None:
    """Set ``name`` to ``value`` in every module of the weekly planner that has it."""
    found = [module for module in WEEKLY_MODULES if hasattr(module, name)]
    assert found, name
    for module in found:
        monkeypatch.setattr(module, name, value)


def _instance(seed: int) -> dict[str, object]:
    """A small random instance; the seed picks the shape (scarce or plentiful desks, ...)."""
    rng = np.random.default_rng(seed)
    shape = seed % 6
    g = int(rng.integers(2, 5))
    m = int(rng.integers(1, 4))
    counts = rng.integers(1, 3, g) if shape in (3, 5) else np.ones(g, dtype=np.int64)
    days = rng.integers(1, 4, g)
    allowed = rng.random((g, 5)) > 0.25
    allowed[np.arange(g), rng.integers(0, 5, g)] = True
    preferred = rng.random((g, 5)) > 0.6
    desks = rng.integers(0, 2 if shape in (0, 3) else 4, (m, 5))
    pairs = [(a, t) for a in range(g) for t in range(m) if rng.random() < 0.8]
    agent = np.array([a for a, _ in pairs], dtype=np.int64)
    site = np.array([t for _, t in pairs], dtype=np.int64)
    # ties (shape 1): every gain the same; otherwise gains in steps so that ties still happen
    gain = np.full(agent.size, 600) if shape == 1 else rng.integers(1, 8, agent.size) * 300
    must = None
    if shape == 4:
        must = np.zeros(g, dtype=bool)
        must[0] = True
    limit = int(rng.integers(0, int(counts.sum()) + 1)) if shape == 2 else None
    return {
        "pair_agent": agent,
        "pair_site": site,
        "pair_gain": gain,
        "counts": counts,
        "days": days,
        "allowed": allowed,
        "preferred": preferred,
        "bonus": 0 if shape == 1 else 120,
        "desks": desks,
        "must": must,
        "limit": limit,
    }


def _options(inst: dict[str, object], a: int) -> list[tuple[int, int, int]]:
    """Every (site, 5-bit mask, value) agent of group ``a`` may take."""
    agent, site, gain = inst["pair_agent"], inst["pair_site"], inst["pair_gain"]
    days, allowed, preferred = inst["days"], inst["allowed"], inst["preferred"]
    desks, bonus = inst["desks"], inst["bonus"]
    assert isinstance(agent, np.ndarray) and isinstance(site, np.ndarray)
    assert isinstance(gain, np.ndarray) and isinstance(days, np.ndarray)
    assert isinstance(allowed, np.ndarray) and isinstance(preferred, np.ndarray)
    assert isinstance(desks, np.ndarray) and isinstance(bonus, int)
    kept, keep = inst.get("kept"), int(inst.get("keep", 0))  # type: ignore[call-overload]
    out = []
    for p in np.flatnonzero(agent == a):
        t = int(site[p])
        for chosen in itertools.combinations(range(5), int(days[a])):
            if all(allowed[a, d] and desks[t, d] > 0 for d in chosen):
                value = int(gain[p]) + bonus * sum(int(preferred[a, d]) for d in chosen)
                if kept is not None:  # a re-plan's weekdays kept on this pair
                    value += keep * sum(int(kept[p]) >> d & 1 for d in chosen)  # type: ignore[index]
                out.append((t, sum(1 << d for d in chosen), value))
    return out


def _brute(inst: dict[str, object], only: set[tuple[int, int, int]] | None = None) -> int | None:
    """Best plan value by enumeration (None: must-assign agents cannot all be placed).

    With ``only``, agents may use only those columns ``(group, site, mask)``.
    """
    counts = inst["counts"]
    desks = inst["desks"]
    assert isinstance(counts, np.ndarray) and isinstance(desks, np.ndarray)
    must = inst["must"]
    limit = inst["limit"]
    agents = [g for g in range(counts.size) for _ in range(int(counts[g]))]
    choices = [
        [(t, mk, v) for t, mk, v in _options(inst, g) if only is None or (g, t, mk) in only]
        for g in range(counts.size)
    ]
    best: int | None = None
    free = desks.copy()

    def walk(k: int, value: int, placed: int) -> None:
        nonlocal best
        if k == len(agents):
            if best is None or value > best:
                best = value
            return
        g = agents[k]
        if must is None or not must[g]:
            walk(k + 1, value, placed)
        if limit is not None and placed >= limit:
            return
        for t, mask, v in choices[g]:
            bits = [d for d in range(5) if mask >> d & 1]
            if all(free[t, d] > 0 for d in bits):
                free[t, bits] -= 1
                walk(k + 1, value + v, placed + 1)
                free[t, bits] += 1

    walk(0, 0, 0)
    return best


def _check(plan: weekly.WeeklyPairsPlan, inst: dict[str, object]) -> None:
    """The plan keeps every rule and is worth what it says."""
    counts, days, allowed, desks = inst["counts"], inst["days"], inst["allowed"], inst["desks"]
    assert isinstance(counts, np.ndarray) and isinstance(days, np.ndarray)
    assert isinstance(allowed, np.ndarray) and isinstance(desks, np.ndarray)
    use = np.zeros_like(desks)
    placed = np.zeros(counts.size, dtype=np.int64)
    total = 0
    for g, t, mask, n in zip(plan.group, plan.site, plan.mask, plan.count, strict=True):
        assert n > 0
        match = [v for s, mk, v in _options(inst, int(g)) if s == t and mk == mask]
        assert match, "a placement on a pair or day set the group cannot use"
        total += max(match) * int(n)
        use[t] += n * np.array([mask >> d & 1 for d in range(5)])
        placed[g] += n
    assert np.all(use <= desks)  # desks per weekday never exceeded
    assert np.all(placed <= counts)
    if inst["must"] is not None:
        must = np.asarray(inst["must"])
        assert np.all(placed[must] == counts[must])
    if inst["limit"] is not None:
        assert placed.sum() <= int(inst["limit"])  # type: ignore[call-overload]
    assert total == plan.objective


def _solved_against(inst: dict[str, object], best: int | None) -> weekly.WeeklyPairsPlan | None:
    """Solve ``inst``: infeasible when ``best`` is None, else a feasible plan, a valid bound,
    and the optimum ``best`` whenever the plan says optimal (None when infeasible)."""
    if best is None:
        with pytest.raises(InfeasibleError):
            solve_weekly_pairs(**inst)  # type: ignore[arg-type]
        return None
    plan = solve_weekly_pairs(**inst)  # type: ignore[arg-type]
    _check(plan, inst)
    assert plan.bound >= best >= plan.objective
    if plan.status == "optimal":
        assert plan.objective == best
    return plan


@pytest.mark.parametrize("seed", range(36))
@pytest.mark.parametrize("restricted", [True, False])
def test_pairs_plan_is_feasible_bounded_and_optimal_when_it_says_so(
    seed: int, restricted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without the integer program on the LP's columns, the proof starts from the rounded
    # LP plan, so reduced-cost fixing works with a wider slack
    if not restricted:
        _patch(monkeypatch, "RESTRICTED_SHARE", 0.0)
    inst = _instance(seed)
    plan = _solved_against(inst, _brute(inst))
    assert plan is None or plan.status == "optimal"  # tiny instances are always proven


def _data(inst: dict[str, object]) -> weekly._Data:
    return weekly._validated(
        inst["pair_agent"],  # type: ignore[arg-type]
        inst["pair_site"],  # type: ignore[arg-type]
        inst["pair_gain"],  # type: ignore[arg-type]
        inst["counts"],  # type: ignore[arg-type]
        inst["days"],  # type: ignore[arg-type]
        inst["allowed"],  # type: ignore[arg-type]
        inst["preferred"],  # type: ignore[arg-type]
        inst["bonus"],  # type: ignore[arg-type]
        inst["desks"],  # type: ignore[arg-type]
        inst["must"],  # type: ignore[arg-type]
        inst["limit"],  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("seed", range(36))
def test_reduced_cost_fixing_never_removes_a_better_plan(seed: int) -> None:
    # with an incumbent one below the optimum, an optimal plan is strictly better: the
    # columns that survive fixing must still hold one
    inst = _instance(seed)
    best = _brute(inst)
    if best is None or best == 0:
        return
    data = _data(inst)
    lam, mu, _, lagrangian, _ = weekly._column_generation(
        data, weekly.Deadline.after(1e9), lambda *_: None
    )
    assert lagrangian >= best - 1e-6  # L is a valid bound
    pair, mask, _ = weekly_lp._surviving(data, lam, mu, lagrangian, best - 1)
    cols = {
        (int(g), int(t), int(mk))
        for g, t, mk in zip(data.agent[pair], data.site[pair], mask, strict=True)
    }
    assert _brute(inst, cols) == best


def _mip_optimum(inst: dict[str, object]) -> int | None:
    """Optimum by an agent-level integer program (HiGHS), written apart from the library."""
    from scipy.optimize import LinearConstraint, milp

    counts, desks = inst["counts"], inst["desks"]
    assert isinstance(counts, np.ndarray) and isinstance(desks, np.ndarray)
    agents = [g for g in range(counts.size) for _ in range(int(counts[g]))]
    cols = [(k, t, mk, v) for k, g in enumerate(agents) for t, mk, v in _options(inst, g)]
    if not cols:
        return 0
    n_rows = len(agents) + desks.size + 1
    a = np.zeros((n_rows, len(cols)))
    for c, (k, t, mk, _) in enumerate(cols):
        a[k, c] = 1
        for d in range(5):
            if mk >> d & 1:
                a[len(agents) + t * 5 + d, c] = 1
        a[-1, c] = 1
    must = inst["must"]
    lower = np.zeros(n_rows)
    if must is not None:
        lower[: len(agents)] = [1.0 if np.asarray(must)[g] else 0.0 for g in agents]
    limit = inst["limit"]
    upper = np.concatenate(
        [np.ones(len(agents)), desks.ravel(), [len(agents) if limit is None else limit]]
    )
    res = milp(
        -np.array([v for *_, v in cols], dtype=float),
        integrality=np.ones(len(cols)),
        bounds=(0, 1),
        constraints=LinearConstraint(a, lower, upper),
    )
    if res.status == 2:
        return None
    assert res.status == 0
    return round(-res.fun)


def _force_large_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the path for many groups on small instances by lowering its thresholds."""
    _patch(monkeypatch, "LARGE_GROUPS", 4)
    _patch(monkeypatch, "SAMPLE_GROUPS", 4)
    _patch(monkeypatch, "CORE_GROUPS", 2)


def _groups_instance(
    rng: np.random.Generator,
    *,
    desks: tuple[int, int],
    must: np.ndarray | None,
    limit: int | None,
    g: int = 14,
    m: int = 3,
) -> dict[str, object]:
    """14 groups of 1-2 agents, 3 telecentres, 70 % of the pairs, desks drawn in ``desks``."""
    pairs = [(a, t) for a in range(g) for t in range(m) if rng.random() < 0.7]
    return {
        "pair_agent": np.array([a for a, _ in pairs], dtype=np.int64),
        "pair_site": np.array([t for _, t in pairs], dtype=np.int64),
        "pair_gain": rng.integers(1, 20, len(pairs)) * 60,
        "counts": rng.integers(1, 3, g),
        "days": rng.integers(1, 4, g),
        "allowed": rng.random((g, 5)) > 0.2,
        "preferred": rng.random((g, 5)) > 0.6,
        "bonus": 100,
        "desks": rng.integers(*desks, (m, 5)),
        "must": must,
        "limit": limit,
    }


@pytest.mark.parametrize("seed", range(12))
def test_the_large_path_is_feasible_and_its_bound_valid(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the path for many groups (sampled multipliers, a core LP, the rest fixed or left out)
    # taken on small instances by lowering its thresholds
    _force_large_path(monkeypatch)
    rng = np.random.default_rng(100 + seed)
    inst = _groups_instance(
        rng, desks=(0, 4), must=np.arange(14) < 2 if seed % 4 == 1 else None, limit=None
    )
    inst["limit"] = int(rng.integers(1, 8)) if seed % 3 == 0 else None
    _solved_against(inst, _mip_optimum(inst))


@pytest.mark.parametrize("rules", [{}, {"select": 9}, {"must_assign": "first3"}])
def test_solve_weekly_on_pairs_matches_an_independent_integer_program(
    rules: dict[str, object],
) -> None:
    from optimizer.model import AssignmentProblem
    from optimizer.schedule import solve_weekly

    rng = np.random.default_rng(7)
    n, m = 30, 10  # more telecentres than CP-SAT's candidates: the pairs engine plans
    if rules.get("must_assign") == "first3":
        rules = {"must_assign": np.arange(n) < 3}
    problem = AssignmentProblem.from_cost_matrix(
        rng.uniform(5, 50, (n, m)).round(1),
        rng.uniform(20, 70, n).round(1),
        np.ones(m, dtype=np.int64),
        days=rng.integers(1, 4, n),
        **rules,
    )
    desks = rng.integers(0, 3, (m, 5))
    allowed = rng.random((n, 5)) > 0.2
    preferred = rng.random((n, 5)) > 0.6
    plan = solve_weekly(
        problem, desks, allowed_days=allowed, preferred_days=preferred, day_bonus=2.0
    )
    assert "highs" in plan.assignment.engine
    eligible, gain = problem.eligible(), problem.weekly_gain()
    agent, site = np.nonzero(eligible)
    inst: dict[str, object] = {
        "pair_agent": agent,
        "pair_site": site,
        "pair_gain": gain[agent, site],
        "counts": np.ones(n, dtype=np.int64),
        "days": problem.days,
        "allowed": allowed,
        "preferred": preferred,
        "bonus": 120,
        "desks": desks,
        "must": problem.must if problem.must.any() else None,
        "limit": problem.select,
    }
    best = _mip_optimum(inst)
    assert best is not None
    total = plan.assignment.gain_total() + 120 * int((plan.days & preferred).sum())
    assert plan.assignment.status == "optimal"
    assert total == best
    assert np.all(plan.occupancy() <= desks)
    chosen = plan.assignment.telecentre
    for i in range(n):
        assert plan.days[i].sum() == (problem.days[i] if chosen[i] >= 0 else 0)
        assert np.all(allowed[i][plan.days[i]])
    assert plan.assignment.best_bound >= plan.assignment.objective_value - 1e-9


@pytest.mark.parametrize("seed", [3, 11])
def test_minimax_weekly_on_pairs_equals_cp_sat(seed: int) -> None:
    """--minimax with multi-day agents: count first through the pairs engine's huge weight."""
    from optimizer.fairness import _longest_drive, solve_minimax_weekly
    from optimizer.model import AssignmentProblem

    rng = np.random.default_rng(seed)
    n, m = 24, 10  # more telecentres than CP-SAT's candidates: the pairs engine plans
    problem = AssignmentProblem.from_cost_matrix(
        rng.uniform(5, 50, (n, m)).round(1),
        rng.uniform(20, 70, n).round(1),
        np.ones(m, dtype=np.int64),
        days=rng.integers(1, 4, n),
    )
    desks = rng.integers(0, 3, (m, 5))
    pairs = solve_minimax_weekly(problem, desks)
    cp_sat = solve_minimax_weekly(problem, desks, engine="cp-sat")
    assert "highs" in pairs.assignment.engine
    assert "cp-sat" in cp_sat.assignment.engine
    a, b = pairs.assignment, cp_sat.assignment
    assert int(a.assigned.sum()) == int(b.assigned.sum())
    assert _longest_drive(problem, a.telecentre) == _longest_drive(problem, b.telecentre)
    assert a.gain_total() == b.gain_total()
    assert np.all(pairs.occupancy() <= desks)


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("seed", range(16))
def test_many_must_assign_agents_are_placed_whenever_they_fit(
    seed: int, large: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 40 % of the groups must be placed: the first LP's columns (and, on the large path, the
    # groups fixed at a sample's prices) may not fit them, which says nothing of the problem
    if large:
        _force_large_path(monkeypatch)
    rng = np.random.default_rng(500 + seed)
    inst = _groups_instance(rng, desks=(1, 5), must=None, limit=None)
    inst["must"] = rng.random(14) < 0.4
    _solved_against(inst, _mip_optimum(inst))


@pytest.mark.parametrize("seed", range(72))
def test_split_days_bound_is_never_below_the_optimum(seed: int) -> None:
    # every plan is a flow of the split-days relaxation: its optimum bounds them all (ties,
    # scarce desks, preferred days, must-assign, limits and groups of two among the shapes)
    inst = _instance(seed)
    best = _brute(inst)
    bound = weekly._split_days_bound(_data(inst))
    if best is None:
        return
    assert bound is not None
    assert bound >= best


@pytest.mark.parametrize("large", [False, True])
def test_a_plan_out_of_time_reports_the_split_days_bound(
    large: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # many telecentres, few desks, large groups and no time: the column generation does
    # not start, so the Lagrangian bound is the one at zero prices (every group placed);
    # the split-days bound is far tighter and is the one reported
    if large:
        _force_large_path(monkeypatch)
    rng = np.random.default_rng(7)
    g, m = 300, 60
    agent = np.repeat(np.arange(g), 4)
    site = np.concatenate([rng.choice(m, 4, replace=False) for _ in range(g)])
    inst = {
        "pair_agent": agent,
        "pair_site": site,
        "pair_gain": rng.integers(5, 60, agent.size) * 60,
        "counts": rng.integers(1, 30, g),
        "days": rng.integers(1, 4, g),
        "allowed": np.ones((g, 5), dtype=bool),
        "preferred": np.zeros((g, 5), dtype=bool),
        "bonus": 0,
        "desks": rng.integers(1, 4, (m, 5)),
        "must": None,
        "limit": None,
    }
    plan = solve_weekly_pairs(**inst, time_limit_s=1e-6)  # type: ignore[arg-type]
    _check(plan, inst)
    split = weekly._split_days_bound(_data(inst))
    assert split is not None
    assert plan.objective <= plan.bound <= split
    assert plan.bound < 0.5 * weekly_data._lagrangian(_data(inst), np.zeros((m, 5)), 0.0)[0]


@pytest.mark.parametrize("seed", range(4))
def test_the_large_path_keeps_the_limit_when_must_assign_groups_are_released(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # six low-value groups must be placed and the limit leaves room for few more: the groups
    # fixed at the sample's prices (which ignore must-assign) exceed the limit, the released
    # must-assign groups go to the core, and the plan must still place at most `limit`
    _force_large_path(monkeypatch)
    _patch(monkeypatch, "SAMPLE_GROUPS", 10)
    rng = np.random.default_rng(seed)
    g, m = 30, 3
    agent, site = np.nonzero(rng.random((g, m)) < 0.8)
    must = np.arange(g) < 6
    gain = np.where(must[agent], 60, rng.integers(5, 10, agent.size) * 600)
    inst: dict[str, object] = {
        "pair_agent": agent,
        "pair_site": site,
        "pair_gain": gain,
        "counts": np.ones(g, dtype=np.int64),
        "days": rng.integers(1, 3, g),
        "allowed": np.ones((g, 5), dtype=bool),
        "preferred": np.zeros((g, 5), dtype=bool),
        "bonus": 0,
        "desks": rng.integers(2, 6, (m, 5)),
        "must": must,
        "limit": int(6 + rng.integers(0, 3)),
    }
    _solved_against(inst, _mip_optimum(inst))


def test_a_split_days_flow_that_fails_leaves_the_plan_and_its_lagrangian_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the split-days bound only helps: OR-Tools stopping on it must not stop the plan
    def broken(*_: object, **__: object) -> None:
        msg = "min-cost flow stopped with status 5; please report this."
        raise SolverError(msg)

    _patch(monkeypatch, "solve_flow", broken)
    inst = _instance(2)
    plan = _solved_against(inst, _brute(inst))
    assert weekly._split_days_bound(_data(inst)) is None
    assert plan is None or plan.bound >= plan.objective


def test_the_fallback_of_the_large_path_keeps_to_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the sampled plan leaves must-assign agents out after 95 % of the limit: the whole model
    # then gets what is left (a tenth of the limit at least), not a fresh limit. A fake clock
    # that only the fake sampled plan moves: every deadline and time span handed on is read
    # against it
    _force_large_path(monkeypatch)
    limit = 60.0
    clock = {"now": 1000.0}
    _patch(monkeypatch, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))

    def sampled_plan(
        data: weekly._Data, deadline: weekly.Deadline, report: weekly.Progress
    ) -> tuple[np.ndarray, float, float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        clock["now"] = deadline.start + 0.95 * deadline.limit
        lam = np.zeros((data.desks.shape[0], 5))
        nothing = np.zeros(0, dtype=np.int64)
        return lam, 0.0, weekly_data._lagrangian(data, lam, 0.0)[0], (nothing, nothing, nothing)

    ends: list[float] = []
    real_cg, real_mip = weekly._column_generation, weekly._mip

    def column_generation(data: weekly._Data, deadline: weekly.Deadline, *args: object) -> object:
        ends.append(deadline.end)
        return real_cg(data, deadline, *args)  # type: ignore[arg-type]

    def mip(*args: object, **kwargs: object) -> object:
        ends.append(clock["now"] + float(args[-1]))  # type: ignore[arg-type]
        return real_mip(*args, **kwargs)  # type: ignore[arg-type]

    _patch(monkeypatch, "_large_plan", sampled_plan)
    _patch(monkeypatch, "_column_generation", column_generation)
    _patch(monkeypatch, "_mip", mip)
    inst = _groups_instance(
        np.random.default_rng(101), desks=(1, 4), must=np.arange(14) < 2, limit=None
    )
    plan = solve_weekly_pairs(**inst, time_limit_s=limit)  # type: ignore[arg-type]
    assert ends
    assert max(ends) <= 1000.0 + limit * (1 + 0.1)
    placed = np.bincount(plan.group, weights=plan.count, minlength=14)
    assert np.all(placed[:2] == np.asarray(inst["counts"])[:2])  # the fallback found a plan


@pytest.mark.parametrize("large", [False, True])
def test_a_must_assign_group_of_no_agents_with_no_pair_is_no_infeasibility(
    large: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # group 0: must be assigned, but 0 agents and no pair; group 1: one agent, one pair
    if large:
        _force_large_path(monkeypatch)
        _patch(monkeypatch, "LARGE_GROUPS", 1)
    plan = solve_weekly_pairs(
        np.array([1]),
        np.array([0]),
        np.array([600]),
        counts=np.array([0, 1]),
        days=np.array([1, 1]),
        allowed=np.ones((2, 5), dtype=bool),
        preferred=np.zeros((2, 5), dtype=bool),
        bonus=0,
        desks=np.ones((1, 5), dtype=np.int64),
        must=np.array([True, False]),
        time_limit_s=5.0,
    )
    assert plan.proven
    assert plan.group.tolist() == [1]
    assert plan.count.tolist() == [1]
    assert plan.objective == 600


def _with_kept(inst: dict[str, object], seed: int) -> dict[str, object]:
    """``inst`` in a re-plan: one pair of each group (its previous telecentre) worth ``keep``
    more on each of its previous weekdays."""
    rng = np.random.default_rng(1000 + seed)
    agent = np.asarray(inst["pair_agent"])
    kept = np.zeros(agent.size, dtype=np.int64)
    for g in np.unique(agent):
        p = int(rng.choice(np.flatnonzero(agent == g)))
        kept[p] = int(rng.integers(0, 32))
    return {**inst, "kept": kept, "keep": 90}


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("seed", range(24))
def test_kept_weekdays_are_worth_their_bonus_and_plans_stay_optimal(
    seed: int, large: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a re-plan's previous weekdays, on the previous telecentre's pair: every path (the
    # configuration LP and its proof, the large path, the split-days bound) counts them
    if large:
        _force_large_path(monkeypatch)
    inst = _with_kept(_instance(seed), seed)
    best = _brute(inst)
    plan = _solved_against(inst, best)
    assert plan is None or large or plan.status == "optimal"
    if best is not None:
        split = weekly._split_days_bound(weekly._validated(**_validated_args(inst)))
        assert split is None or split >= best


def _validated_args(inst: dict[str, object]) -> dict[str, object]:
    names = ("pair_agent", "pair_site", "pair_gain", "counts", "days", "allowed", "preferred")
    return {
        **{name: inst[name] for name in names},
        **{name: inst[name] for name in ("bonus", "desks", "must", "limit", "kept", "keep")},
    }


def _replan_problem(
    seed: int, n: int, m: int, days: int | None = None
) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    """A problem whose agents had a previous telecentre (an incumbent) and previous weekdays."""
    from optimizer.model import AssignmentProblem

    rng = np.random.default_rng(seed)
    before = rng.integers(0, m, n)
    problem = AssignmentProblem.from_cost_matrix(
        rng.uniform(5, 50, (n, m)).round(1),
        rng.uniform(20, 70, n).round(1),
        np.ones(m, dtype=np.int64),
        days=np.full(n, days) if days is not None else rng.integers(1, 4, n),
        incumbent=(np.arange(n), before),
        move_penalty=20.0,
    )
    desks = rng.integers(0, 3, (m, 5))
    kept = rng.random((n, 5)) > 0.6
    preferred = rng.random((n, 5)) > 0.7
    return problem, desks, kept, preferred


@pytest.mark.parametrize(
    ("n", "m", "days", "engine", "label"),
    [
        (12, 5, 1, "flow", "min-cost-flow"),  # one day each: the flow is the plan
        (12, 5, None, "flow", "cp-sat"),  # small: CP-SAT sees it whole
        (12, 5, None, "cp-sat", "cp-sat"),
        (30, 10, None, "flow", "highs"),  # more telecentres than CP-SAT's candidates
    ],
)
def test_solve_weekly_honours_kept_weekdays_on_every_engine(
    n: int, m: int, days: int | None, engine: str, label: str
) -> None:
    from optimizer.schedule import solve_weekly

    problem, desks, kept, preferred = _replan_problem(5, n, m, days)
    plan = solve_weekly(
        problem,  # type: ignore[arg-type]
        desks,
        preferred_days=preferred,
        day_bonus=1.0,
        kept_days=kept,
        keep_bonus=1.5,
        engine=engine,  # type: ignore[arg-type]
    )
    assert label in plan.assignment.engine
    eligible, gain = problem.eligible(), problem.weekly_gain()  # type: ignore[attr-defined]
    agent, site = np.nonzero(eligible)
    before = np.asarray(problem.incumbent[1])  # type: ignore[attr-defined]
    bits = kept.astype(np.int64) @ (1 << np.arange(5))
    inst: dict[str, object] = {
        "pair_agent": agent,
        "pair_site": site,
        "pair_gain": gain[agent, site],
        "counts": np.ones(n, dtype=np.int64),
        "days": problem.days,  # type: ignore[attr-defined]
        "allowed": np.ones((n, 5), dtype=bool),
        "preferred": preferred,
        "bonus": 60,
        "desks": desks,
        "must": None,
        "limit": None,
        "kept": np.where(site == before[agent], bits[agent], 0),
        "keep": 90,
    }
    best = _mip_optimum(inst)
    chosen = plan.assignment.telecentre
    held = int((plan.days & kept & (chosen == before)[:, None]).sum())
    total = plan.assignment.gain_total() + 60 * int((plan.days & preferred).sum()) + 90 * held
    assert plan.assignment.status == "optimal"
    assert total == best
    assert np.all(plan.occupancy() <= desks)
    # the bound reported stays a bound of the plan's own objective (day bonuses taken out)
    assert plan.assignment.best_bound >= plan.assignment.objective_value - 1e-9


def test_minimax_weekly_honours_kept_weekdays_on_both_engines() -> None:
    from optimizer.fairness import _longest_drive, solve_minimax_weekly

    problem, desks, kept, _ = _replan_problem(3, 24, 10)
    before = np.asarray(problem.incumbent[1])  # type: ignore[attr-defined]
    plans = [
        solve_minimax_weekly(problem, desks, kept_days=kept, keep_bonus=1.5, engine=engine)
        for engine in ("flow", "cp-sat")
    ]
    assert "highs" in plans[0].assignment.engine and "cp-sat" in plans[1].assignment.engine

    def held(plan: object) -> int:
        chosen = plan.assignment.telecentre  # type: ignore[attr-defined]
        return int((plan.days & kept & (chosen == before)[:, None]).sum())  # type: ignore[attr-defined]

    a, b = (p.assignment for p in plans)
    assert _longest_drive(problem, a.telecentre) == _longest_drive(problem, b.telecentre)  # type: ignore[arg-type]
    assert a.gain_total() + 90 * held(plans[0]) == b.gain_total() + 90 * held(plans[1])
    # without the bonus fewer weekdays are kept (the term is what keeps them)
    loose = solve_minimax_weekly(problem, desks, engine="cp-sat")
    assert held(loose) < held(plans[1])


@pytest.mark.parametrize("tied", [False, True], ids=["distinct", "equal-sites"])
def test_plentiful_desks_give_each_agent_its_best_telecentre_at_once(tied: bool) -> None:
    # 25,000 pairs (the split-days flow comes first): with desks to spare, the relaxation
    # is the plan; agents equally well off at two telecentres are moved whole to one
    rng = np.random.default_rng(4)
    n, m = 5_000, 5
    gain_per_day = rng.integers(600, 6_000, (n, m))
    if tied:
        gain_per_day[:, 1] = gain_per_day[:, 0]  # every agent: two telecentres alike
    days = rng.integers(1, 6, n)
    agent, site = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    desks = np.full((m, 5), n)
    plan = solve_weekly_pairs(
        agent,
        site,
        (gain_per_day * days[:, None]).ravel(),
        counts=None,
        days=days,
        allowed=np.ones((n, 5), bool),
        preferred=np.zeros((n, 5), bool),
        bonus=0,
        desks=desks,
        time_limit_s=20,
    )
    assert plan.status == "optimal"
    best = int((gain_per_day.max(axis=1) * days).sum())  # each agent's best, all its days
    assert plan.objective == best
    # a plan: every agent once, its days distinct and as many as it telecommutes
    assert np.bincount(plan.group, weights=plan.count, minlength=n).tolist() == [1] * n
    bits = np.array([bin(int(x)).count("1") for x in plan.mask])
    assert np.array_equal(bits, days[plan.group])
    per_slot = np.zeros((m, 5), dtype=np.int64)
    for s, mask, c in zip(plan.site, plan.mask, plan.count, strict=True):
        per_slot[s] += c * ((int(mask) >> np.arange(5)) & 1)
    assert np.all(per_slot <= desks)


# --------------------------------------------------------------------------- time limit


def _stopped_lp(*_: object, **__: object) -> OptimizeResult:
    """HiGHS's answer for an LP its time limit stopped: status 1, no solution, no duals."""
    return OptimizeResult(status=1, x=None, message="Time limit reached.")


@pytest.mark.parametrize("large", [False, True, "whole sample"])
@pytest.mark.parametrize("seed", range(12))
def test_lps_stopped_by_the_time_limit_leave_a_feasible_plan_and_a_valid_bound(
    seed: int, large: bool | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every LP stopped by its time limit (no LP solution at all): the plan comes from the
    # greedy pass and the split-days flow, the bound from the Lagrangian at the multipliers
    # met and the split-days flow; never an error, never "optimal" without the proof
    if large:
        _force_large_path(monkeypatch)
        if large == "whole sample":  # multipliers by subgradient steps, not a sample LP
            _patch(monkeypatch, "SAMPLE_GROUPS", 100)
    _patch(monkeypatch, "linprog", _stopped_lp)
    rng = np.random.default_rng(300 + seed)
    must = np.arange(14) < 2 if seed % 4 == 1 else None
    inst = _groups_instance(rng, desks=(0, 4), must=must, limit=None)
    inst["limit"] = int(rng.integers(3, 10)) if seed % 3 == 0 else None
    best = _mip_optimum(inst)
    try:
        plan = _solved_against(inst, best)
    except SolverError as exc:  # must-assign agents the greedy pass could not place
        assert must is not None and "--time-limit" in str(exc)
        return
    if plan is not None and plan.status == "optimal":
        assert plan.objective == plan.bound  # proven by a bound, not by an LP


def test_a_plan_cut_short_says_feasible_with_its_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch(monkeypatch, "linprog", _stopped_lp)
    inst = _groups_instance(np.random.default_rng(7), desks=(0, 3), must=None, limit=None)
    best = _mip_optimum(inst)
    plan = _solved_against(inst, best)
    assert plan is not None
    assert plan.status == "feasible"
    assert plan.bound > plan.objective and plan.gap > 0
    assert best is not None and plan.bound >= best
    # and it says the clock ended the search: another run may find another plan
    assert "column generation" in plan.time_cut


@pytest.mark.parametrize("seed", range(4))
def test_a_search_no_clock_ended_gives_the_same_plan_every_time(seed: int) -> None:
    # every stage ended by its own rule (convergence, node limits): nothing says the time
    # limit cut it, and a second solve gives the same plan, row for row
    rng = np.random.default_rng(900 + seed)
    inst = _groups_instance(rng, desks=(0, 4), must=None, limit=None, g=60, m=6)
    first = solve_weekly_pairs(**inst, time_limit_s=300.0)  # type: ignore[arg-type]
    again = solve_weekly_pairs(**inst, time_limit_s=300.0)  # type: ignore[arg-type]
    assert first.time_cut == again.time_cut == ()
    for name in ("group", "site", "mask", "count"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert (first.objective, first.bound, first.status) == (
        again.objective,
        again.bound,
        again.status,
    )


@pytest.mark.parametrize("large", [False, True])
def test_every_lp_and_integer_program_gets_the_time_left(
    large: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a fake clock that only the solvers move: each LP and integer program runs to the
    # time limit it is given; the solve must then end within its own limit
    if large:
        _force_large_path(monkeypatch)
    limit = 20.0
    clock = {"now": 500.0}
    _patch(monkeypatch, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))
    given: list[tuple[float, float]] = []  # (time left then, limit given)

    def ran_to_its_limit(options: dict[str, float]) -> None:
        left = 500.0 + limit - clock["now"]
        given.append((left, options["time_limit"]))
        clock["now"] += options["time_limit"]

    def linprog(*args: object, **kwargs: object) -> OptimizeResult:
        ran_to_its_limit(kwargs["options"])  # type: ignore[arg-type]
        return _stopped_lp()

    def milp(*args: object, **kwargs: object) -> OptimizeResult:
        ran_to_its_limit(kwargs["options"])  # type: ignore[arg-type]
        return OptimizeResult(status=1, x=None, message="Time limit reached.")

    _patch(monkeypatch, "linprog", linprog)
    _patch(monkeypatch, "milp", milp)
    inst = _groups_instance(np.random.default_rng(11), desks=(1, 4), must=None, limit=None)
    plan = solve_weekly_pairs(**inst, time_limit_s=limit)  # type: ignore[arg-type]
    _check(plan, inst)
    assert given  # the LPs were tried, each within the time left
    assert all(0 < budget <= max(left, weekly_lp.MIN_LP_S) for left, budget in given)
    assert clock["now"] <= 500.0 + limit
    assert plan.status == "feasible" or plan.objective == plan.bound


@pytest.mark.parametrize("seed", range(12))
def test_subgradient_steps_give_a_valid_bound_below_the_first(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    inst = _groups_instance(
        rng, desks=(0, 4), must=np.arange(14) < 2 if seed % 4 == 1 else None, limit=None
    )
    inst["limit"] = int(rng.integers(3, 10)) if seed % 3 == 0 else None
    best = _mip_optimum(inst)
    if best is None:
        return
    data = _data(inst)
    lam, mu, bound = weekly_lp._subgradient(data, 0.0, weekly.Deadline.after(60), lambda *_: None)
    assert np.all(lam >= 0) and mu >= 0
    assert bound == pytest.approx(weekly_data._lagrangian(data, lam, mu)[0])
    assert bound >= best - 1e-6  # valid
    assert bound <= weekly_data._lagrangian(data, np.zeros_like(lam), 0.0)[0] + 1e-6


def test_assign_cut_short_publishes_a_feasible_plan_with_its_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the demo (150 agents of 1 to 3 days) through the pairs engine, every LP stopped by
    # its time limit: a plan all the same, every agent in allocation.csv, the gap reported
    from click.testing import CliRunner

    from optimizer import datasets, schedule
    from optimizer.cli import main

    monkeypatch.setattr(schedule, "FOCUS_PAIRS", 0)  # not small: the pairs engine plans
    _patch(monkeypatch, "linprog", _stopped_lp)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--out", str(out), "--no-maps", "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    assert "best found within the 5 s limit, at most" in result.output
    solver = json.loads((out / "summary.json").read_text(encoding="utf-8"))["solver"]
    assert "highs" in solver["engine"]
    assert solver["status"] == "feasible" and not solver["proven_optimal"]
    assert solver["gap"] > 0 and solver["best_bound"] > solver["objective_value"]
    assert "column generation" in solver["time_limit_cut"]  # another run may differ
    allocation = pd.read_csv(out / "allocation.csv", dtype={"agent_id": str})
    assert sorted(allocation["agent_id"]) == sorted(datasets.agents()["agent_id"].astype(str))
