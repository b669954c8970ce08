from __future__ import annotations

import itertools
from collections.abc import Sequence

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


@pytest.mark.parametrize("select", [2.5, 2.0, np.float64(1.0), True, "2"])
def test_a_select_that_is_not_a_whole_number_is_an_input_error(select: object) -> None:
    # the library refuses what the command's --select (an integer option) cannot give
    with pytest.raises(InputError, match=r"--select must be a whole number .*got"):
        AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4), select=select)


def test_a_whole_select_is_accepted_as_any_integer_type() -> None:
    p = AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4), select=np.int64(2))
    assert p.limit == 2
    assert int(p.solve().assigned.sum()) == 2


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("minutes", r"minutes_to of agent '1' to telecentre '2' is -3 minutes"),
        ("head", r"head_office_minutes_to of agent '1' is -3 minutes"),
        ("km", r"km_to of agent '1' to telecentre '2' is -3 km"),
        ("-inf", r"minutes_to of agent '1' to telecentre '2' is -inf minutes"),
    ],
)
def test_a_negative_drive_time_or_distance_is_an_input_error(where: str, match: str) -> None:
    minutes, head, km = MINUTES.copy(), HEAD.copy(), np.full(MINUTES.shape, 10.0)
    if where == "head":
        head[1] = -3.0
    elif where == "km":
        km[1, 2] = -3.0
    else:
        minutes[1, 2] = -np.inf if where == "-inf" else -3.0
    with pytest.raises(InputError, match=match):
        AssignmentProblem.from_cost_matrix(
            minutes, head, np.ones(4), km=km, head_office_km=np.full(3, 40.0)
        )


def test_nan_minutes_stay_unreachable() -> None:
    # NaN is the documented "unreachable", not an error
    minutes = MINUTES.copy()
    minutes[0, 0] = np.nan
    r = AssignmentProblem.from_cost_matrix(minutes, HEAD, np.ones(4)).solve()
    assert r.telecentre[0] != 0


def test_bad_capacity_is_an_input_error() -> None:
    with pytest.raises(InputError, match="capacities"):
        AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.array([1, -1, 1, 1]))


def _brute_force(problem: AssignmentProblem) -> int:
    gain = problem.weekly_gain()
    eligible = problem.eligible()
    limit = problem.n_agents if problem.select is None else problem.select
    options = [[-1, *np.flatnonzero(eligible[i]).tolist()] for i in range(problem.n_agents)]
    best = None
    must = problem.must
    for choice in itertools.product(*options):
        chosen = [j for j in choice if j >= 0]
        if len(chosen) > limit:
            continue
        if any(must[i] and j < 0 for i, j in enumerate(choice)):
            continue
        if np.any(np.bincount(chosen, minlength=problem.n_telecentres) > problem.capacities):
            continue
        value = sum(int(gain[i, j]) for i, j in enumerate(choice) if j >= 0)
        best = value if best is None else max(best, value)
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


# ----------------------------------------------------------------------------- issue 5 rules

from optimizer.errors import InfeasibleError  # noqa: E402
from optimizer.model import REASON_FORBIDDEN, candidate_ranking, is_optimal  # noqa: E402
from optimizer.model import flow as model_module  # noqa: E402


def _rich_problem(rng: np.random.Generator, n: int, m: int) -> AssignmentProblem:
    """Random problems with every rule: days, limit, drive, saving, must, forbidden, preferred."""
    base = _random_problem(rng, n, m)
    eligible = base.eligible()
    must = np.zeros(n, dtype=bool)
    # a few must-assign agents among those with an eligible telecentre (may still clash)
    candidates = np.flatnonzero(eligible.any(axis=1))
    if candidates.size:
        must[
            rng.choice(
                candidates, size=min(candidates.size, int(rng.integers(0, 3))), replace=False
            )
        ] = True
    pairs = rng.random((n, m))
    forbidden = np.nonzero(pairs < 0.15)
    preferred = np.nonzero(pairs > 0.85)
    return base.with_rules(
        must_assign=must,
        forbidden=forbidden,
        preferred=preferred,
        preference_bonus=float(rng.choice([0.0, 10.0, 60.0])),
        select=None if base.select is None else max(base.select, int(must.sum())),
    )


def _total(problem: AssignmentProblem, telecentre: np.ndarray) -> int:
    gain = problem.weekly_gain()
    return sum(int(gain[i, j]) for i, j in enumerate(telecentre) if j >= 0)


