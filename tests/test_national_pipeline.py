"""A national network folder goes through the one pipeline: every option, every file, sound bounds.

The country is the hand-made river country of :mod:`tests.test_national_cert` (three
départements, a river crossed by one bridge in the north, written as one OSM file with the
départements' boundaries). Each run on the folder is compared with the plain run on the merged
file (``country.osm``), which routes every pair on the whole network in one process:

- with a border wide enough to certify every pair, ``assign --network FOLDER --scheduler``
  writes the plain run's files, options that a national run used to refuse included;
- with narrow borders, the plan says ``exact`` only when it is the merged network's optimum,
  otherwise its bound holds the merged network's optimum, and no agent is called unreachable
  that the merged network reaches.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.inputs import HeadOffice, read_agents, read_telecentres, read_workplaces
from optimizer.national import NationalOptions
from optimizer.national.folder import rounds_to_cover
from optimizer.national.travel import REASON_NOT_CERTIFIED, open_network_folder
from optimizer.network import load_network
from optimizer.pipeline import run
from tests.test_national_cert import _wgs, _write_river_country

distributed = pytest.importorskip("distributed")

#: Homes (metres from the country's corner) on both banks and in the north.
_HOMES = [
    (2_000, 2_000), (5_000, 14_000), (9_000, 6_000), (15_000, 3_000), (18_500, 9_000),
    (19_500, 15_000), (21_000, 4_000), (25_000, 13_000), (31_000, 6_000), (36_000, 2_500),
    (38_000, 15_500), (22_000, 16_500), (3_000, 22_000), (12_000, 28_000), (18_000, 35_000),
    (26_000, 21_000), (33_000, 27_000), (39_000, 38_000), (8_000, 33_000), (29_000, 35_500),
    (11_000, 11_000), (24_000, 8_000), (6_000, 26_000), (35_000, 20_000),
]  # fmt: skip
_SITES = {
    "S0": ((5_000, 5_000), 2),
    "S1": ((30_000, 12_000), 2),
    "S2": ((10_000, 25_000), 3),
    "S3": ((35_000, 30_000), 2),
    "S4": ((19_000, 11_000), 1),
    "S5": ((21_000, 11_000), 2),
}


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The river country's network folder."""
    return _write_river_country(tmp_path_factory.mktemp("river") / "france")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Agents of 1 to 3 days with every roster rule, the telecentres, a workplace."""
    folder = tmp_path_factory.mktemp("inputs")
    n = len(_HOMES)
    points = [_wgs(x, y) for x, y in _HOMES]
    agents = pd.DataFrame(
        {
            "agent_id": [f"a{k:02d}" for k in range(n)],
            "lon": [p[0] for p in points],
            "lat": [p[1] for p in points],
            "telework_days": [1 + k % 3 for k in range(n)],
            "workplace_id": ["W1" if k % 4 == 1 else "" for k in range(n)],
            "must_assign": ["yes" if k == 3 else "" for k in range(n)],
            "forbidden_telecentres": ["S0" if k == 2 else "" for k in range(n)],
            "preferred_telecentre": ["S1" if k == 8 else "" for k in range(n)],
            "preferred_days": ["mon|tue" if k % 5 == 0 else "" for k in range(n)],
            "impossible_days": ["fri" if k % 6 == 0 else "" for k in range(n)],
            "priority": [k % 3 for k in range(n)],
        }
    )
    agents.to_csv(folder / "agents.csv", index=False)
    rows = []
    for name, ((x, y), desks) in _SITES.items():
        lon, lat = _wgs(x, y)
        rows.append(
            {"telecentre_id": name, "name": name, "lon": lon, "lat": lat, "capacity": desks}
        )
    pd.DataFrame(rows).to_csv(folder / "telecentres.csv", index=False)
    lon, lat = _wgs(30_000, 8_000)
    pd.DataFrame({"workplace_id": ["W1"], "name": ["W1"], "lon": [lon], "lat": [lat]}).to_csv(
        folder / "workplaces.csv", index=False
    )
    return {
        "agents": folder / "agents.csv",
        "telecentres": folder / "telecentres.csv",
        "workplaces": folder / "workplaces.csv",
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A two-process Dask cluster; yields its address."""
    # the scheduler's HTTP server on a free port, as optimizer.national.connect does: with
    # None it still takes 8787, and a cluster of the other xdist worker (or of another run
    # on the machine) holding it is a warning, an error under filterwarnings
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield str(local.scheduler_address)


