"""The prepared-network cache: read back identical, keyed on its inputs, never trusted blindly."""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import netcache
from optimizer.network import load_network, retime
from optimizer.speed_model import time_edges
from optimizer.travel import travel_table

from .conftest import ORIGIN_X, ORIGIN_Y, TO_WGS
from .test_osm import fake_osm  # noqa: F401 - the fake OpenStreetMap servers
from .test_speed_model import _osm, _serpentine


@pytest.fixture
def roads(tmp_path) -> Path:
    """A small OSM file: a straight road, a serpentine, a spur, a signal, a one-way street."""
    pts: dict[int, tuple[float, float]] = {1: (0.0, 0.0), 2: (5000.0, 0.0), 3: (0.0, -300.0)}
    west = [1]
    for k, point in enumerate(_serpentine()[1:]):
        pts[10 + k] = point
        west.append(10 + k)
    pts.update({90: (5400.0, 300.0), 91: (5800.0, 0.0), 92: (5400.0, -200.0)})
    ways = [
        ([2, 1], {"highway": "secondary"}),
        (west, {"highway": "secondary"}),
        ([1, 3], {"highway": "residential"}),
        ([2, 90, 91], {"highway": "tertiary", "maxspeed": "70"}),
        ([91, 92, 2], {"highway": "unclassified", "oneway": "yes"}),
    ]
    return _osm(tmp_path / "roads.osm", pts, ways, node_tags={90: {"highway": "traffic_signals"}})


def _points() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    x = rng.uniform(-1000.0, 5800.0, 40)
    y = rng.uniform(-100.0, 200.0, 40)
    lon, lat = TO_WGS.transform(ORIGIN_X + x, ORIGIN_Y + y)
    table = pd.DataFrame({"id": [f"p{i}" for i in range(40)], "lon": lon, "lat": lat})
    return table.iloc[:30], table.iloc[30:]


def _entries(folder: Path) -> list[Path]:
    return sorted((folder / netcache.SUBFOLDER).glob("network-*.npz"))


def test_a_second_load_reads_the_cache_and_routes_identically(roads, tmp_path) -> None:
    cache = tmp_path / "cache"
    plain = load_network(roads)
    first = load_network(roads, cache_dir=cache)
    second = load_network(roads, cache_dir=cache)
    assert plain.cache == ""
    assert first.cache.startswith("written ")
    assert second.cache.startswith("read ")
    assert len(_entries(cache)) == 1
    homes, sites = _points()
    want = travel_table(plain, homes, sites).table
    for net in (first, second):
        pd.testing.assert_frame_equal(travel_table(net, homes, sites).table, want)
    for name in netcache._ROUTING_ARRAYS:
        np.testing.assert_array_equal(getattr(second.routing, name), getattr(plain.routing, name))
    assert second.source == plain.source
    assert second.speed_profile == plain.speed_profile
    assert second.speed_model == plain.speed_model
    assert second.dropped_nodes == plain.dropped_nodes
    assert (second.n_nodes, second.n_edges) == (
        plain.graph.number_of_nodes(),
        plain.graph.number_of_edges(),
    )
    assert second.bounds == plain.bounds


def test_the_cached_graph_is_rebuilt_when_read(roads, tmp_path) -> None:
    plain = load_network(roads)
    load_network(roads, cache_dir=tmp_path)
    cached = load_network(roads, cache_dir=tmp_path)
    graph = cached.graph
    assert sorted(graph.nodes) == sorted(plain.graph.nodes)
    want = {(u, v, k): d for u, v, k, d in plain.graph.edges(keys=True, data=True)}
    got = {(u, v, k): d for u, v, k, d in graph.edges(keys=True, data=True)}
    assert got.keys() == want.keys()
    for edge, data in want.items():
        assert got[edge]["travel_time"] == data["travel_time"]
        assert got[edge]["length"] == pytest.approx(data["length"], abs=0)
        assert got[edge]["segments"] == data["segments"]
        if "geometry" in data:
            assert got[edge]["geometry"].equals_exact(data["geometry"], 0.0)