@pytest.mark.parametrize("seed", range(30))
def test_all_rules_against_brute_force_and_cp_sat(seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    problem = _rich_problem(rng, int(rng.integers(1, 7)), int(rng.integers(1, 4)))
    exact = _brute_force(problem)
    if exact is None:
        with pytest.raises(InfeasibleError):
            problem.solve()
        with pytest.raises(InfeasibleError):
            problem.solve("cp-sat")
        return
    for engine in ("flow", "cp-sat"):
        result = problem.solve(engine)
        assert result.status == "optimal"
        assert _total(problem, result.telecentre) == exact, engine
        assert result.assigned[problem.must].all()


@pytest.mark.parametrize("seed", range(6))
def test_flow_and_cp_sat_agree_on_larger_instances(seed: int) -> None:
    rng = np.random.default_rng(900 + seed)
    problem = _rich_problem(rng, 150, 8)
    try:
        flow = problem.solve("flow")
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            problem.solve("cp-sat")
        return
    sat = problem.solve("cp-sat", time_limit_s=30)
    assert sat.status == "optimal"
    assert flow.gain_total() == sat.gain_total()
    assert flow.objective_value == pytest.approx(sat.objective_value)


@pytest.mark.parametrize("seed", range(5))
def test_pricing_from_one_candidate_reaches_the_full_optimum(seed: int, monkeypatch) -> None:
    rng = np.random.default_rng(1300 + seed)
    problem = _random_problem(rng, 300, 12).with_rules(select=None, max_minutes=None)
    monkeypatch.setattr(model_module, "_ALL_PAIRS", 0)
    monkeypatch.setattr(model_module, "_THIN_PAIRS", 0)
    monkeypatch.setattr(model_module, "_FIRST_CANDIDATES", 1)
    pruned = problem.solve()
    monkeypatch.setattr(model_module, "_FIRST_CANDIDATES", 12)
    full = problem.solve()
    assert pruned.gain_total() == full.gain_total() == _milp_optimum(problem)


def test_certificate_rejects_a_suboptimal_assignment() -> None:
    problem = AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4))
    best = problem.solve().telecentre
    assert is_optimal(problem, best)
    assert not is_optimal(problem, np.array([1, 0, 3]))  # agents 0 and 1 swapped: worse
    assert not is_optimal(problem, np.array([0, 1, -1]))  # agent 2 left out with a free desk


def test_must_assign_places_an_agent_it_would_not_pick() -> None:
    # one desk; agent 1 saves less than agent 0 but must go
    p = AssignmentProblem.from_cost_matrix(
        np.array([[5.0], [20.0]]),
        np.array([30.0, 30.0]),
        np.array([1]),
        must_assign=np.array([False, True]),
    )
    assert p.solve().telecentre.tolist() == [-1, 0]
    assert p.with_rules(must_assign=None).solve().telecentre.tolist() == [0, -1]


def test_forbidden_pair_is_never_used() -> None:
    p = AssignmentProblem.from_cost_matrix(
        MINUTES, HEAD, np.ones(4), forbidden=(np.array([1]), np.array([1]))
    )
    r = p.solve()
    # agent 1 may not use t1 (its best, 50): best now is 0 -> t1 (20), 1 -> t0 (36), 2 -> t3 (44)
    assert r.telecentre.tolist() == [1, 0, 3]
    assert r.objective_value == pytest.approx(100)
    only = AssignmentProblem.from_cost_matrix(
        np.array([[10.0, 50.0]]),
        np.array([30.0]),
        np.ones(2),
        forbidden=(np.array([0]), np.array([0])),
    )
    result = only.solve()
    assert result.telecentre.tolist() == [-1]
    assert result.reasons == (REASON_FORBIDDEN,)


def test_preference_bonus_tips_the_choice_and_its_weight_matters() -> None:
    # agent 0 saves 40 min/week at telecentre 0 and 30 at telecentre 1 (one day a week)
    minutes = np.array([[10.0, 15.0]])
    prefer_1 = (np.array([0]), np.array([1]))
    small = AssignmentProblem.from_cost_matrix(
        minutes, np.array([30.0]), np.ones(2), preferred=prefer_1, preference_bonus=5.0
    )
    large = small.with_rules(preference_bonus=15.0)
    assert small.solve().telecentre.tolist() == [0]  # 30 + 5 < 40
    assert large.solve().telecentre.tolist() == [1]  # 30 + 15 > 40


