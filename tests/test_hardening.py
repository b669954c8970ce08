"""Issue 14: what still works after the hardening, and arbitrary option values never crash."""

from __future__ import annotations

import json
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import datasets
from optimizer.cli import main
from optimizer.fairness import frontier
from optimizer.inputs import read_agents
from optimizer.model import AssignmentProblem
from optimizer.report import solver_outcome

SITES = (
    "telecentre_id,name,lon,lat,capacity\n"
    "marvejols,Marvejols,3.2895,44.5504,2\n"
    "langogne,Langogne,3.8546,44.7269,2\n"
)


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "-q", "--no-maps"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_frontier_with_an_agent_living_on_a_telecentre(tmp_path) -> None:
    (tmp_path / "agents.csv").write_text(
        "agent_id,lon,lat,telework_days\nA1,3.2895,44.5504,1\nA2,3.28,44.80,2\n", encoding="utf-8"
    )
    (tmp_path / "sites.csv").write_text(SITES, encoding="utf-8")
    out = tmp_path / "out"
    code, output = _invoke(
        "--agents",
        str(tmp_path / "agents.csv"),
        "--telecentres",
        str(tmp_path / "sites.csv"),
        "--out",
        str(out),
        "--frontier",
    )
    assert code == 0, output
    curve = pd.read_csv(out / "frontier.csv")
    assert curve["max_minutes"].iloc[0] == pytest.approx(0.0, abs=0.01)
    assert curve["assigned"].iloc[0] >= 1  # the agent on the telecentre's point


def test_frontier_starts_at_a_zero_drive() -> None:
    problem = AssignmentProblem.from_cost_matrix(
        np.array([[0.0, 30.0], [20.0, 10.0]]), np.array([25.0, 40.0]), np.array([1, 1])
    )
    curve = frontier(problem)
    assert curve["max_minutes"].iloc[0] == 0.0
    assert curve["assigned"].tolist()[0] == 1  # the agent living on the telecentre
    assert curve["assigned"].tolist()[-1] == 2


def test_quoted_separators_in_the_header_do_not_fool_the_delimiter_guess(tmp_path) -> None:
    path = tmp_path / "agents.csv"
    path.write_text(
        'agent_id,lon,lat,"note; one; two; three, four"\nA1,3.5,44.5,"x; y"\n', encoding="utf-8"
    )
    agents = read_agents(path)
    assert agents["agent_id"].tolist() == ["A1"]
    assert agents["lon"].tolist() == [3.5]


def test_a_named_geopackage_layer_is_read(tmp_path) -> None:
    path = tmp_path / "agents.gpkg"
    for layer, lon in (("roster_2023", 3.5), ("roster_2024", 3.6)):
        gpd.GeoDataFrame(
            {"agent_id": ["A1"]}, geometry=gpd.points_from_xy([lon], [44.5]), crs="EPSG:4326"
        ).to_file(path, layer=layer)
    assert read_agents(f"{path}:roster_2024")["lon"].tolist() == pytest.approx([3.6])
    assert read_agents(f"{path}:roster_2023")["lon"].tolist() == pytest.approx([3.5])


def test_a_replan_reads_back_ids_neutralised_for_spreadsheets(tmp_path) -> None:
    roster = datasets.agents()
    roster["agent_id"] = ["=" + a if i % 2 else "@" + a for i, a in enumerate(roster["agent_id"])]
    roster.to_csv(tmp_path / "agents.csv", index=False)
    out = tmp_path / "out"
    assert _invoke("--agents", str(tmp_path / "agents.csv"), "--out", str(out))[0] == 0
    allocation = pd.read_csv(out / "allocation.csv", dtype=str)
    assert allocation["agent_id"].str.startswith("'").all()
    code, output = _invoke(
        "--agents", str(tmp_path / "agents.csv"), "--out", str(out), "--previous",
        str(out / "allocation.csv"),
    )  # fmt: skip
    assert code == 0, output
    changes = pd.read_csv(out / "changes.csv", dtype=str)
    assert changes.empty, changes.head()  # same inputs: nobody joins, leaves or moves


