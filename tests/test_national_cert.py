"""National plans say ``exact`` only when it is: a small hand-made country with a river.

Three départements (Lambert-93 rectangles, km): D0 ``x 0-20, y 0-17`` on the west bank,
D1 ``x 20-40, y 0-17`` on the east bank, D2 ``x 0-40, y 17-40`` to the north. The river
runs along ``x = 20`` (the D0/D1 border); its only bridge is in D2, at ``y = 30``. Roads
run north-south at ``x = 1, 10, 19.7`` (west) and ``20.05, 30, 39`` (east), east-west at
``y = 5, 12, 20, 30`` on each bank, with a node every kilometre: a site or home near the
river may be nearest to the road of the other bank, which is an hour's drive away.

Each test writes the country as one OSM file with the départements' boundaries (a national
network folder: split into buffered extracts, and split again wider for what they leave),
plans it with :func:`plan_national`, and compares it with the single-process optimum on the
merged file (:func:`travel_table` on the whole network, the agents one by one, the exact
weekly model of a plain run).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from optimizer._osm import write_osm_xml
from optimizer.cli.national import _national_line
from optimizer.i18n import translate
from optimizer.inputs import day_mask
from optimizer.model import AssignmentProblem
from optimizer.model.weekly import solve_weekly_pairs
from optimizer.national import NationalOptions, NationalPlan, plan_national
from optimizer.national.files import national_sources, read_departements, wider_sources
from optimizer.national.plan import REASON_NO_COMMUTE
from optimizer.network import load_network
from optimizer.travel import travel_table

X0, Y0 = 650_000.0, 6_300_000.0
DAYS = ("mon", "tue", "wed", "thu", "fri")
_TO_WGS = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


def _wgs(x: float, y: float) -> tuple[float, float]:
    """WGS84 of the point ``x, y`` metres from the country's corner."""
    lon, lat = _TO_WGS.transform(X0 + x, Y0 + y)
    return round(float(lon), 7), round(float(lat), 7)


def _write_river_country(folder: Path) -> Path:
    """Write the départements and ``country.osm`` (one way per road segment) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    boxes = {"D0": (0, 0, 20_000, 17_000), "D1": (20_000, 0, 40_000, 17_000)}
    boxes["D2"] = (0, 17_000, 40_000, 40_000)
    shapes = [shapely.segmentize(shapely.box(*b), 500.0) for b in boxes.values()]
    metric = [shapely.affinity.translate(s, X0, Y0) for s in shapes]
    gpd.GeoDataFrame({"code": list(boxes)}, geometry=metric, crs="EPSG:2154").to_crs(
        "EPSG:4326"
    ).to_file(folder / "departements.geojson", driver="GeoJSON")
    ids: dict[tuple[int, int], int] = {}

    def node(x: float, y: float) -> int:
        return ids.setdefault((round(x), round(y)), len(ids) + 1)

    def stops(lo: float, hi: float) -> list[float]:
        inner = np.arange(np.ceil(lo / 1000.0) * 1000.0, hi, 1000.0)
        return sorted({lo, hi, *inner.tolist()})

    roads: list[list[int]] = []
    for x0, x1, columns in (
        (1_000, 19_700, (1_000, 10_000, 19_700)),
        (20_050, 39_000, (20_050, 30_000, 39_000)),
    ):
        roads.extend([node(x, y) for y in stops(0, 30_000)] for x in columns)
        roads.extend([node(x, y) for x in stops(x0, x1)] for y in (5_000, 12_000, 20_000, 30_000))
    roads.append([node(19_700, 30_000), node(20_050, 30_000)])  # the bridge
    segments = [pair for road in roads for pair in itertools.pairwise(road)]
    ways = [(k + 1, [a, b], {"highway": "secondary"}) for k, (a, b) in enumerate(segments)]
    nodes = [(k, *_wgs(x, y), {}) for (x, y), k in ids.items()]
    write_osm_xml(folder / "country.osm", nodes, ways, generator="river country")
    return folder


@pytest.fixture(scope="module")
def river(tmp_path_factory) -> Path:
    """The river country's network folder (boundaries and one OSM file)."""
    return _write_river_country(tmp_path_factory.mktemp("river") / "france")


@pytest.fixture(scope="module")
def merged(river):
    """The whole OSM file as one network: what the single process routes on."""
    return load_network(river / "country.osm")