def test_travel_objective_same_choice_reported_as_weekly_driving() -> None:
    minutes_p = AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4))
    travel_p = minutes_p.with_rules(objective="travel")
    a, b = minutes_p.solve(), travel_p.solve()
    assert a.telecentre.tolist() == b.telecentre.tolist()
    # 3 agents x 5 days x 60 min round trip, minus the 134 minutes saved
    assert b.objective_value == pytest.approx(3 * 5 * 60 - 134)


def test_infeasible_must_assign_beyond_select() -> None:
    p = AssignmentProblem.from_cost_matrix(
        MINUTES, HEAD, np.ones(4), must_assign=np.ones(3, bool), select=2
    )
    with pytest.raises(
        InfeasibleError, match="3 agents must be assigned but --select allows only 2"
    ):
        p.solve()


def test_infeasible_must_assign_without_open_telecentre() -> None:
    p = AssignmentProblem.from_cost_matrix(
        MINUTES, HEAD, np.ones(4), must_assign=np.array([True, False, False]), max_minutes=5.0
    )
    with pytest.raises(
        InfeasibleError, match="agent '0' must be assigned but no telecentre is open to it"
    ):
        p.solve()


def test_infeasible_names_the_group_and_the_desks() -> None:
    # 12 agents must go; within 45 minutes only telecentres a (5 desks) and b (4 desks) are open
    rng = np.random.default_rng(3)
    minutes = np.column_stack([rng.uniform(10, 40, 12), rng.uniform(10, 40, 12), np.full(12, 80.0)])
    p = AssignmentProblem.from_cost_matrix(
        minutes,
        np.full(12, 90.0),
        np.array([5, 4, 20]),
        telecentre_ids=["a", "b", "far"],
        must_assign=np.ones(12, bool),
        max_minutes=45.0,
    )
    with pytest.raises(InfeasibleError) as info:
        p.solve()
    message = str(info.value)
    assert (
        "12 agents must be assigned but the telecentres open to them (within 45 minutes) hold 9 desks"
        in message
    )
    assert "a (5)" in message and "b (4)" in message and "far" not in message


def test_cp_sat_reports_status_bound_and_gap() -> None:
    rng = np.random.default_rng(11)
    problem = _random_problem(rng, 60, 5)
    result = problem.solve("cp-sat")
    assert result.status == "optimal"
    assert result.gap == 0.0
    assert result.best_bound == pytest.approx(result.objective_value)
    assert result.engine == "ortools-cp-sat"


def test_unknown_engine_is_an_input_error() -> None:
    with pytest.raises(InputError, match="engine"):
        AssignmentProblem.from_cost_matrix(MINUTES, HEAD, np.ones(4)).solve("simplex")  # type: ignore[arg-type]


def test_candidate_ranking_orders_by_commute_with_best_option() -> None:
    p = AssignmentProblem.from_cost_matrix(
        MINUTES,
        np.array([30.0, 50.0, 10.0]),
        np.ones(4),
        km=MINUTES * 1.5,
        head_office_km=np.array([45.0, 75.0, 15.0]),
        agent_ids=["a", "b", "c"],
        telecentre_ids=["t0", "t1", "t2", "t3"],
    )
    table = candidate_ranking(p)
    assert table["agent_id"].tolist() == ["b", "a", "c"]
    assert table["rank"].tolist() == [1, 2, 3]
    b = table.iloc[0]
    assert b.best_telecentre_id == "t1" and b.minutes_saved_per_day == pytest.approx(90.0)
    assert b.km_saved_per_day == pytest.approx(2 * (75 - 7.5))
    c = table.iloc[2]
    assert c.best_telecentre_id == "t3" and c.minutes_saved_per_day == pytest.approx(4.0)


# ----------------------------------------------------------------------------- issue 15 shapes


