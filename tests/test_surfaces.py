"""Hostile catalogue, the subcommands' surfaces: geocode, calibrate, network (issue 24).

Each case feeds one of ``assign geocode``, ``assign calibrate`` and ``assign
network`` a bad output path, input, answer or cache, and checks the quality
bar: one line on stderr and exit code 2 (or a result), nothing of the user's
touched (compared byte for byte), never a device written through, no traceback.
"""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.geocode import _key
from optimizer.inputs import read_agents
from optimizer.speed_model import speed_model

ROOT = Path(__file__).resolve().parents[1]
SMALL_OSM = ROOT / "tests" / "fixtures" / "small_roads.osm"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

KNOWN = {  # address -> latitude, longitude, result_score, result_label, result_type
    "2 rue de la rovere mende": ("44.5180", "3.5010", "0.93", "2 Rue de la Rovère Mende", "street"),
    "place du marche langogne": ("44.727", "3.855", "0.41", "Langogne", "municipality"),
}


def _one_line_error(result) -> str:
    """The run ended with exit code 2 and one line on stderr (no traceback); return it."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("assign: error: ")
    return lines[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# --------------------------------------------------------------------------- a fake BAN


class _Answer:
    def __init__(self, content: bytes, status: int = 200) -> None:
        self.status_code = status
        self.content = content
        self.text = content.decode("utf-8", "replace")


def _good_answer(sent: str) -> bytes:
    rows = pd.read_csv(pd.io.common.StringIO(sent), dtype=str, keep_default_na=False)
    lines = ["adresse,latitude,longitude,result_score,result_label,result_type"]
    for address in rows["adresse"]:
        hit = KNOWN.get(address.lower().replace(",", ""), ("", "", "", "", ""))
        lines.append(",".join([f'"{address}"', *hit]))
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def ban(monkeypatch):
    """Stand in for the BAN: ``ban.answer`` makes the answer from the CSV sent."""

    class Ban:
        sent: list[str] = []  # noqa: RUF012
        answer = staticmethod(_good_answer)

    def post(url, files, data, timeout):
        csv_sent = files["data"][1].decode("utf-8")
        Ban.sent.append(csv_sent)
        return _Answer(Ban.answer(csv_sent))

    monkeypatch.setattr(requests, "post", post)
    return Ban


def _roster(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(
        text
        or "agent_id;adresse;commune\nA1;2 rue de la Rovere, Mende;\nA2;12 chemin inconnu;Mende\n",
        encoding="utf-8",
    )
    return path


def _geocode(tmp_path: Path, roster: Path, out: Path | str, *extra: str):
    args = ["geocode", str(roster), "--out", str(out), "--url", "http://ban.invalid"]
    args += ["--cache-dir", str(tmp_path / "cache"), *extra]
    return CliRunner().invoke(main, args)


# --------------------------------------------------------------------------- case 8: answers


@pytest.mark.parametrize(
    "answer",
    [
        b"",  # empty
        b"   \n",  # blank
        "adresse,latitude\n\xe9t\xe9,44\n".encode("latin-1"),  # not UTF-8
        b"adresse\n2 rue de la Rovere Mende\n12 chemin inconnu\n",  # no result columns
        b'{"type": "FeatureCollection", "features": []}',  # JSON, not CSV
        b'adresse,latitude,longitude,result_score,result_label,result_type\n"a",1,2,3,4,5,6,7\n',
    ],
    ids=["empty", "blank", "latin-1", "no-columns", "json", "ragged"],
)
def test_geocode_an_unusable_answer_is_one_line_and_writes_nothing(tmp_path, ban, answer) -> None:
    ban.answer = staticmethod(lambda sent: answer)
    roster = _roster(tmp_path)
    before = roster.read_bytes()
    out = tmp_path / "geocoded.csv"
    line = _one_line_error(_geocode(tmp_path, roster, out, "-q"))
    assert "address service" in line and "not usable" in line
    assert not out.exists() and roster.read_bytes() == before
    assert not list((tmp_path / "cache").glob("*.json"))  # nothing cached


def test_geocode_a_row_with_impossible_numbers_is_left_ungeocoded(tmp_path, ban) -> None:
    def answer(sent: str) -> bytes:
        return (
            b"adresse,latitude,longitude,result_score,result_label,result_type\n"
            b'"2 rue de la Rovere, Mende",944.5,3.5,0.97,Mende,housenumber\n'
            b'"12 chemin inconnu",44.5,3.5,0.8,Mende,street\n'
        )

    ban.answer = staticmethod(answer)
    out = tmp_path / "geocoded.csv"
    result = _geocode(tmp_path, _roster(tmp_path), out)
    assert result.exit_code == 0, result.output
    coded = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert coded["geocode_status"].tolist() == ["bad answer", "ok"]
    assert coded.loc[0, "lat"] == "" and coded.loc[1, "lat"] == "44.5"
    assert "1 bad answers" in result.output and "row 2: bad answer" in result.output
    # a bad answer is not cached: asked again next time
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1


# --------------------------------------------------------------------------- case 8: the cache


def test_geocode_a_truncated_cache_entry_is_set_aside_and_asked_again(
    tmp_path, ban, caplog
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    entry = cache / f"{_key('2 rue de la Rovere, Mende', '')}.json"
    entry.write_text('{"lon": 3.501, "lat": 44.5', encoding="utf-8")  # a killed write
    out = tmp_path / "geocoded.csv"
    result = _geocode(tmp_path, _roster(tmp_path), out)
    assert result.exit_code == 0, result.output
    assert "was corrupt" in caplog.text and "set aside" in caplog.text
    assert (cache / f"{entry.name}.bad").read_text() == '{"lon": 3.501, "lat": 44.5'
    assert json.loads(entry.read_text())["lat"] == 44.518  # asked again, cached whole
    assert pd.read_csv(out)["geocode_status"].tolist() == ["ok", "not found"]
    assert len(ban.sent) == 1 and "Rovere" in ban.sent[0]


def test_geocode_a_cache_entry_that_is_a_folder_is_left_alone(tmp_path, ban, caplog) -> None:
    cache = tmp_path / "cache"
    entry = cache / f"{_key('2 rue de la Rovere, Mende', '')}.json"
    entry.mkdir(parents=True)
    (entry / "mine.txt").write_text("keep", encoding="utf-8")
    out = tmp_path / "geocoded.csv"
    result = _geocode(tmp_path, _roster(tmp_path), out)
    assert result.exit_code == 0, result.output
    assert "is not a file; not used, not replaced" in caplog.text
    assert entry.is_dir() and (entry / "mine.txt").read_text() == "keep"
    assert pd.read_csv(out)["geocode_status"].tolist() == ["ok", "not found"]


def test_geocode_cache_entries_are_written_whole_through_a_rename(
    tmp_path, ban, monkeypatch
) -> None:
    # a run killed while writing an entry leaves the previous one (or none), never half
    cache = tmp_path / "cache"
    killed = RuntimeError("killed")
    write_text = Path.write_text

    def half_then_dies(self, data, *args, **kwargs):
        write_text(self, data[: len(data) // 2], *args, **kwargs)
        raise killed

    def dies(fd):
        raise killed

    roster = _roster(tmp_path)
    monkeypatch.setattr(Path, "write_text", half_then_dies)
    monkeypatch.setattr(os, "fsync", dies)
    result = _geocode(tmp_path, roster, tmp_path / "geocoded.csv")
    assert result.exception is killed
    assert list(cache.iterdir()) == []  # no half-written entry, no temporary left


DEAD_PID = 4_194_305  # above Linux's largest pid: no such process


def test_geocode_removes_only_the_temporaries_killed_runs_left(tmp_path, ban) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    out = tmp_path / "geocoded.csv"
    dead_entry = cache / f".{'0' * 64}.json.{DEAD_PID}-0123abcd.tmp"
    dead_out = tmp_path / f".geocoded.csv.{DEAD_PID}-0123abcd.tmp"
    live = tmp_path / f".geocoded.csv.{os.getppid()}-0123abcd.tmp"  # a run still going
    mine = tmp_path / ".geocoded.csv.tmp"  # not the tool's pattern: left alone
    for path in (dead_entry, dead_out, live, mine):
        path.write_text('{"lon": 3', encoding="utf-8")
    result = _geocode(tmp_path, _roster(tmp_path), out)
    assert result.exit_code == 0, result.output
    assert not dead_entry.exists() and not dead_out.exists()
    assert live.exists() and mine.read_text(encoding="utf-8") == '{"lon": 3'


# --------------------------------------------------------------------------- case 13


def test_geocode_keeps_the_coordinates_a_row_had(tmp_path, ban) -> None:
    roster = _roster(
        tmp_path,
        "agent_id;adresse;lon;lat\n"
        "A1;2 rue de la Rovere, Mende;;\n"
        "A2;12 chemin inconnu;3,6012;44,4011\n",
    )
    out = tmp_path / "geocoded.csv"
    result = _geocode(tmp_path, roster, out)
    assert result.exit_code == 0, result.output
    assert "1 rows kept the coordinates they had (not sent)" in result.output
    assert "chemin inconnu" not in "".join(ban.sent)  # not sent
    coded = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert coded["geocode_status"].tolist() == ["ok", "coordinates given"]
    assert coded.loc[1, "lon"] == "3.6012" and coded.loc[1, "lat"] == "44.4011"
    agents = read_agents(out)
    assert agents["lon"].round(4).tolist() == [3.501, 3.6012]
    # geocoding the output again sends nothing and keeps every row's match
    again = tmp_path / "again.csv"
    assert _geocode(tmp_path, out, again).exit_code == 0
    assert len(ban.sent) == 1
    twice = pd.read_csv(again, dtype=str, keep_default_na=False)
    assert twice["geocode_label"].tolist() == coded["geocode_label"].tolist()
    assert twice["lon"].tolist() == coded["lon"].tolist()
    assert read_agents(again)["location"].tolist() == ["address", "coordinates"]


def test_geocode_writes_into_the_coordinate_columns_the_roster_has(tmp_path, ban) -> None:
    # longitude/latitude, as a GIS export heads them: no second lon/lat pair added, and
    # assign reads every row of the output: at its address, its coordinates or its commune
    roster = _roster(
        tmp_path,
        "agent_id;adresse;longitude;latitude;commune\n"
        "A1;nowhere street;3.6012;44.4011;\n"
        "A2;2 rue de la Rovere, Mende;;;\n"
        "A3;12 chemin inconnu;;;Mende\n",
    )
    out = tmp_path / "geocoded.csv"
    result = _geocode(tmp_path, roster, out)
    assert result.exit_code == 0, result.output
    coded = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "lon" not in coded.columns and "lat" not in coded.columns
    agents = read_agents(out)
    assert agents["location"].tolist() == ["coordinates", "address", "commune"]
    assert agents.loc[0, "lon"] == pytest.approx(3.6012)
    assert agents.loc[1, "lat"] == pytest.approx(44.518)


def test_assign_runs_on_what_geocode_wrote(tmp_path, ban) -> None:
    # every kind of row geocode writes: kept coordinates, placed at its address, not found
    # with a commune, low score with a commune; assign plans them all
    roster = _roster(
        tmp_path,
        "agent_id;adresse;longitude;latitude;commune\n"
        "A1;nowhere street;3.6012;44.4011;\n"
        "A2;2 rue de la Rovere, Mende;;;\n"
        "A3;12 chemin inconnu;;;Mende\n"
        "A4;Place du Marche, Langogne;;;Langogne\n",
    )
    coded = tmp_path / "geocoded.csv"
    result = _geocode(tmp_path, roster, coded)
    assert result.exit_code == 0, result.output
    assert "row 4: not found; check it" in result.output  # no 'nan' score shown
    statuses = pd.read_csv(coded, keep_default_na=False)["geocode_status"].tolist()
    assert statuses == ["coordinates given", "ok", "not found", "low score"]
    out = tmp_path / "assignment"
    run = CliRunner().invoke(main, ["--agents", str(coded), "--out", str(out), "-q"])
    assert run.exit_code == 0, run.output
    allocation = pd.read_csv(out / "allocation.csv", dtype=str)
    assert sorted(allocation["agent_id"]) == ["A1", "A2", "A3", "A4"]


def test_geocode_says_which_rows_assign_cannot_place(tmp_path, ban) -> None:
    roster = _roster(
        tmp_path, "agent_id;adresse\nA1;2 rue de la Rovere, Mende\nA2;12 chemin inconnu\n"
    )
    out = tmp_path / "geocoded.csv"
    result = _geocode(tmp_path, roster, out)
    assert result.exit_code == 0, result.output
    assert "1 rows have neither coordinates nor a commune (rows 3)" in result.output
    with pytest.raises(InputError, match="row 3, column 'lon'"):
        read_agents(out)


# --------------------------------------------------------------------------- case 15


def test_geocode_a_cache_dir_under_a_file_names_cache_dir(tmp_path, ban) -> None:
    (tmp_path / "afile").write_text("mine", encoding="utf-8")
    out = tmp_path / "geocoded.csv"
    args = ["geocode", str(_roster(tmp_path)), "--out", str(out), "--url", "http://x.invalid"]
    result = CliRunner().invoke(main, [*args, "--cache-dir", str(tmp_path / "afile" / "ban")])
    line = _one_line_error(result)
    assert "--cache-dir" in line and "--out" not in line
    assert not ban.sent and not out.exists()
    assert (tmp_path / "afile").read_text() == "mine"


# --------------------------------------------------------------------------- geocode --out


def test_geocode_out_hard_linked_to_the_roster_is_refused(tmp_path, ban) -> None:
    roster = _roster(tmp_path)
    before = roster.read_bytes()
    link = tmp_path / "same.csv"
    link.hardlink_to(roster)
    line = _one_line_error(_geocode(tmp_path, roster, link))
    assert "ROSTER" in line and not ban.sent
    assert roster.read_bytes() == before


def test_geocode_does_not_replace_a_user_file_without_force(tmp_path, ban) -> None:
    out = tmp_path / "results.csv"
    out.write_bytes(b"agent_id;notes\nA1;my own notes\n")
    line = _one_line_error(_geocode(tmp_path, _roster(tmp_path), out))
    assert "--force" in line and not ban.sent
    assert out.read_bytes() == b"agent_id;notes\nA1;my own notes\n"
    forced = _geocode(tmp_path, _roster(tmp_path), out, "--force")
    assert forced.exit_code == 0, forced.output
    assert "geocode_status" in out.read_text(encoding="utf-8")
    # its own output is replaced by a second run without --force
    again = _geocode(tmp_path, _roster(tmp_path), out)
    assert again.exit_code == 0, again.output


def test_geocode_replacing_its_own_output_keeps_it_private(tmp_path, ban) -> None:
    # a roster of home addresses the planner made readable by them alone stays so
    out = tmp_path / "geocoded.csv"
    assert _geocode(tmp_path, _roster(tmp_path), out).exit_code == 0
    out.chmod(0o600)
    assert _geocode(tmp_path, _roster(tmp_path), out).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
def test_geocode_out_a_device_stays_a_device(tmp_path, ban) -> None:
    device = tmp_path / "null.csv"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers
    line = _one_line_error(_geocode(tmp_path, _roster(tmp_path), device))
    assert "device" in line and not ban.sent
    assert stat.S_ISCHR(device.stat().st_mode)


# --------------------------------------------------------------------------- case 5 and 9


def _trips(tmp_path: Path) -> Path:
    trips = tmp_path / "trips.csv"
    trips.write_bytes(datasets.path("reference_trips.csv").read_bytes())
    return trips


def _calibrate(trips: Path, out: Path | str, *extra: str):
    args = ["calibrate", "--reference", str(trips), "--out", str(out), *extra]
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink"])
def test_calibrate_out_the_reference_is_refused(tmp_path, how) -> None:
    trips = _trips(tmp_path)
    before = trips.read_bytes()
    out = trips
    if how != "same":
        out = tmp_path / "profile.csv"
        if how == "symlink":
            out.symlink_to(trips)
        else:
            out.hardlink_to(trips)
    line = _one_line_error(_calibrate(trips, out))
    assert "--reference" in line
    assert trips.read_bytes() == before


def test_calibrate_does_not_replace_a_user_file_without_force(tmp_path) -> None:
    trips = _trips(tmp_path)
    out = tmp_path / "profile.csv"
    out.write_bytes(b"highway,kmh\nprimary,85\n")
    line = _one_line_error(_calibrate(trips, out))
    assert "--force" in line
    assert out.read_bytes() == b"highway,kmh\nprimary,85\n"
    forced = _calibrate(trips, out, "--force", "-q")
    assert forced.exit_code == 0, forced.output
    assert out.read_text().startswith("highway,kmh,factor,junction_delay_s")
    again = _calibrate(trips, out, "-q")  # its own profile: replaced without --force
    assert again.exit_code == 0, again.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_calibrate_an_out_it_cannot_write_is_one_line_before_the_work(tmp_path, where) -> None:
    trips = _trips(tmp_path)
    (tmp_path / "afile").write_bytes(b"mine")
    out = tmp_path / "afile" / "profile.csv" if where == "under-a-file" else "/proc/profile.csv"
    line = _one_line_error(_calibrate(trips, out))  # one line: no step was started
    assert "--out" in line
    assert (tmp_path / "afile").read_bytes() == b"mine"


@pytest.mark.skipif(IS_ROOT, reason="root writes in a read-only folder")
def test_calibrate_out_in_a_read_only_folder_is_one_line(tmp_path) -> None:
    trips = _trips(tmp_path)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = _one_line_error(_calibrate(trips, folder / "profile.csv"))
    finally:
        folder.chmod(0o755)
    assert "--out" in line and "cannot write" in line


@pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
def test_calibrate_out_a_device_stays_a_device(tmp_path) -> None:
    device = tmp_path / "null.csv"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    line = _one_line_error(_calibrate(_trips(tmp_path), device))
    assert "device" in line
    assert stat.S_ISCHR(device.stat().st_mode)


def test_calibrate_out_a_link_to_dev_null_is_refused(tmp_path) -> None:
    link = tmp_path / "profile.csv"
    link.symlink_to(os.devnull)
    line = _one_line_error(_calibrate(_trips(tmp_path), link))
    assert "device" in line
    assert link.is_symlink() and stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_calibrate_out_a_fifo_is_refused_without_opening_it(tmp_path) -> None:
    # a real FIFO, in a real process: opening it for writing would wait for a reader forever
    fifo = tmp_path / "profile.csv"
    os.mkfifo(fifo)
    trips = _trips(tmp_path)
    args = ["calibrate", "--reference", str(trips), "--out", str(fifo)]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "optimizer", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("assign calibrate opened the FIFO and waited for a reader")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "FIFO" in done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# --------------------------------------------------------------------------- network --out


def test_network_does_not_replace_a_user_graphml_without_force(tmp_path) -> None:
    out = tmp_path / "roads.graphml"
    mine = b"<?xml version='1.0'?><graphml><graph id='mine'/></graphml>\n"
    out.write_bytes(mine)
    args = ["network", "--from-file", str(SMALL_OSM), "--out", str(out), "-q"]
    line = _one_line_error(CliRunner().invoke(main, args))
    assert "--force" in line
    assert out.read_bytes() == mine
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    again = CliRunner().invoke(main, args)  # its own network: replaced without --force
    assert again.exit_code == 0, again.output


# --------------------------------------------------------------------------- case 7


@pytest.mark.parametrize("factor", [1e-300, 1e-6, 0.01, True])
def test_a_speed_factor_out_of_range_is_refused(factor) -> None:
    with pytest.raises(InputError, match=r"profile p\.csv: the speed factor of 'primary'.*0\.05"):
        speed_model("realistic").with_factors({"primary": factor}, source="profile p.csv")


@pytest.mark.parametrize("delay", [math.nan, -1.0, 1e9, "5"])
def test_a_junction_delay_out_of_range_is_refused(delay) -> None:
    with pytest.raises(InputError, match="junction delay"):
        speed_model("realistic").with_factors({}, source="p.csv", junction_delay_s=delay)


@pytest.mark.parametrize("factor", ["1e-6", "0.01"])
def test_a_tiny_factor_in_a_profile_is_one_line_before_any_work(tmp_path, factor) -> None:
    profile = tmp_path / "profile.csv"
    profile.write_text(f"highway,kmh,factor\nprimary,90,{factor}\nsecondary,80,0.9\n")
    out = tmp_path / "roads.graphml"
    args = ["network", "--from-file", str(SMALL_OSM), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--speed-profile", str(profile)])
    line = _one_line_error(result)  # one line: no numpy warning before it
    assert "'primary'" in line and "from 0.05 to 1.5" in line and str(profile) in line
    assert not out.exists()