def _roster(
    homes: list[tuple[float, float]], work: tuple[float, float], *, days: int = 1
) -> pd.DataFrame:
    """One agent per home (metres), all working at ``work``."""
    points = [_wgs(x, y) for x, y in homes]
    w = _wgs(*work)
    return pd.DataFrame(
        {
            "agent_id": [f"a{k}" for k in range(len(homes))],
            "lon": [p[0] for p in points],
            "lat": [p[1] for p in points],
            "workplace_lon": w[0],
            "workplace_lat": w[1],
            "telework_days": days,
        }
    )


def _sites(places: dict[str, tuple[tuple[float, float], tuple[int, ...]]]) -> pd.DataFrame:
    """``telecentre_id -> ((x, y) metres, desks mon..fri)``."""
    rows = []
    for name, ((x, y), desks) in places.items():
        lon, lat = _wgs(x, y)
        rows.append(
            {"telecentre_id": name, "lon": lon, "lat": lat, **dict(zip(DAYS, desks, strict=True))}
        )
    return pd.DataFrame(rows)


def _single_process(
    merged, agents: pd.DataFrame, sites: pd.DataFrame, opts: NationalOptions
) -> tuple[int, pd.DataFrame]:
    """The optimum on the merged network (whole seconds, or metres for km, a week) and its
    travel table."""
    origins = agents.rename(columns={"agent_id": "id"})[["id", "lon", "lat"]]
    places = pd.concat(
        [
            sites.rename(columns={"telecentre_id": "id"})[["id", "lon", "lat"]],
            pd.DataFrame(
                {
                    "id": ["work"],
                    "lon": [agents["workplace_lon"].iloc[0]],
                    "lat": [agents["workplace_lat"].iloc[0]],
                }
            ),
        ],
        ignore_index=True,
    )
    table = travel_table(merged, origins, places).table
    wide = {
        c: table.pivot(index="origin_id", columns="destination_id", values=c).reindex(
            agents["agent_id"]
        )
        for c in ("minutes_to", "minutes_back", "km_to", "km_back")
    }
    ids = sites["telecentre_id"].tolist()
    problem = AssignmentProblem(
        agent_ids=tuple(agents["agent_id"]),
        telecentre_ids=tuple(ids),
        minutes_to=wide["minutes_to"][ids].to_numpy(),
        minutes_back=wide["minutes_back"][ids].to_numpy(),
        head_office_minutes_to=wide["minutes_to"]["work"].to_numpy(),
        head_office_minutes_back=wide["minutes_back"]["work"].to_numpy(),
        capacities=np.ones(len(ids), dtype=np.int64),
        days=agents["telework_days"].to_numpy(np.int64),
        max_minutes=opts.max_minutes,
        min_saving=opts.min_saving,
        km_to=wide["km_to"][ids].to_numpy(),
        km_back=wide["km_back"][ids].to_numpy(),
        head_office_km_to=wide["km_to"]["work"].to_numpy(),
        head_office_km_back=wide["km_back"]["work"].to_numpy(),
        objective=opts.objective,  # type: ignore[arg-type]
    ).validated()
    agent, site = np.nonzero(problem.eligible())
    allowed = ~day_mask(pd.Series([""] * len(agents)))
    best = solve_weekly_pairs(
        agent,
        site,
        np.rint(problem.weekly_gain()[agent, site]).astype(np.int64),
        counts=None,
        days=problem.days,
        allowed=allowed,
        preferred=np.zeros_like(allowed),
        bonus=0,
        desks=sites[list(DAYS)].to_numpy(),
    )
    assert best.proven
    return int(best.objective), table


def _national(
    river: Path, agents: pd.DataFrame, sites: pd.DataFrame, opts: NationalOptions, work: Path
) -> NationalPlan:
    """The national plan from the folder, in this process, widened from the same file."""
    areas = read_departements(river)
    return plan_national(
        agents,
        sites,
        areas,
        national_sources(river, areas, buffer_km=opts.buffer_km),
        work_dir=work,
        options=opts,
        widen=wider_sources(river, areas),
    )


