from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from optimizer import settings
from optimizer.network import RoadNetwork, compile_routing, prepare_network
from optimizer.travel import snap_points, travel_table

from .conftest import TO_WGS as TO_WGS_TEST
from .conftest import five_node_graph, lambert_node, node_points, random_road_graph


def _pairs(result) -> dict[tuple[str, str], pd.Series]:
    return {(r.origin_id, r.destination_id): r for r in result.table.itertuples()}


def test_five_node_times_and_distances_by_hand(five_node_network) -> None:
    origins = node_points(five_node_network, [1, 5], "o")
    dests = node_points(five_node_network, [3, 4], "d")
    result = travel_table(five_node_network, origins, dests)
    got = _pairs(result)
    # 1 -> 3: via 2 (40 + 40 s, 2000 m) beats the direct residential street (180 s, 1500 m)
    assert got["o1", "d3"].minutes_to * 60 == pytest.approx(80.0, abs=0.01)
    assert got["o1", "d3"].km_to == pytest.approx(2.0, abs=1e-9)
    # 1 -> 4: 80 s to 3, then the one-way 3->4 at 30 km/h: 120 s
    assert got["o1", "d4"].minutes_to * 60 == pytest.approx(200.0, abs=0.01)
    # 4 -> 1 (the way back): the one-way 4->3 is fast (40 s), then 80 s
    assert got["o1", "d4"].minutes_back * 60 == pytest.approx(120.0, abs=0.01)
    assert got["o1", "d4"].km_back == pytest.approx(3.0, abs=1e-6)
    # 5 -> 3: 45 + 40 s; 3 -> 5: 120 + 45 s
    assert got["o5", "d3"].minutes_to * 60 == pytest.approx(85.0, abs=0.01)
    assert got["o5", "d3"].minutes_back * 60 == pytest.approx(165.0, abs=0.01)
    assert (result.table["reason"] == "").all()
    assert result.origins["snap_m"].max() < 0.01


def test_point_along_an_edge_with_access_leg(five_node_network) -> None:
    # a home 100 m north of the middle of road 1-2 (two-way, 40 s for 1000 m)
    home = pd.DataFrame([{"id": "h", **dict(zip(("lon", "lat"), _lonlat(500, 100), strict=True))}])
    dest = node_points(five_node_network, [2], "d")
    result = travel_table(five_node_network, home, dest)
    row = result.table.iloc[0]
    access = 100.0 / (settings.ACCESS_SPEED_KMH / 3.6)  # 12 s
    assert result.origins["snap_m"].iloc[0] == pytest.approx(100.0, abs=0.5)
    assert row.minutes_to * 60 == pytest.approx(20.0 + access, abs=0.1)
    assert row.km_to == pytest.approx(0.6, abs=1e-3)
    assert row.minutes_back * 60 == pytest.approx(20.0 + access, abs=0.1)


def test_two_points_on_the_same_edge_route_along_it(five_node_network) -> None:
    a = pd.DataFrame([{"id": "a", **dict(zip(("lon", "lat"), _lonlat(200, 0), strict=True))}])
    b = pd.DataFrame([{"id": "b", **dict(zip(("lon", "lat"), _lonlat(700, 0), strict=True))}])
    row = travel_table(five_node_network, a, b).table.iloc[0]
    assert row.minutes_to * 60 == pytest.approx(20.0, abs=0.05)  # 500 m at 90 km/h
    assert row.km_to == pytest.approx(0.5, abs=1e-3)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    node = lambert_node(x, y)
    return node["x"], node["y"]


def test_far_points_are_missing_with_a_reason(five_node_network) -> None:
    origins = pd.concat(
        [
            node_points(five_node_network, [1], "o"),
            pd.DataFrame(
                [{"id": "far", **dict(zip(("lon", "lat"), _lonlat(0, 50_000), strict=True))}]
            ),
        ],
        ignore_index=True,
    )
    dests = node_points(five_node_network, [5], "d")
    result = travel_table(five_node_network, origins, dests, max_snap_m=5000)
    far = result.table[result.table["origin_id"] == "far"].iloc[0]
    assert np.isnan(far.minutes_to) and np.isnan(far.km_back)
    assert "snapping limit" in far.reason
    assert not result.origins.set_index("id").loc["far", "routed"]
    near = result.table[result.table["origin_id"] == "o1"].iloc[0]
    assert near.reason == "" and np.isfinite(near.minutes_to)