def test_retiming_a_cached_network_matches_an_uncached_one(roads, tmp_path) -> None:
    plain = load_network(roads)
    load_network(roads, cache_dir=tmp_path)
    cached = load_network(roads, cache_dir=tmp_path)
    assert cached.pieces is not None and plain.pieces is not None
    slower = cached.speed_model.with_factors({"secondary": 0.5}, source="test")
    a = retime(plain, time_edges(plain.pieces, slower))
    b = retime(cached, time_edges(cached.pieces, slower))
    np.testing.assert_array_equal(a.routing.seconds, b.routing.seconds)
    np.testing.assert_array_equal(a.routing.share_t0, b.routing.share_t0)


@pytest.mark.parametrize(
    "change",
    [
        {"speed_model": "free-flow"},
        {"speed_profile": "france"},
        {"speed_profile": {"secondary": 70.0, "tertiary": 60.0}},
    ],
)
def test_any_change_of_the_key_is_a_miss(roads, tmp_path, change) -> None:
    load_network(roads, cache_dir=tmp_path)
    other = load_network(roads, cache_dir=tmp_path, **change)
    assert other.cache.startswith("written ")
    assert len(_entries(tmp_path)) == 2
    again = load_network(roads, cache_dir=tmp_path, **change)
    assert again.cache.startswith("read ")
    assert again.speed_model == other.speed_model
    np.testing.assert_array_equal(again.routing.seconds, other.routing.seconds)