def _placed_minutes_on_merged(plan: NationalPlan, table: pd.DataFrame) -> pd.DataFrame:
    """The placed agents' minutes to their site: the plan's beside the merged network's."""
    placed = plan.allocation[plan.allocation["status"] == "assigned"]
    truth = table.set_index(["origin_id", "destination_id"])["minutes_to"]
    return placed.assign(
        merged=truth.reindex(
            pd.MultiIndex.from_frame(placed[["agent_id", "telecentre_id"]])
        ).to_numpy()
    )


def _west_bank_two_days(
    river: Path, merged, g_desks: tuple[int, ...], opts: NationalOptions, work: Path
) -> tuple[int, NationalPlan]:
    """Three agents of two days at home on the west bank, working far west; site G beside
    their homes (``g_desks``), site E across the river (3 desks a day): the single-process
    optimum and the national plan."""
    agents = _roster([(18_500, 5_020)] * 3, (1_020, 5_000), days=2)
    sites = _sites({"G": ((18_000, 5_020), g_desks), "E": ((25_000, 5_020), (3, 3, 3, 3, 3))})
    best, _ = _single_process(merged, agents, sites, opts)
    return best, _national(river, agents, sites, opts, work)


def test_a_site_nearest_to_the_other_banks_road_is_not_certified_at_a_wrong_time(
    river, merged, tmp_path
):
    """Site S lies 50 m west of the river: 100 m from the east bank's road, 250 m from the
    west bank's. In the merged network it joins the east bank's road, a 35 km drive round by
    the bridge; in D0's 1 km extract the east bank is cut off from the bridge (dropped), so S
    joins the west bank's road, a minute and a half from the homes. Site G, on the west bank,
    saves less, one desk on Mondays.

    (Before: the 4 agents were placed at S at 1.5 minutes, "exact" and above the optimum:
    a destination whose road may differ was still certified when the time was under the
    home's drive to the cut.)"""
    opts = NationalOptions(max_minutes=20.0, min_saving=10.0, buffer_km=1.0)
    agents = _roster([(18_500, 12_020)] * 4, (1_020, 12_000))
    sites = _sites(
        {"S": ((19_950, 12_500), (4, 4, 4, 4, 4)), "G": ((10_000, 12_020), (1, 0, 0, 0, 0))}
    )
    best, table = _single_process(merged, agents, sites, opts)
    plan = _national(river, agents, sites, opts, tmp_path / "w")
    on_merged = _placed_minutes_on_merged(plan, table)
    assert best > 0
    assert np.allclose(on_merged["minutes_to_site"], on_merged["merged"], atol=0.05)
    assert plan.gain_seconds == best
    assert (plan.allocation["telecentre_id"] != "S").all()
    assert plan.exact
    assert plan.summary["open_pairs"] == 0


def test_a_commute_no_extract_routes_is_unknown_and_routed_wider_not_unreachable(
    river, merged, tmp_path
):
    """Homes 10.5 km west of the river, in D1's 11 km border; their workplace in D1, east of
    it. D1's extract holds the homes' bank but not the bridge (18 km beyond its border): that
    bank is dropped, and no road of D1's extract lies within the 10 km a point may join a road
    from, so D1 finds no route. The merged network has one, round by the bridge, 80 minutes;
    the single process places every agent at site H, beside their homes.

    (Before: the agents were "unreachable", never routed again, nobody placed, and the plan
    said "exact".) Wider extracts of the same file route the commutes again; the third
    (44 km around) holds the bridge."""
    opts = NationalOptions(max_minutes=20.0, min_saving=10.0, buffer_km=11.0, widen_rounds=3)
    agents = _roster([(9_500, 5_020)] * 6, (35_000, 5_020))
    sites = _sites({"H": ((8_000, 5_020), (2, 2, 2, 2, 2))})
    best, _ = _single_process(merged, agents, sites, opts)
    plan = _national(river, agents, sites, opts, tmp_path / "w")
    assert best > 0
    assert not (plan.allocation["reason"] == REASON_NO_COMMUTE).any()
    assert plan.summary["widened"]  # routed again
    assert plan.gain_seconds == best
    assert plan.exact
    assert plan.summary["agents_commute_unknown"] == 0