def test_no_route_is_missing_with_a_reason() -> None:
    # the engine itself, on a network that is not strongly connected: 5 -> 6 is one way
    g = five_node_graph()
    g.add_node(6, **lambert_node(4000, 1000))
    g.add_edge(5, 6, length=1000.0, highway="primary", travel_time=40.0)
    timed = prepare_network(five_node_graph(), speed_model="free-flow")
    for u, v, data in timed.graph.edges(data=True):
        g.edges[u, v, 0]["travel_time"] = data["travel_time"]
    net = RoadNetwork(
        graph=g,
        routing=compile_routing(g),
        source="not strongly connected",
        approximate=False,
        speed_profile="lozere",
    )
    result = travel_table(net, node_points(net, [6, 1], "o"), node_points(net, [1], "d"))
    cut = result.table.iloc[0]
    assert np.isnan(cut.minutes_to) and np.isnan(cut.km_to)
    assert cut.minutes_back * 60 == pytest.approx(40 + 40 + 120 + 45 + 40, abs=0.01)
    assert cut.reason == "no road route between home and destination"
    assert result.table.iloc[1].reason == ""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_networkx_both_directions_with_one_ways(seed: int) -> None:
    net = prepare_network(random_road_graph(144, seed))
    g = net.graph
    nodes = sorted(g.nodes)
    rng = np.random.default_rng(seed)
    origin_nodes = [int(n) for n in rng.choice(nodes, size=25, replace=False)]
    dest_nodes = [int(n) for n in rng.choice(nodes, size=4, replace=False)]
    result = travel_table(
        net, node_points(net, origin_nodes, "o"), node_points(net, dest_nodes, "d")
    )
    got = _pairs(result)
    for d in dest_nodes:
        to_d, to_paths = nx.single_source_dijkstra(g.reverse(copy=False), d, weight="travel_time")
        from_d, from_paths = nx.single_source_dijkstra(g, d, weight="travel_time")
        for o in origin_nodes:
            row = got[f"o{o}", f"d{d}"]
            # times are whole milliseconds on both sides: equal
            assert row.minutes_to * 60 == pytest.approx(to_d[o], abs=1e-6)
            assert row.minutes_back * 60 == pytest.approx(from_d[o], abs=1e-6)
            # distance along the fastest route (paths in the reversed graph run d -> o);
            # routing counts each edge in whole decimetres: at most 5 cm off per edge
            path_to = list(reversed(to_paths[o]))
            path_back = from_paths[o]
            assert row.km_to * 1000 == pytest.approx(
                _path_length(g, path_to), abs=0.05 * len(path_to) + 1e-9
            )
            assert row.km_back * 1000 == pytest.approx(
                _path_length(g, path_back), abs=0.05 * len(path_back) + 1e-9
            )


def _path_length(g: nx.MultiDiGraph, path: list[int]) -> float:
    total = 0.0
    for u, v in itertools.pairwise(path):
        best = min(g[u][v].values(), key=lambda d: d["travel_time"])
        total += best["length"]
    return total


def test_time_never_beats_the_straight_line_at_top_speed(lozere_network) -> None:
    from optimizer import datasets

    agents = datasets.agents().rename(columns={"agent_id": "id"})
    sites = datasets.telecentres().rename(columns={"telecentre_id": "id"})
    result = travel_table(lozere_network, agents, sites)
    table = result.table.merge(agents[["id", "lon", "lat"]], left_on="origin_id", right_on="id")
    table = table.merge(
        sites[["id", "lon", "lat"]], left_on="destination_id", right_on="id", suffixes=("_o", "_d")
    )
    from pyproj import Geod

    _, _, straight = Geod(ellps="WGS84").inv(table.lon_o, table.lat_o, table.lon_d, table.lat_d)
    assert (table.km_to * 1000 >= straight - 1.0).all()
    assert (table.km_back * 1000 >= straight - 1.0).all()
    top_speed_kmh = max(settings.SPEED_PROFILES["lozere"].values())
    assert (table.minutes_to / 60 * top_speed_kmh >= straight / 1000 - 1e-3).all()


def test_snap_reports_distance_and_limit(lozere_network) -> None:
    snap = snap_points(lozere_network.routing, np.array([3.5, 3.5]), np.array([44.5178, 46.0]))
    assert snap.ok.tolist() == [True, False]
    assert snap.snap_m[1] > 100_000


