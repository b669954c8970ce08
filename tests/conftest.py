"""Shared fixtures: small graphs and tables whose answers can be written down by hand."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from optimizer import datasets
from optimizer.network import RoadNetwork, load_network, prepare_network


@pytest.fixture(autouse=True, scope="session")
def _english_locale() -> Iterator[None]:
    """Run every test in English whatever the machine's locale (``--lang`` defaults to it).

    Session-wide, so that module fixtures running the command are in English too.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in ("LC_ALL", "LC_MESSAGES"):
            patch.delenv(name, raising=False)
        patch.setenv("LANG", "C.UTF-8")
        yield


FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

TO_WGS = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
ORIGIN_X, ORIGIN_Y = 770_000.0, 6_380_000.0  # Lambert-93, near Mende


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory) -> object:
    """Keep the tool's caches (prepared networks...) out of the user's cache folder."""
    from optimizer import settings

    folder = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    patch.setattr(settings, "CACHE_DIR", folder)
    patch.setenv("XDG_CACHE_HOME", str(folder))  # for the command run in a subprocess
    yield folder
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def _dask_workers_forked(_own_cache_folder: Path) -> Iterator[None]:
    """Start the Dask workers of the tests' clusters from a fork server, not each afresh.

    Every ``LocalCluster`` (``--scheduler local:N``, the modules' clusters) starts its
    workers as new processes, ``spawn`` by default: each imports Dask, numpy, pandas and
    this package again, some 3 s of CPU a worker, for dozens of clusters. Dask's own
    ``forkserver`` method forks them from one process that imported those once (here
    with this package too). The workers run the same code on the same data; the fork
    server starts after the session's environment is set (the cache folder above), the
    environment a spawned worker would inherit.
    """
    import multiprocessing.forkserver

    import dask

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        from distributed.utils import get_mp_context

        context = get_mp_context()  # Dask's preload list: distributed, numpy, pandas...
        preload = getattr(multiprocessing.forkserver._forkserver, "_preload_modules", None) or []
        context.set_forkserver_preload([*preload, "optimizer", "optimizer.national"])
        yield


def lambert_node(x_m: float, y_m: float) -> dict[str, float]:
    """Node attributes for a point ``x_m``, ``y_m`` metres from the fixture origin."""
    lon, lat = TO_WGS.transform(ORIGIN_X + x_m, ORIGIN_Y + y_m)
    return {"x": float(lon), "y": float(lat)}


def five_node_graph() -> nx.MultiDiGraph:
    """The hand-checkable graph of the tests (lengths set by hand, not from coordinates).

    Nodes (metres from the origin): 1 (0, 0), 2 (1000, 0), 3 (1000, 1000),
    4 (2000, 1000), 5 (3000, 1000).

    Edges, two-way unless said:
    - 1-2: 1000 m primary (90 km/h in the Lozère profile) -> 40 s
    - 2-3: 1000 m secondary (90 km/h) -> 40 s
    - 1-3: 1500 m residential with maxspeed 30 -> 180 s (shorter but slower)
    - 3->4 one way: 1000 m, maxspeed FR:zone30 -> 120 s
    - 4->3 one way: 1000 m tertiary (90 km/h) -> 40 s
    - 4-5: 1000 m unclassified (80 km/h) -> 45 s
    """
    g = nx.MultiDiGraph(crs="epsg:4326")
    for node, (x, y) in {
        1: (0, 0),
        2: (1000, 0),
        3: (1000, 1000),
        4: (2000, 1000),
        5: (3000, 1000),
    }.items():
        g.add_node(node, **lambert_node(x, y))
    two_way = [
        (1, 2, {"length": 1000.0, "highway": "primary"}),
        (2, 3, {"length": 1000.0, "highway": "secondary"}),
        (1, 3, {"length": 1500.0, "highway": "residential", "maxspeed": "30"}),
        (4, 5, {"length": 1000.0, "highway": "unclassified"}),
    ]
    for u, v, data in two_way:
        g.add_edge(u, v, **data)
        g.add_edge(v, u, **data)
    g.add_edge(3, 4, length=1000.0, highway="residential", maxspeed="FR:zone30")
    g.add_edge(4, 3, length=1000.0, highway="tertiary")
    return g


@pytest.fixture
def five_node_network() -> RoadNetwork:
    return prepare_network(five_node_graph(), source="five-node fixture", speed_model="free-flow")


def node_points(net: RoadNetwork, nodes: list[int], prefix: str) -> pd.DataFrame:
    """A table of points placed exactly on the given nodes."""
    return pd.DataFrame(
        {
            "id": [f"{prefix}{n}" for n in nodes],
            "lon": [net.graph.nodes[n]["x"] for n in nodes],
            "lat": [net.graph.nodes[n]["y"] for n in nodes],
        }
    )


