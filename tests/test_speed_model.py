"""The realistic speed model, timed by hand; calibration recovers known factors."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import settings
from optimizer.calibration import calibrate
from optimizer.cli import main
from optimizer.inputs import read_reference_trips, read_speed_factors
from optimizer.network import load_network, prepare_network
from optimizer.speed_model import speed_model
from optimizer.travel import travel_table

from .conftest import ORIGIN_X, ORIGIN_Y, TO_WGS, lambert_node

A, D, LAT = settings.ACCEL_MS2, settings.DECEL_MS2, settings.LATERAL_ACCEL_MS2
F = settings.REALISTIC_LIMIT_FACTOR


def _osm(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[list[int], dict]],
    node_tags: dict[int, dict[str, str]] | None = None,
) -> Path:
    """Write an OSM XML file; node positions in metres (Lambert-93) from the fixture origin."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="hand">']
    for node, (x, y) in nodes.items():
        lon, lat = TO_WGS.transform(ORIGIN_X + x, ORIGIN_Y + y)
        tags = (node_tags or {}).get(node, {})
        inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<node id="{node}" lat="{lat:.9f}" lon="{lon:.9f}">{inner}</node>')
    for k, (refs, tags) in enumerate(ways):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
        lines.append(f'<way id="{100 + k}">{nds}{tg}</way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _edge_seconds(net, u: int, v: int) -> float:
    return float(net.graph.edges[u, v, 0]["travel_time"])


def test_hairpin_bend_is_timed_by_braking_and_accelerating(tmp_path) -> None:
    leg, interior = 40.0, 20.0  # a hairpin: two 40 m legs, 20 degrees between them
    pts = {1: (0.0, 0.0), 2: (leg, 0.0)}
    angle = math.radians(interior)
    pts[3] = (leg - leg * math.cos(angle), leg * math.sin(angle))
    osm = _osm(tmp_path / "hairpin.osm", pts, [([1, 2, 3], {"highway": "secondary"})])
    net = load_network(osm, speed_model="realistic")
    # by hand: the circle through the three points has radius leg / (2 cos(interior / 2))
    radius = leg / (2.0 * math.cos(angle / 2.0))
    v_bend = math.sqrt(LAT * radius)
    cruise = F * 90.0 / 3.6  # secondary at 90 km/h (Lozère profile) times the factor
    # braking: the speed at the start is what can still brake down to the bend in 40 m
    v_start = min(cruise, math.sqrt(v_bend**2 + 2.0 * D * leg))
    v_end = min(cruise, math.sqrt(v_bend**2 + 2.0 * A * leg))
    assert v_start < cruise and v_end < cruise  # the legs are too short to reach cruising speed
    expected = (v_start - v_bend) / D + (v_end - v_bend) / A
    assert _edge_seconds(net, 1, 3) == pytest.approx(expected, rel=0.01)
    free = load_network(osm, speed_model="free-flow")
    assert _edge_seconds(free, 1, 3) == pytest.approx(2 * leg / 25.0, rel=0.01)
    assert _edge_seconds(net, 1, 3) > 2.0 * _edge_seconds(free, 1, 3)


def test_long_straight_then_hairpin_brakes_late_and_cruises(tmp_path) -> None:
    # 1000 m straight, then a hairpin made of two 40 m legs, then 1000 m straight back
    pts = {1: (-1000.0, 0.0), 2: (0.0, 0.0), 3: (40.0, 0.0)}
    angle = math.radians(20.0)
    pts[4] = (40.0 - 40.0 * math.cos(angle), 40.0 * math.sin(angle))
    pts[5] = (pts[4][0] - 1000.0 * math.cos(angle), pts[4][1] + 1000.0 * math.sin(angle))
    osm = _osm(tmp_path / "bend.osm", pts, [([1, 2, 3, 4, 5], {"highway": "tertiary"})])
    net = load_network(osm)
    cruise = F * 90.0 / 3.6
    # vertex 2 and 4: the straight meets the hairpin at a near-straight angle (no cap);
    # vertex 3: the hairpin, radius 40 / (2 cos 10 deg)
    v3 = math.sqrt(LAT * 40.0 / (2.0 * math.cos(angle / 2.0)))
    v2 = min(cruise, math.sqrt(v3**2 + 2 * D * 40.0))
    v4 = min(cruise, math.sqrt(v3**2 + 2 * A * 40.0))
    # the bends at 2 and 4 turn by 10 degrees over 1000 m and 40 m legs: radius large enough?
    r2 = _circumradius(pts[1], pts[2], pts[3])
    r4 = _circumradius(pts[3], pts[4], pts[5])
    v2 = min(v2, math.sqrt(LAT * r2))
    v4 = min(v4, math.sqrt(LAT * r4))

    def piece(length: float, v0: float, v1: float) -> float:
        peak = min(cruise, math.sqrt((2 * A * D * length + D * v0**2 + A * v1**2) / (A + D)))
        accel_m = (peak**2 - v0**2) / (2 * A)
        brake_m = (peak**2 - v1**2) / (2 * D)
        return (peak - v0) / A + (peak - v1) / D + (length - accel_m - brake_m) / peak

    expected = piece(1000.0, cruise, v2) + piece(40.0, v2, v3) + piece(40.0, v3, v4)
    expected += piece(1000.0, v4, cruise)
    assert _edge_seconds(net, 1, 5) == pytest.approx(expected, rel=0.01)


def _circumradius(a, b, c) -> float:
    ab, bc, ca = math.dist(a, b), math.dist(b, c), math.dist(c, a)
    cross = abs((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]))
    return ab * bc * ca / (2.0 * cross) if cross > 0 else math.inf