def test_the_key_is_the_content_not_the_name(roads, tmp_path) -> None:
    cache = tmp_path / "cache"
    load_network(roads, cache_dir=cache)
    copy = tmp_path / "renamed.osm"
    shutil.copyfile(roads, copy)
    assert load_network(copy, cache_dir=cache).cache.startswith("read ")
    edited = roads.read_text(encoding="utf-8").replace('v="secondary"', 'v="primary"', 1)
    copy.write_text(edited, encoding="utf-8")
    assert load_network(copy, cache_dir=cache).cache.startswith("written ")


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty-payload"])
def test_a_damaged_entry_is_rebuilt_with_a_warning(roads, tmp_path, caplog, damage) -> None:
    plain = load_network(roads, cache_dir=tmp_path)
    (entry,) = _entries(tmp_path)
    blob = bytearray(entry.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0xFF
    elif damage == "truncate":
        del blob[len(blob) // 3 :]
    else:
        del blob[len(netcache.MAGIC) :]
    entry.write_bytes(bytes(blob))
    with caplog.at_level(logging.WARNING, logger="optimizer"):
        net = load_network(roads, cache_dir=tmp_path)
    assert net.cache.startswith("written ")
    assert any(
        "preparing" in r.getMessage() and entry.name in r.getMessage() for r in caplog.records
    )
    np.testing.assert_array_equal(net.routing.seconds, plain.routing.seconds)
    assert load_network(roads, cache_dir=tmp_path).cache.startswith("read ")


def test_an_entry_under_another_key_is_not_trusted(roads, tmp_path, caplog) -> None:
    realistic = Path(load_network(roads, cache_dir=tmp_path).cache.split(" ", 1)[1])
    free = Path(
        load_network(roads, cache_dir=tmp_path, speed_model="free-flow").cache.split(" ", 1)[1]
    )
    shutil.copyfile(free, realistic)  # the free-flow network under the realistic key
    with caplog.at_level(logging.WARNING, logger="optimizer"):
        net = load_network(roads, cache_dir=tmp_path)
    assert net.speed_model.name == "realistic"
    assert net.cache == f"written {realistic}"
    assert any("key" in r.getMessage() for r in caplog.records)


def test_a_file_that_is_not_ours_is_neither_read_nor_replaced(roads, tmp_path, caplog) -> None:
    net = load_network(roads, cache_dir=tmp_path)
    (entry,) = _entries(tmp_path)
    entry.write_bytes(b"my own notes, not a cache\n")
    with caplog.at_level(logging.WARNING, logger="optimizer"):
        again = load_network(roads, cache_dir=tmp_path)
    assert again.cache == ""
    assert entry.read_bytes() == b"my own notes, not a cache\n"
    assert any("not a cache file of ours" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(again.routing.seconds, net.routing.seconds)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_place_of_an_entry_is_left_alone(roads, tmp_path) -> None:
    load_network(roads, cache_dir=tmp_path)
    (entry,) = _entries(tmp_path)
    entry.unlink()
    os.mkfifo(entry)
    net = load_network(roads, cache_dir=tmp_path)  # would block if the pipe were opened
    assert net.cache == ""
    assert not entry.is_file()


def test_an_unwritable_cache_is_a_warning_not_a_failure(roads, tmp_path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="optimizer"):
        net = load_network(roads, cache_dir=blocker)
    assert net.cache == ""
    assert any("not cached" in r.getMessage() for r in caplog.records)
    assert net.routing.n_edges > 0


def test_an_entry_holds_no_python_objects(roads, tmp_path) -> None:
    load_network(roads, cache_dir=tmp_path)
    (entry,) = _entries(tmp_path)
    blob = entry.read_bytes()
    assert blob.startswith(netcache.MAGIC)
    payload = blob[len(netcache.MAGIC) + 32 :]
    archive_path = tmp_path / "payload.npz"
    archive_path.write_bytes(payload)
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
    with np.load(archive_path, allow_pickle=False) as archive:
        for name in archive.files:
            assert archive[name].dtype != object, name
    assert "r_seconds.npy" in names and "p_length.npy" in names and "meta.npy" in names
    meta = json.loads(np.load(archive_path, allow_pickle=False)["meta"].tobytes().decode())
    assert meta["format"] == netcache.FORMAT_VERSION


def test_the_offline_approximation_is_cached_with_its_calibration(tmp_path) -> None:
    from optimizer import datasets

    path = datasets.path(datasets.NETWORK_FILE)
    plain = load_network(path)
    load_network(path, cache_dir=tmp_path)
    cached = load_network(path, cache_dir=tmp_path)
    assert cached.cache.startswith("read ")
    assert cached.approximate is True
    assert cached.speed_model == plain.speed_model
    np.testing.assert_array_equal(cached.routing.seconds, plain.routing.seconds)


def test_assign_reads_its_network_from_the_cache_the_second_time(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from optimizer import settings
    from optimizer.cli import main
    from optimizer.report import SUMMARY_FILE, TRAVEL_FILE

    monkeypatch.setattr(settings, "CACHE_DIR", tmp_path / "cache")
    used, travel = [], []
    for run, extra in enumerate([[], [], ["--no-network-cache"]]):
        out = tmp_path / f"run{run}"
        result = CliRunner().invoke(main, ["--out", str(out), "--no-maps", *extra])
        assert result.exit_code == 0, result.output
        summary = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
        used.append(
            (summary["network"]["prepared_network_cache"], "cache_read_s" in summary["timings_s"])
        )
        travel.append(pd.read_csv(out / TRAVEL_FILE, keep_default_na=False))
    # the same entry named both times (the summary of one plan is the same every run);
    # read the second time, as the timings say
    assert str(tmp_path / "cache") in used[0][0] and not used[0][1]
    assert used[1] == (used[0][0], True)
    assert used[2] == ("not used", False)
    pd.testing.assert_frame_equal(travel[1], travel[0])
    pd.testing.assert_frame_equal(travel[2], travel[0])


@pytest.mark.usefixtures("fake_osm")
def test_a_downloaded_network_is_read_prepared_from_the_same_folder(tmp_path) -> None:
    from optimizer.network import download_network

    first = download_network("Test place, Lozère", buffer_km=1.0, cache_dir=tmp_path)
    second = download_network("Test place, Lozère", buffer_km=1.0, cache_dir=tmp_path)
    third = download_network("Test place, Lozère", buffer_km=1.0, cache_dir=tmp_path)
    assert first.cache == ""  # prepared from the download itself
    assert second.cache.startswith("written ")
    assert third.cache.startswith("read ")
    assert "cache" in third.source
    assert third.n_edges == first.graph.number_of_edges()
    np.testing.assert_array_equal(third.routing.seconds, second.routing.seconds)


def test_the_graph_is_built_without_xml_as_osmnx_builds_it_from_xml(roads, monkeypatch) -> None:
    import types

    from optimizer import osmgraph
    from optimizer.network import graph_from_osm_file

    direct = graph_from_osm_file(roads)
    # an osmnx without its graph builder: the XML is written and read
    monkeypatch.setattr(osmgraph, "ox_graph", types.SimpleNamespace())
    through_xml = graph_from_osm_file(roads)

    def rows(graph):
        return sorted(
            (u, v, k, sorted((a, repr(b)) for a, b in d.items()))
            for u, v, k, d in graph.edges(keys=True, data=True)
        )

    assert dict(direct.nodes(data=True)) == dict(through_xml.nodes(data=True))
    assert rows(direct) == rows(through_xml)
