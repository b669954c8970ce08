"""The console in French (issue 27): ``assign --lang fr`` says its errors and warnings in French.

The expected lines are written out by hand: the file, the row and the value
from the user's file as they are, the sentence in French, the exit code the
English run gives.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimizer import cli
from optimizer.cli import main
from optimizer.cli.console import _Said
from optimizer.i18n import knows
from tests.test_bad_input import CATALOGUE, _write


def _assign(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, [*args, "--quiet"], env=env)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output.strip().splitlines()


def _both(tmp_path: Path, roster: str, *, name: str = "agents.csv") -> tuple[int, list[str]]:
    """Run a roster in English then in French: the exit codes agree; the French lines."""
    path = tmp_path / name
    path.write_text(roster, encoding="utf-8")
    args = ["--agents", str(path), "--out", str(tmp_path / "out")]
    code_en, _ = _assign(*args, "--lang", "en")
    code_fr, lines = _assign(*args, "--lang", "fr")
    assert code_fr == code_en
    assert not (tmp_path / "out").exists()
    return code_fr, lines


def test_a_missing_column_in_french(tmp_path) -> None:
    code, lines = _both(tmp_path, "agent_id,telework_days\nA1,1\n")
    assert code == cli.EXIT_INPUT
    assert lines == [
        f"assign : erreur : {tmp_path / 'agents.csv'} : colonne manquante 'lon' (ou lng, "
        "longitude, long, x) ; 'lat' (ou latitude, y). Le fichier a : agent_id, telework_days. "
        "Donnez le domicile de chaque agent en lon, lat, ou sa commune de résidence en commune "
        "(un nom), insee (code INSEE) ou code_postal (une colonne adresse : géocodez-la d'abord "
        "avec 'assign geocode')."
    ]


def test_an_unknown_commune_in_french(tmp_path) -> None:
    code, lines = _both(
        tmp_path, "agent_id,commune,telework_days\nA1,Mende,1\nA2,Nullepartville,2\n"
    )
    assert code == cli.EXIT_INPUT
    assert lines == [
        f"assign : erreur : {tmp_path / 'agents.csv'} : ligne 3, colonne 'commune' : "
        "'Nullepartville' n'est pas le nom d'une commune de France. Vérifiez l'orthographe, ou "
        "donnez le code INSEE ou le code postal."
    ]


def test_a_bad_number_in_a_french_csv_in_french(tmp_path) -> None:
    """The value stays as the file wrote it (``3,x``, not re-punctuated)."""
    roster = "agent_id;lon;lat;telework_days\nA1;3,50;44,52;1\nA2;3,x;44,80;2\n"
    code, lines = _both(tmp_path, roster)
    assert code == cli.EXIT_INPUT
    assert lines == [
        f"assign : erreur : {tmp_path / 'agents.csv'} : ligne 3, colonne 'lon' : '3,x' n'est pas "
        "un nombre. Donnez un nombre."
    ]


def test_every_bad_row_in_french(tmp_path) -> None:
    roster = "agent_id,lon,lat,telework_days\nA1,3.50,44.52,9\nA2,abc,44.80,2\nA3,3.5,44.8,0\n"
    code, lines = _both(tmp_path, roster)
    assert code == cli.EXIT_INPUT
    assert lines == [
        f"assign : erreur : {tmp_path / 'agents.csv'} : 3 problèmes sur 3 lignes (l'en-tête est "
        "la ligne 1) ; corrigez-les tous, puis relancez :",
        "  ligne 2, colonne 'telework_days' : '9' n'est pas un nombre entier de 1 à 5.",
        "  ligne 3, colonne 'lon' : 'abc' n'est pas un nombre. Donnez un nombre.",
        "  ligne 4, colonne 'telework_days' : '0' n'est pas un nombre entier de 1 à 5.",
    ]


def test_the_locale_alone_says_errors_in_french(tmp_path) -> None:
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,lon,lat\n", encoding="utf-8")
    french = {"LC_ALL": "fr_FR.UTF-8", "LC_MESSAGES": "", "LANG": ""}
    code, lines = _assign("--agents", str(path), "--out", str(tmp_path / "o"), env=french)
    assert code == cli.EXIT_INPUT
    assert lines == [
        f"assign : erreur : {path} : aucun agent dans le fichier. Donnez au moins une ligne sous "
        "l'en-tête."
    ]
    english = {"LC_ALL": "C.UTF-8", "LC_MESSAGES": "", "LANG": ""}
    _, lines = _assign("--agents", str(path), "--out", str(tmp_path / "o"), env=english)
    assert lines == [
        f"assign: error: {path}: no agents in the file. Give at least one row under the header."
    ]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--lang", "fr", "--select", "abc"],
            "assign : erreur : Valeur invalide pour '--select' : 'abc' n'est pas un entier "
            "valide dans l'intervalle. (voir assign --help)",
        ),
        (
            ["--objective", "xyz", "--lang=fr"],
            "assign : erreur : Valeur invalide pour '--objective' : 'xyz' n'est pas l'une de "
            "'minutes', 'km', 'travel'. (voir assign --help)",
        ),
    ],
)
def test_usage_errors_in_french(args, line) -> None:
    """Before the command is parsed, the language is read from its arguments."""
    code, lines = _assign(*args)
    assert (code, lines) == (cli.EXIT_INPUT, [line])


def test_a_log_record_in_french() -> None:
    """The console's formatter says a library record in French; English stays as logged."""
    record = logging.LogRecord(
        "optimizer.netcache", logging.WARNING, __file__, 1,
        "network cache %s: cannot be read (%s)", ("/tmp/c.npz", "Permission denied"), None,
    )  # fmt: skip
    assert _Said("fr").format(record) == (
        "ATTENTION optimizer.netcache : cache réseau /tmp/c.npz : illisible (Permission denied)"
    )
    assert _Said("en").format(record) == (
        "WARNING optimizer.netcache: network cache /tmp/c.npz: cannot be read (Permission denied)"
    )
    assert record.getMessage() == "network cache /tmp/c.npz: cannot be read (Permission denied)"


