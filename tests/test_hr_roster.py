"""Rosters as HR software writes them: ';', cp1252, French headers, communes in capitals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.inputs import read_agents
from optimizer.places import PlaceError, locate_communes
from optimizer.report import ALLOCATION_FILE, SUMMARY_FILE

HEADER = "Matricule;Nom;Prénom;Commune de résidence;Jours de télétravail;Priorité"
ROWS = (
    "001;DUPONT;Jean;MENDE;2;1",
    "002;MARTIN;Zoé;LANGOGNE;3;",
    "003;DURAND;Léa;SAINT CHELY D APCHER;1;2,5",
    "004;PETIT;Luc;VILLEFORT;4;0",
)
LOZERE = {"48"}


def _write(path: Path, *lines: str) -> Path:
    """Write a roster as a French HR export does: cp1252, CRLF."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


@pytest.fixture
def roster(tmp_path) -> Path:
    return _write(tmp_path / "agents.csv", HEADER, *ROWS)


def test_days_communes_and_priorities_are_read(roster) -> None:
    # 'Jours de télétravail' was not read (every agent planned for 1 day, exit 0) and
    # 'Commune de résidence' was blamed as 'no coordinates and no commune'
    agents = read_agents(roster, area_departements=LOZERE)
    assert agents["telework_days"].tolist() == [2, 3, 1, 4]
    assert agents["insee"].tolist() == ["48095", "48080", "48140", "48198"]
    assert agents["commune"].tolist() == ["Mende", "Langogne", "Saint-Chély-d'Apcher", "Villefort"]
    assert (agents["location"] == "commune").all()
    assert agents["priority"].dtype == np.float64
    assert agents["priority"].tolist() == [1.0, 0.0, 2.5, 0.0]  # blank is 0, decimal comma read


@pytest.mark.parametrize(
    ("header", "field", "value"),
    [
        ("Commune de résidence", "commune", "MENDE"),
        ("Ville de résidence", "commune", "MENDE"),
        ("Jours de télétravail", "telework_days", "3"),
        ("Nb jours TT", "telework_days", "3"),
        ("Nombre de jours de télétravail", "telework_days", "3"),
        ("Jours TT", "telework_days", "3"),
        ("Télétravail (jours/semaine)", "telework_days", "3"),
        ("Code INSEE commune", "insee", "48095"),
        ("Priorité", "priority", "2"),
        ("Priority", "priority", "2"),
        ("Site d'affectation", "workplace_id", "head_office"),
    ],
)
def test_headers_are_matched_on_their_words(tmp_path, header, field, value) -> None:
    # each was not read (the days: every agent planned for 1 day)
    path = _write(
        tmp_path / "agents.csv", f"Matricule;Longitude;Latitude;{header}", f"1;3,5;44,5;{value}"
    )
    assert read_agents(path).attrs["columns"][field] == header


def test_five_misspelt_communes_are_refused_in_one_run(tmp_path) -> None:
    # only the first bad commune was reported: a planner fixed them one run at a time
    misspelt = ["MENDDE", "LANGONE", "SAINT CHELI D APCHER", "VILEFORT", "MARVEJOL"]
    rows = [f"00{i};N;P;{name};2;" for i, name in enumerate(misspelt, start=1)]
    path = _write(tmp_path / "agents.csv", HEADER, "009;N;P;MENDE;2;", *rows)
    with pytest.raises(InputError) as caught:
        read_agents(path, area_departements=LOZERE)
    error = caught.value
    assert "5 problems on 5 rows" in error.summary
    assert "\n" not in error.summary
    assert len(error.details) == 5
    for line, row, name in zip(error.details, range(3, 8), misspelt, strict=True):
        assert line.startswith(f"row {row}, column 'Commune de résidence': '{name}'"), line
    assert "did you mean Mende?" in error.details[0]


def test_bad_days_coordinates_and_priorities_come_in_the_same_error(tmp_path) -> None:
    path = _write(
        tmp_path / "agents.csv",
        "Matricule;Longitude;Latitude;Commune;Jours TT;Priorité",
        "1;3,5;44,5;;7;1",
        "2;abc;44,5;;2;haute",
        "3;;;MENDDE;2;inf",
        "4;3,5;44,5;;2;",
    )
    with pytest.raises(InputError) as caught:
        read_agents(path)
    text = str(caught.value)
    for expected in (
        "row 2, column 'Jours TT': '7' is not a whole number from 1 to 5",
        "row 3, column 'Longitude': 'abc' is not a number",
        "row 3, column 'Priorité': 'haute' is not a priority",
        "row 4, column 'Commune': 'MENDDE' is not the name of a commune",
        "row 4, column 'Priorité': 'inf' is not a priority",
    ):
        assert expected in text
    assert "row 5" not in text


def test_more_than_twenty_bad_rows_say_how_many_more(tmp_path) -> None:
    rows = [f"{i};3,5;44,5;9" for i in range(25)]
    path = _write(tmp_path / "agents.csv", "Matricule;Longitude;Latitude;Jours", *rows)
    with pytest.raises(InputError) as caught:
        read_agents(path)
    assert len(caught.value.details) == 21
    assert caught.value.details[-1] == "and 5 more"
    assert caught.value.details[0].startswith("row 2, column 'Jours': '9'")


