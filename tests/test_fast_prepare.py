"""Networks prepared on arrays time every road as the networkx path does, to the millisecond.

``load_network`` builds an OSM file's network on arrays (:mod:`optimizer._roads`) and
``prepare_network`` reads a graph once into lists. The reference here is computed apart:
osmnx builds and simplifies the graph (:func:`graph_from_osm_file`), networkx keeps its
largest strongly connected part, :func:`add_travel_times` times a copy of it edge by edge,
and the fastest edge of each node pair is found by a plain loop over the graph.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

from optimizer import settings
from optimizer.network import (
    add_travel_times,
    graph_from_osm_file,
    load_network,
    prepare_network,
    save_network,
)
from optimizer.routing import round_as_python

from .conftest import random_road_graph
from .test_osm import REAL_EXTRACTS, SMALL, _extract
from .test_speed_model import _osm, _serpentine

MODELS = ["realistic", "free-flow"]


def _roads(tmp_path: Path) -> Path:
    """A serpentine, a straight road, a spur, a signal mid-road, a one-way loop, a stop sign."""
    pts: dict[int, tuple[float, float]] = {1: (0.0, 0.0), 2: (5000.0, 0.0), 3: (0.0, -300.0)}
    west = [1]
    for k, point in enumerate(_serpentine()[1:]):
        pts[10 + k] = point
        west.append(10 + k)
    pts.update({90: (5400.0, 300.0), 91: (5800.0, 0.0), 92: (5400.0, -200.0), 93: (5200, -90)})
    ways = [
        ([2, 1], {"highway": "secondary"}),
        (west, {"highway": "secondary", "maxspeed": "FR:rural"}),
        ([1, 3], {"highway": "residential"}),
        ([2, 90, 91], {"highway": "tertiary", "maxspeed": "70"}),
        ([91, 92, 93, 2], {"highway": "unclassified", "oneway": "yes"}),
    ]
    tags = {90: {"highway": "traffic_signals"}, 93: {"highway": "stop"}}
    return _osm(tmp_path / "roads.osm", pts, ways, node_tags=tags)


def _files(tmp_path: Path) -> list[Path]:
    return [SMALL, _roads(tmp_path), *(_extract(name) for name in REAL_EXTRACTS)]


def _reference(path: Path, model: str) -> nx.MultiDiGraph:
    """osmnx's graph of ``path``, its largest strongly connected part, timed edge by edge."""
    graph = graph_from_osm_file(path)
    timed = _largest_part(graph)
    add_travel_times(timed, settings.SPEED_PROFILES[settings.DEFAULT_SPEED_PROFILE], model=model)
    return timed