def _shaped_problem(
    rng: np.random.Generator,
    shape: str,
    n: int,
    m: int,
    *,
    select: bool,
    ties: bool,
    town_p: Sequence[float] | np.ndarray = (0.5, 0.2, 0.1, 0.1, 0.1),
) -> AssignmentProblem:
    """Homes uniform or in towns (``town_p``: each town's share), desks plentiful or scarce,
    optionally many ties."""
    homes, desks = shape.split("-")
    if homes == "uniform":
        agents = rng.uniform(0, 60, (n, 2))
        office = np.array([30.0, 30.0])
    else:
        k = len(town_p)
        towns = rng.uniform(0, 60, (k, 2))
        agents = towns[rng.choice(k, n, p=list(town_p))] + rng.normal(0, 1.5, (n, 2))
        office = np.array([10.0, 45.0])
    if ties:
        agents = agents.round(-1)  # homes on a 10 km grid: identical rows, equal savings
    centres = rng.uniform(0, 60, (m, 2))
    minutes = np.hypot(*(agents[:, None, :] - centres[None, :, :]).transpose(2, 0, 1)).round()
    head = np.hypot(*(agents - office).T).round()
    share = 0.6 if desks == "plentiful" else 0.3
    capacities = rng.integers(0, max(2, round(2 * share * n / m)), m)
    return AssignmentProblem.from_cost_matrix(
        minutes,
        head,
        capacities,
        days=rng.integers(1, 4, n),
        select=n // 5 if select else None,
    )


SHAPES = ["uniform-plentiful", "uniform-scarce", "clustered-plentiful", "clustered-scarce"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("select", [False, True])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("path", ["all pairs", "pruned", "sampled"])
def test_flow_equals_an_integer_program_on_every_shape(
    shape: str, select: bool, ties: bool, path: str, monkeypatch
) -> None:
    rng = np.random.default_rng(len(shape) * 100 + 10 * select + 2 * ties + len(path))
    problem = _shaped_problem(rng, shape, 300, 10, select=select, ties=ties)
    if path != "all pairs":  # the large-problem paths: pruned, then priced
        monkeypatch.setattr(model_module, "_ALL_PAIRS", 0)
        monkeypatch.setattr(model_module, "_THIN_PAIRS", 0)
        monkeypatch.setattr(model_module, "_DESK_EXTRA", 0)
    if path == "sampled":  # first candidates from a sample's potentials
        monkeypatch.setattr(model_module, "_SAMPLE_ABOVE", 40)
    result = problem.solve()
    assert result.status == "optimal"
    assert result.gain_total() == _milp_optimum(problem)
    assert np.all(result.load() <= problem.capacities)
    assert int(result.assigned.sum()) <= problem.limit
    assert is_optimal(problem, result.telecentre)


def test_pricing_from_poor_first_candidates_still_reaches_the_optimum(monkeypatch) -> None:
    rng = np.random.default_rng(15)
    problem = _shaped_problem(rng, "clustered-scarce", 400, 12, select=False, ties=False)
    monkeypatch.setattr(model_module, "_ALL_PAIRS", 0)
    monkeypatch.setattr(model_module, "_THIN_PAIRS", 0)
    monkeypatch.setattr(model_module, "_FIRST_CANDIDATES", 1)
    monkeypatch.setattr(model_module, "_DESK_DEPTH", 0.0)
    monkeypatch.setattr(model_module, "_PRICED_PER_AGENT", 1)
    assert problem.solve().gain_total() == _milp_optimum(problem)


def test_certificate_rejects_a_suboptimal_plan_on_a_shaped_instance() -> None:
    rng = np.random.default_rng(16)
    problem = _shaped_problem(rng, "uniform-scarce", 200, 8, select=False, ties=False)
    best = problem.solve().telecentre
    gain = problem.weekly_gain()
    assigned = np.flatnonzero(best >= 0)
    worse = best.copy()
    worse[assigned[0]] = -1  # one agent sent back to the head office: a desk left free
    assert gain[assigned[0], best[assigned[0]]] > 0
    assert is_optimal(problem, best)
    assert not is_optimal(problem, worse)


@pytest.mark.parametrize("days", [1, 2])
def test_no_telecentre_at_all_leaves_everyone_with_a_reason(days: int) -> None:
    from optimizer.schedule import solve_weekly

    problem = AssignmentProblem.from_cost_matrix(
        np.zeros((2, 0)), np.array([30.0, 40.0]), np.zeros(0, dtype=np.int64), days=np.full(2, days)
    )
    plans = [
        problem.solve("flow"),
        problem.solve("cp-sat"),
        solve_weekly(problem, np.zeros((0, 5), dtype=np.int64)).assignment,
    ]
    for result in plans:
        assert result.telecentre.tolist() == [-1, -1]
        assert result.status == "optimal"
        assert all(result.reasons)
