"""Text from the inputs never runs: no formula in the CSV files, no script in map.html."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.report import neutralise_formulas

from .conftest import chromium, render_offline

FORMULA_IDS = ["=1+1", "+33612345678", "-2+3", "@SUM(1)"]
SCRIPT_ID = "`+document.body.setAttribute('data-pwned','backtick')+`"
TAG_ID = "<img/src=x/onerror=document.body.setAttribute('data-pwned','tooltip')>"
TAG_NAME = "<img src=x onerror=\"document.body.setAttribute('data-pwned','popup')\">"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    sites = datasets.telecentres()
    ids = sites["telecentre_id"].tolist()
    ids[:3] = ['=HYPERLINK("http://x";"1")', SCRIPT_ID, TAG_ID]
    sites["telecentre_id"] = ids
    names = sites["name"].tolist()
    names[0] = TAG_NAME
    names[1] = "=cmd|' /C calc'!A0"
    sites["name"] = names
    agents = datasets.agents()
    agents.loc[: len(FORMULA_IDS) - 1, "agent_id"] = FORMULA_IDS
    agents.loc[0, "commune"] = "-cmd|' /C calc'!A"
    sites.to_csv(folder / "sites.csv", index=False)
    agents.to_csv(folder / "agents.csv", index=False)
    out = folder / "out"
    result = CliRunner().invoke(
        main,
        [
            "--agents",
            str(folder / "agents.csv"),
            "--telecentres",
            str(folder / "sites.csv"),
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_no_csv_cell_is_a_formula_for_a_spreadsheet(hostile_run) -> None:
    checked = 0
    for path in sorted(hostile_run.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    checked += 1
                    if cell[:1] in {"=", "+", "-", "@", "\t", "\r"}:
                        float(cell)  # only a plain number may start so (-4.5 is a number)
    assert checked > 1000
    allocation = pd.read_csv(hostile_run / "allocation.csv", dtype=str, keep_default_na=False)
    assert allocation["agent_id"].head(4).tolist() == [f"'{i}" for i in FORMULA_IDS]
    centres = pd.read_csv(hostile_run / "telecentres.csv", dtype=str, keep_default_na=False)
    assert centres["name"].tolist()[1] == "'=cmd|' /C calc'!A0"


def test_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"id": ["-A", "B"], "saving": [-4.5, 2.0], "mixed": ["", -1.0]})
    out = neutralise_formulas(frame)
    assert out["id"].tolist() == ["'-A", "B"]
    assert out["saving"].tolist() == [-4.5, 2.0]
    assert out["mixed"].tolist() == ["", -1.0]


def test_map_page_shows_hostile_ids_and_names_as_text(hostile_run) -> None:
    page = (hostile_run / "map.html").read_text(encoding="utf-8")
    for text in (SCRIPT_ID, TAG_ID, TAG_NAME):
        assert text not in page
    assert "<img" not in page


def test_hostile_ids_run_nothing_in_headless_chromium(hostile_run) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium on this machine (bash .ci/run installs it)")
    done = render_offline(browser, hostile_run / "map.html")
    dom = done.stdout
    assert "leaflet-container" in dom  # the page ran
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert "data-pwned=" not in dom
