"""Issue 24's cases: nothing of the user's overwritten, nothing executable written, no traceback."""

from __future__ import annotations

import csv
import os
import re
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.csvout import csv_text, neutralise_cell, restore_cell

FORMULA = re.compile(r"^[=+\-@\t]")


def roster(path: Path, ids: list[str]) -> Path:
    demo = datasets.agents().head(len(ids)).copy()
    demo["agent_id"] = ids
    # every text cell quoted: a CR inside an id stays in its cell
    demo[["agent_id", "lon", "lat", "telework_days"]].to_csv(
        path, index=False, quoting=csv.QUOTE_NONNUMERIC
    )
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--no-maps", "-q"])
    return result.exit_code, result.output


def spreadsheet_cells(text: str, sep: str = ",") -> list[str]:
    """Every cell as a spreadsheet may see it: rows broken at CR and at LF, quotes ignored."""
    return [cell.strip('"') for line in re.split(r"[\r\n]", text) for cell in line.split(sep)]


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_key_file_on_a_device_or_a_pipe_is_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / kind
    if kind == "device":
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root (CI runs as root)")
        os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a null device, here
    else:
        os.mkfifo(target)
    before = target.stat()
    code, output = invoke(
        "--out", str(tmp_path / "out"), "--pseudonymise", "s", "--key-file", str(target)
    )
    assert code == 2 and "Traceback" not in output, output
    assert "not a regular file" in output
    after = target.stat()
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino
    assert not (tmp_path / "out").exists()  # refused before any work


def test_a_key_file_never_replaces_a_users_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.csv"
    notes.write_bytes(b"my,own\n1,2\n")
    code, output = invoke(
        "--out", str(tmp_path / "out"), "--pseudonymise", "s", "--key-file", str(notes)
    )
    assert code == 2 and "never replaced" in output, output
    assert notes.read_bytes() == b"my,own\n1,2\n"
    # its own key file it may replace, run after run
    key = tmp_path / "key.csv"
    for _ in range(2):
        code, output = invoke(
            "--out", str(tmp_path / "out"), "--pseudonymise", "s", "--key-file", str(key)
        )
        assert code == 0, output
    assert key.read_text(encoding="utf-8").startswith("agent_id,pseudonym\n")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("where", ["under-a-file", "the-out-folder"])
def test_a_bad_key_file_path_stops_before_publishing(tmp_path: Path, where: str) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    out = tmp_path / "out"
    key = tmp_path / "notes.txt" / "key.csv" if where == "under-a-file" else out
    code, output = invoke("--out", str(out), "--pseudonymise", "s", "--key-file", str(key))
    assert code == 2 and "Traceback" not in output, output
    assert not out.exists()


def test_a_carriage_return_in_an_id_starts_no_formula(tmp_path: Path) -> None:
    hostile = "A1\r=cmd|' /C calc'!A0"
    path = roster(tmp_path / "r.csv", [hostile, "B2\n+1", "C3"])
    key = tmp_path / "key.csv"
    out = tmp_path / "out"
    code, output = invoke(
        "--agents", str(path), "--out", str(out), "--pseudonymise", "s", "--key-file", str(key)
    )
    assert code == 0, output
    code, output = invoke("--agents", str(path), "--out", str(tmp_path / "plain"))
    assert code == 0, output
    for file in [key, *sorted((tmp_path / "plain").glob("*.csv"))]:
        text = file.read_text(encoding="utf-8")
        assert not [c for c in spreadsheet_cells(text) if FORMULA.match(c)], file.name
    # the id still reads back whole
    allocation = pd.read_csv(tmp_path / "plain" / "allocation.csv", keep_default_na=False)
    assert [restore_cell(a) for a in allocation["agent_id"]] == [hostile, "B2\n+1", "C3"]


def test_ids_that_differ_by_an_apostrophe_stay_two_agents(tmp_path: Path) -> None:
    path = roster(tmp_path / "r.csv", ["=1+1", "'=1+1", "'x", "x"])
    out = tmp_path / "out"
    code, output = invoke("--agents", str(path), "--out", str(out))
    assert code == 0, output
    written = pd.read_csv(out / "allocation.csv", keep_default_na=False)["agent_id"].tolist()
    assert len(set(written)) == 4
    # a re-plan reads each back as the agent it was
    code, output = invoke(
        "--agents",
        str(path),
        "--out",
        str(tmp_path / "again"),
        "--previous",
        str(out / "allocation.csv"),
    )
    assert code == 0, output
    changes = pd.read_csv(tmp_path / "again" / "changes.csv", keep_default_na=False)
    assert not changes["change"].isin(["left", "joined"]).any(), changes


