from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from optimizer.errors import InputError
from optimizer.model import (
    REASON_BELOW_MIN,
    REASON_FULL,
    REASON_NO_SAVING,
    REASON_NOT_SELECTED,
    REASON_TOO_FAR,
    REASON_UNREACHABLE,
    AssignmentProblem,
)

# 3 agents x 4 telecentres, one-way minutes; head office 30 min for everyone.
# Round-trip savings per day: 2 * (30 - minutes).
MINUTES = np.array(
    [
        [10.0, 20.0, 25.0, 40.0],  # savings 40, 20, 10, -
        [12.0, 5.0, 28.0, 29.0],  # savings 36, 50, 4, 2
        [15.0, 25.0, 35.0, 8.0],  # savings 30, 10, -, 44
    ]
)
HEAD = np.array([30.0, 30.0, 30.0])


def test_three_by_four_known_optimum() -> None:
    p = AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.array([1, 1, 1, 1]))
    r = p.solve()
    assert r.telecentre.tolist() == [0, 1, 3]
    assert r.objective_value == pytest.approx(40 + 50 + 44)


def test_three_by_four_capacity_forces_a_trade_off() -> None:
    # only telecentre 0 open, with 2 desks: the two largest savings there win (40 + 36 > 30)
    p = AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.array([2, 0, 0, 0]))
    r = p.solve()
    assert r.telecentre.tolist() == [0, 0, -1]
    assert r.objective_value == pytest.approx(76)
    assert r.reasons[2] == REASON_FULL


def test_days_weight_the_saving() -> None:
    p = AssignmentProblem.from_cost_matrix(
        MINUTES, HEAD, np.array([1, 0, 0, 0]), days=np.array([1, 2, 1])
    )
    r = p.solve()
    assert r.telecentre.tolist() == [-1, 0, -1]  # 2 days x 36 beats 1 day x 40
    assert r.objective_value == pytest.approx(72)


def test_select_limits_the_number_assigned_and_says_why() -> None:
    p = AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4), select=2)
    r = p.solve()
    assert r.assigned.sum() == 2
    assert r.objective_value == pytest.approx(50 + 44)
    assert r.reasons[0] == REASON_NOT_SELECTED


def test_max_minutes_forbids_long_drives() -> None:
    p = AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4), max_minutes=9.0)
    r = p.solve()
    assert r.telecentre.tolist() == [-1, 1, 3]
    assert r.reasons[0] == REASON_TOO_FAR


def test_min_saving_and_no_saving_reasons() -> None:
    minutes = np.array([[29.0, 31.0], [40.0, 50.0]])
    p = AssignmentProblem.from_cost_matrix(
        minutes, np.array([30.0, 30.0]), np.ones(2), min_saving=5.0
    )
    r = p.solve()
    assert r.telecentre.tolist() == [-1, -1]
    assert r.reasons == (REASON_BELOW_MIN, REASON_NO_SAVING)


def test_zero_saving_is_not_a_reason_to_move() -> None:
    p = AssignmentProblem.from_cost_matrix(np.array([[30.0]]), np.array([30.0]), np.ones(1))
    assert p.solve().telecentre.tolist() == [-1]


def test_unreachable_agent_is_kept_with_reason() -> None:
    p = AssignmentProblem.from_cost_matrix(
        np.array([[10.0], [np.nan]]), np.array([np.nan, 30.0]), np.ones(1) * 2
    )
    r = p.solve()
    assert r.telecentre.tolist() == [-1, -1]
    assert r.reasons[0] == REASON_UNREACHABLE
    assert r.reasons[1].startswith("unreachable")


def test_km_objective_uses_distances() -> None:
    # agent 0 saves more minutes at 0 but more km at 1
    p = AssignmentProblem.from_cost_matrix(
        np.array([[10.0, 20.0]]),
        np.array([30.0]),
        np.array([1, 1]),
        km=np.array([[20.0, 5.0]]),
        head_office_km=np.array([40.0]),
        objective="km",
    )
    r = p.solve()
    assert r.telecentre.tolist() == [1]
    assert r.objective_value == pytest.approx(70.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"select": -1}, "--select"),
        ({"max_minutes": 0.0}, "--max-minutes"),
        ({"min_saving": -1.0}, "--min-saving"),
    ],
)
def test_bad_options_are_input_errors(kwargs, match) -> None:
    with pytest.raises(InputError, match=match):
        AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4), **kwargs)


