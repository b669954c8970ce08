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