def test_a_commute_no_extract_routes_without_widening_is_unknown_not_unreachable(
    river, merged, tmp_path
):
    """The same homes without wider extracts: their commutes stay unknown (never called
    unreachable), and the plan says it is not exact."""
    opts = NationalOptions(max_minutes=20.0, min_saving=10.0, buffer_km=11.0, widen_rounds=0)
    agents = _roster([(9_500, 5_020)] * 6, (35_000, 5_020))
    sites = _sites({"H": ((8_000, 5_020), (2, 2, 2, 2, 2))})
    plan = _national(river, agents, sites, opts, tmp_path / "w")
    assert not (plan.allocation["reason"] == REASON_NO_COMMUTE).any()
    assert plan.summary["agents_commute_unknown"] == len(agents)
    assert not plan.exact


def test_pairs_the_bounds_rule_out_are_not_open_and_an_optimal_plan_is_exact(
    river, merged, tmp_path
):
    """Agents teleworking two days, at home on the west bank; site G beside their homes with
    desks for all, and site E on the east bank, beyond D0's 1 km border: no extract routes
    the homes to E (D1's border does not reach them), and without wider extracts E stays
    unknown, its time only bounded (D1's cut, the straight line). Even at that least time, E
    saves less than G: every agent is placed at G, the optimum, and nothing is open.

    (Before: the weekly model gives no prices, so every pair not certified stayed "open",
    and the optimal plan said "not exact".)"""
    opts = NationalOptions(max_minutes=20.0, min_saving=5.0, buffer_km=1.0, widen_rounds=0)
    best, plan = _west_bank_two_days(river, merged, (3, 3, 3, 3, 3), opts, tmp_path / "w")
    assert best > 0
    assert plan.gain_seconds == best
    assert (plan.allocation["telecentre_id"] == "G").all()
    assert plan.summary["unknown_pairs"] > 0  # E's pairs: their time is not known
    assert plan.summary["open_pairs"] == 0
    assert plan.exact


def test_the_weekly_models_prices_spare_the_widening_of_pairs_that_cannot_matter(
    river, merged, tmp_path
):
    """The same agents of two days, now with wider extracts at hand: site E's pairs, not
    certified, cannot raise the weekly model's bound even at their least time (its prices
    rule them out), so nothing is routed again and the optimal plan is exact.

    (Before: the weekly model gave no prices, and every pair not certified was routed again
    in a wider region before the plan was judged.)"""
    opts = NationalOptions(max_minutes=20.0, min_saving=5.0, buffer_km=1.0, widen_rounds=3)
    best, plan = _west_bank_two_days(river, merged, (3, 3, 3, 3, 3), opts, tmp_path / "w")
    assert plan.gain_seconds == best
    assert plan.summary["unknown_pairs"] > 0
    assert plan.summary["unknown_pairs_priced_out"] == plan.summary["unknown_pairs"]
    assert not plan.summary["widened"]
    assert plan.exact
    assert plan.summary["merged_bound_minutes_week"] == best / 60.0
    assert plan.summary["time_limit_cut"] == []  # proven: no stage was ended by the clock


@pytest.mark.parametrize("cut", [[], ["column generation"]])
def test_the_result_line_says_when_the_time_limit_ended_the_search(cut):
    summary = {
        "placed": 3, "groups": 2, "open_pairs": 0, "agents_commute_unknown": 0,
        "buffer_km": 30.0, "gap": 0.0123, "merged_bound_minutes_week": 99.0,
        "time_limit_cut": cut,
    }  # fmt: skip
    allocation = pd.DataFrame({"agent_id": ["a", "b", "c"]})
    plan = NationalPlan(allocation, 6_000, exact=True, proven=False, summary=summary)
    line = _national_line(plan)
    assert line.startswith("3 agents in 2 groups: 3 assigned; 100 minutes saved a week; ")
    assert "within 1.23% of the bound (not proven)" in line
    said = "the time limit ended the search before it was done"
    assert (said in line) == bool(cut)
    assert ("la limite de temps a arrêté la recherche" in translate(line, "fr")) == bool(cut)