def _head_office(x: float = 20_000, y: float = 30_000) -> str:
    lon, lat = _wgs(x, y)
    return f"{lon},{lat}"


#: Options a national run used to refuse, in groups (each run twice: folder and file).
CASES = {
    "minimax-shared-fr": [
        "--minimax",
        "--pseudonymise",
        "a secret phrase",
        "--lang",
        "fr",
        "--csv-style",
        "excel-fr",
        "--rank",
        "5",
    ],
    "select-choose": ["--select", "8", "--max-open", "4", "--preference-bonus", "5"],
    "km-dedicated-cpsat": [
        "--objective",
        "km",
        "--dedicated-desks",
        "--engine",
        "cp-sat",
        "--frontier",
        "--select",
        "10",
        "--select-by",
        "commute",
    ],
}


def _run(args: list[str], out: Path) -> str:
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output


def _summary(out: Path) -> dict:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("timings_s", "network", "inputs", "exactness", "exactitude", "réseau"):
        summary.pop(key, None)
    for solver in ("solver", "solveur"):
        if isinstance(summary.get(solver), dict):
            summary[solver] = {k: v for k, v in summary[solver].items() if "second" not in k}
    return summary


@pytest.mark.parametrize("case", list(CASES))
def test_a_folder_gives_the_plain_runs_files(case, country, files, cluster, tmp_path) -> None:
    """A border as wide as the country certifies every pair: the files are the plain run's."""
    common = [
        "--agents", str(files["agents"]), "--telecentres", str(files["telecentres"]),
        "--workplaces", str(files["workplaces"]), "--head-office", _head_office(),
        *CASES[case],
    ]  # fmt: skip
    plain_out, folder_out = tmp_path / "plain", tmp_path / "folder"
    key = ["--key-file", str(tmp_path / "key_plain.csv")] if "--pseudonymise" in common else []
    _run([*common, "--network", str(country / "country.osm"), *key], plain_out)
    key = ["--key-file", str(tmp_path / "key_folder.csv")] if key else []
    said = _run(
        [*common, "--network", str(country), "--scheduler", cluster, "--border-km", "45", *key],
        folder_out,
    )
    assert sorted(p.name for p in folder_out.iterdir()) == sorted(
        p.name for p in plain_out.iterdir()
    )
    for path in sorted(plain_out.iterdir()):
        if path.suffix == ".csv":
            assert (folder_out / path.name).read_bytes() == path.read_bytes(), path.name
    assert _summary(folder_out) == _summary(plain_out)
    for layer in ("allocation", "allocations", "affectation"):
        try:
            mine = gpd.read_file(folder_out / "assignment.gpkg", layer=layer)
        except Exception:
            continue
        theirs = gpd.read_file(plain_out / "assignment.gpkg", layer=layer)
        pd.testing.assert_frame_equal(mine, theirs)
    exactness = json.loads((folder_out / "summary.json").read_text(encoding="utf-8"))
    exactness = exactness.get("exactness") or exactness.get("exactitude")
    assert exactness["commutes_not_certified"] == 0
    assert exactness["travel"]["pairs_not_certified"] == 0
    if "--pseudonymise" in common:
        assert (tmp_path / "key_folder.csv").read_bytes() == (
            tmp_path / "key_plain.csv"
        ).read_bytes()
    if "--lang" not in common:
        assert "Exact on the merged network" in said


@pytest.fixture(scope="module")
def tables(files) -> dict[str, pd.DataFrame]:
    """The roster, telecentres and workplaces, read by the plain readers."""
    return {
        "agents": read_agents(files["agents"]),
        "telecentres": read_telecentres(files["telecentres"]),
        "workplaces": read_workplaces(files["workplaces"]),
    }


def _gain(result) -> float:
    return float(result.assignment.objective_value)