def test_an_unreadable_days_lookalike_stops_the_run(tmp_path) -> None:
    # it was a log line, and every agent planned for 1 day
    path = _write(
        tmp_path / "agents.csv",
        "Matricule;Commune de résidence;Jours TT souhaités",
        "001;MENDE;3",
    )
    with pytest.raises(InputError) as caught:
        read_agents(path)
    text = str(caught.value)
    assert "\n" not in text
    assert "column 'Jours TT souhaités' is not understood" in text
    assert "telework_days (Jours de télétravail)" in text  # the columns accepted


def test_two_columns_read_as_the_days_stop_the_run(tmp_path) -> None:
    path = _write(
        tmp_path / "agents.csv",
        "Matricule;Commune;Jours de télétravail;Nb jours TT",
        "001;MENDE;3;2",
    )
    with pytest.raises(InputError, match="'Jours de télétravail' and 'Nb jours TT' are both read"):
        read_agents(path)


def test_names_are_reported_as_not_read(roster, caplog) -> None:
    with caplog.at_level("WARNING", logger="optimizer.inputs"):
        agents = read_agents(roster, area_departements=LOZERE)
    assert agents.attrs["columns_not_read"] == ["Nom", "Prénom"]
    assert "2 columns not read: 'Nom', 'Prénom'" in caplog.text
    assert "Nom" not in agents.columns  # not carried into the plan either


def test_villefort_is_the_lozere_one_with_the_hint_only(roster, caplog) -> None:
    with pytest.raises(
        InputError, match=r"row 5, .*'VILLEFORT' names 2 communes: Villefort \(11424"
    ):
        read_agents(roster)
    with caplog.at_level("WARNING", logger="optimizer.inputs"):
        agents = read_agents(roster, area_departements=LOZERE)
    assert agents["insee"].iloc[3] == "48198"
    assert "VILLEFORT (Villefort, 48198)" in caplog.text
    assert any("VILLEFORT" in w for w in agents.attrs["warnings"])
    # Grèzes: Haute-Loire, Lot and Lozère; still ambiguous when the area holds two of them
    found = locate_communes(["grezes"], area_departements=LOZERE)
    assert found["insee"].tolist() == ["48072"]
    assert found["by_area"].tolist() == [True]
    with pytest.raises(PlaceError, match="names 2 communes"):
        locate_communes(["grezes"], area_departements={"43", "48"})


def test_commune_de_travail_is_not_the_home_commune(tmp_path) -> None:
    path = _write(
        tmp_path / "agents.csv",
        "Matricule;Commune de résidence;Commune de travail",
        "001;LANGOGNE;",
    )
    agents = read_agents(path)
    assert agents.attrs["columns"]["commune"] == "Commune de résidence"
    assert agents.attrs["columns"]["workplace_id"] == "Commune de travail"
    assert agents["insee"].tolist() == ["48080"]
    # alone, it places no home: the row has neither coordinates nor a commune of residence
    path = _write(tmp_path / "work.csv", "Matricule;Commune de travail", "001;MENDE")
    with pytest.raises(InputError, match="missing column 'lon'"):
        read_agents(path)


def test_priority_defaults_to_zero(tmp_path) -> None:
    path = _write(tmp_path / "agents.csv", "agent_id;lon;lat", "A1;3,5;44,5")
    agents = read_agents(path)
    assert agents["priority"].dtype == np.float64
    assert agents["priority"].tolist() == [0.0]


def test_an_hr_roster_plans_end_to_end(roster, tmp_path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--agents", str(roster), "--out", str(out), "--no-maps"])
    assert result.exit_code == 0, result.output
    assert "WARNING: " in result.output
    assert "2 columns not read: 'Nom', 'Prénom'" in result.output
    assert "VILLEFORT (Villefort, 48198)" in result.output  # the head office is in Lozère
    allocation = (out / ALLOCATION_FILE).read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in allocation[1:]] == ["001", "002", "003", "004"]
    summary = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
    assert summary["inputs"]["agents_columns_not_read"] == ["Nom", "Prénom"]
    assert any("VILLEFORT" in w for w in summary["warnings"])
    table = pd.read_csv(out / ALLOCATION_FILE, dtype={"agent_id": str})
    assert table["telework_days"].tolist() == [2, 3, 1, 4]


def test_a_bad_hr_roster_lists_every_row_on_the_command_line(tmp_path) -> None:
    path = _write(
        tmp_path / "agents.csv",
        HEADER,
        "001;N;P;MENDDE;2;",
        "002;N;P;LANGOGNE;9;",
        "003;N;P;VILEFORT;2;x",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--agents", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("assign: error: ") and "4 problems on 3 rows" in lines[0]
    assert [line.split(",")[0] for line in lines[1:]] == [
        "  row 2",
        "  row 3",
        "  row 4",
        "  row 4",
    ]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_quiet_prints_nothing_and_warnings_print_once(roster, tmp_path) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "optimizer", "--agents", str(roster), "--no-maps"]
    quiet = subprocess.run(
        [*command, "--out", str(tmp_path / "q"), "-q"], capture_output=True, text=True, check=False
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    loud = subprocess.run(
        [*command, "--out", str(tmp_path / "l")], capture_output=True, text=True, check=False
    )
    assert loud.returncode == 0, loud.stderr
    assert (loud.stdout + loud.stderr).count("columns not read") == 1