def test_a_wide_bend_is_driven_at_cruising_speed(tmp_path) -> None:
    pts = {1: (0.0, 0.0), 2: (1000.0, 0.0), 3: (2000.0, 100.0)}
    osm = _osm(tmp_path / "wide.osm", pts, [([1, 2, 3], {"highway": "primary", "maxspeed": "80"})])
    net = load_network(osm)
    length = net.graph.edges[1, 3, 0]["length"]
    assert _edge_seconds(net, 1, 3) == pytest.approx(length / (F * 80 / 3.6), rel=1e-3)


def test_junctions_signals_and_stops_cost_their_delays(tmp_path) -> None:
    # main road 1-2-3-4-5 (800 m steps) with a side road at 3 (junction of three roads),
    # a traffic signal at 2 (removed by simplification: kept on the segment) and a stop at 4
    pts = {i: (800.0 * (i - 1), 0.0) for i in range(1, 6)}
    pts[6] = (1600.0, 800.0)
    osm = _osm(
        tmp_path / "junctions.osm",
        pts,
        [
            ([1, 2, 3, 4, 5], {"highway": "secondary", "maxspeed": "70"}),
            ([3, 6], {"highway": "secondary", "maxspeed": "70"}),
        ],
        node_tags={2: {"highway": "traffic_signals"}, 4: {"highway": "stop"}},
    )
    net = load_network(osm)
    assert set(net.graph.nodes) == {1, 3, 5, 6}  # 2 and 4 merged away, their controls kept
    cruise = F * 70 / 3.6
    run = net.graph.edges[1, 3, 0]["length"] / cruise
    model = speed_model("realistic")
    assert _edge_seconds(net, 1, 3) == pytest.approx(
        run + model.signal_delay_s + model.junction_delay_s, abs=0.01
    )
    run = net.graph.edges[3, 5, 0]["length"] / cruise
    assert _edge_seconds(net, 3, 5) == pytest.approx(run + model.stop_delay_s, abs=0.01)
    free = load_network(osm, speed_model="free-flow")
    assert _edge_seconds(free, 3, 5) == pytest.approx(
        net.graph.edges[3, 5, 0]["length"] / (70 / 3.6), abs=0.01
    )


def test_untagged_streets_in_a_built_up_area_are_town_streets(tmp_path) -> None:
    # a village: a 6 x 6 grid of 100 m residential blocks, and a road out to open country
    pts, ways = {}, []
    for i in range(6):
        for j in range(6):
            pts[10 * i + j + 1] = (100.0 * i, 100.0 * j)
    for i in range(6):
        ways.append(([10 * i + j + 1 for j in range(6)], {"highway": "unclassified"}))
        ways.append(([10 * j + i + 1 for j in range(6)], {"highway": "unclassified"}))
    pts[900], pts[901] = (5500.0, 0.0), (10500.0, 0.0)
    ways.append(([51, 900, 901], {"highway": "unclassified"}))
    net = load_network(_osm(tmp_path / "village.osm", pts, ways))
    village = net.graph.edges[12, 13, 0]  # an inner street of the grid
    by_hand = village["length"] / (F * 50.0 / 3.6) + speed_model().junction_delay_s  # FR:urban
    assert village["travel_time"] == pytest.approx(by_hand, rel=0.01)
    country = net.graph.edges[51, 901, 0]  # 900 merged away: a plain bend-less road
    assert country["speed_kph"] == pytest.approx(F * 80.0, rel=0.02)  # unclassified, rural


