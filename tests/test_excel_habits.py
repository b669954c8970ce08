"""Files as French Excel saves them: cp1252, ';', decimal comma, French headers, blank rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.errors import InputError
from optimizer.inputs import read_agents, read_telecentres


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    return path


def test_french_telecentre_headers_and_trailing_blank_rows(tmp_path) -> None:
    path = _write(
        tmp_path / "sites.csv",
        "Identifiant;Nom;Longitude;Latitude;Capacité\n"
        "marv;Marvejols;3,28952;44,5504;5\n"
        "stc;Saint-Chély;3,275655;44,802772;4\n"
        ";;;;\n;;;;\n",
    )
    sites = read_telecentres(path)
    assert sites["telecentre_id"].tolist() == ["marv", "stc"]
    assert sites["name"].tolist() == ["Marvejols", "Saint-Chély"]
    assert sites["capacity"].tolist() == [5, 4]
    assert sites["lon"].tolist() == pytest.approx([3.28952, 3.275655])


def test_trailing_blank_rows_of_agents_are_ignored(tmp_path) -> None:
    path = _write(
        tmp_path / "agents.csv",
        "Identifiant;Longitude;Latitude;Jours\nA1;3,5;44,5;2\nA2;3,6;44,6;1\n;;;\n;;;\n",
    )
    assert read_agents(path)["agent_id"].tolist() == ["A1", "A2"]


def test_a_blank_row_inside_the_table_is_still_reported(tmp_path) -> None:
    path = _write(
        tmp_path / "agents.csv",
        "agent_id;lon;lat;telework_days\nA1;3,5;44,5;2\n;;;\nA2;3,6;44,6;1\n",
    )
    with pytest.raises(InputError, match="row 3"):
        read_agents(path)


def test_headers_as_typed_with_accents_and_spaces(tmp_path) -> None:
    # the aliases say jours_teletravail, code_postal, jours_impossibles: a spreadsheet's
    # headers have accents and spaces, and an unread days column would plan 1 day for all
    path = _write(
        tmp_path / "agents.csv",
        "Matricule;Commune;Code Postal;Jours télétravail;Jours impossibles\n"
        "001;Villefort;48800;3;lundi\n002;Langogne;;2;\n",
    )
    agents = read_agents(path)
    assert agents["telework_days"].tolist() == [3, 2]
    assert agents["impossible_days"].tolist() == ["mon", ""]
    assert agents["insee"].tolist() == ["48198", "48080"]


def test_two_headers_read_as_one_column_are_refused(tmp_path) -> None:
    # 'Code Postal' and 'code_postal' both read as code_postal: which holds the postcodes?
    path = _write(
        tmp_path / "agents.csv",
        "Matricule;Commune;Code Postal;code_postal\n001;Villefort;48800;30450\n",
    )
    with pytest.raises(InputError, match="'Code Postal' and 'code_postal' are both read as"):
        read_agents(path)


def test_head_office_with_decimal_commas() -> None:
    from optimizer.inputs import parse_lonlat

    # copied from a French spreadsheet: decimal commas, so the two numbers are split by ';'
    assert parse_lonlat("3,501172;44,517817") == pytest.approx((3.501172, 44.517817))
    assert parse_lonlat("3,5 ; 44,5") == pytest.approx((3.5, 44.5))
    assert parse_lonlat("3.5;44.5") == pytest.approx((3.5, 44.5))
    with pytest.raises(InputError, match="is not LON,LAT"):
        parse_lonlat("3,5,44,5")  # which comma splits? refused, not guessed


def test_a_days_column_in_words_is_read(tmp_path) -> None:
    # it was not read (a warning, and every agent planned for 1 day): the words say what it holds
    path = _write(
        tmp_path / "agents.csv",
        "Matricule;Commune;Nombre de jours de télétravail\n001;Langogne;3\n",
    )
    agents = read_agents(path)
    assert agents["telework_days"].tolist() == [3]
    assert agents.attrs["columns"]["telework_days"] == "Nombre de jours de télétravail"


def test_excel_separator_line_is_read(tmp_path) -> None:
    # files made for Excel may start with 'sep=;', which Excel reads and does not show
    path = _write(tmp_path / "agents.csv", "sep=;\nagent_id;lon;lat;jours\nA1;3,85;44,72;2\n")
    agents = read_agents(path)
    assert agents["agent_id"].tolist() == ["A1"]
    assert agents["lon"].tolist() == pytest.approx([3.85])
    assert agents["telework_days"].tolist() == [2]
    # rows are counted as the spreadsheet shows them: the header is row 1
    path = _write(tmp_path / "agents.csv", "sep=,\nagent_id,lon,lat,jours\nA1,3.85,44.72,9\n")
    with pytest.raises(InputError, match="row 2, column 'jours': '9'"):
        read_agents(path)
    with pytest.raises(InputError, match="the file is empty"):
        read_agents(_write(tmp_path / "agents.csv", "sep=;\n"))


def test_must_assign_as_spreadsheet_numbers(tmp_path) -> None:
    # a 1/blank column with blanks comes back from a spreadsheet or pandas as 1.0 / 0.0
    path = _write(
        tmp_path / "agents.csv",
        "agent_id;lon;lat;must_assign\nA1;3,85;44,72;1.0\nA2;3,28;44,55;0.0\nA3;3,29;44,56;\n",
    )
    assert read_agents(path)["must_assign"].tolist() == [True, False, False]


def test_outputs_for_french_excel_and_read_back(tmp_path) -> None:
    # --csv-style excel-fr: what French Excel opens by a double click (';', decimal commas,
    # a BOM for the accents); the same allocation then replans with nobody moved
    import pandas as pd
    from click.testing import CliRunner

    from optimizer.cli import main

    first = CliRunner().invoke(main, ["--csv-style", "excel-fr", "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    raw = (tmp_path / "a" / "allocation.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfagent_id;status;") and b"\r\n" in raw
    table = pd.read_csv(
        tmp_path / "a" / "allocation.csv", sep=";", decimal=",", encoding="utf-8-sig"
    )
    standard = CliRunner().invoke(main, ["--out", str(tmp_path / "b"), "-q"])
    assert standard.exit_code == 0, standard.output
    same = pd.read_csv(tmp_path / "b" / "allocation.csv")
    pd.testing.assert_frame_equal(table, same)
    assert ";" not in (tmp_path / "b" / "allocation.csv").read_text().splitlines()[0]
    again = CliRunner().invoke(
        main,
        ["--previous", str(tmp_path / "a" / "allocation.csv"), "--out", str(tmp_path / "c")],
    )
    assert again.exit_code == 0, again.output
    assert pd.read_csv(tmp_path / "c" / "changes.csv").empty