def test_the_warnings_at_the_end_in_french(tmp_path) -> None:
    """A run's warnings (a column not read, made-up inputs) are said in French, numbers too."""
    path = tmp_path / "agents.csv"
    path.write_text(
        "agent_id,lon,lat,telework_days,remarque\nA1,3.50,44.52,1,x\nA2,3.28,44.80,2,y\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--agents", str(path), "--out", str(out), "--lang", "fr"])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("ATTENTION")]
    assert warnings[0] == f"ATTENTION : {path} : 1 colonne non lue(s) : 'remarque'."
    assert any(
        w.startswith("ATTENTION : Réseau routier APPROXIMATIF : pas de vraies routes")
        for w in warnings
    )
    assert "WARNING" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Écrit ")


CSV_CASES = [c for c in CATALOGUE if not (isinstance(c[1], str) and c[1].startswith("{gpkg"))]


@pytest.mark.parametrize(
    ("case", "agents", "sites", "args", "expected"), CSV_CASES, ids=[c[0] for c in CSV_CASES]
)
def test_every_bad_input_case_in_french(case, agents, sites, args, expected, tmp_path) -> None:
    """Each case of the bad-input catalogue: same exit code, one line, its message in French."""
    (tmp_path / "broken.osm.pbf").write_bytes(b"not a pbf at all")
    (tmp_path / "roads.shp").write_text("x")
    (tmp_path / "a_file.txt").write_text("x")
    (tmp_path / "slow_speeds.csv").write_text("highway,kmh\nprimary,1e-5\n")
    (tmp_path / "previous.csv.gz").write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)))
    argv = []
    if agents is not None:
        _write(tmp_path / "agents.csv", agents)
        argv += ["--agents", str(tmp_path / "agents.csv")]
    if sites is not None:
        _write(tmp_path / "sites.csv", sites)
        argv += ["--telecentres", str(tmp_path / "sites.csv")]
    argv += [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in args:
        argv += ["--out", str(tmp_path / "out")]
    code_en, english = _assign(*argv, "--lang", "en")
    code_fr, french = _assign(*argv, "--lang", "fr")
    assert code_fr == code_en == cli.EXIT_INPUT
    assert len(french) == len(english) == 1, french
    message = english[0].removeprefix("assign: error: ")
    assert knows(message), message
    assert french[0].startswith("assign : erreur : ")
    assert french[0] != english[0]