def test_bad_capacity_is_an_input_error() -> None:
    with pytest.raises(InputError, match="capacities"):
        AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.array([1, -1, 1, 1]))


def _brute_force(problem: AssignmentProblem) -> int:
    gain = problem.weekly_gain()
    eligible = problem.eligible()
    limit = problem.n_agents if problem.select is None else problem.select
    options = [[-1, *np.flatnonzero(eligible[i]).tolist()] for i in range(problem.n_agents)]
    best = 0
    for choice in itertools.product(*options):
        chosen = [j for j in choice if j >= 0]
        if len(chosen) > limit:
            continue
        if np.any(np.bincount(chosen, minlength=problem.n_telecentres) > problem.capacities):
            continue
        best = max(best, sum(int(gain[i, j]) for i, j in enumerate(choice) if j >= 0))
    return best


def _random_problem(rng: np.random.Generator, n: int, m: int) -> AssignmentProblem:
    minutes = rng.uniform(5, 70, size=(n, m)).round(1)
    minutes[rng.random((n, m)) < 0.1] = np.nan
    return AssignmentProblem.from_cost_matrix(
        minutes,
        rng.uniform(10, 80, size=n).round(1),
        rng.integers(0, 3, size=m),
        days=rng.integers(1, 4, size=n),
        select=int(rng.integers(0, n + 1)) if rng.random() < 0.5 else None,
        max_minutes=float(rng.uniform(20, 70)) if rng.random() < 0.5 else None,
        min_saving=float(rng.choice([0.0, 5.0, 15.0])),
    )


@pytest.mark.parametrize("seed", range(40))
def test_optimal_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 7)), int(rng.integers(1, 4))
    problem = _random_problem(rng, n, m)
    result = problem.solve()
    exact = _brute_force(problem)
    gain = problem.weekly_gain()
    found = sum(int(gain[i, j]) for i, j in enumerate(result.telecentre) if j >= 0)
    assert found == exact


def _milp_optimum(problem: AssignmentProblem) -> int:
    """An independent formulation: a 0-1 integer program solved by HiGHS through scipy."""
    eligible = problem.eligible()
    gain = problem.weekly_gain()
    pi, pj = np.nonzero(eligible)
    k = pi.size
    if k == 0:
        return 0
    rows = np.concatenate(
        [pi, problem.n_agents + pj, np.full(k, problem.n_agents + problem.n_telecentres)]
    )
    cols = np.tile(np.arange(k), 3)
    a = coo_array(
        (np.ones(3 * k), (rows, cols)), shape=(problem.n_agents + problem.n_telecentres + 1, k)
    )
    limit = problem.n_agents if problem.select is None else problem.select
    upper = np.concatenate([np.ones(problem.n_agents), problem.capacities, [limit]])
    res = milp(
        -gain[pi, pj].astype(float),
        constraints=LinearConstraint(a.tocsr(), -np.inf, upper),
        integrality=np.ones(k),
        bounds=Bounds(0, 1),
    )
    assert res.success
    return round(-res.fun)


@pytest.mark.parametrize("seed", range(8))
def test_optimal_against_an_integer_program_on_larger_instances(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    problem = _random_problem(rng, 120, 9)
    result = problem.solve()
    gain = problem.weekly_gain()
    found = sum(int(gain[i, j]) for i, j in enumerate(result.telecentre) if j >= 0)
    assert found == _milp_optimum(problem)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 30),
    m=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_solution_is_feasible_and_every_agent_accounted(n: int, m: int, seed: int) -> None:
    problem = _random_problem(np.random.default_rng(seed), n, m)
    result = problem.solve()
    assert result.telecentre.shape == (n,)
    assert np.all(result.load() <= problem.capacities)
    if problem.select is not None:
        assert result.assigned.sum() <= problem.select
    eligible = problem.eligible()
    for i, j in enumerate(result.telecentre):
        if j >= 0:
            assert eligible[i, j]
            assert problem.saving_minutes()[i, j] > 0
            assert result.reasons[i] == ""
        else:
            assert result.reasons[i] != ""


def test_same_input_same_output() -> None:
    rng = np.random.default_rng(7)
    problem = _random_problem(rng, 200, 7)
    first = problem.solve().telecentre
    for _ in range(3):
        assert np.array_equal(problem.solve().telecentre, first)