@pytest.mark.parametrize(
    ("office", "border_km", "rounds", "changes"),
    [
        ((20_000, 30_000), 2.0, None, {}),
        ((20_000, 30_000), 8.0, None, {"max_minutes": 20.0}),
        ((10_000, 8_000), 2.0, None, {"objective": "km"}),
        ((30_000, 8_000), 0.0, None, {"minimax": True}),
        ((20_000, 30_000), 8.0, 0, {}),
        ((30_000, 8_000), 2.0, None, {"max_open": 3, "dedicated_desks": True}),
        ((20_000, 30_000), 2.0, 2, {}),
        ((10_000, 8_000), 2.0, 2, {"objective": "km"}),
    ],
)
def test_narrow_borders_say_exact_only_when_it_is_and_bound_the_optimum(
    office, border_km, rounds, changes, country, tables
) -> None:
    """Compare with the merged network's optimum: exact means equal, else the bound holds it.

    ``rounds``: widening rounds (None: the folder's own, until a region spans the country;
    0: no widening; 2: two rounds, which leave pairs not certified on narrow borders).
    """
    ho = HeadOffice(*_wgs(*office), name="head office")
    merged = load_network(country / "country.osm")
    # must_assign aside: an agent that must be placed may have no saving at some offices
    args = (tables["agents"].drop(columns="must_assign"), tables["telecentres"], ho)
    plain = run(*args, merged, workplaces=tables["workplaces"], **changes)
    folder = open_network_folder(country, buffer_km=border_km)
    if rounds == 0:
        folder = dataclasses.replace(folder, widen=None)
    elif rounds is not None:
        folder = dataclasses.replace(folder, widen_rounds=rounds)
    mine = run(*args, folder, workplaces=tables["workplaces"], **changes)
    exactness = mine.exactness
    assert exactness is not None
    # the plan uses certified times only: each placed agent's times are the merged network's
    placed = np.flatnonzero(mine.assignment.telecentre >= 0)
    j = mine.assignment.telecentre[placed]
    for matrix in ("minutes_to", "minutes_back", "km_to", "km_back"):
        ours = getattr(mine.problem, matrix)[placed, j]
        theirs = getattr(plain.problem, matrix)[placed, j]
        assert np.allclose(ours, theirs, rtol=0, atol=1e-9), matrix
    # every time the folder's table gives is the merged network's; the others say why
    both = plain.travel.table.merge(
        mine.travel.table, on=["origin_id", "destination_id"], suffixes=("", "_folder")
    )
    given = both["reason_folder"] == ""
    assert (both.loc[given, "reason"] == "").all()
    for column in ("minutes_to", "km_to", "minutes_back", "km_back"):
        assert np.allclose(both.loc[given, column], both.loc[given, f"{column}_folder"], atol=1e-9)
    assert set(both.loc[~given & (both["reason"] == ""), "reason_folder"]) <= {
        REASON_NOT_CERTIFIED,
        "commute not certified within the border buffers (a wider --border-km certifies more)",
    }
    # never unreachable where the merged network reaches
    for ours, theirs in zip(mine.assignment.reasons, plain.assignment.reasons, strict=True):
        if ours.startswith("unreachable"):
            assert theirs.startswith("unreachable")
    if rounds is None:  # widened until a region spans the folder: every pair that may count known
        assert exactness["exact"], exactness
        assert exactness["pairs_not_certified_maybe_eligible"] == 0
    elif rounds == 2 and not changes.get("minimax"):  # two rounds leave a few: a bound, not exact
        assert exactness["bound"] is not None and not exactness["exact"], exactness
    if changes.get("minimax"):
        if exactness["exact"]:
            assert mine.assignment.assigned.sum() == plain.assignment.assigned.sum()
            assert _gain(mine) == pytest.approx(_gain(plain), abs=1e-6)
        return
    assert _gain(mine) <= _gain(plain) + 1e-6  # feasible on the merged network
    if exactness["exact"]:
        assert _gain(mine) == pytest.approx(_gain(plain), abs=1e-6)
        assert exactness["gap"]["absolute"] == 0
    elif exactness["bound"] is None:
        assert exactness["commutes_not_certified"] > 0 or exactness["why"]
        assert exactness["gap"] is None
    else:
        assert _gain(plain) <= exactness["bound"] + 1e-6
        assert exactness["gap"]["absolute"] == pytest.approx(
            exactness["bound"] - _gain(mine), abs=1e-6
        )


@pytest.mark.parametrize("border_km", [0.0, 2.0, 8.0, 45.0])
def test_a_folder_widens_until_a_region_spans_it(border_km, country) -> None:
    """The last round's margin spans the départements; the one before does not (or is round 2)."""
    folder = open_network_folder(country, buffer_km=border_km)
    west, south, east, north = folder.areas.to_crs("EPSG:2154").total_bounds
    extent_km = max(east - west, north - south) / 1000.0
    margins = NationalOptions(buffer_km=border_km)
    assert folder.widen_rounds == rounds_to_cover(folder.areas, border_km)
    assert margins.margin_km(folder.widen_rounds) >= extent_km
    assert folder.widen_rounds == 2 or margins.margin_km(folder.widen_rounds - 1) < extent_km