@pytest.fixture(scope="session")
def lozere_network() -> RoadNetwork:
    return load_network(datasets.path(datasets.NETWORK_FILE))


def random_road_graph(n_nodes: int, seed: int, *, one_way_share: float = 0.3) -> nx.MultiDiGraph:
    """A random planar-ish road graph near Mende: nodes on a jittered grid, random one-ways."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    g = nx.MultiDiGraph(crs="epsg:4326")
    coords = {}
    for k in range(n_nodes):
        x = (k % side) * 800.0 + rng.normal(0, 150)
        y = (k // side) * 800.0 + rng.normal(0, 150)
        coords[k] = (x, y)
        g.add_node(k, **lambert_node(x, y))
    classes = ["primary", "secondary", "tertiary", "residential", "unclassified"]
    for k in range(n_nodes):
        for nb in (k + 1 if (k + 1) % side else None, k + side):
            if nb is None or nb >= n_nodes or rng.random() < 0.15:
                continue
            straight = float(np.hypot(*np.subtract(coords[k], coords[nb])))
            data = {"length": straight * rng.uniform(1.0, 1.5), "highway": str(rng.choice(classes))}
            if rng.random() < one_way_share:
                u, v = (k, nb) if rng.random() < 0.5 else (nb, k)
                g.add_edge(u, v, **data, oneway=True)
            else:
                g.add_edge(k, nb, **data)
                g.add_edge(nb, k, **data)
    return g


def chromium() -> str | None:
    """The headless browser of the page tests (``bash .ci/run`` installs Debian's chromium)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def render_offline(browser: str, page: Path) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless ``browser`` with every host unresolvable; the DOM on stdout.

    The browser's console goes to stderr (``CONSOLE`` lines), for checking that no script failed.
    """
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND",  # networking off
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=5000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


# --- spreading the suite over the workers (pytest-xdist, ``--dist loadgroup``) -----------------

#: The tests measured slowest (``--durations``, heaviest first): their work units are sent
#: first, so that no long test is left to run alone at the end while the other worker idles.
SLOW_FIRST = (
    # one unit: the module's cluster and inputs, 8 cases run twice (some 140 s)
    "test_scheduler.py::test_a_scheduler_gives_the_plain_runs_files",
    # one unit of 30 tests sharing a Dask cluster and the merged network's tables
    "test_national.py::test_distributed_plan_equals_single_process",
    "test_national.py::test_a_large_file_is_split_again_wider_for_what_a_narrow_border_left",
    "test_publish.py::test_kill_9_at_every_step_of_publishing_leaves_one_whole_run",
    "test_bad_input.py::test_random_rosters_every_agent_once_capacities_hold_outputs_parse",
    "test_national.py::test_border_km_sets_the_buffer_and_the_console_says_what_is_not_certified",
    "test_national_pipeline.py::test_a_folder_gives_the_plain_runs_files",
    "test_weekly_scale.py::test_split_days_bound_is_never_below_the_optimum",
    "test_national.py::test_assign_scheduler_runs_the_national_plan",
    "test_weekly_scale.py::test_reduced_cost_fixing_never_removes_a_better_plan",
    "test_national.py::test_a_home_in_no_departement_is_not_routed_again",
    "test_national.py::test_a_national_run_in_french_writes_french_files_and_says_its_line_in_",
    "test_national.py::test_a_damaged_split_extract_is_split_again_and_the_run_succeeds",
    "test_lang.py::test_french_files_are_the_english_files_in_french",
    "test_facilities.py::test_gap_published_optima_both_senses",
    "test_national.py::test_roster_by_commune_and_workplaces_file_equals_single_process",
    "test_national.py::test_a_failed_run_leaves_the_tables_of_the_run_the_folder_holds",
    "test_plans.py::test_assign_minimax_frontier_and_max_open",
    "test_benchmarks.py::test_assignment_benchmarks_run_on_a_small_size",
    "test_national.py::test_unknown_pairs_are_sound_on_sparse_countries",
    "test_hr_roster.py::test_quiet_prints_nothing_and_warnings_print_once",
    "test_publish.py::test_a_run_replaces_the_tool_files_and_keeps_the_users",
    "test_notebooks.py::test_notebook_runs_and_charts",
    "test_national.py::test_pairs_beyond_the_sites_buffer_are_certified_in_the_homes_extract",
    "test_national.py::test_certified_times_equal_the_merged_network_on_a_sparse_country",
    "test_publish.py::test_two_concurrent_runs_with_different_options_leave_one_whole_run",
    "test_plans.py::test_no_mode_exceeds_the_desks_of_any_weekday",
    "test_reasons_catalogue.py::test_every_reason_is_true_and_every_count_adds_up",
    "test_weekly_scale.py::test_pairs_plan_is_feasible_bounded_and_optimal_when_it_says_so",
    "test_weekly_scale.py::test_kept_weekdays_are_worth_their_bonus_and_plans_stay_optimal",
    "test_uncertainty.py::test_assign_with_a_marginal_must_assign_agent_still_reports_the_sce",
    "test_sharing.py::test_trilateration_finds_homes_in_the_planners_files",
)
#: Module fixtures cheap enough to build once on each worker (a seeded table): sharing
#: one of them does not tie tests to one worker.
CHEAP_MODULE_FIXTURES = {"test_national.py": {"instance"}}


def _shared_fixtures(item: pytest.Item) -> set[str]:
    """The module-, class- or package-scoped fixtures of ``item``'s own file that it uses.

    And the names of its ``shares`` marks: tests marked ``@pytest.mark.shares(NAME)``
    share something their module builds once (a notebook run...) without a fixture.
    """
    file = item.nodeid.split("::", 1)[0]
    shared = {f"{file}::shares::{m.args[0]}" for m in item.iter_markers("shares")}
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return shared
    cheap = CHEAP_MODULE_FIXTURES.get(Path(file).name, set())
    for name in info.names_closure:
        for definition in info.name2fixturedefs.get(name, ()):
            if definition.scope in {"module", "class", "package"} and name not in cheap:
                shared.add(f"{definition.baseid}::{name}")
    return shared


def _short_id(item: pytest.Item) -> str:
    """``file.py::test_name`` without the folder and the parameters."""
    file, _, rest = item.nodeid.partition("::")
    return f"{Path(file).name}::{rest.split('[', 1)[0]}"


def work_units(items: list[pytest.Item]) -> list[list[pytest.Item]]:
    """Split ``items`` into units that one worker runs in a row, heaviest known first.

    Tests that share a module (or class) fixture are one unit, so that the fixture is
    built once; every other test is a unit of its own and goes to whichever worker is
    free. Units holding a test of :data:`SLOW_FIRST` come first, in its order; the rest
    keep the collection's order.
    """
    parent = list(range(len(items)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_user: dict[str, int] = {}
    for k, item in enumerate(items):
        for name in _shared_fixtures(item):
            other = first_user.setdefault(name, k)
            parent[root(k)] = root(other)
    units: dict[int, list[pytest.Item]] = {}
    for k, item in enumerate(items):
        units.setdefault(root(k), []).append(item)

    def rank(unit: list[pytest.Item]) -> int:
        names = [_short_id(item) for item in unit]
        found = [i for i, slow in enumerate(SLOW_FIRST) for n in names if n.startswith(slow)]
        return min(found, default=len(SLOW_FIRST))

    return sorted(units.values(), key=rank)  # stable: collection order among equals


#: Where xdist's workers leave the units for the controller's scheduler (in the run's basetemp).
UNITS_FILE = "work-units.json"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker under ``--dist loadgroup``: order the items by :func:`work_units`.

    The units themselves go to the controller through :data:`UNITS_FILE` (the
    ``xdist_group`` mark would be the usual way, but this pytest gives node ids
    that xdist 3.8 cannot suffix with a group). Only the order and the grouping
    change; every test runs, with the same fixtures.
    """
    worker = getattr(config, "workerinput", None)
    if worker is None or not getattr(config.option, "loadgroup", False):
        return
    ordered, groups = [], {}
    for number, unit in enumerate(work_units(items)):
        if len(unit) > 1:
            for item in unit:
                groups[item.nodeid] = f"{_short_id(unit[0]).split('::')[0]}#{number}"
        ordered += unit
    items[:] = ordered
    folder = Path(config.option.basetemp).parent  # the controller's basetemp
    made = folder / f".{UNITS_FILE}.{worker['workerid']}"
    made.write_text(json.dumps(groups), encoding="utf-8")
    made.replace(folder / UNITS_FILE)  # every worker writes the same; one whole file wins


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadgroup``: the units of :func:`work_units`, in the workers' order."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        """A unit per group of tests sharing module fixtures, else per test."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                found = config._tmp_path_factory.getbasetemp() / UNITS_FILE  # type: ignore[attr-defined]
                try:
                    self.groups = json.loads(found.read_text(encoding="utf-8"))
                except FileNotFoundError:  # no worker wrote it: one unit per file
                    self.groups = {}
                    return nodeid.split("::", 1)[0]
            return self.groups.get(nodeid, nodeid) if self.groups else nodeid.split("::", 1)[0]

    return UnitScheduling(config, log)