def test_solver_outcome_never_contradicts_itself() -> None:
    assert solver_outcome("optimal", 100.0, 120.0, minimise=False) == {
        "status": "optimal",
        "objective_value": 100.0,
        "best_bound": 100.0,
        "gap": 0.0,
    }
    assert solver_outcome("feasible", 100.0, 125.0, minimise=False)["gap"] == pytest.approx(0.2)
    assert solver_outcome("feasible", 100.0, 100.0, minimise=False)["status"] == "optimal"
    wrong_side = solver_outcome("feasible", 100.0, 90.0, minimise=False)
    assert wrong_side["best_bound"] is None and wrong_side["status"] == "feasible"
    assert solver_outcome("feasible", 100.0, 80.0, minimise=True)["best_bound"] == 80.0


def test_a_weekly_summary_is_consistent(tmp_path) -> None:
    sites = datasets.telecentres()
    for day in ("mon", "tue", "wed", "thu", "fri"):
        sites[day] = sites["capacity"]
    sites.to_csv(tmp_path / "sites.csv", index=False)
    out = tmp_path / "out"
    code, output = _invoke("--telecentres", str(tmp_path / "sites.csv"), "--out", str(out))
    assert code == 0, output
    solver = json.loads((out / "summary.json").read_text(encoding="utf-8"))["solver"]
    if solver["status"] == "optimal":
        assert solver["gap"] == 0.0 and solver["best_bound"] == solver["objective_value"]
    elif solver["best_bound"] is not None:
        assert solver["best_bound"] >= solver["objective_value"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_out_is_one_line(tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, output = _invoke("--out", str(locked / "out"))
    finally:
        locked.chmod(0o700)
    assert code == 2
    assert output.startswith(f"assign: error: --out: cannot write in '{locked}'")


NUMERIC_OPTIONS = [
    "--select",
    "--max-minutes",
    "--min-saving",
    "--preference-bonus",
    "--time-limit",
    "--rank",
    "--max-open",
    "--day-bonus",
    "--move-penalty",
    "--head-office",
]
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(max_size=12),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "1e-320", "0", "1_0", "٣", "0x10", " 5 "]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(option=st.sampled_from(NUMERIC_OPTIONS), value=VALUES)
def test_any_option_value_ends_in_a_result_or_one_line(option, value, tmp_path) -> None:
    agents = tmp_path / "agents.csv"
    agents.write_text("agent_id,lon,lat,telework_days\nA1,3.50,44.52,1\nA2,3.28,44.80,2\n")
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES)
    result = CliRunner().invoke(
        main,
        [
            *("--agents", str(agents), "--telecentres", str(sites)),
            *("--out", str(tmp_path / "o"), f"{option}={value}", "-q", "--no-maps"),
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        option,
        value,
        result.exception,
    )
    assert result.exit_code in (0, 1, 2), (option, value, result.output)
    if result.exit_code:
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("assign: error: "), lines


def test_library_warnings_do_not_reach_the_user(tmp_path, monkeypatch) -> None:
    import warnings

    def noisy(*args, **kwargs):
        warnings.warn("driver GeoJSON: something odd at line 3", RuntimeWarning, stacklevel=1)
        msg = "Failed to read GeoJSON data"
        raise RuntimeError(msg)

    monkeypatch.setattr("optimizer.inputs.loading.gpd.read_file", noisy)
    path = tmp_path / "agents.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    result = CliRunner().invoke(main, ["--agents", str(path), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"assign: error: {path}: cannot be read as a point layer (Failed to read GeoJSON data). "
        "Check that it is a valid file."
    ]


def test_an_out_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch) -> None:
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("optimizer.publish.os.open", refuse)
    code, output = _invoke("--out", str(tmp_path / "out"))
    assert code == 2
    assert output.strip() == (
        f"assign: error: --out: cannot write in '{tmp_path}' (Permission denied). "
        "Choose a folder you can write to."
    )