@pytest.mark.parametrize("rounds", [0, 3])
def test_a_pair_not_certified_that_could_beat_the_plan_is_open_and_bounded(
    river, merged, tmp_path, rounds
):
    """Site G has desks for two of the three agents of two days; site E, across the river,
    would take the third if it were as near as the straight line says. It is not: on the
    merged network E is round by the bridge, beyond the 20 minutes. Without wider extracts
    E's pairs stay open: the plan is not exact, and its bound on the merged network (E at
    its least time) holds the single-process optimum. With them, E is routed again, found
    too far, and the plan is the optimum, exact."""
    opts = NationalOptions(max_minutes=20.0, min_saving=5.0, buffer_km=1.0, widen_rounds=rounds)
    best, plan = _west_bank_two_days(river, merged, (1, 1, 1, 1, 0), opts, tmp_path / "w")
    assert plan.gain_seconds == best
    assert (plan.allocation["status"] == "assigned").sum() == 2
    bound = plan.summary["merged_bound_minutes_week"]
    line = _national_line(plan)
    if rounds == 0:
        assert plan.summary["open_pairs"] > 0
        assert not plan.exact
        assert bound > best / 60.0
        # the command says by how much at most, in English and in French
        assert line.endswith(
            f"; every plan on the merged network saves at most {bound:,.0f} minutes a week."
        )
        assert translate(line, "fr").endswith(
            f" ; tout plan sur le réseau fusionné gagne au plus {bound:,.0f} minutes par semaine."
        )
    else:
        assert plan.summary["widened"]
        assert plan.exact
        assert bound == best / 60.0
        assert "at most" not in line


@pytest.mark.parametrize("rounds", [0, 3])
def test_the_km_objective_is_the_merged_networks_optimum_or_bounds_it(
    river, merged, tmp_path, rounds
):
    """``--objective km`` at national scale: the west-bank agents of two days, site G with
    desks for two, site E across the river. Its pairs' best case is the commute's km less
    the straight line there and back (no road is shorter): without wider extracts E's pairs
    stay open, the plan says it is not exact, and its bound in km holds the single-process
    km optimum on the merged network; with them, E is routed, the plan is that optimum,
    exact, its bound equal to it. The objective is the placed agents' km saved, recomputed
    from the merged network's table, and the rules in minutes still hold."""
    opts = NationalOptions(
        max_minutes=20.0, min_saving=5.0, buffer_km=1.0, widen_rounds=rounds, objective="km"
    )
    best, plan = _west_bank_two_days(river, merged, (1, 1, 1, 1, 0), opts, tmp_path / "w")
    agents = _roster([(18_500, 5_020)] * 3, (1_020, 5_000), days=2)
    sites = _sites({"G": ((18_000, 5_020), (1, 1, 1, 1, 0)), "E": ((25_000, 5_020), (3,) * 5)})
    _, table = _single_process(merged, agents, sites, opts)
    assert best > 0
    assert plan.gain_seconds == best  # whole metres a week, here
    truth = table.set_index(["origin_id", "destination_id"])
    placed = plan.allocation[plan.allocation["status"] == "assigned"]
    metres = 0
    for agent, site in placed[["agent_id", "telecentre_id"]].itertuples(index=False):
        work, there = truth.loc[(agent, "work")], truth.loc[(agent, site)]
        day = work["km_to"] + work["km_back"] - there["km_to"] - there["km_back"]
        metres += 2 * round(day * 1000)
        assert there["minutes_to"] <= 20.0
    assert plan.gain_seconds == metres
    assert plan.summary["objective"] == "round-trip km saved per week"
    bound = plan.summary["merged_bound_km_week"]
    assert "merged_bound_minutes_week" not in plan.summary
    if rounds == 0:
        assert plan.summary["open_pairs"] > 0
        assert not plan.exact
        assert bound >= best / 1000.0
        line = _national_line(plan)
        assert line.endswith(
            f"; every plan on the merged network saves at most {bound:,.0f} km a week."
        )
        assert translate(line, "fr").endswith(f" gagne au plus {bound:,.0f} km par semaine.")
    else:
        assert plan.exact
        assert bound == best / 1000.0