# ----------------------------------------------------------------------------- calibration


def _grid(n: int = 12, block: float = 600.0) -> nx.MultiDiGraph:
    """A grid whose rows and columns are of four road classes (straight roads)."""
    classes = ["primary", "secondary", "tertiary", "residential"]
    g = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(n):
        for j in range(n):
            g.add_node(i * n + j, **lambert_node(block * i, block * j))
    for i in range(n):
        for j in range(n):
            for di, dj, cls in ((1, 0, classes[j % 4]), (0, 1, classes[i % 4])):
                if i + di < n and j + dj < n:
                    u, v = i * n + j, (i + di) * n + j + dj
                    data = {"length": block, "highway": cls}
                    g.add_edge(u, v, **data)
                    g.add_edge(v, u, **data)
    return g


def test_calibration_recovers_known_factors_from_synthetic_trips() -> None:
    true = {"primary": 0.72, "secondary": 0.9, "tertiary": 0.55, "residential": 0.66}
    model = speed_model("realistic").with_factors(true, source="truth")
    truth = prepare_network(_grid(), speed_model=model)
    rng = np.random.default_rng(3)
    nodes = np.array(list(truth.graph.nodes))
    pick = rng.choice(nodes, size=(40, 2))
    pick = pick[pick[:, 0] != pick[:, 1]]
    lon = np.array([truth.graph.nodes[n]["x"] for n in nodes])
    lat = np.array([truth.graph.nodes[n]["y"] for n in nodes])
    where = {int(n): k for k, n in enumerate(nodes)}
    a = np.array([where[int(n)] for n in pick[:, 0]])
    b = np.array([where[int(n)] for n in pick[:, 1]])
    origins = pd.DataFrame({"id": [f"o{i}" for i in range(len(a))], "lon": lon[a], "lat": lat[a]})
    dests = pd.DataFrame({"id": [f"d{i}" for i in range(len(b))], "lon": lon[b], "lat": lat[b]})
    table = travel_table(truth, origins, dests).table.set_index(["origin_id", "destination_id"])
    minutes = [table.loc[(f"o{i}", f"d{i}"), "minutes_to"] for i in range(len(a))]
    trips = pd.DataFrame(
        {
            "from_lon": lon[a],
            "from_lat": lat[a],
            "to_lon": lon[b],
            "to_lat": lat[b],
            "minutes": minutes,
        }
    )
    start = prepare_network(_grid())  # default factors: 0.8 everywhere
    fit = calibrate(start, trips)
    assert fit.factors["primary"] == pytest.approx(0.72, rel=0.02)
    assert fit.factors["secondary"] == pytest.approx(0.9, rel=0.02)
    assert fit.factors["tertiary"] == pytest.approx(0.55, rel=0.02)
    assert fit.factors["minor"] == pytest.approx(0.66, rel=0.02)
    assert fit.errors("after")["worst_pct"] < 1.0 < fit.errors("before")["median_pct"]


