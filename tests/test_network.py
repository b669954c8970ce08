from __future__ import annotations

import networkx as nx
import pytest

from optimizer import datasets, settings
from optimizer.errors import InputError, NetworkError
from optimizer.network import load_network, parse_maxspeed, prepare_network, save_network

from .conftest import five_node_graph


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90", 90.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * 1.609344),
        ("FR:rural", 80.0),
        ("FR:urban", 50.0),
        ("FR:zone30", 30.0),
        ("FR:motorway", 130.0),
        ("fr:motorway", 130.0),
        ("50;30", 30.0),
        (["50", "70"], 60.0),
        ("signals", None),
        ("", None),
        (None, None),
        ("0", None),
    ],
)
def test_parse_maxspeed(value: object, expected: float | None) -> None:
    got = parse_maxspeed(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_five_node_edge_times_match_hand_computation(five_node_network) -> None:
    g = five_node_network.graph
    expected = {
        (1, 2): 40.0,  # 1000 m at 90 km/h (primary, Lozère profile)
        (2, 3): 40.0,  # secondary at 90
        (1, 3): 180.0,  # maxspeed 30 beats residential
        (3, 4): 120.0,  # FR:zone30
        (4, 3): 40.0,  # tertiary at 90
        (4, 5): 45.0,  # unclassified at 80
    }
    for (u, v), seconds in expected.items():
        assert g.edges[u, v, 0]["travel_time"] == pytest.approx(seconds)


def test_profile_changes_class_speeds_not_tagged_ones() -> None:
    net = prepare_network(five_node_graph(), speed_profile="lozere80", speed_model="free-flow")
    assert net.graph.edges[1, 2, 0]["travel_time"] == pytest.approx(45.0)  # 80 km/h
    assert net.graph.edges[1, 3, 0]["travel_time"] == pytest.approx(180.0)  # tagged 30
    custom = prepare_network(
        five_node_graph(), speed_profile={"primary": 60.0}, speed_model="free-flow"
    )
    assert custom.graph.edges[1, 2, 0]["travel_time"] == pytest.approx(60.0)
    assert custom.speed_profile == "custom"


def test_no_speed_above_motorway_limit() -> None:
    g = five_node_graph()
    g.edges[1, 2, 0]["maxspeed"] = "200"
    net = prepare_network(g, speed_model="free-flow")
    assert net.graph.edges[1, 2, 0]["speed_kph"] == 130.0


def test_unknown_profile_is_an_input_error() -> None:
    with pytest.raises(InputError, match="speed profile 'fast' is unknown"):
        prepare_network(five_node_graph(), speed_profile="fast")


def test_largest_strongly_connected_part_is_kept_and_drop_reported() -> None:
    g = five_node_graph()
    g.add_node(9, x=3.6, y=44.6)
    g.add_edge(5, 9, length=100.0, highway="service")  # 9 can be reached but not left
    net = prepare_network(g, speed_model="free-flow")
    assert 9 not in net.graph
    assert net.dropped_nodes == 1
    assert net.routing.n_nodes == 5


def test_empty_graph_is_a_network_error() -> None:
    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node(1, x=3.5, y=44.5)
    with pytest.raises(NetworkError, match="no drivable road"):
        prepare_network(g)


def test_routing_keeps_fastest_parallel_edge() -> None:
    g = five_node_graph()
    g.add_edge(1, 2, length=1000.0, highway="residential")  # slower parallel edge
    net = prepare_network(g, speed_model="free-flow")
    r = net.routing
    k = [i for i in range(r.n_edges) if r.node_ids[r.tail[i]] == 1 and r.node_ids[r.head[i]] == 2]
    assert len(k) == 1
    assert r.seconds[k[0]] == pytest.approx(40.0)


def test_graphml_round_trip_keeps_times_and_approximate_flag(lozere_network, tmp_path) -> None:
    path = save_network(lozere_network, tmp_path / "lozere.graphml")
    again = load_network(path)
    assert again.approximate is True
    assert again.graph.number_of_nodes() == lozere_network.graph.number_of_nodes()
    assert again.graph.number_of_edges() == lozere_network.graph.number_of_edges()
    assert sorted(again.routing.seconds) == pytest.approx(sorted(lozere_network.routing.seconds))


def test_offline_network_is_marked_approximate() -> None:
    net = load_network(datasets.path(datasets.NETWORK_FILE), speed_model="free-flow")
    assert net.approximate is True
    assert net.dropped_nodes == 0
    speeds = {d["speed_kph"] for _, _, d in net.graph.edges(data=True)}
    assert speeds <= set(settings.SPEED_PROFILES["lozere"].values())


def test_real_osm_xml_is_not_approximate(tmp_path) -> None:
    path = tmp_path / "tiny.osm"
    path.write_text(
        """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="JOSM">
  <node id="1" lat="44.5" lon="3.5"/>
  <node id="2" lat="44.5" lon="3.51"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="secondary"/></way>
</osm>
""",
        encoding="utf-8",
    )
    net = load_network(path, speed_model="free-flow")
    assert net.approximate is False
    length = net.graph.edges[1, 2, 0]["length"]
    assert 790 < length < 800  # 0.01 degree of longitude at 44.5 N
    assert net.graph.edges[1, 2, 0]["travel_time"] == pytest.approx(length / 25.0)


FOOTWAYS_ONLY = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="44.5" lon="3.5"/><node id="2" lat="44.5" lon="3.51"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>
</osm>
"""


@pytest.mark.parametrize(
    ("name", "content", "error", "match"),
    [
        ("missing.osm", None, InputError, "not found"),
        ("roads.shp", "x", InputError, "unknown network format"),
        ("broken.osm", "<osm><node id=", NetworkError, "cannot be read as OpenStreetMap data"),
        ("broken.osm.pbf", "not a pbf", NetworkError, "cannot be read as OpenStreetMap data"),
        ("paths.osm", FOOTWAYS_ONLY, NetworkError, "no drivable road in this extract"),
        ("broken.graphml", "<graphml>", NetworkError, "cannot be read as GraphML"),
    ],
)
def test_bad_network_files(tmp_path, name, content, error, match) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(error, match=match):
        load_network(path)


@pytest.mark.parametrize("bad", [None, "abc", -5.0, float("nan"), float("inf"), [1.0]])
def test_an_edge_without_a_valid_length_is_named(bad) -> None:
    graph = five_node_graph()
    u, v, key = next(iter(graph.edges(keys=True)))
    graph.edges[u, v, key]["length"] = bad
    with pytest.raises(NetworkError, match=rf"edge {u}->{v} has no valid length"):
        prepare_network(graph)


def test_lengths_given_as_text_or_whole_numbers_time_as_their_floats() -> None:
    plain = prepare_network(five_node_graph())
    graph = five_node_graph()
    for k, (_, _, data) in enumerate(graph.edges(data=True)):
        data["length"] = str(data["length"]) if k % 2 else data["length"]
    again = prepare_network(graph)
    assert (again.routing.seconds == plain.routing.seconds).all()
    assert (again.routing.metres == plain.routing.metres).all()
