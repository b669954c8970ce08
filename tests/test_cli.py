from __future__ import annotations

import json

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.report import ALLOCATION_FILE, SUMMARY_FILE, TELECENTRES_FILE, TRAVEL_FILE

OUTPUTS = (ALLOCATION_FILE, TELECENTRES_FILE, TRAVEL_FILE, SUMMARY_FILE)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> tuple[str, object]:
    out = tmp_path_factory.mktemp("default") / "assignment"
    result = CliRunner().invoke(main, ["--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_default_run_writes_the_four_files(default_run) -> None:
    output, out = default_run
    for name in OUTPUTS:
        assert (out / name).is_file()
    assert "APPROXIMATE road network" in output
    assert "optimal" in output


def test_every_agent_once_in_input_order(default_run) -> None:
    _, out = default_run
    roster = datasets.agents()
    allocation = pd.read_csv(out / ALLOCATION_FILE, keep_default_na=False)
    assert allocation["agent_id"].tolist() == roster["agent_id"].tolist()
    assert set(allocation["status"]) <= {"assigned", "not_assigned"}
    missing = allocation[allocation["status"] == "not_assigned"]
    assert (missing["reason"] != "").all()
    assert (missing["telecentre_id"] == "").all()


def test_capacities_hold_and_assigned_agents_save_time(default_run) -> None:
    _, out = default_run
    allocation = pd.read_csv(out / ALLOCATION_FILE)
    centres = pd.read_csv(out / TELECENTRES_FILE)
    schedule = pd.read_csv(out / "schedule.csv")
    counts = allocation["telecentre_id"].value_counts()
    per_day = schedule.groupby(["telecentre_id", "weekday"]).size()
    for row in centres.itertuples():
        assert counts.get(row.telecentre_id, 0) == row.assigned
        for day in ("mon", "tue", "wed", "thu", "fri"):  # capacity: desks each weekday
            used = per_day.get((row.telecentre_id, day), 0)
            assert used == getattr(row, f"used_{day}") <= getattr(row, f"desks_{day}")
            assert getattr(row, f"desks_{day}") == row.capacity
        assert row.desk_days_used == (schedule["telecentre_id"] == row.telecentre_id).sum()
        assert row.utilisation <= 1
    assigned = allocation[allocation["status"] == "assigned"]
    assert len(assigned) > 0
    assert (assigned["minutes_saved_per_day"] > 0).all()
    saving = 2 * (assigned["minutes_to_head_office"] - assigned["minutes_to_telecentre"])
    assert (saving - assigned["minutes_saved_per_day"]).abs().max() <= 0.2 + 1e-9


def test_travel_times_has_every_agent_and_destination(default_run) -> None:
    _, out = default_run
    travel = pd.read_csv(out / TRAVEL_FILE, keep_default_na=False)
    n_agents = len(datasets.agents())
    n_dest = len(datasets.telecentres()) + 1
    assert len(travel) == n_agents * n_dest
    assert set(travel["destination_id"]) == {
        *datasets.telecentres()["telecentre_id"],
        "head_office",
    }
    assert list(travel.columns[:6]) == [
        "agent_id",
        "destination_id",
        "minutes_to",
        "km_to",
        "minutes_back",
        "km_back",
    ]


def test_summary_says_approximate_and_totals_add_up(default_run) -> None:
    _, out = default_run
    info = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    allocation = pd.read_csv(out / ALLOCATION_FILE)
    assert info["network"]["approximate"] is True
    assert info["solver"]["status"] == "optimal"
    assert info["totals"]["agents"] == len(allocation)
    assert info["totals"]["assigned"] == int((allocation["status"] == "assigned").sum())
    assert sum(info["totals"]["not_assigned_by_reason"].values()) == info["totals"]["not_assigned"]
    weekly = (allocation["minutes_saved_per_day"] * allocation["telework_days"]).sum()
    # per-day savings are rounded to 0.1 min in the file, seconds in the solver
    rounding = 0.05 * allocation.loc[allocation["status"] == "assigned", "telework_days"].sum()
    assert info["totals"]["minutes_saved_per_week"] == pytest.approx(weekly, abs=rounding)
    assert info["solver"]["objective_value"] == pytest.approx(weekly, abs=rounding)


def test_outputs_carry_no_home_coordinates(default_run) -> None:
    _, out = default_run
    roster = datasets.agents()
    for name in (ALLOCATION_FILE, TRAVEL_FILE, TELECENTRES_FILE):
        columns = {c.lower() for c in pd.read_csv(out / name, nrows=1).columns}
        assert not columns & {"lon", "lat", "x", "y", "longitude", "latitude"}
    text = (out / ALLOCATION_FILE).read_text() + (out / TRAVEL_FILE).read_text()
    assert f"{roster['lon'].iloc[0]:.6f}" not in text


def test_select_assigns_at_most_k_the_furthest_savers(runner, tmp_path) -> None:
    result = runner.invoke(main, ["--select", "8", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    allocation = pd.read_csv(tmp_path / ALLOCATION_FILE, keep_default_na=False)
    assert (allocation["status"] == "assigned").sum() == 8
    assert (allocation["reason"].str.startswith("not selected")).any()


def test_max_minutes_and_min_saving_hold(runner, tmp_path) -> None:
    result = runner.invoke(
        main, ["--max-minutes", "15", "--min-saving", "20", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    allocation = pd.read_csv(tmp_path / ALLOCATION_FILE)
    assigned = allocation[allocation["status"] == "assigned"]
    assert (assigned["minutes_to_telecentre"] <= 15.05).all()
    assert (assigned["minutes_saved_per_day"] >= 19.95).all()


def test_explicit_inputs_match_the_default(runner, tmp_path) -> None:
    args = [
        "--agents",
        str(datasets.path(datasets.AGENTS_FILE)),
        "--telecentres",
        str(datasets.path(datasets.TELECENTRES_FILE)),
        "--network",
        str(datasets.path(datasets.NETWORK_FILE)),
        "--head-office",
        "3.501172,44.517817",
        "--out",
        str(tmp_path / "a"),
    ]
    assert runner.invoke(main, args).exit_code == 0
    assert runner.invoke(main, ["--out", str(tmp_path / "b")]).exit_code == 0
    a = pd.read_csv(tmp_path / "a" / ALLOCATION_FILE)
    b = pd.read_csv(tmp_path / "b" / ALLOCATION_FILE)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--agents", "nowhere.csv"], "nowhere.csv: file not found"),
        (["--head-office", "3.5"], "--head-office: '3.5' is not LON,LAT"),
        (["--network", "nowhere.osm"], "nowhere.osm: network file not found"),
        (["--head-office", "44.5178,3.5012"], "outside the road network's area"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runner, tmp_path, args, match) -> None:
    out = tmp_path / "out"
    result = runner.invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2
    assert match in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("assign: error")]
    assert len(lines) == 1
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_csv_names_file_row_column_and_value(runner, tmp_path) -> None:
    bad = tmp_path / "agents.csv"
    bad.write_text(
        "agent_id,lon,lat,telework_days\nA1,3.5,44.5,1\nA2,abc,44.6,2\n", encoding="utf-8"
    )
    result = runner.invoke(main, ["--agents", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"{bad}: row 3, column 'lon': 'abc' is not a number" in result.output


def test_every_option_has_help() -> None:
    for param in main.params:
        if isinstance(param, click.Option):
            assert param.help, f"option {param.name} has no help text"
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for flag in (
        "--agents",
        "--telecentres",
        "--head-office",
        "--network",
        "--out",
        "--select",
        "--max-minutes",
        "--min-saving",
    ):
        assert flag in result.output


def test_python_dash_m_runs(tmp_path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "Usage: assign" in done.stdout


# ----------------------------------------------------------------------------- rules and engines


def _roster_with_rules(tmp_path, **columns) -> str:
    roster = pd.read_csv(datasets.path(datasets.AGENTS_FILE))
    for name, values in columns.items():
        roster[name] = values
    path = tmp_path / "agents_rules.csv"
    roster.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("policy", ["shared", "dedicated"])
def test_engines_agree_on_the_default(runner, tmp_path, policy) -> None:
    # one telework day each: the shared-desk plan is a min-cost flow too
    args = ["--agents", _roster_with_rules(tmp_path, telework_days=1)]
    if policy == "dedicated":
        args = ["--dedicated-desks"]
    for engine in ("flow", "cp-sat"):
        result = runner.invoke(
            main, [*args, "--engine", engine, "--out", str(tmp_path / engine), "-q"]
        )
        assert result.exit_code == 0, result.output
    a = json.loads((tmp_path / "flow" / SUMMARY_FILE).read_text())
    b = json.loads((tmp_path / "cp-sat" / SUMMARY_FILE).read_text())
    assert "min-cost-flow" in a["solver"]["engine"]
    assert b["solver"]["engine"].startswith("ortools-cp-sat") and b["solver"]["status"] == "optimal"
    assert a["solver"]["objective_value"] == pytest.approx(b["solver"]["objective_value"])


def test_rule_columns_are_obeyed(runner, tmp_path) -> None:
    n = len(datasets.agents())
    must = ["no"] * n
    must[0] = "yes"  # A001 lives in Mende: no telecentre saves it time, so this cannot hold
    preferred = [""] * n
    forbidden = [""] * n
    preferred[2] = "fournels"  # A003 saves most at saint-chely; a large bonus tips it to fournels
    forbidden[12] = "villefort"  # A013 goes to villefort by default
    agents = _roster_with_rules(
        tmp_path, preferred_telecentre=preferred, forbidden_telecentres=forbidden
    )
    result = runner.invoke(
        main, ["--agents", agents, "--preference-bonus", "600", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    allocation = pd.read_csv(tmp_path / "o" / ALLOCATION_FILE, keep_default_na=False).set_index(
        "agent_id"
    )
    assert allocation.loc["A003", "telecentre_id"] == "fournels"
    assert allocation.loc["A013", "telecentre_id"] != "villefort"
    infeasible = _roster_with_rules(tmp_path, must_assign=must)
    result = runner.invoke(main, ["--agents", infeasible, "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "agent 'A001' must be assigned but no telecentre is open to it" in result.output
    assert not (tmp_path / "x").exists()


def test_must_assign_column_forces_an_agent_in(runner, tmp_path, default_run) -> None:
    _, out = default_run
    before = pd.read_csv(out / ALLOCATION_FILE, keep_default_na=False)
    full = before.index[before["reason"].str.startswith("capacity full")]
    assert len(full) > 0
    agent = before.loc[full[0], "agent_id"]  # left out by default: the desks are taken
    must = ["0"] * len(before)
    must[int(full[0])] = "1"
    agents = _roster_with_rules(tmp_path, must_assign=must)
    result = runner.invoke(main, ["--agents", agents, "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    allocation = pd.read_csv(tmp_path / "o" / ALLOCATION_FILE, keep_default_na=False).set_index(
        "agent_id"
    )
    assert allocation.loc[agent, "status"] == "assigned"


def test_unknown_telecentre_in_rules_names_row_and_value(runner, tmp_path) -> None:
    n = len(datasets.agents())
    preferred = [""] * n
    preferred[4] = "florac"
    agents = _roster_with_rules(tmp_path, preferred_telecentre=preferred)
    result = runner.invoke(main, ["--agents", agents, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert (
        f"{agents}: row 6, column 'preferred_telecentre': 'florac' is not a telecentre id"
        in result.output
    )


def test_ranking_file_lists_everyone_longest_first(default_run) -> None:
    _, out = default_run
    ranking = pd.read_csv(out / "ranking.csv", keep_default_na=False)
    assert sorted(ranking["agent_id"]) == sorted(datasets.agents()["agent_id"])
    assert ranking["minutes_to_head_office"].is_monotonic_decreasing
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1))


def test_rank_option_prints_the_top(runner, tmp_path) -> None:
    result = runner.invoke(main, ["--rank", "8", "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert "Longest commutes to the head office (top 8)" in result.output
    ranking = pd.read_csv(tmp_path / "ranking.csv")
    for agent in ranking["agent_id"].head(8):
        assert agent in result.output


def test_made_up_inputs_are_flagged(default_run, runner, tmp_path) -> None:
    output, out = default_run
    info = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert "SYNTHETIC roster" in output and "ILLUSTRATIVE capacities" in output
    assert info["inputs"]["synthetic_roster"] is True
    assert info["inputs"]["illustrative_capacities"] is True
    assert any(w.startswith("ILLUSTRATIVE") for w in info["warnings"])
    # own agents, embedded telecentres: told the capacities are illustrative, not the roster
    roster = tmp_path / "mine.csv"
    datasets.agents().head(20).to_csv(roster, index=False)
    result = runner.invoke(main, ["--agents", str(roster), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "ILLUSTRATIVE capacities" in result.output
    assert "SYNTHETIC roster" not in result.output
    info = json.loads((tmp_path / "o" / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert info["inputs"]["synthetic_roster"] is False
    assert info["inputs"]["illustrative_capacities"] is True
    assert "ILLUSTRATIVE" in (tmp_path / "o" / "map.html").read_text(encoding="utf-8")


def test_explanations_agree_with_reasons(default_run) -> None:
    _, out = default_run
    allocation = pd.read_csv(out / ALLOCATION_FILE, keep_default_na=False)
    for row in allocation.itertuples():
        if row.status == "assigned":
            assert row.reason == ""
            assert row.explanation.startswith(f"{row.telecentre_id} saves")
        else:
            assert row.explanation.startswith(f"not assigned ({row.reason.split(':')[0]})")
            assert "no telecentre is open" not in row.explanation


def test_command_and_library_share_defaults() -> None:
    from optimizer import PlanOptions

    defaults = PlanOptions()
    # The default a user gets, as click resolves it: ``Parameter.default`` is a sentinel
    # (``Sentinel.UNSET``) for flags since click 8.3, so ask the parameter itself.
    ctx = click.Context(main)
    given = {p.name: p.get_default(ctx) for p in main.params}
    for option in (
        "select",
        "select_by",
        "max_minutes",
        "min_saving",
        "objective",
        "preference_bonus",
        "minimax",
        "max_open",
        "day_bonus",
        "move_penalty",
        "dedicated_desks",
        "engine",
    ):
        assert given[option] == getattr(defaults, option), option
    assert given["time_limit"] == defaults.time_limit_s
    assert given["allow_worse_off"] is (not defaults.no_worse_off)
    assert defaults.min_saving == 10.0  # the tiers-lieux threshold, documented


def test_polen_explains_why_it_hosts_nobody(default_run) -> None:
    _, out = default_run
    centres = pd.read_csv(out / TELECENTRES_FILE, keep_default_na=False).set_index("telecentre_id")
    assert centres.loc["mende-polen", "assigned"] == 0
    assert "stands at the head office's point" in centres.loc["mende-polen", "note"]
    assert (centres.loc[centres["assigned"] > 0, "note"] == "").all()


def test_a_telecentre_without_desks_says_so(lozere_network) -> None:
    from optimizer import datasets, run
    from optimizer.report import telecentre_table

    sites = datasets.telecentres()
    sites.loc[sites["telecentre_id"] == "langogne", "capacity"] = 0
    result = run(datasets.agents(), sites, datasets.head_office(), lozere_network)
    centres = telecentre_table(result).set_index("telecentre_id")
    assert centres.loc["langogne", "desk_days_offered"] == 0
    # not "the agents it would save time save more elsewhere": it has no desk to give
    assert centres.loc["langogne", "note"] == "offers no desk: capacity 0 or closed every weekday"


def test_select_by_commute_needs_select(runner, tmp_path) -> None:
    result = runner.invoke(main, ["--select-by", "commute", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "give --select K too" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_embedded_default_is_named_as_such(runner, tmp_path) -> None:
    import networkx as nx

    from optimizer.network import prepare_network, save_network

    g = nx.MultiDiGraph(crs="epsg:4326")
    for a in range(4):
        for b in range(4):
            g.add_node(a * 4 + b, x=24.90 + a * 0.01, y=60.16 + b * 0.01)  # Helsinki
    for u in range(16):
        for v in (u + 1, u + 4):
            if v < 16 and (v != u + 1 or v % 4):
                g.add_edge(u, v, length=700.0, highway="secondary")
                g.add_edge(v, u, length=700.0, highway="secondary")
    save_network(prepare_network(g, source="grid"), tmp_path / "grid.graphml")
    (tmp_path / "a.csv").write_text("agent_id,lon,lat\nA1,24.91,60.17\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text(
        "telecentre_id,lon,lat,capacity\nT1,24.92,60.18,1\n", encoding="utf-8"
    )
    args = ["--network", str(tmp_path / "grid.graphml"), "--agents", str(tmp_path / "a.csv")]
    result = runner.invoke(
        main, [*args, "--telecentres", str(tmp_path / "t.csv"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "embedded head office" in result.output and "--head-office" not in result.output
    result = runner.invoke(main, [*args, "--head-office", "24.93,60.17", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "embedded telecentres" in result.output


#: The options of assign that set a field of PlanOptions: option -> (field, negated).
PLAN_OPTION_FIELDS = {
    "--select": ("select", False),
    "--select-by": ("select_by", False),
    "--max-minutes": ("max_minutes", False),
    "--min-saving": ("min_saving", False),
    "--objective": ("objective", False),
    "--preference-bonus": ("preference_bonus", False),
    "--allow-worse-off": ("no_worse_off", True),
    "--minimax": ("minimax", False),
    "--max-open": ("max_open", False),
    "--day-bonus": ("day_bonus", False),
    "--move-penalty": ("move_penalty", False),
    "--day-change-penalty": ("day_change_penalty", False),
    "--dedicated-desks": ("dedicated_desks", False),
    "--engine": ("engine", False),
    "--time-limit": ("time_limit_s", False),
    "--seed": ("seed", False),
}


def test_plan_option_defaults_are_the_dataclass_defaults() -> None:
    # a default lives in one place: PlanOptions; the command's options take theirs from it
    from dataclasses import fields

    from optimizer.cli.assign_options import PLAN_FIELDS, plan_options
    from optimizer.options import PlanOptions

    defaults = PlanOptions()
    options = {opt: p for p in main.params for opt in p.opts}
    exposed = {field for field, _ in PLAN_OPTION_FIELDS.values()}
    assert exposed == {f.name for f in fields(PlanOptions)} - {"max_snap_m"}
    assert exposed == set(PLAN_FIELDS.values())
    for option, (field, negated) in PLAN_OPTION_FIELDS.items():
        param = options[option]
        expected = getattr(defaults, field)
        assert param.default == ((not expected) if negated else expected), option
        assert PLAN_FIELDS[param.name] == field
    # the options as parsed by default build the default plan
    parsed = main.make_context("assign", []).params
    assert plan_options(parsed) == defaults
    assert plan_options({**parsed, "allow_worse_off": True, "time_limit": 7.0}) == PlanOptions(
        no_worse_off=False, time_limit_s=7.0
    )


def test_help_lists_the_plan_options(runner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in PLAN_OPTION_FIELDS:
        assert option in result.output
