"""A workplace per agent: savings counted against each agent's own workplace."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import run
from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.inputs import HeadOffice, read_agents, read_workplaces
from optimizer.report import allocation_table, ranking_table, travel_times_table

from .conftest import node_points


def _setup(five_node_network):
    """Agents at node 1; head office at node 3, workplace W at node 5, telecentre T2 at node 2."""
    net = five_node_network
    home = node_points(net, [1], "h").iloc[0]
    agents = read_agents(
        pd.DataFrame(
            {
                "agent_id": ["at_head_office", "at_w"],
                "lon": [home["lon"]] * 2,
                "lat": [home["lat"]] * 2,
                "workplace_id": ["", "W"],
            }
        )
    )
    site = node_points(net, [2], "T")
    telecentres = site.rename(columns={"id": "telecentre_id"}).assign(name="T", capacity=2)
    ho = node_points(net, [3], "x").iloc[0]
    w = node_points(net, [5], "W").iloc[0]
    workplaces = read_workplaces(
        pd.DataFrame(
            {"workplace_id": ["W"], "name": ["W site"], "lon": [w["lon"]], "lat": [w["lat"]]}
        )
    )
    return agents, telecentres, HeadOffice(lon=ho["lon"], lat=ho["lat"]), workplaces


def test_savings_are_counted_against_each_agents_workplace(five_node_network) -> None:
    agents, telecentres, ho, workplaces = _setup(five_node_network)
    result = run(agents, telecentres, ho, five_node_network, workplaces=workplaces, min_saving=0.0)
    table = allocation_table(result).set_index("agent_id")
    # by hand (free flow, conftest): 1->2 40 s, 2->3 40 s, 3->4 120 s, 4->3 40 s, 4-5 45 s
    # head office (node 3): 80 s there, 80 s back; telecentre T (node 2): 40 s each way
    # W (node 5): 1->2->3->4->5 = 245 s there, 5->4->3->2->1 = 165 s back
    assert table.loc["at_head_office", "workplace_id"] == "head_office"
    assert table.loc["at_w", "workplace_id"] == "W"
    assert table.loc["at_head_office", "minutes_to_head_office"] == pytest.approx(80 / 60, abs=0.05)
    assert table.loc["at_w", "minutes_to_head_office"] == pytest.approx(245 / 60, abs=0.05)
    saved = table["minutes_saved_per_day"]
    assert saved["at_head_office"] == pytest.approx((160 - 80) / 60, abs=0.05)
    assert saved["at_w"] == pytest.approx((245 + 165 - 80) / 60, abs=0.05)
    assert (table["telecentre_id"] == "T2").all()
    ranking = ranking_table(result)
    assert ranking["agent_id"].tolist() == ["at_w", "at_head_office"]  # longest commute first
    assert ranking["workplace_id"].tolist() == ["W", "head_office"]
    travel = travel_times_table(result)
    assert set(travel["destination_id"]) == {"T2", "head_office", "W"}


def test_a_rows_workplace_point_is_its_workplace_in_the_library(five_node_network) -> None:
    """``read_agents`` keeps a roster's ``workplace_lon, workplace_lat`` and ``run`` plans
    with them: the same plan and times as the same point named in a workplaces table."""
    agents, telecentres, ho, workplaces = _setup(five_node_network)
    w = workplaces.iloc[0]
    pointed = read_agents(
        pd.DataFrame(
            {
                "agent_id": agents["agent_id"],
                "lon": agents["lon"],
                "lat": agents["lat"],
                "workplace_lon": [None, w["lon"]],
                "workplace_lat": [None, w["lat"]],
            }
        )
    )
    named = run(agents, telecentres, ho, five_node_network, workplaces=workplaces, min_saving=0.0)
    result = run(pointed, telecentres, ho, five_node_network, min_saving=0.0)
    mine, theirs = allocation_table(result), allocation_table(named)
    assert mine["workplace_id"].tolist() == ["head_office", f"xy:{w['lon']:.6f},{w['lat']:.6f}"]
    same = [c for c in theirs.columns if c != "workplace_id"]
    pd.testing.assert_frame_equal(mine[same], theirs[same])


def test_unknown_workplace_is_one_line_error(five_node_network) -> None:
    agents, telecentres, ho, workplaces = _setup(five_node_network)
    with pytest.raises(
        InputError,
        match=r"row 3, column 'workplace_id': 'W' is not a workplace id. Known ids: head_office\. Give the workplaces file",
    ):
        run(agents, telecentres, ho, five_node_network)
    clash = workplaces.assign(workplace_id="T2")
    with pytest.raises(InputError, match="also a telecentre id"):
        run(agents.assign(workplace_id=""), telecentres, ho, five_node_network, workplaces=clash)
    with pytest.raises(InputError, match="reserved for the head office"):
        read_workplaces(workplaces.assign(workplace_id="head_office"))


def test_workplaces_through_the_command(tmp_path) -> None:
    (tmp_path / "agents.csv").write_text(
        "agent_id,commune,workplace_id,telework_days\n"
        "A1,Langogne,,1\nA2,Langogne,marvejols-site,1\nA3,Meyrueis,marvejols-site,2\n",
        encoding="utf-8",
    )
    (tmp_path / "work.csv").write_text(
        "workplace_id,name,lon,lat\nmarvejols-site,Marvejols road depot,3.2905,44.5540\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["--agents", str(tmp_path / "agents.csv"), "--workplaces", str(tmp_path / "work.csv")]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "allocation.csv", keep_default_na=False).set_index("agent_id")
    assert table["workplace_id"].tolist() == ["head_office", "marvejols-site", "marvejols-site"]
    # the same home, two workplaces: Marvejols is further from Langogne than Mende
    assert table.loc["A2", "minutes_to_head_office"] > table.loc["A1", "minutes_to_head_office"]
    assert table.loc["A2", "minutes_saved_per_day"] > table.loc["A1", "minutes_saved_per_day"]
    assert "Marvejols road depot" in (out / "map.html").read_text(encoding="utf-8")


def test_workplace_coordinates_in_the_roster_are_each_rows_workplace(tmp_path) -> None:
    """A roster that gives rows their workplace's point (``workplace_lon, workplace_lat``, as
    a national run reads them): the one pipeline plans with it, as with the same point in a
    workplaces file. It used to plan those agents against the head office, without a word."""
    depot = "3.2905,44.5540"
    (tmp_path / "points.csv").write_text(
        "agent_id,commune,workplace_lon,workplace_lat,telework_days\n"
        f"A1,Langogne,,,1\nA2,Langogne,{depot},1\nA3,Meyrueis,{depot},2\n",
        encoding="utf-8",
    )
    (tmp_path / "named.csv").write_text(
        "agent_id,commune,workplace_id,telework_days\n"
        "A1,Langogne,,1\nA2,Langogne,depot,1\nA3,Meyrueis,depot,2\n",
        encoding="utf-8",
    )
    (tmp_path / "work.csv").write_text(
        f"workplace_id,name,lon,lat\ndepot,Marvejols road depot,{depot}\n", encoding="utf-8"
    )
    tables = {}
    for name, extra in (("points", []), ("named", ["--workplaces", str(tmp_path / "work.csv")])):
        out = tmp_path / name
        args = ["--agents", str(tmp_path / f"{name}.csv"), *extra, "--no-maps"]
        result = CliRunner().invoke(main, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        tables[name] = pd.read_csv(out / "allocation.csv", keep_default_na=False)
    points, named = tables["points"], tables["named"]
    assert points["workplace_id"].tolist() == ["head_office"] + ["xy:3.290500,44.554000"] * 2
    same = [c for c in named.columns if c != "workplace_id"]
    pd.testing.assert_frame_equal(points[same], named[same])
    assert points.loc[1, "minutes_to_head_office"] > points.loc[0, "minutes_to_head_office"]


def test_half_a_workplace_point_is_a_one_line_error(tmp_path) -> None:
    (tmp_path / "agents.csv").write_text(
        "agent_id,commune,workplace_lon,workplace_lat\nA1,Langogne,3.29,\n", encoding="utf-8"
    )
    args = ["--agents", str(tmp_path / "agents.csv"), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "row 2: one of 'workplace_lon', 'workplace_lat' is empty" in result.output
    assert not (tmp_path / "out").exists()
