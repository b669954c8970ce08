"""Plans under drive-time scenarios: what holds, and the range of the saving."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import HeadOffice, run
from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.network import prepare_network
from optimizer.speed_model import GROUPS
from optimizer.uncertainty import assess, scenario_network, scenarios

from .conftest import lambert_node


def test_scenarios_stay_within_the_uncertainty() -> None:
    cases = scenarios(0.15)
    assert len(cases) == 12
    for case in cases:
        assert case.multipliers.shape == (len(GROUPS) + 1,)
        assert np.all(case.multipliers >= 0.85 - 1e-12)
        assert np.all(case.multipliers <= 1.15 + 1e-12)
    assert [c.name for c in scenarios(0.15)] == [c.name for c in cases]  # seeded: the same
    for bad in (0.0, -0.1, 0.9):
        with pytest.raises(InputError, match="--speed-uncertainty"):
            scenarios(bad)


def _two_ways() -> nx.MultiDiGraph:
    """Home 0 on a crossing: telecentre A 6 km away by a primary road, B 5 km by a
    tertiary road, the head office 30 km away by a primary road."""
    g = nx.MultiDiGraph(crs="epsg:4326")
    for node, (x, y) in {0: (0, 0), 1: (6000, 0), 2: (0, 5000), 3: (-30000, 0)}.items():
        g.add_node(node, **lambert_node(x, y))
    for u, v, length, cls in (
        (0, 1, 6000.0, "primary"),
        (0, 2, 5000.0, "tertiary"),
        (0, 3, 30000.0, "primary"),
    ):
        g.add_edge(u, v, length=length, highway=cls)
        g.add_edge(v, u, length=length, highway=cls)
    return g


def test_every_road_slower_scales_every_edge() -> None:
    net = prepare_network(_two_ways())
    slower = scenario_network(net, scenarios(0.15)[0])
    assert slower.routing.seconds == pytest.approx(net.routing.seconds * 1.15, abs=2e-3)


def test_an_agent_whose_choice_flips_is_reported_not_holding() -> None:
    net = prepare_network(_two_ways())
    nodes = net.graph.nodes
    agents = pd.DataFrame(
        {"agent_id": ["home"], "lon": [nodes[0]["x"]], "lat": [nodes[0]["y"]], "telework_days": [1]}
    )
    sites = pd.DataFrame(
        {
            "telecentre_id": ["A", "B"],
            "name": ["A", "B"],
            "lon": [nodes[1]["x"], nodes[2]["x"]],
            "lat": [nodes[1]["y"], nodes[2]["y"]],
            "capacity": [1, 1],
        }
    )
    head = HeadOffice(nodes[3]["x"], nodes[3]["y"], name="office")
    result = run(agents, sites, head, net, min_saving=0)
    # B (5 km of small road at 72 km/h) beats A (6 km of primary at 72 km/h) on the network
    assert result.problem.telecentre_ids[result.assignment.telecentre[0]] == "B"
    robust = assess(result, lambda other: run(agents, sites, head, other, min_saving=0), 0.15)
    row = robust.agents.iloc[0]
    # main roads faster and small roads slower: A wins, so the plan does not hold everywhere
    assert not row["holds"]
    assert 0 < row["scenarios_same"] < 12
    # the plan as decided (B) saves less when every road is faster, more when slower
    own = robust.summary["plan_saving_week"]
    assert row["saving_week_low"] < own < row["saving_week_high"]
    flipped = robust.scenarios.set_index("scenario").loc[
        "main roads 15% faster, small roads slower"
    ]
    assert flipped["agents_same"] == 0
    assert flipped["best_saving_week"] > flipped["plan_saving_week"]


def test_assign_reports_the_scenarios_per_agent_and_in_the_summary(tmp_path) -> None:
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["--out", str(out), "--no-maps", "--speed-uncertainty", "15"])
    assert done.exit_code == 0, done.output
    assert "Drive times 15 % off (12 scenarios)" in done.output
    allocation = pd.read_csv(out / "allocation.csv")
    assert set(allocation["plan_holds"]) <= {"yes", "no"}
    assert ((allocation["plan_holds"] == "yes") == (allocation["scenarios_same"] == 12)).all()
    assert (allocation["saving_week_low"] <= allocation["saving_week_high"]).all()
    summary = json.loads((out / "summary.json").read_text())
    section = summary["drive_time_uncertainty"]
    assert section["scenarios"] == 12 and len(section["per_scenario"]) == 12
    assert section["agents_holding"] == int((allocation["plan_holds"] == "yes").sum())
    assert section["plan_saving_week_low"] <= section["plan_saving_week"]
    assert section["plan_saving_week"] <= section["plan_saving_week_high"]
    assert allocation["saving_week_low"].sum() <= section["plan_saving_week_low"] + 0.1 * len(
        allocation
    )


@pytest.mark.parametrize("value", ["0", "-5", "80", "nan", "abc"])
def test_bad_uncertainty_is_one_line(value: str, tmp_path) -> None:
    done = CliRunner().invoke(main, ["--out", str(tmp_path / "o"), "--speed-uncertainty", value])
    assert done.exit_code == 2
    assert "--speed-uncertainty" in done.output and done.output.count("\n") == 1


def test_a_scenario_where_must_assign_cannot_hold_is_solved_without_it() -> None:
    # home 0: the head office 10 km away by a primary road, telecentre B 9.5 km away by a
    # tertiary one. B saves a little on the network's times, nothing when main roads are
    # faster and small roads slower: there the agent who must be assigned cannot be
    g = nx.MultiDiGraph(crs="epsg:4326")
    for node, (x, y) in {0: (0, 0), 2: (0, 9500), 3: (-10000, 0)}.items():
        g.add_node(node, **lambert_node(x, y))
    for u, v, length, cls in ((0, 2, 9500.0, "tertiary"), (0, 3, 10000.0, "primary")):
        g.add_edge(u, v, length=length, highway=cls)
        g.add_edge(v, u, length=length, highway=cls)
    net = prepare_network(g)
    nodes = net.graph.nodes
    agents = pd.DataFrame(
        {
            "agent_id": ["home"],
            "lon": [nodes[0]["x"]],
            "lat": [nodes[0]["y"]],
            "telework_days": [1],
            "must_assign": [True],
        }
    )
    sites = pd.DataFrame(
        {
            "telecentre_id": ["B"],
            "name": ["B"],
            "lon": [nodes[2]["x"]],
            "lat": [nodes[2]["y"]],
            "capacity": [1],
        }
    )
    head = HeadOffice(nodes[3]["x"], nodes[3]["y"], name="office")
    result = run(agents, sites, head, net, min_saving=0)
    assert result.assignment.telecentre.tolist() == [0]
    robust = assess(
        result,
        lambda other: run(agents, sites, head, other, min_saving=0),
        0.15,
        relaxed=lambda other: run(
            agents.assign(must_assign=False), sites, head, other, min_saving=0
        ),
    )
    broken = robust.summary["scenarios_without_must_assign"]
    assert "main roads 15% faster, small roads slower" in broken
    assert len(broken) < 12
    row = robust.agents.iloc[0]
    assert not row["holds"]
    assert 0 < row["scenarios_same"] < 12


def test_assign_with_a_marginal_must_assign_agent_still_reports_the_scenarios(tmp_path) -> None:
    # A002 saves 0.3 minutes a day on the embedded network: under some scenarios nothing,
    # and it must be assigned. The run ends with its plan and a warning, not an error
    from optimizer import datasets

    roster = pd.read_csv(datasets.path(datasets.AGENTS_FILE), keep_default_na=False, dtype=str)
    roster["must_assign"] = np.where(roster["agent_id"] == "A002", "yes", "no")
    roster.to_csv(tmp_path / "agents.csv", index=False)
    out = tmp_path / "out"
    args = ["--agents", str(tmp_path / "agents.csv"), "--min-saving", "0", "--no-maps"]
    done = CliRunner().invoke(main, [*args, "--out", str(out), "--speed-uncertainty", "30"])
    assert done.exit_code == 0, done.output
    assert "solved without must-assign" in done.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["drive_time_uncertainty"]["scenarios_without_must_assign"]


def test_twin_groups_need_the_same_home_days_rules_and_previous_plan() -> None:
    from optimizer.uncertainty import twin_groups

    agents = pd.DataFrame(
        {
            "agent_id": ["a", "b", "c", "d", "e"],
            "lon": [3.5, 3.5, 3.5, 3.5, 3.6],
            "lat": [44.5] * 5,
            "telework_days": [1, 1, 2, 1, 1],
            "must_assign": [False, False, False, True, False],
        }
    )
    groups = twin_groups(agents)
    assert groups[0] == groups[1]  # same point, days and rules
    assert len(set(groups.tolist())) == 4  # other days, a rule, another point: no twins
    previous = pd.DataFrame(
        {"agent_id": ["a", "b"], "telecentre_id": ["t1", "t2"], "weekdays": ["mon", "mon"]}
    )
    assert twin_groups(agents, previous)[0] != twin_groups(agents, previous)[1]


def test_twin_swaps_are_trades_between_twins_only() -> None:
    from optimizer.uncertainty import twin_swaps

    groups = np.array([0, 0, 0, 1, 2])
    base = np.array([0, 1, -1, 0, 1])
    # twins 0 and 1 trade telecentres, twin 2 stays out; agents 3 and 4 (no twins) trade too
    other = np.array([1, 0, -1, 1, 0])
    assert twin_swaps(groups, base, other).tolist() == [True, True, False, False, False]
    # twin 0 goes out and twin 2 takes its place; twin 1 moves where no twin was: a flip
    other = np.array([-1, 2, 0, 0, 1])
    assert twin_swaps(groups, base, other).tolist() == [True, False, True, False, False]


def _three_at_home() -> tuple[pd.DataFrame, pd.DataFrame, HeadOffice, object]:
    """Three agents at home 0 of :func:`_two_ways`, one telework day each: twins t1 and t2,
    and x who must be assigned; A and B have one desk, on Monday only."""
    net = prepare_network(_two_ways())
    nodes = net.graph.nodes
    agents = pd.DataFrame(
        {
            "agent_id": ["t1", "t2", "x"],
            "lon": [nodes[0]["x"]] * 3,
            "lat": [nodes[0]["y"]] * 3,
            "telework_days": [1, 1, 1],
            "must_assign": [False, False, True],
        }
    )
    sites = pd.DataFrame(
        {
            "telecentre_id": ["A", "B"],
            "name": ["A", "B"],
            "lon": [nodes[1]["x"], nodes[2]["x"]],
            "lat": [nodes[1]["y"], nodes[2]["y"]],
            "capacity": [1, 1],
            **{f"desks_{d}": [int(d == "mon")] * 2 for d in ("mon", "tue", "wed", "thu", "fri")},
        }
    )
    return agents, sites, HeadOffice(nodes[3]["x"], nodes[3]["y"], name="office"), net


@pytest.mark.parametrize("trade", [("t1", "t2"), ("t1", "x")])
def test_a_trade_with_an_identical_twin_is_a_tie_not_a_flip(trade: tuple[str, str]) -> None:
    from dataclasses import replace

    agents, sites, head, net = _three_at_home()
    result = run(agents, sites, head, net, min_saving=0)
    ids = list(result.problem.agent_ids)
    i, j = ids.index(trade[0]), ids.index(trade[1])
    plans: list[np.ndarray] = []

    def traded(other):  # the scenario's plan with the two agents' telecentres traded
        again = run(agents, sites, head, other, min_saving=0)
        chosen = again.assignment.telecentre.copy()
        chosen[[i, j]] = chosen[[j, i]]
        plans.append(chosen)
        return replace(again, assignment=replace(again.assignment, telecentre=chosen))

    robust = assess(result, traded, 0.15)
    base = result.assignment.telecentre
    # recomputed apart: in each scenario, the twins t1 and t2 hold as a pair the places
    # common to both plans; those not held by the same twin are ties
    same = np.sum([p == base for p in plans], axis=0)
    ties = []
    for p in plans:
        common = sum(min(list(base[:2]).count(t), list(p[:2]).count(t)) for t in set(base[:2]))
        ties.append(common - int((p[:2] == base[:2]).sum()))
    swaps = robust.agents["scenarios_twin_swap"].to_numpy()
    assert robust.agents["scenarios_same"].tolist() == same.tolist()
    assert [r["agents_twin_swap"] for r in robust.summary["per_scenario"]] == ties
    assert swaps.sum() == sum(ties) and swaps[2] == 0
    assert robust.agents["holds"].tolist() == (same + swaps == 12).tolist()
    summary = robust.summary
    assigned = base >= 0
    holds = robust.agents["holds"].to_numpy()
    assert summary["assigned_agents_holding"] == int((holds & assigned).sum())
    assert summary["assigned_agents_holding_exactly"] == int(((same == 12) & assigned).sum())
    assert summary["assigned_agents_twin_swap"] == int((holds & (swaps > 0) & assigned).sum())
    assert summary["assigned_agents_flipping"] == int((~holds & assigned).sum())
    assert sorted(base.tolist()) == [-1, 0, 1]  # one twin at each telecentre or none
    if trade == ("t1", "x"):  # x is no twin of t1 (it must be assigned): its trade is a flip
        assert not robust.agents["holds"].iloc[2]
    else:
        assert swaps[:2].min() > 0  # the trade happens in some scenario and is told a tie


def test_assign_tells_ties_between_agents_of_one_commune_from_flips(tmp_path, monkeypatch) -> None:
    # agents placed at their commune's town hall: several at one point, same days, same rules.
    # A scenario's plan that trades two of them is a tie, not a drive-time flip
    from dataclasses import replace

    import optimizer.cli.assign as cli
    from optimizer import datasets

    # one desk a day at Fournels: 5 of the 8 one-day agents of Fournels get one, or fewer
    # with the two two-day agents of Malzieu-Ville
    roster = pd.DataFrame(
        {
            "agent_id": [f"P{k:02d}" for k in range(10)],
            "commune": ["Fournels"] * 8 + ["Malzieu-Ville"] * 2,
            "departement": ["48"] * 10,
            "telework_days": [1] * 8 + [2] * 2,
        }
    )
    roster.to_csv(tmp_path / "agents.csv", index=False)
    sites = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    sites = sites[sites["telecentre_id"] == "fournels"].assign(capacity=1)
    sites.to_csv(tmp_path / "sites.csv", index=False)
    real = cli.run
    calls = {"n": 0}

    def trading(*args, **kwargs):  # each scenario's plan trades a placed and an unplaced twin
        result = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            return result
        chosen = result.assignment.telecentre.copy()
        i, j = int(np.flatnonzero(chosen[:8] >= 0)[0]), int(np.flatnonzero(chosen[:8] < 0)[0])
        chosen[[i, j]] = chosen[[j, i]]
        return replace(result, assignment=replace(result.assignment, telecentre=chosen))

    monkeypatch.setattr(cli, "run", trading)
    out = tmp_path / "out"
    args = ["--agents", str(tmp_path / "agents.csv"), "--telecentres", str(tmp_path / "sites.csv")]
    args += ["--no-maps", "--speed-uncertainty", "15"]
    done = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert done.exit_code == 0, done.output
    allocation = pd.read_csv(out / "allocation.csv", keep_default_na=False)
    assigned = allocation["status"] == "assigned"
    holds = allocation["plan_holds"] == "yes"
    exactly = allocation["scenarios_same"] == 12
    tied = allocation["scenarios_twin_swap"] > 0
    assert ((allocation["scenarios_same"] + allocation["scenarios_twin_swap"] == 12) == holds).all()
    # every tie is between agents of one commune with the same days
    twins = roster.groupby(["commune", "telework_days"])["agent_id"].transform("size") > 1
    assert not (tied & ~twins.to_numpy()).any()
    counts = (
        int((holds & assigned).sum()),
        int(assigned.sum()),
        int((exactly & assigned).sum()),
        int((holds & tied & assigned).sum()),
        int((~holds & assigned).sum()),
    )
    assert counts[3] > 0
    assert (
        f"{counts[0]} of {counts[1]} assigned agents keep their telecentre in every scenario "
        f"({counts[2]} themselves, {counts[3]} by a tie: an identical twin, same home, days and "
        f"rules, takes their place), {counts[4]} change it as drive times change"
    ) in done.output
    section = json.loads((out / "summary.json").read_text())["drive_time_uncertainty"]
    assert section["assigned_agents_holding"] == counts[0]
    assert section["assigned_agents_holding_exactly"] == counts[2]
    assert section["assigned_agents_twin_swap"] == counts[3]
    assert section["assigned_agents_flipping"] == counts[4]
    # a shared run does not tell who has a twin: the swaps are counted as the same place
    calls["n"] = 0
    shared = tmp_path / "shared"
    done = CliRunner().invoke(main, [*args, "--pseudonymise", "s", "--out", str(shared)])
    assert done.exit_code == 0, done.output
    published = pd.read_csv(shared / "allocation.csv", keep_default_na=False)
    assert "scenarios_twin_swap" not in published
    assert ((published["scenarios_same"] == 12) == (published["plan_holds"] == "yes")).all()
    assert sorted(published["scenarios_same"]) == sorted(
        allocation["scenarios_same"] + allocation["scenarios_twin_swap"]
    )