def _largest_part(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of ``graph`` without the nodes outside its largest strongly connected part."""
    largest = max(nx.strongly_connected_components(graph), key=len)
    kept = graph.copy()
    kept.remove_nodes_from([n for n in graph if n not in largest])
    return kept


def _fastest(graph: nx.MultiDiGraph) -> dict[tuple[int, int], float]:
    """Seconds of the fastest edge of each node pair."""
    best: dict[tuple[int, int], float] = {}
    for u, v, data in graph.edges(data=True):
        best[u, v] = min(best.get((u, v), math.inf), data["travel_time"])
    return best


def _routing_seconds(net) -> dict[tuple[int, int], float]:
    r = net.routing
    ids = r.node_ids
    return {
        (int(ids[t]), int(ids[h])): float(s)
        for t, h, s in zip(r.tail, r.head, r.seconds, strict=True)
    }


def _attrs(graph: nx.MultiDiGraph) -> list[tuple]:
    """Every edge with its attributes (lists as sorted text: osmnx keeps set order)."""
    rows = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        plain = {
            name: sorted(map(str, value)) if isinstance(value, list) else value
            for name, value in data.items()
            if name != "geometry"
        }
        line = data.get("geometry")
        rows.append((u, v, k, plain, None if line is None else list(line.coords)))
    return rows


@pytest.mark.parametrize("model", MODELS)
def test_osm_files_are_timed_as_the_networkx_path_times_them(model: str, tmp_path) -> None:
    for path in _files(tmp_path):
        reference = _reference(path, model)
        net = load_network(path, speed_model=model)
        # the same graph, edge for edge and in the same order, with the same times
        assert list(net.graph.nodes(data=True)) == list(reference.nodes(data=True)), path
        assert _attrs(net.graph) == _attrs(reference), path
        # routing: each node pair's fastest edge, to the millisecond
        assert _routing_seconds(net) == _fastest(reference), path
        assert net.n_edges == reference.number_of_edges()
        assert net.dropped_nodes == len(graph_from_osm_file(path)) - len(reference)


@pytest.mark.parametrize("model", MODELS)
def test_the_graphml_round_trip_keeps_the_times(model: str, tmp_path) -> None:
    for path in _files(tmp_path):
        net = load_network(path, speed_model=model)
        saved = save_network(net, tmp_path / f"{path.stem}-{model}.graphml")
        again = load_network(saved, speed_model=model)
        assert _routing_seconds(again) == _routing_seconds(net), path
        np.testing.assert_array_equal(again.edge_times.seconds, net.edge_times.seconds)
        # the cache hands back the same graph and the same times
        first = load_network(path, speed_model=model, cache_dir=tmp_path / "cache")
        second = load_network(path, speed_model=model, cache_dir=tmp_path / "cache")
        assert second.cache.startswith("read ")
        assert _routing_seconds(second) == _routing_seconds(first) == _routing_seconds(net)
        assert _attrs(second.graph) == _attrs(net.graph), path


def test_points_inside_edges_are_timed_as_by_the_networkx_path(tmp_path) -> None:
    path = _roads(tmp_path)
    net = load_network(path)
    reference = prepare_network(graph_from_osm_file(path), source=str(path))
    for name in ("share_ptr", "share_at", "share_t0", "share_dt", "metres", "edge_source"):
        np.testing.assert_array_equal(getattr(net.routing, name), getattr(reference.routing, name))
    np.testing.assert_array_equal(net.routing.x, reference.routing.x)
    lines = net.routing.geometry
    assert all(
        a.equals_exact(b, 0.0) for a, b in zip(lines, reference.routing.geometry, strict=True)
    )


@pytest.mark.parametrize("model", MODELS)
def test_prepare_network_leaves_its_graph_alone_and_times_it_as_before(model: str) -> None:
    graph = random_road_graph(400, seed=4)
    graph.add_edge(10_000, 10_001, length=50.0, highway="residential")  # an island, dropped
    graph.nodes[10_000].update(x=3.5, y=44.5)
    graph.nodes[10_001].update(x=3.501, y=44.5)
    before = [(u, v, k, dict(d)) for u, v, k, d in graph.edges(keys=True, data=True)]
    net = prepare_network(graph, speed_model=model)
    assert [(u, v, k, dict(d)) for u, v, k, d in graph.edges(keys=True, data=True)] == before
    reference = _largest_part(graph)
    add_travel_times(
        reference, settings.SPEED_PROFILES[settings.DEFAULT_SPEED_PROFILE], model=model
    )
    assert net.dropped_nodes == len(graph) - len(reference) >= 2
    assert _attrs(net.graph) == _attrs(reference)
    assert _routing_seconds(net) == _fastest(reference)
    assert net.graph.graph["speed_model"] == model


def test_a_network_whose_graph_is_not_built_yet_pickles(tmp_path) -> None:
    # Dask scatters the network to its workers: the graph's recipe must pickle too
    path = _roads(tmp_path)
    saved = save_network(load_network(path), tmp_path / "roads.graphml")
    load_network(path, cache_dir=tmp_path / "cache")
    networks = [
        load_network(path),
        load_network(saved),
        prepare_network(random_road_graph(60, seed=2)),
        load_network(path, cache_dir=tmp_path / "cache"),
    ]
    assert networks[-1].cache.startswith("read ")
    for net in networks:
        again = pickle.loads(pickle.dumps(net))
        np.testing.assert_array_equal(again.routing.seconds, net.routing.seconds)
        assert _attrs(again.graph) == _attrs(net.graph)


@settings_h(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(min_value=0, max_value=1e5),
            # halves of the last digit kept, and their neighbours: where rounding is hard
            st.integers(min_value=-(10**9), max_value=10**9).map(lambda k: (k + 0.5) / 1000.0),
            st.integers(min_value=0, max_value=10**9).map(
                lambda k: math.nextafter((k + 0.5) / 1000.0, math.inf)
            ),
            st.integers(min_value=0, max_value=10**9).map(
                lambda k: math.nextafter((k + 0.5) / 1000.0, -math.inf)
            ),
        ),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=6),
)
def test_travel_times_are_rounded_as_python_rounds_them(values: list[float], digits: int) -> None:
    rounded = round_as_python(np.array(values, dtype=float), digits)
    expected = [round(v, digits) for v in values]
    assert [repr(r) for r in rounded] == [repr(e) for e in expected]  # -0.0 and nan as well