def _reference_split_graph(net, snap) -> nx.DiGraph:
    """Independent reference: every point becomes a node splitting its road, float weights.

    The time of a part of a road is that of the pieces driven (``time_share``, tested on
    its own in test_speed_model.py); its length, its share of the road's line.
    """
    r = net.routing
    ref = nx.DiGraph()
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for k, (e, a, ok) in enumerate(zip(snap.edge, snap.fraction, snap.ok, strict=True)):
        if not ok:
            continue
        on_edge.setdefault(int(e), []).append((float(a), ("p", k)))
        if r.twins[e] >= 0:
            on_edge.setdefault(int(r.twins[e]), []).append((1.0 - float(a), ("p", k)))
    for e in range(r.n_edges):
        stops = [(0.0, int(r.tail[e])), *sorted(on_edge.get(e, [])), (1.0, int(r.head[e]))]
        for (a0, s0), (a1, s1) in itertools.pairwise(stops):
            t0, t1 = r.time_share(np.array([e, e]), np.array([a0, a1]))
            ref.add_edge(s0, s1, t=(t1 - t0) * r.seconds[e], m=(a1 - a0) * r.metres[e], hops=1)
    return ref


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_points_along_roads_match_a_split_graph_reference(seed: int) -> None:
    net = prepare_network(random_road_graph(100, seed, one_way_share=0.4))
    r = net.routing
    rng = np.random.default_rng(seed)
    # homes and sites along random roads, some sharing a road, 0-60 m off it
    n_o, n_d = 40, 5
    edges = rng.integers(0, r.n_edges, n_o + n_d)
    edges[n_o : n_o + 2] = edges[:2]  # two destinations on the same roads as two homes
    frac = rng.uniform(0.05, 0.95, n_o + n_d)
    xy = np.array(
        [
            r.geometry[e].interpolate(f, normalized=True).coords[0]
            for e, f in zip(edges, frac, strict=True)
        ]
    )
    xy += rng.normal(0, 20, xy.shape)
    lon, lat = TO_WGS_TEST.transform(xy[:, 0], xy[:, 1])
    origins = pd.DataFrame(
        {"id": [f"o{i}" for i in range(n_o)], "lon": lon[:n_o], "lat": lat[:n_o]}
    )
    dests = pd.DataFrame({"id": [f"d{i}" for i in range(n_d)], "lon": lon[n_o:], "lat": lat[n_o:]})
    result = travel_table(net, origins, dests, access_speed_kmh=1e9)  # access legs ~0 s
    snap = snap_points(r, np.asarray(lon), np.asarray(lat))
    ref = _reference_split_graph(net, snap)
    reverse = ref.reverse(copy=False)
    got = _pairs(result)
    for j in range(n_d):
        target = ("p", n_o + j)
        to_t, to_path = nx.single_source_dijkstra(reverse, target, weight="t")
        back_t, back_path = nx.single_source_dijkstra(ref, target, weight="t")
        for i in range(n_o):
            row = got[f"o{i}", f"d{j}"]
            source = ("p", i)
            hops_to, hops_back = len(to_path[source]), len(back_path[source])
            assert row.minutes_to * 60 == pytest.approx(to_t[source], abs=0.001 * hops_to)
            assert row.minutes_back * 60 == pytest.approx(back_t[source], abs=0.001 * hops_back)
            metres_to = sum(ref.edges[u, v]["m"] for v, u in itertools.pairwise(to_path[source]))
            metres_back = sum(
                ref.edges[u, v]["m"] for u, v in itertools.pairwise(back_path[source])
            )
            snap_legs = snap.snap_m[i] + snap.snap_m[n_o + j]
            assert row.km_to * 1000 - snap_legs == pytest.approx(metres_to, abs=0.1 * hops_to)
            assert row.km_back * 1000 - snap_legs == pytest.approx(metres_back, abs=0.1 * hops_back)


def test_ties_go_to_the_shorter_route() -> None:
    g = five_node_graph()
    # a second way from 1 to 3 exactly as fast as 1-2-3 (80 s) but 100 m longer
    g.add_node(7, **lambert_node(0, 1000))
    g.add_edge(1, 7, length=1050.0, highway="primary", maxspeed="94.5")
    g.add_edge(7, 1, length=1050.0, highway="primary", maxspeed="94.5")
    g.add_edge(7, 3, length=1050.0, highway="primary", maxspeed="94.5")
    g.add_edge(3, 7, length=1050.0, highway="primary", maxspeed="94.5")
    net = prepare_network(g, speed_model="free-flow")
    assert net.graph.edges[1, 7, 0]["travel_time"] == pytest.approx(40.0)
    row = travel_table(net, node_points(net, [1], "o"), node_points(net, [3], "d")).table.iloc[0]
    assert row.minutes_to * 60 == pytest.approx(80.0)
    assert row.km_to == pytest.approx(2.0)


def test_very_long_routes_switch_to_a_coarser_packing() -> None:
    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node(1, **lambert_node(0, 0))
    g.add_node(2, **lambert_node(5000, 0))
    for u, v in ((1, 2), (2, 1)):
        g.add_edge(u, v, length=2_000_000.0, highway="motorway")  # 2,000 km at 130 km/h
    net = prepare_network(g, speed_model="free-flow")
    row = travel_table(net, node_points(net, [1], "o"), node_points(net, [2], "d")).table.iloc[0]
    assert row.km_to == pytest.approx(2000.0)
    assert row.minutes_to == pytest.approx(2_000_000 / (130 / 3.6) / 60, abs=1e-3)


def test_plain_networkx_graph_with_its_own_times() -> None:
    g = five_node_graph()
    for _, _, data in g.edges(data=True):
        data["travel_time"] = 10.0  # the caller's times win over speeds
    origins = pd.DataFrame([{"id": "o", **dict(zip(("lon", "lat"), _lonlat(0, 0), strict=True))}])
    dests = pd.DataFrame(
        [{"id": "d", **dict(zip(("lon", "lat"), _lonlat(3000, 1000), strict=True))}]
    )
    row = travel_table(g, origins, dests).table.iloc[0]
    assert row.minutes_to * 60 == pytest.approx(30.0)  # 1 -> 3 -> 4 -> 5, three edges
    assert row.km_to == pytest.approx(3.5)  # 1500 + 1000 + 1000 m
