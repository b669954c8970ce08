"""Shared fixtures: small graphs and tables whose answers can be written down by hand."""

from __future__ import annotations

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