def test_the_travel_objective_says_the_least_minutes_any_merged_plan_drives(
    river, merged, tmp_path
):
    """``--objective travel`` on the same open case: the minutes plan, its value the minutes
    the three agents drive a week (five round trips each, recomputed from the merged
    network's table) less its saving; not exact, so its merged-network figure is a least
    value, no more than the single process's optimum, and the command says "at least"."""
    opts = NationalOptions(
        max_minutes=20.0, min_saving=5.0, buffer_km=1.0, widen_rounds=0, objective="travel"
    )
    best, plan = _west_bank_two_days(river, merged, (1, 1, 1, 1, 0), opts, tmp_path / "w")
    agents = _roster([(18_500, 5_020)] * 3, (1_020, 5_000), days=2)
    sites = _sites({"G": ((18_000, 5_020), (1, 1, 1, 1, 0)), "E": ((25_000, 5_020), (3,) * 5)})
    _, table = _single_process(merged, agents, sites, opts)
    work = table[table["destination_id"] == "work"]
    drive = 5 * float((work["minutes_to"] + work["minutes_back"]).sum())
    assert plan.gain_seconds == best
    assert plan.summary["objective_travel_week"] == pytest.approx(drive - best / 60.0)
    assert plan.summary["objective"] == "minutes driven per week by all agents"
    assert not plan.exact
    least = plan.summary["merged_bound_travel_week"]
    assert least <= drive - best / 60.0 + 1e-9
    line = _national_line(plan)
    assert line.endswith(
        f"; every plan on the merged network drives at least {least:,.0f} minutes a week."
    )
    assert translate(line, "fr").endswith(f" roule au moins {least:,.0f} minutes par semaine.")


@pytest.mark.parametrize("rounds", [0, 3])
def test_select_by_commute_that_hangs_on_a_pair_not_certified_is_not_exact_until_routed(
    river, merged, tmp_path, rounds
):
    """``--select 1 --select-by commute``: agent A (the longer commute, on the west bank; its
    near site G2 forbidden to it) could gain only at site E across the river, which the 1 km
    borders do not certify; agent B (the shorter commute) gains at G2 for sure. Whether A is
    chosen depends on E: without wider extracts the plan says it is not exact and gives no
    bound; with them, E is routed, found beyond the 20 minutes, and B is chosen, as the plain
    path chooses on the merged network, exact."""
    from optimizer.model.explain import REASON_SHORTER_COMMUTE

    agents = _roster([(18_500, 5_020), (10_000, 5_020)], (1_020, 5_000))
    agents["forbidden_telecentres"] = ["G2", ""]
    sites = _sites({"G2": ((9_500, 5_020), (2,) * 5), "E": ((25_000, 5_020), (3,) * 5)})
    opts = NationalOptions(
        max_minutes=20.0, min_saving=5.0, buffer_km=1.0, widen_rounds=rounds,
        select=1, select_by="commute",
    )  # fmt: skip
    plan = _national(river, agents, sites, opts, tmp_path / "w")
    out = plan.allocation.set_index("agent_id")
    if rounds == 0:
        assert not plan.exact
        assert plan.summary["merged_bound_minutes_week"] is None
        assert plan.summary["open_pairs"] > 0  # E's pair for A: to route again
    else:
        assert plan.exact
        assert out.loc["a1", "telecentre_id"] == "G2"
        assert out.loc["a0", "status"] == "not_assigned"
        assert out.loc["a0", "reason"] != REASON_SHORTER_COMMUTE  # it gains nowhere
        _, table = _single_process(merged, agents, sites, opts)
        truth = table.set_index(["origin_id", "destination_id"])["minutes_to"]
        assert truth[("a0", "E")] > 20.0  # the merged network: E is beyond the limit for A


def test_split_keeps_a_way_that_crosses_a_departement_without_a_node_in_it(tmp_path):
    """A straight road whose two nodes lie either side of a narrow département is one of its
    roads: the extract holds every road of its area, or a point beside that road would join
    another one there. (Before, only ways with a node inside were kept.)"""
    import json

    from optimizer.national.pbf import split_osm

    areas = gpd.GeoDataFrame(
        {"code": ["N"]},
        geometry=[shapely.segmentize(shapely.box(X0 + 1_000, Y0, X0 + 1_500, Y0 + 3_000), 100.0)],
        crs="EPSG:2154",
    ).to_crs("EPSG:4326")
    points = {1: (0, 1_000), 2: (3_000, 1_000), 3: (1_200, 0), 4: (1_200, 2_000)}
    nodes = [(k, *_wgs(x, y), {}) for k, (x, y) in points.items()]
    ways = [(10, [1, 2], {"highway": "primary"}), (11, [3, 4], {"highway": "primary"})]
    write_osm_xml(tmp_path / "n.osm", nodes, ways, generator="crossing")
    (extract,) = split_osm(tmp_path / "n.osm", areas, tmp_path / "out", buffer_km=0.0).values()
    text = extract.read_text()
    assert '<way id="10"' in text and '<way id="11"' in text
    border = set(json.loads(extract.with_suffix(".border.json").read_text()))
    assert {1, 2} <= border