def test_calibrated_profile_round_trips_through_the_command(tmp_path) -> None:
    grid = prepare_network(_grid(6))
    trips = tmp_path / "trips.csv"
    lons = [d["x"] for _, d in grid.graph.nodes(data=True)]
    lats = [d["y"] for _, d in grid.graph.nodes(data=True)]
    pd.DataFrame(
        {
            "label": ["a", "b", "c"],
            "from_lon": lons[:3],
            "from_lat": lats[:3],
            "to_lon": lons[-3:],
            "to_lat": lats[-3:],
            "minutes": [9.0, 8.0, 7.5],
        }
    ).to_csv(trips, index=False)
    graphml = tmp_path / "grid.graphml"
    from optimizer.network import save_network

    save_network(grid, graphml)
    profile = tmp_path / "profile.csv"
    done = CliRunner().invoke(
        main,
        ["calibrate", "--reference", str(trips), "--network", str(graphml), "--out", str(profile)],
    )
    assert done.exit_code == 0, done.output
    assert "before: median error" in done.output and "after: median error" in done.output
    factors, _ = read_speed_factors(profile)
    assert set(factors) >= {"primary", "secondary", "tertiary", "residential"}
    kmh = pd.read_csv(profile).set_index("highway")["kmh"]
    assert kmh["primary"] == settings.SPEED_PROFILES["lozere"]["primary"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("0,44.5,3.6,44.6,0,", "row 2, column 'minutes': 0 minutes"),
        ("3.5,44.5,3.6,44.6,2,", "row 2: 2 minutes for 13.7 km as the crow flies is 410 km/h"),
        ("3.5,44.5,3.6,44.6,20,5", "row 2, column 'km': 5 km is shorter than the straight line"),
        ("3.5,44.5,3.6,44.6,abc,", "row 2, column 'minutes': 'abc' is not a number"),
    ],
)
def test_bad_reference_rows_are_named(rows: str, expected: str, tmp_path) -> None:
    path = tmp_path / "ref.csv"
    path.write_text("from_lon,from_lat,to_lon,to_lat,minutes,km\n" + rows + "\n", encoding="utf-8")
    with pytest.raises(Exception, match="ref.csv: " + expected.replace("(", r"\(")):
        read_reference_trips(path)
    done = CliRunner().invoke(
        main, ["calibrate", "--reference", str(path), "--out", str(tmp_path / "p.csv")]
    )
    assert done.exit_code == 2
    assert done.output.count("\n") == 1 and expected.split(":")[0] in done.output


def test_reference_point_off_the_network_is_named(tmp_path) -> None:
    path = tmp_path / "ref.csv"
    path.write_text(
        "label,from_lon,from_lat,to_lon,to_lat,minutes\nMende-Paris,3.5,44.52,2.35,48.85,400\n",
        encoding="utf-8",
    )
    done = CliRunner().invoke(
        main, ["calibrate", "--reference", str(path), "--out", str(tmp_path / "p.csv")]
    )
    assert done.exit_code == 2
    assert "Mende-Paris" in done.output and "outside the road network" in done.output


def test_free_flow_keeps_the_old_default_result(tmp_path) -> None:
    done = CliRunner().invoke(
        main, ["--out", str(tmp_path / "o"), "--no-maps", "--speed-model", "free-flow", "-q"]
    )
    assert done.exit_code == 0, done.output
    head = pd.read_csv(tmp_path / "o" / "travel_times.csv")
    realistic = CliRunner().invoke(main, ["--out", str(tmp_path / "r"), "--no-maps", "-q"])
    assert realistic.exit_code == 0, realistic.output
    slow = pd.read_csv(tmp_path / "r" / "travel_times.csv")
    # the realistic drive is slower for every agent who drives at all, by a fifth or more
    far = head["minutes_to"] > 5
    ratio = slow["minutes_to"][far] / head["minutes_to"][far]
    assert (ratio > 1.0).all() and ratio.median() > 1.2


def _serpentine(total_m: float = 5000.0, leg_m: float = 150.0, radius_m: float = 25.0):
    """Points of a road winding west from the origin: legs north and south, 25 m hairpins."""
    points = [(0.0, 0.0)]
    x, up, length = 0.0, True, 0.0
    while length < total_m:
        y_end = leg_m if up else 0.0
        points.append((x, y_end))
        centre = (x - radius_m, y_end)
        for step in range(1, 13):  # a half circle drawn every 15 degrees
            angle = math.pi * step / 12.0
            dx = radius_m * math.cos(angle)
            dy = radius_m * math.sin(angle) * (1.0 if up else -1.0)
            points.append((centre[0] + dx, centre[1] + dy))
        x -= 2.0 * radius_m
        up = not up
        length += leg_m + math.pi * radius_m
    return points


