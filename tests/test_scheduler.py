"""``--scheduler`` decides where the travel stage runs, never what the plan is.

Every option of ``assign`` is run twice, in this process and with the travel
stage on a Dask cluster of two worker processes; the files must be equal
byte for byte (``summary.json`` with its timings set aside).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Transformer

from optimizer import datasets
from optimizer.cli import main
from optimizer.dask_travel import destination_runs, join_tables, travel_table_on
from optimizer.travel import travel_table

distributed = pytest.importorskip("distributed")

#: Options that say where or how loudly the run happens, not what it plans.
_NOT_PLAN = {"--out", "--scheduler", "--quiet", "--verbose", "--border-km"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A two-process Dask cluster shared by this module's runs; yields its address."""
    # the scheduler's HTTP server on a free port, as optimizer.national.connect does: with
    # None it still takes 8787, and a cluster of the other xdist worker (or of another run
    # on the machine) holding it is a warning, an error under filterwarnings
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield str(local.scheduler_address)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A roster of 1 to 3 days with workplaces, in Lambert-93 too; a previous plan."""
    folder = tmp_path_factory.mktemp("inputs")
    agents = pd.read_csv(datasets.path(datasets.AGENTS_FILE))
    agents["priority"] = [k % 3 for k in range(len(agents))]
    agents.to_csv(folder / "agents.csv", index=False)
    agents["workplace_id"] = ["marvejols-dsd" if k % 7 == 0 else "" for k in range(len(agents))]
    agents.to_csv(folder / "agents_wp.csv", index=False)
    workplaces = pd.DataFrame(
        {
            "workplace_id": ["marvejols-dsd"],
            "name": ["DSD Marvejols"],
            "lon": [3.2905],
            "lat": [44.5537],
        }
    )
    workplaces.to_csv(folder / "workplaces.csv", index=False)
    telecentres = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    for frame, name in (
        (agents, "agents"),
        (workplaces, "workplaces"),
        (telecentres, "telecentres"),
    ):
        _lambert(frame).to_csv(folder / f"{name}_l93.csv", index=False)
    runner = CliRunner()
    first = runner.invoke(
        main,
        [
            "--agents",
            str(folder / "agents_wp.csv"),
            "--out",
            str(folder / "before"),
            "-q",
            "--no-maps",
            "--workplaces",
            str(folder / "workplaces.csv"),
        ],
    )
    assert first.exit_code == 0, first.output
    telecentres.loc[telecentres["telecentre_id"] == "langogne", "capacity"] = 1
    telecentres.to_csv(folder / "telecentres_cut.csv", index=False)
    return {
        "agents": folder / "agents.csv",
        "agents_wp": folder / "agents_wp.csv",
        "agents_l93": folder / "agents_l93.csv",
        "workplaces": folder / "workplaces.csv",
        "workplaces_l93": folder / "workplaces_l93.csv",
        "telecentres_l93": folder / "telecentres_l93.csv",
        "previous": folder / "before" / "allocation.csv",
        "telecentres_cut": folder / "telecentres_cut.csv",
        "folder": folder,
    }


CASES = ["inputs", "select", "minimax", "dedicated", "choose", "cp-sat", "shared", "replan"]


def _lambert(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``x, y`` in Lambert-93 (EPSG:2154) instead of ``lon, lat``."""
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    x, y = to_l93.transform(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return frame.drop(columns=["lon", "lat"]).assign(x=x, y=y)


def _cases(files: dict[str, Path]) -> dict[str, list[str]]:
    """Groups of options that, together, name every option of ``assign``."""
    ho = datasets.head_office()
    return {
        "inputs": [
            "--agents",
            str(files["agents_l93"]),
            "--crs",
            "EPSG:2154",
            "--telecentres",
            str(files["telecentres_l93"]),
            "--workplaces",
            str(files["workplaces_l93"]),
            "--head-office",
            f"{ho.lon},{ho.lat}",
            "--network",
            str(datasets.path(datasets.NETWORK_FILE)),
            "--speed-profile",
            "lozere",
            "--speed-model",
            "free-flow",
            "--rank",
            "5",
            "--csv-style",
            "excel-fr",
            "--lang",
            "fr",
            "--seed",
            "7",
        ],
        "select": [
            "--agents",
            str(files["agents"]),
            "--select",
            "30",
            "--select-by",
            "commute",
            "--max-minutes",
            "80",
            "--min-saving",
            "5",
            "--preference-bonus",
            "20",
            "--time-limit",
            "30",
        ],
        "minimax": ["--minimax", "--allow-worse-off", "--no-maps", "--no-network-cache"],
        "dedicated": ["--dedicated-desks", "--frontier", "--day-bonus", "3", "--no-maps"],
        "choose": ["--agents", str(files["agents"]), "--max-open", "3"],
        "cp-sat": ["--engine", "cp-sat", "--objective", "km"],
        "shared": [
            "--speed-uncertainty",
            "10",
            "--pseudonymise",
            "a secret phrase",
            "--key-file",
            "KEY",
        ],
        "replan": [
            "--agents",
            str(files["agents_wp"]),
            "--workplaces",
            str(files["workplaces"]),
            "--telecentres",
            str(files["telecentres_cut"]),
            "--previous",
            str(files["previous"]),
            "--move-penalty",
            "30",
            "--day-change-penalty",
            "10",
        ],
    }


def _files(out: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(out.iterdir()):
        data = path.read_bytes()
        if path.name == "summary.json":
            summary = json.loads(data)
            summary.pop("timings_s", None)
            summary.get("solver", {}).pop("solve_seconds", None)
            data = json.dumps(summary, sort_keys=True).encode()
        found[path.name] = data
    return found


def test_the_cases_name_every_option(inputs) -> None:
    named = {a for args in _cases(inputs).values() for a in args if a.startswith("--")}
    options = {p.opts[0] for p in main.params if p.opts[0].startswith("--")}
    assert options - _NOT_PLAN == named
    assert list(_cases(inputs)) == CASES


@pytest.mark.parametrize("case", CASES)
def test_a_scheduler_gives_the_plain_runs_files(case, inputs, cluster, tmp_path) -> None:
    runner = CliRunner()
    outputs = {}
    for where, extra in (("here", []), ("dask", ["--scheduler", cluster])):
        args = [a.replace("KEY", str(tmp_path / f"key_{where}.csv")) for a in _cases(inputs)[case]]
        out = tmp_path / where
        result = runner.invoke(main, [*args, *extra, "--out", str(out)])
        assert result.exit_code == 0, result.output
        outputs[where] = _files(out)
        if "--key-file" in args:
            outputs[where]["key"] = (tmp_path / f"key_{where}.csv").read_bytes()
    assert outputs["here"].keys() == outputs["dask"].keys()
    for name, data in outputs["here"].items():
        assert outputs["dask"][name] == data, name
    assert outputs["here"]["allocation.csv"]


def test_the_travel_table_is_the_same_on_the_cluster(lozere_network, cluster) -> None:
    homes = datasets.agents().rename(columns={"agent_id": "id"})[["id", "lon", "lat"]]
    sites = datasets.telecentres().rename(columns={"telecentre_id": "id"})[["id", "lon", "lat"]]
    here = travel_table(lozere_network, homes, sites, limit=45.0)
    with distributed.Client(cluster) as client:
        there = travel_table_on(client, lozere_network, homes, sites, limit=45.0)
    pd.testing.assert_frame_equal(here.table, there.table)
    pd.testing.assert_frame_equal(here.origins, there.origins)
    pd.testing.assert_frame_equal(here.destinations, there.destinations)


def test_pieces_join_in_the_order_of_one_table(lozere_network) -> None:
    homes = datasets.agents().rename(columns={"agent_id": "id"})[["id", "lon", "lat"]].head(9)
    sites = datasets.telecentres().rename(columns={"telecentre_id": "id"})[["id", "lon", "lat"]]
    whole = travel_table(lozere_network, homes, sites)
    runs = destination_runs(len(sites), 3)
    assert [r.tolist() for r in runs] == [[0, 1, 2], [3, 4], [5, 6]]
    pieces = [travel_table(lozere_network, homes, sites.iloc[r]) for r in runs]
    joined = join_tables(pieces, homes, 0.0)
    pd.testing.assert_frame_equal(whole.table, joined.table)
    pd.testing.assert_frame_equal(whole.destinations, joined.destinations)


def test_border_km_without_a_national_folder_is_refused(tmp_path) -> None:
    result = CliRunner().invoke(
        main, ["--scheduler", "local:1", "--border-km", "10", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "--border-km is for national runs" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["local:0", "local:¹", "bogus", "tcp://host-without-port"])
def test_a_bad_scheduler_is_one_line_before_anything_is_written(value, tmp_path) -> None:
    result = CliRunner().invoke(main, ["--scheduler", value, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1
    assert f"--scheduler {value}" in result.output
    assert not (tmp_path / "o").exists()
