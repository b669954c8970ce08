"""Bad input: every case of the catalogue ends in one clear line, exit code 2, no file written."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import datasets
from optimizer.cli import main
from optimizer.inputs import HeadOffice, read_agents, read_telecentres
from optimizer.pipeline import run
from optimizer.report import (
    ALLOCATION_FILE,
    RANKING_FILE,
    SUMMARY_FILE,
    TELECENTRES_FILE,
    TRAVEL_FILE,
    write_outputs,
)

AGENTS_OK = "agent_id,lon,lat,telework_days\nA1,3.50,44.52,1\nA2,3.28,44.80,2\n"
SITES_OK = (
    "telecentre_id,name,lon,lat,capacity\n"
    "marvejols,Marvejols,3.2895,44.5504,2\n"
    "langogne,Langogne,3.8546,44.7269,2\n"
)


def _agents(*rows: str, header: str = "agent_id,lon,lat,telework_days") -> str:
    return "\n".join([header, *rows]) + "\n"


def _sites(*rows: str, header: str = "telecentre_id,name,lon,lat,capacity") -> str:
    return "\n".join([header, *rows]) + "\n"


# (case, agents file, telecentres file, extra args, expected words in the single error line)
CATALOGUE: list[tuple[str, object, object, list[str], str]] = [
    (
        "agents file missing",
        None,
        SITES_OK,
        ["--agents", "{tmp}/nowhere.csv"],
        "nowhere.csv: file not found",
    ),
    ("agents file empty", "", SITES_OK, [], "the file is empty"),
    ("agents header only", "agent_id,lon,lat\n", SITES_OK, [], "no agents in the file"),
    (
        "move penalty without a previous plan",
        AGENTS_OK,
        SITES_OK,
        ["--move-penalty", "10"],
        "--move-penalty weighs moves from a previous plan: give --previous FILE too",
    ),
    (
        "day-change penalty without a previous plan",
        AGENTS_OK,
        SITES_OK,
        ["--day-change-penalty", "10"],
        "--day-change-penalty weighs weekday changes from a previous plan: give --previous FILE "
        "too",
    ),
    (
        "agents header only, as 'assign geocode' writes it",
        "agent_id,lon,lat,location,location_precision_m\n",
        SITES_OK,
        [],
        "no agents in the file",
    ),
    ("agents without lat", "agent_id,lon\nA1,3.5\n", SITES_OK, [], "missing column 'lat'"),
    ("agents without id", "lon,lat\n3.5,44.5\n", SITES_OK, [], "missing column 'agent_id'"),
    (
        "lon not a number",
        _agents("A1,3.5,44.5,1", "A2,abc,44.6,1"),
        SITES_OK,
        [],
        "row 3, column 'lon': 'abc' is not a number",
    ),
    ("lat empty", _agents("A1,3.5,,1"), SITES_OK, [], "row 2, column 'lat': is empty"),
    (
        "lat and lon swapped",
        _agents("A1,44.52,3.50,1"),
        SITES_OK,
        [],
        "Longitude and latitude look swapped",
    ),
    (
        "projected without --crs",
        _agents("A1,770000,6380000,1"),
        SITES_OK,
        [],
        "They look projected: give --crs",
    ),
    (
        "home outside the network",
        _agents("A1,2.35,48.85,1"),
        SITES_OK,
        [],
        "lies outside the road network's area",
    ),
    (
        "duplicate agent id",
        _agents("A1,3.5,44.5,1", "A1,3.6,44.6,1"),
        SITES_OK,
        [],
        "row 3, column 'agent_id': id 'A1' is already used on row 2",
    ),
    (
        "empty agent id",
        _agents(",3.5,44.5,1"),
        SITES_OK,
        [],
        "row 2, column 'agent_id': the id is empty",
    ),
    (
        "telework days 0",
        _agents("A1,3.5,44.5,0"),
        SITES_OK,
        [],
        "'0' is not a whole number from 1 to 5",
    ),
    (
        "telework days 6",
        _agents("A1,3.5,44.5,6"),
        SITES_OK,
        [],
        "'6' is not a whole number from 1 to 5",
    ),
    (
        "telework days 1.5",
        _agents("A1,3.5,44.5,1.5"),
        SITES_OK,
        [],
        "'1.5' is not a whole number from 1 to 5",
    ),
    (
        "telework days text",
        _agents("A1,3.5,44.5,two"),
        SITES_OK,
        [],
        "column 'telework_days': 'two' is not a number",
    ),
    (
        "must_assign not yes/no",
        _agents("A1,3.5,44.5,1,maybe", header="agent_id,lon,lat,telework_days,must_assign"),
        SITES_OK,
        [],
        "'maybe' is not yes or no",
    ),
    (
        "unknown preferred telecentre",
        _agents(
            "A1,3.5,44.5,1,florac", header="agent_id,lon,lat,telework_days,preferred_telecentre"
        ),
        SITES_OK,
        [],
        "'florac' is not a telecentre id",
    ),
    (
        "unknown forbidden telecentre",
        _agents(
            "A1,3.5,44.5,1,marvejols|mende",
            header="agent_id,lon,lat,telework_days,forbidden_telecentres",
        ),
        SITES_OK,
        [],
        "'mende' is not a telecentre id",
    ),
    (
        "forbidden telecentres separated by commas",
        _agents(
            'A1,3.5,44.5,1,"marvejols, langogne"',
            header="agent_id,lon,lat,telework_days,forbidden_telecentres",
        ),
        SITES_OK,
        [],
        "'marvejols,' is not a telecentre id. Known ids: langogne, marvejols. Separate ids "
        "with '|' (e.g. marvejols|langogne).",
    ),
    (
        "telecentres file missing",
        AGENTS_OK,
        None,
        ["--telecentres", "{tmp}/nowhere.csv"],
        "nowhere.csv: file not found",
    ),
    (
        "telecentres without capacity",
        AGENTS_OK,
        "telecentre_id,lon,lat\nm,3.29,44.55\n",
        [],
        "missing column 'capacity'",
    ),
    (
        "capacity negative",
        AGENTS_OK,
        _sites("m,M,3.29,44.55,-1"),
        [],
        "'-1' is not a whole number from 0 to 100000",
    ),
    (
        "capacity not whole",
        AGENTS_OK,
        _sites("m,M,3.29,44.55,2.5"),
        [],
        "'2.5' is not a whole number from 0 to 100000",
    ),
    (
        "duplicate telecentre id",
        AGENTS_OK,
        _sites("m,M,3.29,44.55,2", "m,N,3.85,44.73,2"),
        [],
        "id 'm' is already used on row 2",
    ),
    (
        "telecentre id reserved",
        AGENTS_OK,
        _sites("head_office,H,3.29,44.55,2"),
        [],
        "'head_office' is reserved",
    ),
    (
        "telecentre outside the network",
        AGENTS_OK,
        _sites("m,M,5.37,43.30,2"),
        [],
        "lies outside the road network's area",
    ),
    (
        "head office malformed",
        AGENTS_OK,
        SITES_OK,
        ["--head-office", "3.5"],
        "--head-office: '3.5' is not LON,LAT",
    ),
    (
        "head office swapped",
        AGENTS_OK,
        SITES_OK,
        ["--head-office", "44.5178,3.5012"],
        # an option has no row: the point is named, not 'row 2 (id 'head_office')'
        "assign: error: --head-office: point (44.51780, 3.50120) lies outside the road "
        "network's area (lon 3.02..3.99, lat 44.17..44.95). Longitude and latitude look swapped",
    ),
    (
        "head office far from any road",
        AGENTS_OK,
        SITES_OK,
        ["--head-office", "3.5,44.0"],
        "the head office is",
    ),
    (
        "network missing",
        AGENTS_OK,
        SITES_OK,
        ["--network", "{tmp}/nowhere.osm"],
        "nowhere.osm: network file not found",
    ),
    (
        "network unknown format",
        AGENTS_OK,
        SITES_OK,
        ["--network", "{tmp}/roads.shp"],
        "unknown network format",
    ),
    (
        "network corrupt",
        AGENTS_OK,
        SITES_OK,
        ["--network", "{tmp}/broken.osm.pbf"],
        "cannot be read as OpenStreetMap data",
    ),
    (
        "--crs unknown",
        AGENTS_OK,
        SITES_OK,
        ["--crs", "EPSG:99999"],
        "--crs: 'EPSG:99999' is not a known CRS",
    ),
    (
        "--crs with a point layer",
        "{gpkg}",
        SITES_OK,
        ["--crs", "EPSG:2154"],
        "--crs applies to CSV files only",
    ),
    ("agents path is a folder", None, SITES_OK, ["--agents", "{tmp}"], "is a folder, not a file"),
    (
        "undecodable bytes",
        b"agent_id,lon,lat\n\x81\x8d,3.5,44.5\n",
        SITES_OK,
        [],
        "cannot decode the file",
    ),
    (
        "unbalanced quotes",
        'agent_id,lon,lat\n"A1,3.5,44.5\n',
        SITES_OK,
        [],
        "not a readable CSV table",
    ),
    (
        "--out is a file",
        AGENTS_OK,
        SITES_OK,
        ["--out", "{tmp}/a_file.txt"],
        "a_file.txt' is a file",
    ),
    (
        "--pseudonymise empty salt",
        AGENTS_OK,
        SITES_OK,
        ["--pseudonymise", " "],
        "needs a non-empty salt",
    ),
    (
        "--max-minutes zero",
        AGENTS_OK,
        SITES_OK,
        ["--max-minutes", "0"],
        "Invalid value for '--max-minutes'",
    ),
    ("--select negative", AGENTS_OK, SITES_OK, ["--select", "-1"], "Invalid value for '--select'"),
    ("unknown option", AGENTS_OK, SITES_OK, ["--agent", "x.csv"], "No such option '--agent'"),
    # ---- issue 14: options take finite numbers in sane ranges
    (
        "--preference-bonus inf",
        AGENTS_OK,
        SITES_OK,
        ["--preference-bonus", "inf"],
        "Invalid value for '--preference-bonus': 'inf' is not a number. Give a number from 0",
    ),
    (
        "--preference-bonus 1e300",
        AGENTS_OK,
        SITES_OK,
        ["--preference-bonus", "1e300"],
        "Invalid value for '--preference-bonus': 1e+300 is not in the range 0..10080",
    ),
    (
        "--move-penalty inf",
        AGENTS_OK,
        SITES_OK,
        ["--move-penalty", "inf"],
        "Invalid value for '--move-penalty': 'inf' is not a number",
    ),
    (
        "--day-bonus nan",
        AGENTS_OK,
        SITES_OK,
        ["--day-bonus", "nan"],
        "Invalid value for '--day-bonus': 'nan' is not a number",
    ),
    (
        "--time-limit nan",
        AGENTS_OK,
        SITES_OK,
        ["--time-limit", "nan"],
        "Invalid value for '--time-limit': 'nan' is not a number. Give a number more than 0",
    ),
    (
        "--max-minutes 1e400",
        AGENTS_OK,
        SITES_OK,
        ["--max-minutes", "1e400"],
        "Invalid value for '--max-minutes': '1e400' is too large",
    ),
    (
        "--min-saving with an underscore",
        AGENTS_OK,
        SITES_OK,
        ["--min-saving", "1_0"],
        "Invalid value for '--min-saving': '1_0' is not a number",
    ),
    (
        "--select beyond any roster",
        AGENTS_OK,
        SITES_OK,
        ["--select", str(10**30)],
        "Invalid value for '--select'",
    ),
    (
        "--head-office nan",
        AGENTS_OK,
        SITES_OK,
        ["--head-office", "nan,44.5"],
        "--head-office: 'nan,44.5' is not LON,LAT",
    ),
    # ---- issue 14: columns
    (
        "opening_cost 1e300",
        AGENTS_OK,
        _sites(
            "marvejols,Marvejols,3.2895,44.5504,2,1e300",
            header="telecentre_id,name,lon,lat,capacity,opening_cost",
        ),
        [],
        "row 2, column 'opening_cost': 1e+300 is not a cost from 0 to 1,000,000",
    ),
    (
        "capacity 1e19",
        AGENTS_OK,
        _sites("marvejols,Marvejols,3.2895,44.5504,1e19"),
        [],
        "sites.csv: row 2, column 'capacity': '1e19' is not a whole number from 0 to 100000",
    ),
    (
        "telework days 1e400",
        _agents("A1,3.5,44.5,1e400"),
        SITES_OK,
        [],
        "row 2, column 'telework_days': '1e400' is too large. Give a finite number",
    ),
    (
        "underscore inside a number",
        _agents("A1,3.6_84059,44.5,1"),
        SITES_OK,
        [],
        "row 2, column 'lon': '3.6_84059' is not a number",
    ),
    (
        "two preferred telecentres",
        _agents(
            "A1,3.5,44.5,1,marvejols|langogne",
            header="agent_id,lon,lat,telework_days,preferred_telecentre",
        ),
        SITES_OK,
        [],
        "row 2, column 'preferred_telecentre': 'marvejols|langogne' names several telecentres",
    ),
    (
        "telecentre id with a space",
        AGENTS_OK,
        _sites("saint chely,Saint-Chély,3.2895,44.5504,2"),
        [],
        "row 2, column 'telecentre_id': id 'saint chely' holds a space or '|'",
    ),
    (
        "an address without a number as commune",
        _agents(
            'A1,3.5,44.5,1,"rue des Écoles, Mende"', header="agent_id,lon,lat,telework_days,commune"
        ),
        SITES_OK,
        [],
        "column 'commune': 'rue des Écoles, Mende' is not a commune name (an address?)",
    ),
    (
        "an address as commune",
        _agents(
            "A1,3.5,44.5,1,12 rue des Écoles Mende", header="agent_id,lon,lat,telework_days,commune"
        ),
        SITES_OK,
        [],
        "column 'commune': '12 rue des Écoles Mende' is not a commune name (an address?)",
    ),
    (
        "an INSEE code in the commune column",
        _agents("A1,3.5,44.5,1,48095", header="agent_id,lon,lat,telework_days,commune"),
        SITES_OK,
        [],
        "column 'commune': '48095' is a code, not a commune name. Put INSEE codes in a "
        "code_insee column",
    ),
    (
        "speed table at 1e-5 km/h",
        AGENTS_OK,
        SITES_OK,
        ["--speed-profile", "{tmp}/slow_speeds.csv"],
        "row 2, column 'kmh': 1e-05 km/h is not a speed from 5 to 130",
    ),
    (
        "agent outside the area names the file",
        _agents("A1,3.5,44.5,1", "A2,2.35,48.85,1"),
        SITES_OK,
        [],
        "agents.csv: row 3 (agent_id 'A2'): point (2.35000, 48.85000) lies outside",
    ),
    (
        "telecentre outside the area names the file",
        AGENTS_OK,
        _sites("paris,Paris,2.35,48.85,2"),
        [],
        "sites.csv: row 2 (telecentre_id 'paris'): point",
    ),
    # ---- issue 14: file shapes
    (
        "duplicated header lat,lat",
        "agent_id,lon,lat,lat\nA1,3.5,44.5,44.6\n",
        SITES_OK,
        [],
        "the header has column 'lat' (column 3) and 'lat' (column 4): one name, two columns",
    ),
    (
        "duplicated header lat,LAT",
        "agent_id,lon,lat,LAT\nA1,3.5,44.5,44.6\n",
        SITES_OK,
        [],
        "the header has column 'lat' (column 3) and 'LAT' (column 4)",
    ),
    (
        "two agent_id columns",
        "agent_id,lon,lat,agent_id\nA1,3.5,44.5,B1\n",
        SITES_OK,
        [],
        "the header has column 'agent_id' (column 1) and 'agent_id' (column 4)",
    ),
    (
        "trailing comma on data rows only",
        "agent_id,lon,lat,telework_days\nA1,3.5,44.5,1,\nA2,3.6,44.6,1,\n",
        SITES_OK,
        [],
        "row 2 has 5 cells but the header has 4 columns (agent_id, lon, lat, telework_days): "
        "a separator too many",
    ),
    (
        "a row with cells missing",
        "agent_id,lon,lat,telework_days\nA1,3.5,44.5,1\nA2,3.6\n",
        SITES_OK,
        [],
        "row 3 has 2 cells but the header has 4 columns",
    ),
    (
        "an Excel workbook as agents",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#\xf4\x00\x00\x00",
        SITES_OK,
        [],
        "agents.csv: is a zip archive (an Excel .xlsx or .ods workbook?), not a CSV text file",
    ),
    (
        "a gzip file as agents",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x07\x00",
        SITES_OK,
        [],
        "agents.csv: is gzip-compressed, not a CSV text file",
    ),
    (
        "binary data as agents",
        b"agent_id,lon,lat\nA1\x00\x00\x07,3.5,44.5\n",
        SITES_OK,
        [],
        "agents.csv: holds binary data, not CSV text",
    ),
    (
        "/dev/zero as agents",
        None,
        SITES_OK,
        ["--agents", "/dev/zero"],
        "/dev/zero: more than the 200 MB an input may hold",
    ),
    (
        "corrupt --previous",
        AGENTS_OK,
        SITES_OK,
        ["--previous", "{tmp}/previous.csv.gz"],
        "previous.csv.gz: is gzip-compressed, not a CSV text file",
    ),
    (
        "GeoPackage with two layers",
        "{gpkg2}",
        SITES_OK,
        [],
        "agents.gpkg: holds 2 layers (roster_2023, roster_2024). Name the one to read: ",
    ),
    (
        "GeoPackage layer that does not exist",
        "{gpkg2}:roster_2025",
        SITES_OK,
        [],
        "agents.gpkg: no layer 'roster_2025'; the file holds: roster_2023, roster_2024",
    ),
    # ---- issue 14: the output folder
    ("--out empty", AGENTS_OK, SITES_OK, ["--out", ""], "--out: the folder name is empty"),
    (
        "--out under a file",
        AGENTS_OK,
        SITES_OK,
        ["--out", "{tmp}/a_file.txt/sub"],
        "--out: '{tmp}/a_file.txt/sub': '{tmp}/a_file.txt' is a file, not a folder.",
    ),
    (
        "--out the current folder",
        AGENTS_OK,
        SITES_OK,
        ["--out", "."],
        "--out: '.' is the current folder or holds it",
    ),
]


def _write(path: Path, content: object) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(str(content), encoding="utf-8")


@pytest.mark.parametrize(
    ("case", "agents", "sites", "args", "expected"), CATALOGUE, ids=[c[0] for c in CATALOGUE]
)
def test_catalogue_case(case, agents, sites, args, expected, tmp_path) -> None:
    (tmp_path / "broken.osm.pbf").write_bytes(b"not a pbf at all")
    (tmp_path / "roads.shp").write_text("x")
    (tmp_path / "a_file.txt").write_text("x")
    (tmp_path / "slow_speeds.csv").write_text("highway,kmh\nprimary,1e-5\n")
    (tmp_path / "previous.csv.gz").write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)))
    argv = []
    if isinstance(agents, str) and agents.startswith("{gpkg2}"):
        import geopandas as gpd

        for layer, lon in (("roster_2023", 3.5), ("roster_2024", 3.6)):
            gpd.GeoDataFrame(
                {"agent_id": ["A1"]}, geometry=gpd.points_from_xy([lon], [44.5]), crs="EPSG:4326"
            ).to_file(tmp_path / "agents.gpkg", layer=layer)
        argv += ["--agents", str(tmp_path / "agents.gpkg") + agents[len("{gpkg2}") :]]
    elif agents == "{gpkg}":
        import geopandas as gpd

        layer = gpd.GeoDataFrame(
            {"agent_id": ["A1"]}, geometry=gpd.points_from_xy([3.5], [44.5]), crs="EPSG:4326"
        )
        layer.to_file(tmp_path / "agents.gpkg")
        argv += ["--agents", str(tmp_path / "agents.gpkg")]
    elif agents is not None:
        _write(tmp_path / "agents.csv", agents)
        argv += ["--agents", str(tmp_path / "agents.csv")]
    if sites is not None:
        _write(tmp_path / "sites.csv", sites)
        argv += ["--telecentres", str(tmp_path / "sites.csv")]
    out = tmp_path / "out"
    argv += [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in args:
        argv += ["--out", str(out)]
    result = CliRunner().invoke(main, [*argv, "--quiet"])
    assert result.exit_code == 2, (case, result.output)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("assign: error: ")
    assert expected.replace("{tmp}", str(tmp_path)) in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if ".run-" in p.name]


def test_catalogue_is_large_enough() -> None:
    assert len(CATALOGUE) >= 75


def test_error_names_the_file_row_and_value(tmp_path) -> None:
    path = tmp_path / "agents.csv"
    path.write_text(_agents("A1,3.5,44.5,1", "A2,3.5,44.5,1", "A3,3.5,44.5,9"), encoding="utf-8")
    result = CliRunner().invoke(main, ["--agents", str(path), "--out", str(tmp_path / "o")])
    assert (
        f"{path}: row 4, column 'telework_days': '9' is not a whole number from 1 to 5."
        in result.output
    )


def test_a_failed_run_leaves_previous_results_whole(tmp_path) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["--out", str(out), "-q"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.csv"
    bad.write_text("agent_id,lon,lat\nA1,abc,44\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["--agents", str(bad), "--out", str(out), "-q"]).exit_code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_results_are_readable_like_any_file(tmp_path) -> None:
    import os
    import stat

    assert (
        CliRunner().invoke(main, ["--out", str(tmp_path / "out"), "-q", "--no-maps"]).exit_code == 0
    )
    umask = os.umask(0)
    os.umask(umask)
    for path in (tmp_path / "out").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name


def test_a_write_failure_midway_replaces_nothing(tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["--out", str(out), "-q"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    import os

    real_fsync = os.fsync
    calls = {"n": 0}

    def failing(fd):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr("optimizer.publish.os.fsync", failing)
    result = CliRunner().invoke(main, ["--out", str(out), "--select", "3", "-q"])
    assert result.exit_code == 1
    assert "No space left on device" in result.output
    assert "the previous results are unchanged" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary


# ----------------------------------------------------------------------------- dialects


def _roster() -> pd.DataFrame:
    return pd.read_csv(datasets.path(datasets.AGENTS_FILE))


def _default_allocation(tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / "default"
    assert CliRunner().invoke(main, ["--out", str(out), "-q"]).exit_code == 0
    return pd.read_csv(out / ALLOCATION_FILE)


def _allocation_with(tmp_path: Path, path: Path, *extra: str) -> pd.DataFrame:
    out = tmp_path / path.stem
    result = CliRunner().invoke(main, ["--agents", str(path), "--out", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / ALLOCATION_FILE)


def _excel_french(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")


@pytest.mark.parametrize(
    ("label", "writer"),
    [
        (
            "semicolon, decimal comma, cp1252",
            lambda f, p: p.write_bytes(_excel_french(f).encode("cp1252")),
        ),
        (
            "semicolon, decimal comma, UTF-8 with BOM",
            lambda f, p: p.write_bytes(_excel_french(f).encode("utf-8-sig")),
        ),
        (
            "comma, UTF-8 with BOM",
            lambda f, p: p.write_bytes(f.to_csv(index=False).encode("utf-8-sig")),
        ),
        ("comma, cp1252", lambda f, p: p.write_bytes(f.to_csv(index=False).encode("cp1252"))),
        (
            "tab separated",
            lambda f, p: p.write_text(f.to_csv(index=False, sep="\t"), encoding="utf-8"),
        ),
    ],
)
def test_csv_dialects_give_the_same_result(label, writer, tmp_path) -> None:
    roster = _roster()
    assert roster["commune"].str.contains("[éèêçô]").any()  # accented names are in the data
    path = tmp_path / "agents_dialect.csv"
    writer(roster, path)
    read = read_agents(path)
    assert read["commune"].tolist() == roster["commune"].tolist(), label
    assert np.allclose(read["lon"], roster["lon"]) and np.allclose(read["lat"], roster["lat"])
    pd.testing.assert_frame_equal(_allocation_with(tmp_path, path), _default_allocation(tmp_path))


def test_column_aliases(tmp_path) -> None:
    roster = _roster().rename(
        columns={"agent_id": "id", "lon": "longitude", "lat": "latitude", "telework_days": "jours"}
    )
    path = tmp_path / "aliases.csv"
    roster.to_csv(path, index=False)
    pd.testing.assert_frame_equal(_allocation_with(tmp_path, path), _default_allocation(tmp_path))
    lng = _roster().rename(columns={"lon": "lng"})
    path2 = tmp_path / "lng.csv"
    lng.to_csv(path2, index=False)
    assert read_agents(path2)["lon"].tolist() == lng["lng"].tolist()


def test_projected_coordinates_with_crs(tmp_path) -> None:
    from pyproj import Transformer

    roster = _roster()
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True).transform(
        roster["lon"], roster["lat"]
    )
    path = tmp_path / "lambert93.csv"
    roster.drop(columns=["lon", "lat"]).assign(x=x, y=y).to_csv(path, index=False)
    # the round trip through Lambert-93 moves points by far less than a millimetre: at most
    # a last-digit rounding flip in the figures
    pd.testing.assert_frame_equal(
        _allocation_with(tmp_path, path, "--crs", "EPSG:2154"),
        _default_allocation(tmp_path),
        atol=0.011,
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_point_layers(suffix, tmp_path) -> None:
    import geopandas as gpd

    roster = _roster()
    layer = gpd.GeoDataFrame(
        roster.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(roster["lon"], roster["lat"]),
        crs="EPSG:4326",
    ).to_crs("EPSG:2154")  # stored projected: the layer's CRS is used
    path = tmp_path / f"agents{suffix}"
    layer.to_file(path)
    allocation = _allocation_with(tmp_path, path)
    pd.testing.assert_frame_equal(allocation, _default_allocation(tmp_path), atol=0.11)


# ----------------------------------------------------------------------------- privacy


def test_pseudonymise_replaces_ids_stably_everywhere(tmp_path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        assert (
            runner.invoke(
                main, ["--pseudonymise", "secret phrase", "--out", str(tmp_path / name), "-q"]
            ).exit_code
            == 0
        )
    assert (
        runner.invoke(
            main, ["--pseudonymise", "other", "--out", str(tmp_path / "c"), "-q"]
        ).exit_code
        == 0
    )
    ids = set(_roster()["agent_id"])
    for name in (ALLOCATION_FILE, TRAVEL_FILE, RANKING_FILE):
        a = (tmp_path / "a" / name).read_text()
        assert a == (tmp_path / "b" / name).read_text()  # same salt, same pseudonyms
        assert not any(agent in a for agent in ids)
    first_a = pd.read_csv(tmp_path / "a" / ALLOCATION_FILE)["agent_id"]
    first_c = pd.read_csv(tmp_path / "c" / ALLOCATION_FILE)["agent_id"]
    assert first_a.str.fullmatch(r"P[0-9a-f]{12}").all()
    assert first_a.is_unique
    assert not set(first_a) & set(first_c)  # another salt, other pseudonyms
    info = json.loads((tmp_path / "a" / SUMMARY_FILE).read_text())
    assert info["privacy"]["home_coordinates_in_outputs"] is False
    assert info["privacy"]["agent_ids_pseudonymised"] is True
    assert info["privacy"]["fit_to_share"] is True


# ----------------------------------------------------------------------------- nothing lost


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_agents=st.integers(1, 40),
    n_sites=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_random_rosters_every_agent_once_capacities_hold_outputs_parse(
    n_agents, n_sites, seed, lozere_network
) -> None:
    rng = np.random.default_rng(seed)
    west, south, east, north = lozere_network.bounds
    communes = datasets.communes()
    picks = rng.choice(len(communes), size=n_sites, replace=False)
    agents = read_agents(
        pd.DataFrame(
            {
                "agent_id": [f"X{i}" for i in range(n_agents)],
                "lon": rng.uniform(west - 0.05, east + 0.05, n_agents),  # some beyond any road
                "lat": rng.uniform(south - 0.05, north + 0.05, n_agents),
                "telework_days": rng.integers(1, 6, n_agents),
            }
        )
    )
    sites = read_telecentres(
        pd.DataFrame(
            {
                "telecentre_id": [f"T{j}" for j in range(n_sites)],
                "lon": communes["mairie_lon"].to_numpy()[picks],
                "lat": communes["mairie_lat"].to_numpy()[picks],
                "capacity": rng.integers(0, 6, n_sites),
            }
        )
    )
    result = run(
        agents,
        sites,
        HeadOffice(3.501172, 44.517817),
        lozere_network,
        select=int(rng.integers(0, n_agents + 1)),
    )
    with tempfile.TemporaryDirectory() as folder:
        # maps (1.5-2 s a run; tests/test_maps.py checks them) drawn for a quarter of the
        # rosters: that they are drawn for any roster, not what they show
        write_outputs(result, folder, maps=seed % 4 == 0)
        allocation = pd.read_csv(Path(folder) / ALLOCATION_FILE, keep_default_na=False)
        centres = pd.read_csv(Path(folder) / TELECENTRES_FILE)
        travel = pd.read_csv(Path(folder) / TRAVEL_FILE, keep_default_na=False)
        json.loads((Path(folder) / SUMMARY_FILE).read_text())
    assert allocation["agent_id"].tolist() == agents["agent_id"].tolist()
    assert set(allocation["status"]) <= {"assigned", "not_assigned"}
    assert (allocation.loc[allocation["status"] == "not_assigned", "reason"] != "").all()
    counts = allocation[allocation["status"] == "assigned"]["telecentre_id"].value_counts()
    for row in centres.itertuples():
        assert counts.get(row.telecentre_id, 0) == row.assigned
        for day in ("mon", "tue", "wed", "thu", "fri"):  # capacity: desks each weekday
            assert getattr(row, f"used_{day}") <= getattr(row, f"desks_{day}") == row.capacity
    assert len(travel) == n_agents * (n_sites + 1)
    unrouted = travel[travel["minutes_to"] == ""]
    assert (unrouted["reason"] != "").all()