def _serpentine_file(path: Path, *, junction: bool) -> Path:
    """A straight 5 km road east of the origin and a 5 km serpentine of 25 m hairpins west.

    With ``junction``, a short spur south keeps the origin a node; without it, the two
    roads simplify into one edge and a point at the origin lies in its middle.
    """
    pts: dict[int, tuple[float, float]] = {1: (0.0, 0.0), 2: (5000.0, 0.0)}
    west = [1]
    for k, point in enumerate(_serpentine()[1:]):
        pts[10 + k] = point
        west.append(10 + k)
    ways = [([2, 1], {"highway": "secondary"}), (west, {"highway": "secondary"})]
    if junction:
        pts[3] = (0.0, -300.0)
        ways.append(([1, 3], {"highway": "secondary"}))
    return _osm(path, pts, ways)


@pytest.mark.parametrize("model", ["realistic", "free-flow"])
def test_a_point_inside_an_edge_is_timed_by_the_pieces_driven(tmp_path, model) -> None:
    ends = pd.DataFrame(
        {"id": ["east", "west"], "lon": [0.0, 0.0], "lat": [0.0, 0.0]},
    )
    ends.loc[0, ["lon", "lat"]] = TO_WGS.transform(ORIGIN_X + 5000.0, ORIGIN_Y)
    far_x, far_y = _serpentine()[-1]
    ends.loc[1, ["lon", "lat"]] = TO_WGS.transform(ORIGIN_X + far_x, ORIGIN_Y + far_y)
    lon, lat = TO_WGS.transform(ORIGIN_X, ORIGIN_Y)
    home = pd.DataFrame({"id": ["home"], "lon": [lon], "lat": [lat]})
    out = {}
    for junction in (True, False):
        osm = _serpentine_file(tmp_path / f"serpentine-{junction}.osm", junction=junction)
        net = load_network(osm, speed_model=model)
        assert net.graph.has_node(1) == junction  # mid-edge: the origin is simplified away
        table = travel_table(net, home, ends).table.set_index("destination_id")
        out[junction] = table[["minutes_to", "minutes_back"]]
    on_node, mid_edge = out[True], out[False]
    # the same roads, the same times, whether the home is on a node or inside an edge
    np.testing.assert_allclose(mid_edge.to_numpy(), on_node.to_numpy(), rtol=0.01)
    ratio = mid_edge.loc["west", "minutes_to"] / mid_edge.loc["east", "minutes_to"]
    if model == "realistic":  # the hairpins are slow both ways
        assert ratio > 1.3
        back = mid_edge.loc["west", "minutes_back"] / mid_edge.loc["east", "minutes_back"]
        assert back > 1.3
    else:  # at the limit everywhere: the serpentine is as long as the straight road
        assert ratio == pytest.approx(1.0, rel=0.02)


def test_a_whole_edge_is_its_own_time() -> None:
    from optimizer.network import RoutingArrays

    net = prepare_network(_grid(4))
    routing: RoutingArrays = net.routing
    edges = np.arange(routing.n_edges)
    np.testing.assert_array_equal(routing.time_share(edges, np.ones(edges.size)), 1.0)
    np.testing.assert_array_equal(routing.time_share(edges, np.zeros(edges.size)), 0.0)
    half = routing.time_share(edges, np.full(edges.size, 0.5))
    assert np.all((half > 0.0) & (half < 1.0))


def test_partial_edges_keep_their_pieces_through_graphml(tmp_path) -> None:
    from optimizer.network import save_network

    far_x, far_y = _serpentine()[-1]
    ends = pd.DataFrame({"id": ["east", "west"], "lon": [0.0, 0.0], "lat": [0.0, 0.0]})
    ends.loc[0, ["lon", "lat"]] = TO_WGS.transform(ORIGIN_X + 5000.0, ORIGIN_Y)
    ends.loc[1, ["lon", "lat"]] = TO_WGS.transform(ORIGIN_X + far_x, ORIGIN_Y + far_y)
    lon, lat = TO_WGS.transform(ORIGIN_X, ORIGIN_Y)
    home = pd.DataFrame({"id": ["home"], "lon": [lon], "lat": [lat]})
    net = load_network(_serpentine_file(tmp_path / "s.osm", junction=False))
    again = load_network(save_network(net, tmp_path / "s.graphml"))
    want = travel_table(net, home, ends).table
    got = travel_table(again, home, ends).table
    pd.testing.assert_frame_equal(got, want)
    assert want["minutes_to"].iloc[1] / want["minutes_to"].iloc[0] > 1.3
