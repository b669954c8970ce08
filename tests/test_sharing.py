"""Outputs fit to share: the trilateration attack, small cells, order, the key file."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.model import HEAD_OFFICE
from optimizer.report import pseudonym
from optimizer.sharing import MIN_OFFSET_M, group_small_cells, offsets

from .privacy_attack import attack, attack_error_m

SALT = "a planner's secret"
ROUNDED = {"minutes_to": 1.0, "minutes_back": 1.0, "km_to": 1.0, "km_back": 1.0}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The default roster written twice: for the planner, and fit to share."""
    base = tmp_path_factory.mktemp("share")
    own, shared, key = base / "own", base / "shared", base / "key.csv"
    for args in (
        ["--out", str(own)],
        ["--out", str(shared), "--pseudonymise", SALT, "--key-file", str(key)],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    return own, shared, key


def _destinations() -> pd.DataFrame:
    sites = datasets.telecentres().rename(columns={"telecentre_id": "id"})[["id", "lon", "lat"]]
    ho = datasets.head_office()
    extra = pd.DataFrame({"id": [HEAD_OFFICE], "lon": [ho.lon], "lat": [ho.lat]})
    return pd.concat([sites, extra], ignore_index=True)


def _attack(folder, lozere_network, steps=None) -> np.ndarray:
    travel = pd.read_csv(folder / "travel_times.csv", keep_default_na=False, na_values=[""])
    snaps = pd.read_csv(folder / "allocation.csv").set_index("agent_id")["snap_m"]
    guesses = attack(lozere_network, travel, snaps, _destinations(), step_m=50.0, steps=steps)
    return guesses


def test_trilateration_finds_homes_in_the_planners_files(runs, lozere_network) -> None:
    own, _, _ = runs
    roster = datasets.agents()
    guesses = _attack(own, lozere_network)
    error = attack_error_m(lozere_network, guesses, roster, roster["agent_id"])
    assert len(error) == len(roster)
    assert np.median(error) < 30  # the planner's own files locate homes (grid of 50 m)


def test_trilateration_is_off_by_500_m_at_the_median_in_shared_files(runs, lozere_network) -> None:
    _, shared, key = runs
    roster = datasets.agents()
    ids = pd.read_csv(key).set_index("agent_id")["pseudonym"].reindex(roster["agent_id"])
    guesses = _attack(shared, lozere_network, steps=ROUNDED)
    error = attack_error_m(lozere_network, guesses, roster, ids.reset_index(drop=True))
    assert len(error) == len(roster)
    assert np.median(error) >= 500
    assert np.mean(error >= 500) >= 0.8


def test_offsets_are_stable_and_between_the_bounds() -> None:
    dx, dy = offsets(["A1", "A2", "A3"], SALT)
    again, _ = offsets(["A1", "A2", "A3"], SALT)
    other, _ = offsets(["A1", "A2", "A3"], "another salt")
    assert np.array_equal(dx, again) and not np.array_equal(dx, other)
    assert (np.hypot(dx, dy) >= MIN_OFFSET_M).all()


def test_no_commune_cell_under_three_in_any_shared_file(runs) -> None:
    _, shared, _ = runs
    roster = datasets.agents()
    counts = roster["commune"].value_counts()
    public = " ".join([*datasets.telecentres()["name"], datasets.head_office().name, "Mende"])
    small = {c for c in counts[counts < 3].index if c not in public}  # not a site's name
    assert len(small) > 10  # the roster has small communes to hide
    centres = pd.read_csv(shared / "telecentres.csv", keep_default_na=False)
    for cell in centres["communes"]:
        for name, count in re.findall(r"([^;]+?) \((\d+)\)", cell):
            assert int(count) >= 3 or name.strip() == "other communes", (name, count)
    for name in ("telecentres.csv", "summary.json", "map.html"):
        text = (shared / name).read_text(encoding="utf-8")
        shown = [c for c in small if re.search(rf"\b{re.escape(c)}\b", text)]
        assert not shown, (name, shown)
    page = (shared / "map.html").read_text(encoding="utf-8")
    assert "median drive" not in page and "agents in other communes" in page
    own = (runs[0] / "map.html").read_text(encoding="utf-8")
    assert "median drive" in own  # the planner's own map keeps them


def test_shared_rows_are_sorted_by_pseudonym_and_key_kept_apart(runs) -> None:
    own, shared, key = runs
    for name in ("allocation.csv", "travel_times.csv", "schedule.csv"):
        ids = pd.read_csv(shared / name)["agent_id"].tolist()
        assert ids == sorted(ids) and all(i.startswith("P") for i in ids)
    table = pd.read_csv(key)
    assert table["pseudonym"].tolist() == [pseudonym(a, SALT) for a in table["agent_id"]]
    assert not any("key" in p.name for p in shared.iterdir())
    roster = pd.read_csv(own / "allocation.csv")["agent_id"].tolist()
    assert roster == datasets.agents()["agent_id"].tolist()  # the planner's keep roster order
    summary = json.loads((shared / "summary.json").read_text(encoding="utf-8"))
    assert summary["privacy"]["fit_to_share"] is True
    assert summary["privacy"]["shared_figures"]["smallest_commune_cell"] == 3
    mine = json.loads((own / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"] == mine["totals"]  # the plan is the same


def test_shared_figures_are_whole_and_close(runs) -> None:
    own, shared, key = runs
    ids = pd.read_csv(key).set_index("pseudonym")["agent_id"]
    mine = pd.read_csv(own / "allocation.csv").set_index("agent_id")
    theirs = pd.read_csv(shared / "allocation.csv")
    theirs["agent_id"] = theirs["agent_id"].map(ids)
    theirs = theirs.set_index("agent_id").loc[mine.index]
    for column in ("minutes_to_head_office", "km_to_head_office"):
        values = theirs[column].dropna()
        assert (values == values.round()).all()
    assert (theirs["status"] == mine["status"]).all()
    assert (theirs["telecentre_id"].fillna("") == mine["telecentre_id"].fillna("")).all()
    gap = (theirs["minutes_to_head_office"] - mine["minutes_to_head_office"]).abs()
    assert gap.median() < 4  # what remains: a few minutes


def test_key_file_needs_pseudonyms_and_stays_out_of_the_folder(tmp_path) -> None:
    out = tmp_path / "out"
    alone = CliRunner().invoke(main, ["--out", str(out), "--key-file", str(tmp_path / "k.csv")])
    assert alone.exit_code == 2 and "--pseudonymise" in alone.output
    inside = CliRunner().invoke(
        main, ["--out", str(out), "--pseudonymise", SALT, "--key-file", str(out / "k.csv")]
    )
    assert inside.exit_code == 2 and "inside the output folder" in inside.output
    assert not out.exists()


@pytest.mark.parametrize("option", ["--agents", "--telecentres"])
def test_key_file_never_replaces_an_input(tmp_path, option: str) -> None:
    roster = tmp_path / "roster.csv"
    text = "agent_id,lon,lat\nA1,3.85,44.72\n" if option == "--agents" else ""
    if option == "--telecentres":
        text = "telecentre_id,name,lon,lat,capacity\nlangogne,L,3.8546,44.7269,2\n"
    roster.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    argv = [option, str(roster), "--out", str(out), "--pseudonymise", SALT, "--quiet"]
    result = CliRunner().invoke(main, [*argv, "--key-file", str(roster)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"assign: error: --key-file: '{roster}' is the {option} file: the key "
        "would replace it. Give another file, e.g. --key-file key.csv."
    )
    assert roster.read_text(encoding="utf-8") == text
    assert not out.exists()


def test_shared_frontier_gives_no_exact_drive_time(tmp_path) -> None:
    # the frontier's limits are drive times of agent-telecentre pairs, like its longest drives
    out = tmp_path / "out"
    argv = ["--out", str(out), "--frontier", "--pseudonymise", SALT, "--no-maps", "--quiet"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    frontier = pd.read_csv(out / "frontier.csv")
    assert len(frontier) > 3
    for column in ("max_minutes", "longest_drive"):
        assert (frontier[column] == frontier[column].round()).all(), column
    assert (frontier["longest_drive"] <= frontier["max_minutes"]).all()


def test_shared_minimax_summary_gives_no_exact_drive_time(tmp_path) -> None:
    # the minimax limit is the drive time of one agent to its telecentre
    out = tmp_path / "out"
    argv = ["--out", str(out), "--minimax", "--pseudonymise", SALT, "--no-maps", "--quiet"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    limit = json.loads((out / "summary.json").read_text(encoding="utf-8"))["options"]["max_minutes"]
    assert limit > 0 and limit == round(limit)


def test_group_small_cells() -> None:
    counts = pd.Series({"Mende": 5, "Badaroux": 1, "Langogne": 3, "Florac": 2})
    grouped = group_small_cells(counts)
    assert grouped.to_dict() == {"Mende": 5, "Langogne": 3, "other communes": 3}
