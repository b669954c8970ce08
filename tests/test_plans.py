"""Weekly desk plans, fairness rules, minimax, frontier and re-plans."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.fairness import frontier, max_assignable, solve_minimax, solve_minimax_weekly
from optimizer.model import REASON_WORSE_OFF, AssignmentProblem
from optimizer.replan import changes_table, read_previous_allocation
from optimizer.report import ALLOCATION_FILE, SUMMARY_FILE
from optimizer.schedule import solve_weekly


def _problem(seed: int, n: int, m: int, *, days_max: int = 3) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    return AssignmentProblem.from_cost_matrix(
        rng.uniform(5, 50, (n, m)).round(1),
        rng.uniform(20, 70, n).round(1),
        np.ones(m, dtype=np.int64),
        days=rng.integers(1, days_max + 1, n),
    )


def _brute_weekly(problem, desks, allowed, preferred, bonus_s) -> int:
    eligible, gain = problem.eligible(), problem.weekly_gain()
    n, m = eligible.shape
    options = []
    for i in range(n):
        choices = [(-1, ())]
        for j in np.flatnonzero(eligible[i]):
            choices.extend(
                (int(j), days)
                for days in itertools.combinations(range(5), int(problem.days[i]))
                if all(allowed[i, d] and desks[j, d] > 0 for d in days)
            )
        options.append(choices)
    best = 0
    for plan in itertools.product(*options):
        use = np.zeros((m, 5), int)
        value = 0
        for i, (j, days) in enumerate(plan):
            if j < 0:
                continue
            value += int(gain[i, j]) + bonus_s * sum(preferred[i, d] for d in days)
            for d in days:
                use[j, d] += 1
        if np.all(use <= desks):
            best = max(best, value)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_weekly_plan_is_optimal_on_small_cases(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    problem = _problem(seed, n, m, days_max=2 if seed % 2 else 1)
    desks = rng.integers(0, 2, (m, 5))
    allowed = rng.random((n, 5)) > 0.2
    preferred = rng.random((n, 5)) > 0.6
    plan = solve_weekly(
        problem, desks, allowed_days=allowed, preferred_days=preferred, day_bonus=2.0
    )
    total = plan.assignment.gain_total() + 120 * int((plan.days & preferred).sum())
    assert total == _brute_weekly(problem, desks, allowed, preferred, 120)
    assert plan.assignment.status == "optimal"
    _check_plan(plan, problem, desks, allowed)


def _check_plan(plan, problem, desks, allowed) -> None:
    assert np.all(plan.occupancy() <= desks)  # never more agents than desks, any day
    for i, j in enumerate(plan.assignment.telecentre):
        if j < 0:
            assert not plan.days[i].any()
        else:
            assert plan.days[i].sum() == problem.days[i]  # all its days ...
            assert np.all(allowed[i][plan.days[i]])  # ... on days it can ...
            assert np.all(desks[j][plan.days[i]] > 0)  # ... at one open telecentre
    table = plan.schedule_table()
    assert (table.groupby("agent_id")["telecentre_id"].nunique() <= 1).all()


def test_weekly_plan_at_scale_respects_every_day() -> None:
    rng = np.random.default_rng(3)
    problem = _problem(3, 300, 12)
    desks = rng.integers(0, 6, (12, 5))
    allowed = rng.random((300, 5)) > 0.1
    plan = solve_weekly(problem, desks, allowed_days=allowed, time_limit_s=30)
    _check_plan(plan, problem, desks, allowed)
    assert plan.assignment.best_bound >= plan.assignment.objective_value - 1e-9
    assert plan.assignment.assigned.sum() > 0


def test_weekly_bound_never_puts_an_agent_on_two_desks_the_same_day() -> None:
    # X (2 days, Mon/Tue) saves 80 min a day at A or B; Y and W (Tue only) save 110 each.
    # Best plan: X at A on Mon and Tue, Y at B on Tue: 270 min a week. A bound letting X
    # take both Monday desks (A and B) once Y and W hold Tuesday would say 380; one desk a
    # day for each agent caps it at 300 (Y, W, and X on one Monday).
    minutes = np.array([[20.0, 20.0], [5.0, 5.0], [5.0, 5.0]])
    problem = AssignmentProblem.from_cost_matrix(
        minutes, np.full(3, 60.0), np.ones(2), days=np.array([2, 1, 1])
    )
    desks = np.array([[1, 1, 0, 0, 0], [1, 1, 0, 0, 0]])
    allowed = np.array([[1, 1, 0, 0, 0], [0, 1, 0, 0, 0], [0, 1, 0, 0, 0]], dtype=bool)
    plan = solve_weekly(problem, desks, allowed_days=allowed)
    assert plan.assignment.objective_value == pytest.approx(270.0)
    assert plan.assignment.best_bound == pytest.approx(300.0)


def test_one_day_weekly_plan_uses_the_exact_flow() -> None:
    problem = _problem(4, 200, 8, days_max=1)
    desks = np.random.default_rng(4).integers(0, 4, (8, 5))
    plan = solve_weekly(problem, desks)
    assert "min-cost-flow" in plan.assignment.engine
    assert plan.assignment.status == "optimal"
    _check_plan(plan, problem, desks, np.ones((200, 5), bool))


def test_no_one_worse_off_rule() -> None:
    # one way out 40 min (HO 30) but back 5 min: the round trip saves time, the rule refuses it
    problem = AssignmentProblem(
        agent_ids=("a",),
        telecentre_ids=("t",),
        minutes_to=np.array([[40.0]]),
        minutes_back=np.array([[5.0]]),
        head_office_minutes_to=np.array([30.0]),
        head_office_minutes_back=np.array([30.0]),
        capacities=np.array([1]),
        days=np.array([1]),
    ).validated()
    result = problem.solve()
    assert result.telecentre.tolist() == [-1]
    assert result.reasons == (REASON_WORSE_OFF,)
    assert problem.with_rules(no_worse_off=False).solve().telecentre.tolist() == [0]


def _longest(problem, telecentre) -> float:
    idx = np.flatnonzero(telecentre >= 0)
    return float(problem.minutes_to[idx, telecentre[idx]].max()) if idx.size else 0.0


@pytest.mark.parametrize("seed", range(10))
def test_minimax_gives_the_smallest_longest_drive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 6)), int(rng.integers(1, 4))
    problem = _problem(seed, n, m).with_rules(capacities=rng.integers(1, 3, m))
    count = int(problem.solve().assigned.sum())
    result = solve_minimax(problem)
    assert int(result.assigned.sum()) == count
    eligible = problem.eligible()
    best = np.inf
    for choice in itertools.product(
        *[[-1, *np.flatnonzero(eligible[i]).tolist()] for i in range(n)]
    ):
        used = [j for j in choice if j >= 0]
        if len(used) != count or np.any(np.bincount(used, minlength=m) > problem.capacities):
            continue
        best = min(best, _longest(problem, np.array(choice)))
    assert _longest(problem, result.telecentre) == pytest.approx(best if count else 0.0)


def _minimax_both(problem: AssignmentProblem) -> list[np.ndarray]:
    """Minimax plans with a desk per agent and with desks shared by weekday."""
    desks = np.tile(problem.capacities[:, None], (1, 5))
    return [
        solve_minimax(problem).telecentre,
        solve_minimax_weekly(problem, desks).assignment.telecentre,
    ]


def test_minimax_with_an_agent_living_at_a_telecentre() -> None:
    # a drive of 0 minutes is among the limits searched: it is a limit, not a bad option
    problem = AssignmentProblem.from_cost_matrix(
        np.array([[0.0, np.nan], [np.nan, 10.0]]), np.array([40.0, 40.0]), np.array([1, 1])
    )
    for telecentre in _minimax_both(problem):
        assert telecentre.tolist() == [0, 1]


def test_minimax_places_agents_who_must_be_assigned() -> None:
    # two agents fit within 10 minutes, but agent 1 must be assigned and is 30 minutes away:
    # the longest drive is 30, not an infeasible plan at 10
    problem = AssignmentProblem.from_cost_matrix(
        np.array([[10.0, np.nan], [np.nan, 30.0], [np.nan, 10.0]]),
        np.array([40.0, 40.0, 40.0]),
        np.array([1, 1]),
        days=np.full(3, 5),  # a desk a day hosts one agent, shared by weekday or not
        must_assign=np.array([False, True, False]),
    )
    for telecentre in _minimax_both(problem):
        assert telecentre.tolist() == [0, 1, -1]


def test_weekly_minimax_keeps_to_its_time_limit_when_every_step_uses_all_it_gets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # each step of the search as a solve that spends its whole budget (a hard problem), on a
    # clock of its own: the search ends by the limit (plus a floor per step), never at the
    # limit times the number of steps, as when every step got the whole limit
    import optimizer.fairness as fairness
    from optimizer.schedule import solve_weekly

    clock = [0.0]
    budgets: list[float] = []

    def slow(*args: object, time_limit_s: float, **kwargs: object) -> object:
        budgets.append(time_limit_s)
        plan = solve_weekly(*args, **kwargs)  # type: ignore[arg-type]
        clock[0] += time_limit_s
        return plan

    monkeypatch.setattr(fairness, "solve_weekly", slow)
    monkeypatch.setattr(fairness, "_now", lambda: clock[0], raising=False)
    problem = _problem(11, 14, 4)
    desks = np.full((4, 5), 2)
    plan = solve_minimax_weekly(problem, desks, time_limit_s=60.0)
    assert len(budgets) >= 4  # the search took several steps
    assert clock[0] <= 60.0 + 1.0 * len(budgets)  # at least a second a step
    assert int(plan.assignment.assigned.sum()) > 0


def test_weekly_minimax_stops_when_its_solves_overrun_their_shares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # each solve spends ten times its budget (parts of a large weekly solve have no time
    # limit of their own): the search stops once the limit and a floor per solve are
    # spent, with a plan of the best plan's count, not proven
    import optimizer.fairness as fairness
    from optimizer.schedule import solve_weekly

    clock = [0.0]
    budgets: list[float] = []

    def overrun(*args: object, time_limit_s: float, **kwargs: object) -> object:
        budgets.append(time_limit_s)
        plan = solve_weekly(*args, **kwargs)  # type: ignore[arg-type]
        clock[0] += 10 * time_limit_s
        return plan

    monkeypatch.setattr(fairness, "solve_weekly", overrun)
    monkeypatch.setattr(fairness, "_now", lambda: clock[0], raising=False)
    problem = _problem(11, 14, 4)
    desks = np.full((4, 5), 2)
    best = solve_weekly(problem, desks)
    plan = solve_minimax_weekly(problem, desks, time_limit_s=60.0)
    assert len(budgets) <= 2  # the best plan's solve, and at most one step after it
    assert plan.assignment.status == "feasible"
    assert int(plan.assignment.assigned.sum()) == int(best.assignment.assigned.sum())
    assert np.all(plan.occupancy() <= desks)


def test_frontier_is_monotone_and_ends_at_the_optimum() -> None:
    problem = _problem(7, 60, 5).with_rules(capacities=np.full(5, 4))
    table = frontier(problem, points=10)
    assert table["objective"].is_monotonic_increasing
    assert (table["longest_drive"] <= table["max_minutes"] + 1e-9).all()
    assert table["objective"].iloc[-1] == pytest.approx(problem.solve().objective_value)
    assert max_assignable(problem) >= table["assigned"].max()


# ----------------------------------------------------------------------------- re-plans


def _run(args, out) -> None:
    result = CliRunner().invoke(main, [*args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> Path:
    """The folder of a default run (no option), read by the replans that start from it."""
    out = tmp_path_factory.mktemp("default") / "first"
    _run([], out)
    return out


@pytest.fixture(scope="module")
def first_no_maps(tmp_path_factory) -> Path:
    """The folder of a default run without maps (``--no-maps``), read by replans."""
    out = tmp_path_factory.mktemp("default_no_maps") / "first"
    _run(["--no-maps"], out)
    return out


def test_replan_with_nothing_changed_moves_nobody(tmp_path, first) -> None:
    _run(
        ["--previous", str(first / ALLOCATION_FILE), "--move-penalty", "1000"],
        tmp_path / "again",
    )
    changes = pd.read_csv(tmp_path / "again" / "changes.csv")
    assert changes.empty
    a = pd.read_csv(first / ALLOCATION_FILE)
    b = pd.read_csv(tmp_path / "again" / ALLOCATION_FILE)
    assert a["telecentre_id"].fillna("").tolist() == b["telecentre_id"].fillna("").tolist()


def test_replan_after_a_closure_moves_only_who_must(tmp_path, first) -> None:
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    closed = sites[sites["telecentre_id"] != "villefort"]
    closed.to_csv(tmp_path / "sites.csv", index=False)
    previous = first / ALLOCATION_FILE
    _run(
        [
            "--telecentres",
            str(tmp_path / "sites.csv"),
            "--previous",
            str(previous),
            "--move-penalty",
            "10000",
        ],
        tmp_path / "after",
    )
    changes = pd.read_csv(tmp_path / "after" / "changes.csv", keep_default_na=False)
    before = pd.read_csv(previous, keep_default_na=False)
    at_villefort = set(before.loc[before["telecentre_id"] == "villefort", "agent_id"])
    assert at_villefort
    assert set(changes["agent_id"]) >= at_villefort
    moved_for_closure = changes[changes["agent_id"].isin(at_villefort)]
    assert (
        moved_for_closure["why"]
        .str.contains("villefort is no longer in the telecentres file")
        .all()
    )
    # with a huge penalty, everybody else keeps their telecentre
    others = changes[~changes["agent_id"].isin(at_villefort)]
    assert (others["change"] == "added").all()


def test_changes_table_explains_join_leave_and_capacity() -> None:
    previous = pd.DataFrame(
        {
            "agent_id": ["a", "b", "c", "e"],
            "telecentre_id": ["t1", "t1", "", "t1"],
            "weekdays": ["mon", "mon", "", "tue|wed"],
        }
    )
    allocation = pd.DataFrame(
        {
            "agent_id": ["a", "b", "d", "e"],
            "telecentre_id": ["t1", "", "t1", "t1"],
            "reason": ["", "capacity full: ...", "", ""],
        }
    )
    schedule = pd.DataFrame(
        {
            "agent_id": ["a", "d", "e", "e"],
            "weekday": ["mon", "tue", "tue", "thu"],
            "telecentre_id": ["t1"] * 4,
        }
    )
    sites = pd.DataFrame({"telecentre_id": ["t1"], "capacity": [1]})

    def table(previous: pd.DataFrame) -> pd.DataFrame:
        return changes_table(
            previous, allocation, sites, move_penalty=60, schedule=schedule, day_change_penalty=15
        ).set_index("agent_id")

    # desks each weekday: the previous plan had 2 agents on Monday, so at least 2 desks
    previous.attrs["weekdays_known"] = True
    known = table(previous)
    assert known.loc["b", "change"] == "removed"
    assert known.loc["b", "why"] == (
        "desks of t1 cut to 1 on mon, fewer than the 2 agents there that day in the previous plan"
    )
    assert known.loc["c", "change"] == "left"
    assert known.loc["d", "change"] == "joined"
    assert known.loc["d", "weekdays"] == "tue"
    assert known.loc["e", "change"] == "other_weekdays"  # same telecentre, other weekdays
    assert known.loc[["e"], ["previous_weekdays", "weekdays"]].values.tolist() == [
        ["tue|wed", "tue|thu"]
    ]
    assert "a" not in known.index  # same telecentre, same weekday
    # the desks of the previous run's telecentres.csv are the desks it had
    previous.attrs["desks"] = {"t1": (4, 4, 4, 4, 4)}
    assert table(previous).loc["b", "why"] == "desks of t1 cut from 4 to 1 a day"
    # without the previous weekdays: no weekday change listed, the cut said as it is known
    previous.attrs["weekdays_known"] = False
    unknown = table(previous)
    assert "e" not in unknown.index
    assert unknown.loc["b", "why"] == "desks of t1 cut from 4 to 1 a day"


def test_replan_after_a_desk_cut_keeps_weekdays_and_counts_them(tmp_path, first_no_maps) -> None:
    # issue 23: Langogne cut from 4 to 2 desks a day; agents at unchanged telecentres kept
    # their telecentre but were given other weekdays, and nothing said so
    folders = {"first": first_no_maps}
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    sites.loc[sites["telecentre_id"] == "langogne", "capacity"] = 2
    sites.to_csv(tmp_path / "sites.csv", index=False)
    args = ["--telecentres", str(tmp_path / "sites.csv"), "--no-maps"]
    args += ["--previous", str(first_no_maps / ALLOCATION_FILE)]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "after")])
    assert result.exit_code == 0, result.output
    _run([*args, "--day-change-penalty", "0"], tmp_path / "loose")

    def plan(folder: str) -> dict[str, tuple[str, str]]:
        schedule = pd.read_csv(folders.get(folder, tmp_path / folder) / "schedule.csv")
        return {
            a: (rows["telecentre_id"].iloc[0], "|".join(rows["weekday"]))
            for a, rows in schedule.groupby("agent_id", sort=False)
        }

    order = {d: k for k, d in enumerate(("mon", "tue", "wed", "thu", "fri"))}
    before, after = plan("first"), plan("after")
    for table in (before, after):  # weekdays in week order
        for a, (t, days) in table.items():
            table[a] = (t, "|".join(sorted(days.split("|"), key=order.__getitem__)))
    same = {a for a in before if a in after and after[a] == before[a]}
    other = {a for a in before if a in after and after[a][0] == before[a][0]} - same
    moved = {a for a in before if a in after and after[a][0] != before[a][0]}
    removed = set(before) - set(after)
    replan = json.loads((tmp_path / "after" / SUMMARY_FILE).read_text())["replan"]
    assert replan["previous_weekdays_known"] is True
    assert replan["stayed_same_weekdays"] == len(same)
    assert replan["stayed_other_weekdays"] == len(other)
    assert replan["stayed"] == len(same) + len(other)
    assert replan["moved"] == len(moved)
    assert replan["removed"] == len(removed)
    assert replan["joined"] == replan["left"] == replan["added"] == 0
    assert (
        f"{len(same)} kept their telecentre and weekdays, {len(other)} kept their telecentre "
        f"on other weekdays, {len(moved)} moved, 0 newly placed, {len(removed)} no longer "
        "placed, 0 joined, 0 left (move penalty 60 min a week, day-change penalty 15 min a "
        "week a weekday)." in result.output
    )
    changes = pd.read_csv(tmp_path / "after" / "changes.csv", keep_default_na=False)
    rows = changes[changes["change"] == "other_weekdays"].set_index("agent_id")
    assert set(rows.index) == other
    for a in other:
        assert (rows.loc[a, "previous_weekdays"], rows.loc[a, "weekdays"]) == (
            before[a][1],
            after[a][1],
        )
    # the cut said in desks a day: the first run's telecentres.csv had 4 at langogne
    at_langogne = changes[changes["previous_telecentre_id"] == "langogne"]
    assert len(at_langogne) > 0
    assert (at_langogne["why"] == "desks of langogne cut from 4 to 2 a day").all()
    used = pd.read_csv(first_no_maps / "telecentres.csv").set_index("telecentre_id")
    assert used.loc["langogne", "desks_mon"] == 4
    # the day-change penalty is what keeps the weekdays: without it many more change
    loose = plan("loose")
    for a, (t, days) in loose.items():
        loose[a] = (t, "|".join(sorted(days.split("|"), key=order.__getitem__)))
    changed_loose = {a for a in before if a in loose and loose[a] != before[a]}
    assert len(other) + len(moved) < len(changed_loose)
    # both plans proven optimal under their own penalties
    saved = [
        json.loads((tmp_path / f / SUMMARY_FILE).read_text())["solver"]["status"]
        for f in ("after", "loose")
    ]
    assert saved == ["optimal", "optimal"]


def test_replan_without_the_previous_schedule_compares_telecentres_only(
    tmp_path, first_no_maps
) -> None:
    # an allocation.csv copied alone: its weekdays are not known, and the line says so
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / ALLOCATION_FILE).write_bytes((first_no_maps / ALLOCATION_FILE).read_bytes())
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    sites[sites["telecentre_id"] != "villefort"].to_csv(tmp_path / "sites.csv", index=False)
    args = ["--telecentres", str(tmp_path / "sites.csv"), "--no-maps"]
    result = CliRunner().invoke(
        main, [*args, "--previous", str(alone / ALLOCATION_FILE), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    before = pd.read_csv(alone / ALLOCATION_FILE, keep_default_na=False)
    after = pd.read_csv(tmp_path / "o" / ALLOCATION_FILE, keep_default_na=False)
    same = (before["telecentre_id"] != "") & (before["telecentre_id"] == after["telecentre_id"])
    assert (
        f"{int(same.sum())} kept their telecentre (weekdays not compared: no schedule.csv next "
        "to the previous allocation)" in result.output
    )
    replan = json.loads((tmp_path / "o" / SUMMARY_FILE).read_text())["replan"]
    assert replan["previous_weekdays_known"] is False
    assert replan["stayed_same_weekdays"] is None and replan["stayed_other_weekdays"] is None
    changes = pd.read_csv(tmp_path / "o" / "changes.csv", keep_default_na=False)
    assert "other_weekdays" not in set(changes["change"])
    assert (changes["previous_weekdays"] == "").all()


def test_previous_allocation_must_be_ours(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,site\n1,a\n")
    from optimizer.errors import InputError

    with pytest.raises(InputError, match=r"is it an allocation\.csv"):
        read_previous_allocation(path)


def test_previous_allocation_saved_again_by_french_excel(tmp_path) -> None:
    # opened in a spreadsheet and saved: ';', cp1252, decimal commas, a comma in a text cell
    path = tmp_path / "allocation.csv"
    text = (
        "agent_id;status;telecentre_id;minutes_saved_per_day;explanation\r\n"
        "A1;assigned;langogne;112,8;langogne saves 113 min a day, next best villefort\r\n"
        "Agnès;not_assigned;;;not assigned (no saving)\r\n"
        ";;;;\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    previous = read_previous_allocation(path)
    assert previous["agent_id"].tolist() == ["A1", "Agnès"]
    assert previous["telecentre_id"].tolist() == ["langogne", ""]


def test_previous_ids_stripped_of_their_zeros_by_a_spreadsheet_still_match(tmp_path) -> None:
    # ids with leading zeros; the planner edits allocation.csv in a spreadsheet, which saves
    # 00001 as 1: nobody would keep a place by the move penalty
    roster = pd.read_csv(datasets.path(datasets.AGENTS_FILE))
    roster["agent_id"] = [f"{k:05d}" for k in range(1, len(roster) + 1)]
    roster.to_csv(tmp_path / "agents.csv", index=False)
    _run(["--agents", str(tmp_path / "agents.csv")], tmp_path / "first")
    first = pd.read_csv(tmp_path / "first" / ALLOCATION_FILE, dtype=str)
    resaved = first.assign(agent_id=first["agent_id"].str.lstrip("0"))
    resaved.to_csv(tmp_path / "resaved.csv", index=False)
    _run(
        ["--agents", str(tmp_path / "agents.csv"), "--previous", str(tmp_path / "resaved.csv")],
        tmp_path / "again",
    )
    replan = json.loads((tmp_path / "again" / "summary.json").read_text())["replan"]
    assert replan["matched"] == len(roster)
    assert "had lost their leading zeros" in replan["warning"]
    assert pd.read_csv(tmp_path / "again" / "changes.csv").empty


# ----------------------------------------------------------------------------- the command


def test_assign_writes_a_schedule_for_desks_per_weekday(tmp_path) -> None:
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    for day in ("mon", "tue", "wed", "thu", "fri"):
        sites[day] = sites["capacity"]
    sites.loc[sites["telecentre_id"] == "villefort", "wed"] = 0  # closed on Wednesdays
    sites.drop(columns=["capacity"]).to_csv(tmp_path / "weekly.csv", index=False)
    roster = pd.read_csv(datasets.path(datasets.AGENTS_FILE))
    roster["impossible_days"] = ""
    roster.loc[:20, "impossible_days"] = "lundi|fri"
    roster.to_csv(tmp_path / "agents.csv", index=False)
    _run(
        ["--telecentres", str(tmp_path / "weekly.csv"), "--agents", str(tmp_path / "agents.csv")],
        tmp_path / "out",
    )
    schedule = pd.read_csv(tmp_path / "out" / "schedule.csv")
    allocation = pd.read_csv(tmp_path / "out" / ALLOCATION_FILE).set_index("agent_id")
    assert set(schedule.columns) == {"agent_id", "weekday", "telecentre_id"}
    per_day = schedule.groupby(["telecentre_id", "weekday"]).size()
    desks = sites.set_index("telecentre_id")
    for (centre, day), count in per_day.items():
        assert count <= desks.loc[centre, day]
    assert not ((schedule["telecentre_id"] == "villefort") & (schedule["weekday"] == "wed")).any()
    early = set(roster.loc[:20, "agent_id"])
    assert not (schedule["agent_id"].isin(early) & schedule["weekday"].isin(["mon", "fri"])).any()
    days = schedule.groupby("agent_id").size()
    for agent, count in days.items():
        assert count == allocation.loc[agent, "telework_days"]
    info = pd.read_json(tmp_path / "out" / SUMMARY_FILE, typ="series")
    assert info["options"]["capacity_policy"] == "shared desks by weekday"


def test_assign_minimax_frontier_and_max_open(tmp_path) -> None:
    _run(["--minimax", "--frontier"], tmp_path / "m")
    curve = pd.read_csv(tmp_path / "m" / "frontier.csv")
    assert curve["objective"].is_monotonic_increasing
    _run(["--max-open", "2"], tmp_path / "o")
    centres = pd.read_csv(tmp_path / "o" / "telecentres.csv")
    assert (centres["open"] == "yes").sum() <= 2
    assert (centres.loc[centres["open"] == "no", "assigned"] == 0).all()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--minimax", "--max-open", "2"], "cannot combine choosing telecentres"),
        (["--minimax", "--dedicated-desks", "--engine", "cp-sat"], "cannot combine --minimax"),
        (["--previous", "{tmp}/missing.csv"], "previous allocation not found"),
    ],
)
def test_impossible_combinations_are_one_line(args, match, tmp_path) -> None:
    result = CliRunner().invoke(
        main,
        [*(a.replace("{tmp}", str(tmp_path)) for a in args), "--out", str(tmp_path / "o"), "-q"],
    )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert match in result.output


# ----------------------------------------------------------------------------- one meaning of capacity

WEEK = ("mon", "tue", "wed", "thu", "fri")


def _brute_open(problem, desks, max_open) -> int:
    """Best weekly plan value when at most ``max_open`` telecentres may be used."""
    m = problem.n_telecentres
    best = 0
    for size in range(max_open + 1):
        for opened in itertools.combinations(range(m), size):
            shut = desks.copy()
            shut[[j for j in range(m) if j not in opened]] = 0
            allowed = np.ones((problem.n_agents, 5), bool)
            best = max(best, _brute_weekly(problem, shut, allowed, np.zeros_like(allowed), 0))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_choosing_telecentres_with_shared_desks_is_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = _problem(seed, int(rng.integers(2, 4)), 3, days_max=2)
    desks = rng.integers(0, 2, (3, 5))
    for max_open in (1, 2):
        plan = solve_weekly(problem, desks, max_open=max_open)
        assert plan.assignment.status == "optimal"
        assert plan.assignment.gain_total() == _brute_open(problem, desks, max_open)
        assert plan.open_telecentres is not None and plan.open_telecentres.sum() <= max_open
        used = set(plan.assignment.telecentre[plan.assignment.assigned].tolist())
        assert used <= set(np.flatnonzero(plan.open_telecentres).tolist())
        _check_plan(plan, problem, desks, np.ones((problem.n_agents, 5), bool))


def _costly_sites(tmp_path) -> str:
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    sites["opening_cost"] = 300.0
    path = tmp_path / "costly.csv"
    sites.to_csv(path, index=False)
    return str(path)


MODES = [
    [],
    ["--select", "8"],
    ["--select", "20", "--select-by", "commute"],
    ["--max-open", "3"],
    ["--telecentres", "{costly}"],
    ["--minimax"],
    ["--frontier"],
    ["--previous", "{previous}"],
    ["--engine", "cp-sat"],
    ["--dedicated-desks"],
    ["--dedicated-desks", "--max-open", "3"],
    ["--dedicated-desks", "--minimax"],
]


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("previous")
    _run(["--no-maps"], out)
    return out / ALLOCATION_FILE


@pytest.mark.parametrize("args", MODES, ids=lambda a: " ".join(a) or "plain")
def test_no_mode_exceeds_the_desks_of_any_weekday(args, tmp_path, previous_run) -> None:
    args = [
        a.replace("{costly}", _costly_sites(tmp_path)).replace("{previous}", str(previous_run))
        for a in args
    ]
    _run([*args, "--no-maps"], tmp_path / "o")
    out = tmp_path / "o"
    schedule = pd.read_csv(out / "schedule.csv")
    allocation = pd.read_csv(out / ALLOCATION_FILE, keep_default_na=False).set_index("agent_id")
    centres = pd.read_csv(out / "telecentres.csv").set_index("telecentre_id")
    assigned = allocation[allocation["status"] == "assigned"]
    assert len(assigned) > 0
    # every assigned agent does all its telework days at its telecentre, on distinct days
    days = schedule.groupby("agent_id")["weekday"].nunique()
    assert days.reindex(assigned.index).tolist() == assigned["telework_days"].tolist()
    assert (
        schedule["telecentre_id"] == assigned.loc[schedule["agent_id"], "telecentre_id"].to_numpy()
    ).all()
    present = schedule.groupby(["telecentre_id", "weekday"]).size()
    dedicated = "--dedicated-desks" in args
    for centre, row in centres.iterrows():
        for day in WEEK:
            here = present.get((centre, day), 0)
            assert here <= row[f"desks_{day}"]  # never more agents than desks, any day
            assert row[f"used_{day}"] <= row[f"desks_{day}"]
            if not dedicated:
                assert row[f"used_{day}"] == here
        if dedicated:
            assert row["assigned"] <= row["capacity"]  # a desk per agent, all week
        assert row["desk_days_used"] <= row["desk_days_offered"]
        assert pd.isna(row["utilisation"]) or row["utilisation"] <= 1.0
    info = json.loads((out / SUMMARY_FILE).read_text())
    assert info["totals"]["desk_days_used"] == int(centres["desk_days_used"].sum())
    assert info["options"]["capacity_policy"] == (
        "dedicated desks" if dedicated else "shared desks by weekday"
    )


@pytest.mark.parametrize("policy", [[], ["--dedicated-desks"]])
def test_max_open_all_gives_the_plain_plan_value(policy, tmp_path) -> None:
    n_sites = len(datasets.telecentres())
    _run([*policy, "--no-maps"], tmp_path / "plain")
    _run([*policy, "--no-maps", "--max-open", str(n_sites)], tmp_path / "all")
    plain = json.loads((tmp_path / "plain" / SUMMARY_FILE).read_text())
    everything = json.loads((tmp_path / "all" / SUMMARY_FILE).read_text())
    assert everything["solver"]["status"] == plain["solver"]["status"] == "optimal"
    assert everything["solver"]["objective_value"] == pytest.approx(
        plain["solver"]["objective_value"]
    )


def test_dedicated_desks_reproduce_one_desk_per_agent_all_week(lozere_network) -> None:
    from optimizer import PlanOptions, run

    agents, sites = datasets.agents(), datasets.telecentres()
    options = PlanOptions(dedicated_desks=True, min_saving=0.0)
    result = run(agents, sites, datasets.head_office(), lozere_network, options)
    # today's plain result, rebuilt outside the pipeline: one desk per agent (capacity =
    # agents per telecentre), solved by the other engine
    expected = AssignmentProblem.from_travel_times(
        result.travel.table, agents, sites, min_saving=0.0, preference_bonus=30.0
    ).solve("cp-sat")
    assert result.assignment.objective_value == pytest.approx(expected.objective_value)
    assert result.assignment.assigned.sum() == expected.assigned.sum()
    assert np.all(result.assignment.load() <= sites["capacity"].to_numpy())
    shared = run(agents, sites, datasets.head_office(), lozere_network, min_saving=0.0)
    assert shared.assignment.objective_value > result.assignment.objective_value


def test_select_by_commute_takes_the_longest_commutes_who_gain(tmp_path) -> None:
    _run(["--no-maps", "--select", "5", "--select-by", "commute", "--rank", "0"], tmp_path / "c")
    allocation = pd.read_csv(tmp_path / "c" / ALLOCATION_FILE, keep_default_na=False)
    ranking = pd.read_csv(tmp_path / "c" / "ranking.csv", keep_default_na=False)
    gainers = ranking[ranking["minutes_saved_per_day"].replace("", np.nan).astype(float) >= 10]
    chosen = set(allocation.loc[allocation["status"] == "assigned", "agent_id"])
    assert chosen == set(gainers["agent_id"].head(5))
    left = allocation[allocation["reason"].str.contains("longer commutes")]
    assert len(left) == len(gainers) - 5
    assert (allocation["explanation"][allocation["status"] == "not_assigned"] != "").all()


def test_select_by_commute_says_when_agents_who_must_go_took_the_places(lozere_network) -> None:
    from optimizer import run
    from optimizer.inputs import read_agents
    from optimizer.report import allocation_table

    # 'near' must be assigned: it takes the one place though the others drive further
    agents = read_agents(
        pd.DataFrame(
            {
                "agent_id": ["far", "near", "farthest"],
                "lon": [3.85, 3.28, 3.12],
                "lat": [44.72, 44.55, 44.82],
                "must_assign": ["", "yes", ""],
            }
        )
    )
    result = run(
        agents,
        datasets.telecentres(),
        datasets.head_office(),
        lozere_network,
        select=1,
        select_by="commute",
    )
    table = allocation_table(result).set_index("agent_id")
    assert table.loc["near", "status"] == "assigned"
    for agent in ("far", "farthest"):  # both drive further than 'near': no longer commute won
        assert "longer commutes" not in table.loc[agent, "reason"]
        assert table.loc[agent, "reason"].startswith(
            "not selected: the limit on the number of agents went first to agents who must be "
            "assigned"
        )


def test_an_agent_whose_impossible_days_leave_too_few_days_is_told_so(lozere_network) -> None:
    from optimizer import run
    from optimizer.inputs import read_agents
    from optimizer.report import allocation_table

    agents = read_agents(
        pd.DataFrame(
            {
                "agent_id": ["never", "two_of_three", "fine"],
                "lon": [3.85, 3.84, 3.86],
                "lat": [44.72, 44.71, 44.73],
                "telework_days": [1, 3, 1],
                "impossible_days": ["mon|tue|wed|thu|fri", "mon|tue|wed", "mon"],
            }
        )
    )
    result = run(agents, datasets.telecentres(), datasets.head_office(), lozere_network)
    table = allocation_table(result).set_index("agent_id")
    assert table.loc["fine", "status"] == "assigned"
    # the roster rules it out, not the telecentres' opening days
    for agent in ("never", "two_of_three"):
        assert table.loc[agent, "reason"] == (
            "cannot telework: its impossible_days leave fewer weekdays than its telework_days"
        )


def test_replan_matches_pseudonyms_with_the_same_salt(tmp_path) -> None:
    salt = ["--pseudonymise", "s3cret", "--no-maps"]
    _run(salt, tmp_path / "first")
    previous = tmp_path / "first" / ALLOCATION_FILE
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    sites[sites["telecentre_id"] != "villefort"].to_csv(tmp_path / "sites.csv", index=False)
    args = ["--telecentres", str(tmp_path / "sites.csv"), "--previous", str(previous)]
    _run([*salt, *args, "--move-penalty", "10000"], tmp_path / "after")
    before = pd.read_csv(previous, keep_default_na=False)
    changes = pd.read_csv(tmp_path / "after" / "changes.csv", keep_default_na=False)
    at_villefort = set(before.loc[before["telecentre_id"] == "villefort", "agent_id"])
    assert at_villefort and set(changes["agent_id"]) >= at_villefort
    assert (changes.loc[~changes["agent_id"].isin(at_villefort), "change"] == "added").all()
    info = json.loads((tmp_path / "after" / SUMMARY_FILE).read_text())
    replan = info["replan"]
    assert replan["previous_file"] == str(previous)
    assert replan["matched"] == len(before)
    placed = (before["status"] == "assigned").sum()
    assert replan["stayed"] == placed - len(at_villefort)
    assert replan["joined"] == replan["left"] == 0
    assert not any("matches" in w for w in info["warnings"])
    # without the salt nobody matches: said in the console and the summary
    result = CliRunner().invoke(main, [*args, "--no-maps", "--out", str(tmp_path / "nosalt")])
    assert result.exit_code == 0, result.output
    assert "no agent id of the previous allocation" in result.output
    assert "--pseudonymise SALT" in result.output
    info = json.loads((tmp_path / "nosalt" / SUMMARY_FILE).read_text())
    assert info["replan"]["matched"] == 0 and info["replan"]["warning"]


def test_must_assign_counts_desk_days_with_shared_desks() -> None:
    from optimizer.errors import InfeasibleError

    def problem(n: int) -> AssignmentProblem:
        return AssignmentProblem.from_cost_matrix(
            np.full((n, 1), 10.0), np.full(n, 30.0), np.array([1]), must_assign=np.ones(n, bool)
        )

    # one desk shared by weekday hosts five one-day agents, one a day
    plan = solve_weekly(problem(5), np.ones((1, 5), dtype=np.int64))
    assert plan.assignment.assigned.all()
    assert plan.occupancy().tolist() == [[1, 1, 1, 1, 1]]
    with pytest.raises(InfeasibleError, match=r"6 agents must be assigned .* hold 5 desk-days"):
        solve_weekly(problem(6), np.ones((1, 5), dtype=np.int64))


@pytest.mark.parametrize("policy", [[], ["--dedicated-desks"]])
def test_agents_left_out_by_closed_days_are_told_so(policy, tmp_path) -> None:
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    for day in WEEK:
        sites[day] = sites["capacity"] if day == "mon" else 0  # open on Mondays only
    sites.drop(columns=["capacity"]).to_csv(tmp_path / "mondays.csv", index=False)
    _run([*policy, "--telecentres", str(tmp_path / "mondays.csv"), "--no-maps"], tmp_path / "o")
    allocation = pd.read_csv(tmp_path / "o" / ALLOCATION_FILE, keep_default_na=False)
    several = allocation[allocation["telework_days"] >= 2]
    assert (several["status"] == "not_assigned").all()
    gainers = several[~several["reason"].str.startswith(("no saving", "saving too small"))]
    assert len(gainers) > 0
    assert gainers["reason"].str.startswith("closed on its days").all()
    assert gainers["explanation"].str.startswith("not assigned (closed on its days)").all()
    schedule = pd.read_csv(tmp_path / "o" / "schedule.csv")
    assert set(schedule["weekday"]) == {"mon"}


def test_agents_left_out_without_a_limit_are_never_told_the_limit_was_reached() -> None:
    from optimizer.model import REASON_FULL, REASON_NOT_SELECTED

    # three 3-day agents, desks (3, 1, 1, 1, 1): two fit, the third finds a free desk on
    # Monday only; there is no --select, so the limit cannot be the reason
    problem = AssignmentProblem.from_cost_matrix(
        np.full((3, 1), 10.0), np.array([40.0, 39.0, 38.0]), np.array([3]), days=np.full(3, 3)
    )
    plan = solve_weekly(problem, np.array([[3, 1, 1, 1, 1]]))
    assert plan.assignment.telecentre.tolist() == [0, 0, -1]
    assert plan.assignment.reasons[2] == REASON_FULL
    # with a limit that is reached, the limit is the reason
    limited = solve_weekly(problem.with_rules(select=1), np.array([[3, 1, 1, 1, 1]]))
    assert limited.assignment.reasons[1] == REASON_NOT_SELECTED


@pytest.mark.parametrize("engine", ["cp-sat", "flow"])
def test_must_assign_agents_fit_beyond_cp_sats_candidate_telecentres(engine: str) -> None:
    # 10 telecentres with a desk a day, 10 five-day agents who must be assigned: each
    # telecentre hosts one of them. Everyone's 8 best telecentres are the same 8, so a
    # model that keeps each agent's best 8 only cannot place them all
    rng = np.random.default_rng(3)
    n = m = 10
    minutes = rng.uniform(10, 30, (n, m)).round()
    minutes[:, :8] = rng.uniform(1, 5, (n, 8)).round()
    problem = AssignmentProblem.from_cost_matrix(
        minutes,
        np.full(n, 60.0),
        np.ones(m, dtype=np.int64),
        days=np.full(n, 5),
        must_assign=np.ones(n, dtype=bool),
    )
    plan = solve_weekly(problem, np.ones((m, 5), dtype=np.int64), engine=engine, time_limit_s=10)
    assert plan.assignment.assigned.all()
    assert np.all(plan.occupancy() <= 1)


def test_frontier_leaves_out_the_limits_where_must_assign_agents_cannot_be() -> None:
    # agent 1 must be assigned and its only telecentre is 30 minutes away: no plan exists
    # under a shorter limit, and the frontier starts at 30 instead of failing
    problem = _problem(7, 40, 5).with_rules(capacities=np.full(5, 4))
    minutes = problem.minutes_to.copy()
    minutes[1] = np.nan
    minutes[1, 2] = 30.0
    forced = AssignmentProblem.from_cost_matrix(
        minutes,
        np.full(problem.n_agents, 70.0),
        problem.capacities,
        days=problem.days,
        must_assign=np.arange(problem.n_agents) == 1,
    )
    desks = np.tile(forced.capacities[:, None], (1, 5))
    for solve in (None, lambda p: solve_weekly(p, desks).assignment):
        table = frontier(forced, points=10, solve=solve)
        assert len(table) > 0
        assert (table["max_minutes"] >= 30.0).all()
        best = forced.solve() if solve is None else solve(forced)
        assert table["objective"].iloc[-1] == pytest.approx(best.objective_value)


def test_must_assign_beyond_max_open_says_the_open_limit_is_why() -> None:
    from optimizer.errors import InfeasibleError

    # two agents who must be assigned, each with its own telecentre: one open is not enough
    problem = AssignmentProblem.from_cost_matrix(
        np.array([[10.0, np.nan], [np.nan, 10.0]]),
        np.array([40.0, 40.0]),
        np.array([1, 1]),
        must_assign=np.array([True, True]),
    )
    with pytest.raises(InfeasibleError, match=r"at most 1 telecentre\(s\) open \(--max-open\)"):
        solve_weekly(problem, np.ones((2, 5), dtype=np.int64), max_open=1)