@pytest.mark.parametrize(
    "value", ["=1+1", "'=1+1", "''", "'", "a\r=b", "a\n'c", "\r\r=x", "-4", "plain", ""]
)
def test_neutralising_is_reversible(value: str) -> None:
    written = neutralise_cell(value)
    assert restore_cell(written) == value
    assert not [line for line in re.split(r"[\r\n]", written) if FORMULA.match(line)]


def test_a_cell_with_a_line_break_is_quoted() -> None:
    text = csv_text(pd.DataFrame({"a": ["x\ry", "z"], "b": [1.5, 2.0]}))
    assert text.splitlines()[1].startswith('"x')
    back = pd.read_csv(pd.io.common.StringIO(text), keep_default_na=False)
    assert back["a"].tolist() == ["x\ry", "z"] and back["b"].tolist() == [1.5, 2.0]


def test_an_input_kept_under_an_outputs_name_is_not_replaced(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    plan.mkdir()
    agents = roster(plan / "agents.csv", ["a", "b", "c"])
    centres = plan / "telecentres.csv"
    centres.write_bytes(datasets.path(datasets.TELECENTRES_FILE).read_bytes())
    before = centres.read_bytes()
    code, output = invoke(
        "--agents", str(agents), "--telecentres", str(centres), "--out", str(plan)
    )
    assert code == 2 and "would replace it" in output, output
    assert centres.read_bytes() == before
    assert not (plan / "allocation.csv").exists()


def test_a_users_hidden_tmp_file_in_out_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("--out", str(out))[0] == 0
    mine = out / ".summary.json.backup.tmp"
    mine.write_text("mine", encoding="utf-8")
    assert invoke("--out", str(out))[0] == 0
    assert mine.read_text(encoding="utf-8") == "mine"


def test_a_salt_that_is_not_text_and_a_bad_worker_count_are_refused(tmp_path: Path) -> None:
    code, output = invoke("--out", str(tmp_path / "o"), "--pseudonymise", "s\udce9")
    assert code == 2 and "Traceback" not in output and "salt" in output, output
    code, output = invoke("--out", str(tmp_path / "o"), "--scheduler", "local:\u00b9")
    assert code == 2 and "Traceback" not in output, output


def test_a_utf8_roster_with_a_stray_cp1252_byte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    demo = datasets.agents().head(3)
    lines = ["agent_id,lon,lat,telework_days,commune"]
    lines += [f"{r.agent_id},{r.lon},{r.lat},1,Mende" for r in demo.itertuples()]
    text = "\n".join(lines).replace("Mende", "Marié", 1) + "\n"
    raw = text.encode("utf-8").replace(b"Mende", "Mendé".encode("cp1252"), 1)
    path.write_bytes(raw)
    code, output = invoke("--agents", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and "line(s) 3" in output, output


def test_a_key_file_naming_a_published_out_folder_changes_nothing(tmp_path: Path) -> None:
    # issue 24, case 14: --key-file out --out out, out/ published by an earlier run, was
    # refused as bad input only after out/ was published again
    out = tmp_path / "out"
    code, output = invoke("--out", str(out))
    assert code == 0, output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = CliRunner().invoke(
        main,
        ["--out", str(out), "--pseudonymise", "s", "--key-file", str(out), "--no-maps", "-q"],
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--key-file" in lines[0], result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_bad_cache_dir_of_network_is_named_as_such_in_one_line(tmp_path: Path) -> None:
    # issue 24, case 15: a --cache-dir under a file was reported as a problem with --out,
    # after warnings
    (tmp_path / "afile").write_text("mine", encoding="utf-8")
    out = tmp_path / "roads.graphml"
    source = datasets.path(datasets.NETWORK_FILE)
    args = ["network", "--from-file", str(source), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--cache-dir", str(tmp_path / "afile" / "c")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("assign: error: --cache-dir"), result.stderr
    assert "--out" not in lines[0]
    assert not out.exists()
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "mine"
