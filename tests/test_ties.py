"""Ties between equal agents: the same plan every run, settled by the stated rule, reasons true."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import datasets, run
from optimizer.cli import main
from optimizer.model import AssignmentProblem
from optimizer.report import allocation_table
from optimizer.ties import settle_ties, tie_losses, tie_objective, tie_order

# communes whose agents compete for the same telecentres (the embedded network)
COMMUNES = [
    "Mende",
    "Langogne",
    "Marvejols",
    "Saint-Chély-d'Apcher",
    "Florac Trois Rivières",
    "Chanac",
    "Malzieu-Ville",
    "Châteauneuf-de-Randon",
    "Peyre en Aubrac",
    "Villefort",
    "Meyrueis",
    "Fournels",
]


def roster_by_commune(n: int, *, days: tuple[int, ...] = (1, 2, 3), seed: int = 3) -> pd.DataFrame:
    """``n`` agents at town halls (so, many ties), ids in no particular order."""
    rng = np.random.default_rng(seed)
    communes = datasets.communes().drop_duplicates("nom").set_index("nom")
    picked = rng.choice(COMMUNES, n)
    return pd.DataFrame(
        {
            "agent_id": [f"E{k:04d}" for k in rng.permutation(n)],
            "lon": communes.loc[picked, "mairie_lon"].to_numpy(),
            "lat": communes.loc[picked, "mairie_lat"].to_numpy(),
            "telework_days": rng.choice(days, n),
            "commune": picked,
        }
    )


def _inputs(roster: pd.DataFrame) -> pd.DataFrame:
    from optimizer.inputs import read_agents

    return read_agents(roster)


def _plan(roster: pd.DataFrame, network, **options) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    result = run(
        _inputs(roster), datasets.telecentres(), datasets.head_office(), network, **options
    )
    assert result.plan is not None
    return result, allocation_table(result), result.plan.schedule_table()


def draw(agent_id: str, seed: int) -> int:
    """The draw as the README states it: SHA-256 of the seed and the id, first 8 bytes."""
    return int.from_bytes(hashlib.sha256(f"{seed}\x00{agent_id}".encode()).digest()[:8], "big")


@pytest.mark.parametrize(
    ("days", "options"),
    [
        ((1,), {}),
        ((1, 2, 3), {}),
        ((1, 2, 3), {"select": 40}),
        ((1, 2, 3), {"select": 40, "select_by": "commute"}),
        ((1, 2, 3), {"max_open": 3}),
        ((1, 2, 3), {"dedicated_desks": True}),
        ((1, 2, 3), {"engine": "cp-sat"}),
        # cut short by its time limit: stopped by CP-SAT's deterministic time, the same plan
        ((1, 2, 3), {"minimax": True, "time_limit_s": 3.0}),
    ],
    ids=[
        "one-day-flow",
        "weekly-cp-sat",
        "select",
        "select-by-commute",
        "max-open",
        "dedicated",
        "engine-cp-sat",
        "minimax-time-limit",
    ],
)
def test_a_roster_by_commune_gives_the_same_plan_every_run(lozere_network, days, options) -> None:
    roster = roster_by_commune(150 if "select" in options else 300, days=days)
    runs = [_plan(roster, lozere_network, **options) for _ in range(2 if options else 3)]
    first = runs[0]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(other[1], first[1])
        pd.testing.assert_frame_equal(other[2], first[2])
    if not options:
        assert first[0].ties.lost  # the roster has ties, and they were settled


def test_equals_are_served_by_priority_then_draw(lozere_network) -> None:
    roster = roster_by_commune(300)
    rng = np.random.default_rng(11)
    roster["priority"] = rng.choice([0, 0, 0, 1, 2], len(roster))
    result, table, _ = _plan(roster, lozere_network, seed=7)
    placed = table["status"] == "assigned"
    # agents of one commune with the same days have the same options: within each such group,
    # the placed ones are exactly the first by (priority, then the draw), an independent sort
    table["priority"] = roster["priority"].to_numpy()
    table["commune"] = roster["commune"].to_numpy()
    table["draw"] = [draw(a, 7) for a in table["agent_id"]]
    table["placed"] = placed
    groups = 0
    for _, group in table.groupby(["commune", "telework_days"]):
        if group["placed"].all() or not group["placed"].any():
            continue
        groups += 1
        ranked = group.sort_values(["priority", "draw"], ascending=[False, True])
        k = int(group["placed"].sum())
        assert ranked["placed"].head(k).all(), ranked[["agent_id", "priority", "placed"]]
    assert groups >= 3  # the check bit
    assert result.ties.counts()["priority"] > 0


def test_each_tie_reason_is_true(lozere_network) -> None:
    roster = roster_by_commune(300)
    roster["priority"] = np.random.default_rng(5).choice([0, 1], len(roster))
    result, table, schedule = _plan(roster, lozere_network)
    rows = table.set_index("agent_id")
    prio = dict(zip(roster["agent_id"], roster["priority"], strict=True))
    days = schedule.set_index("agent_id")
    travel = result.travel.table.set_index(["origin_id", "destination_id"])
    lost = table[table["tie_won_by"] != ""]
    assert len(lost) == len(result.ties.lost) > 0
    for _, loser in lost.set_index("agent_id").iterrows():
        winner = rows.loc[loser["tie_won_by"]]
        assert loser["status"] == "not_assigned" and winner["status"] == "assigned"
        assert loser["reason"].startswith(f"tie lost to {loser['tie_won_by']}: ")
        assert loser["telework_days"] == winner["telework_days"]

        # the same saving at the winner's telecentre, recomputed from the travel table
        def saving(agent: str, place: str, travel=travel) -> float:
            ho = travel.loc[(agent, "head_office")]
            tc = travel.loc[(agent, place)]
            return (ho["minutes_to"] + ho["minutes_back"]) - (tc["minutes_to"] + tc["minutes_back"])

        assert saving(loser.name, winner["telecentre_id"]) == pytest.approx(
            saving(winner.name, winner["telecentre_id"]), abs=1 / 60
        )
        if prio[winner.name] != prio[loser.name]:
            assert prio[winner.name] > prio[loser.name]
            assert loser["reason"].endswith("decided by higher priority")
        elif winner["minutes_to_head_office"] != loser["minutes_to_head_office"]:
            assert winner["minutes_to_head_office"] > loser["minutes_to_head_office"]
            assert loser["reason"].endswith("decided by longer drive to the head office")
        else:
            assert draw(winner.name, 2015) < draw(loser.name, 2015)
            assert loser["reason"].endswith("decided by the draw (seed 2015)")
    assert days.index.isin(table.loc[table["status"] == "assigned", "agent_id"]).all()


def test_another_seed_changes_only_tie_decisions(lozere_network) -> None:
    roster = roster_by_commune(300)
    one, table_1, _ = _plan(roster, lozere_network, seed=1)
    two, table_2, _ = _plan(roster, lozere_network, seed=2)
    assert one.assignment.objective_value == pytest.approx(two.assignment.objective_value)
    in_1, in_2 = table_1["status"] == "assigned", table_2["status"] == "assigned"
    assert (in_1 != in_2).any()
    # whoever is left out in one run and placed in the other lost a tie in the first
    assert (table_1.loc[in_2 & ~in_1, "tie_won_by"] != "").all()
    assert (table_2.loc[in_1 & ~in_2, "tie_won_by"] != "").all()
    # the places themselves are the same: equals only traded them
    places = ["telecentre_id", "telework_days", "minutes_saved_per_day"]
    pd.testing.assert_frame_equal(
        table_1.loc[in_1, places].sort_values(places).reset_index(drop=True),
        table_2.loc[in_2, places].sort_values(places).reset_index(drop=True),
    )


def test_the_flow_serves_the_longer_commute_among_equal_savings() -> None:
    # two agents at different places, the same saving at the one telecentre with one desk
    minutes = np.array([[10.0], [30.0]])
    head = np.array([40.0, 60.0])  # both save 60 round-trip minutes a day
    for first in (0, 1):  # whatever the input order
        rows = [first, 1 - first]
        problem = AssignmentProblem.from_cost_matrix(
            minutes[rows], head[rows], np.array([1]), agent_ids=["a", "b"]
        )
        order = tie_order(["a", "b"], commute=problem.head_office_minutes_to)
        weights, scale = tie_objective(order, most_placed=1)
        tied = problem.with_rules(tie_weight=weights, tie_scale=scale)
        result = tied.solve()
        assert result.objective_value == pytest.approx(60.0)  # the saving, ties left out
        placed = int(np.flatnonzero(result.telecentre >= 0)[0])
        assert head[rows][placed] == 60.0  # the longer drive to the head office


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 9),
    seed=st.integers(0, 2**16),
    capacity=st.integers(1, 4),
)
def test_exchanges_keep_the_saving_and_leave_no_equal_behind(
    n: int, seed: int, capacity: int
) -> None:
    rng = np.random.default_rng(seed)
    minutes = rng.choice([10.0, 20.0], size=(n, 2))  # few values: many equal agents
    head = rng.choice([40.0, 50.0], size=n)
    problem = AssignmentProblem.from_cost_matrix(
        minutes, head, np.array([capacity, 1]), days=np.ones(n, dtype=np.int64)
    )
    plan = problem.solve()
    days = np.zeros((n, 5), dtype=bool)
    days[plan.telecentre >= 0, 0] = True
    order = tie_order(problem.agent_ids, commute=head, seed=seed)
    telecentre, new_days, _ = settle_ties(problem, plan.telecentre, days, order)
    assert (
        np.bincount(telecentre[telecentre >= 0], minlength=2).tolist()
        == np.bincount(plan.telecentre[plan.telecentre >= 0], minlength=2).tolist()
    )
    again = problem.solve()  # the same problem's optimum, for the saving
    from optimizer.model import _gain_of

    assert _gain_of(problem, telecentre) == _gain_of(problem, again.telecentre)
    # no agent left out could take a placed agent's place at the same gain while first by the rule
    gain = problem.weekly_gain()
    for b in np.flatnonzero(telecentre < 0):
        for a in np.flatnonzero(telecentre >= 0):
            j = telecentre[a]
            if gain[b, j] == gain[a, j] and gain[b, j] > 0:
                assert order.rank[a] < order.rank[b]
    losses = tie_losses(problem, telecentre, new_days, order)
    for b, (a, _) in losses.items():
        assert telecentre[b] < 0 <= telecentre[a] and order.rank[a] < order.rank[b]


def test_the_seed_is_recorded_and_checked(tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(main, ["--out", str(out), "--seed", "42", "--no-maps", "-q"])
    assert done.exit_code == 0, done.output
    info = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert info["options"]["seed"] == 42
    assert info["ties"]["seed"] == 42
    assert info["ties"]["lost"] == sum(info["ties"]["lost_by"].values())
    bad = runner.invoke(main, ["--out", str(tmp_path / "x"), "--seed", "-1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_a_shared_run_names_no_winner_by_its_id(tmp_path, lozere_network) -> None:
    roster = roster_by_commune(120)
    path = tmp_path / "roster.csv"
    roster.to_csv(path, index=False)
    out = tmp_path / "out"
    done = CliRunner().invoke(
        main, ["--agents", str(path), "--out", str(out), "--pseudonymise", "s", "--no-maps", "-q"]
    )
    assert done.exit_code == 0, done.output
    text = (out / "allocation.csv").read_text(encoding="utf-8")
    table = pd.read_csv(out / "allocation.csv", keep_default_na=False)
    lost = table[table["tie_won_by"] != ""]
    assert not lost.empty
    assert lost["tie_won_by"].str.fullmatch(r"P[0-9a-f]{12}").all()
    for _, row in lost.iterrows():
        assert row["reason"].startswith(f"tie lost to {row['tie_won_by']}: ")
    assert not any(a in text for a in roster["agent_id"])
