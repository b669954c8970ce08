"""Reports and maps: benefits by hand, map files, and the HTML map in headless Chromium offline."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets, settings
from optimizer.cli import main
from optimizer.report import mileage_eur, weekly_benefits

from .conftest import chromium, render_offline


def test_co2_and_euros_by_hand() -> None:
    # 2 agents: 40 km saved a day over 3 days, 10 km over 1 day; 45 weeks a year
    got = weekly_benefits(np.array([60.0, 20.0]), np.array([40.0, 10.0]), np.array([3, 1]))
    assert got["km_saved_per_week"].tolist() == [120.0, 10.0]
    assert got["hours_saved_per_week"].tolist() == [3.0, pytest.approx(1 / 3)]
    assert got["kg_co2_saved_per_week"].tolist() == pytest.approx([120 * 0.193, 10 * 0.193])
    assert got["km_saved_per_year"].tolist() == [5400.0, 450.0]
    # 5,400 km a year: 2,000 at 0.32 + 3,400 at 0.40 = 640 + 1,360 = 2,000 EUR
    assert got["eur_saved_per_year"].tolist() == pytest.approx([2000.0, 450 * 0.32])
    assert got["eur_saved_per_week"][0] == pytest.approx(2000.0 / 45)
    assert got["kg_co2_saved_per_year"][0] == pytest.approx(5400 * 0.193)


def test_mileage_bands() -> None:
    assert mileage_eur(np.array([0.0, 2000.0, 10000.0, 12000.0])).tolist() == pytest.approx(
        [0.0, 640.0, 640.0 + 3200.0, 640.0 + 3200.0 + 2000 * 0.23]
    )
    assert settings.MILEAGE_TIERS[0] == (2000.0, 0.32)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("maps") / "out"
    result = CliRunner().invoke(main, ["--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_allocation_carries_benefits_and_explanations(run_dir) -> None:
    allocation = pd.read_csv(run_dir / "allocation.csv")
    assigned = allocation[allocation["status"] == "assigned"]
    row = assigned.iloc[0]
    km_week = row.km_saved_per_day * row.telework_days
    assert row.km_saved_per_week == pytest.approx(km_week, abs=0.02)
    assert row.kg_co2_saved_per_week == pytest.approx(km_week * 0.193, abs=0.02)
    assert row.explanation.startswith(f"{row.telecentre_id} saves")
    assert "next best" in " ".join(assigned["explanation"])
    centres = pd.read_csv(run_dir / "telecentres.csv", keep_default_na=False)
    langogne = centres.set_index("telecentre_id").loc["langogne", "communes"]
    assert re.fullmatch(r"([^;()]+ \(\d+\)(; )?)+", langogne)


def test_map_files_hold_no_home_coordinates(run_dir) -> None:
    assert (run_dir / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (run_dir / "map.html").read_text(encoding="utf-8")
    roster = datasets.agents()
    for lon, lat in zip(roster["lon"].head(30), roster["lat"].head(30), strict=True):
        assert f"{lat:.6f}" not in page and f"{lon:.6f}" not in page
    # nothing fetched from the internet but the background tiles
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=\"http", page)


def test_html_map_renders_offline_in_headless_chromium(run_dir) -> None:
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it")
        pytest.skip("no chromium on this machine (bash .ci/run installs it)")
    done = render_offline(browser, run_dir / "map.html")
    dom = done.stdout
    errors = [line for line in done.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert not errors, errors
    assert "leaflet-container" in dom
    n_sites = len(datasets.telecentres())
    # communes (polygons and circles), telecentres and the head office are SVG paths
    assert dom.count("leaflet-interactive") >= n_sites + 1 + 50
    assert "APPROXIMATE road network" in dom


def test_html_map_fits_the_departement_with_outline_legend_and_told_apart_sites(run_dir) -> None:
    page = (run_dir / "map.html").read_text(encoding="utf-8")
    fit = re.search(r"\.fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page)
    assert fit is not None
    south, west, north, east = (float(v) for v in fit.groups())
    cw, cs, ce, cn = datasets.communes().total_bounds
    assert west <= cw < ce <= east and south <= cs < cn <= north
    assert east - west < 1.5 and north - south < 1.5  # the département, not the world
    assert "partement outline" in page and "Legend" in page  # the name may be \u-escaped
    assert "share of the commune" in page
    # two telecentres share the name "Télécentre (commune), created 2013": ids tell them apart
    for site in ("saint-chely", "marvejols"):
        assert f"<b>{site}</b>: Télécentre (commune)" in page
    assert "desk-days used a week" in page
    # communes coloured like map.png (YlGn by share assigned), not one flat colour
    fills = set(re.findall(r'"fillColor": "(#[0-9a-f]{6})"', page))
    assert len(fills) >= 3


def _grid_network_outside_lozere():
    import networkx as nx

    from optimizer.network import prepare_network

    g = nx.MultiDiGraph(crs="epsg:4326")
    for a in range(8):
        for b in range(8):
            g.add_node(a * 8 + b, x=24.90 + a * 0.01, y=60.16 + b * 0.005)  # Helsinki
    for a in range(8):
        for b in range(8):
            u = a * 8 + b
            for v in ([u + 8] if a < 7 else []) + ([u + 1] if b < 7 else []):
                g.add_edge(u, v, length=600.0, highway="secondary")
                g.add_edge(v, u, length=600.0, highway="secondary")
    return prepare_network(g, source="grid near Helsinki")


def test_maps_of_a_network_outside_lozere_show_its_area() -> None:
    from optimizer import HeadOffice, read_agents, read_telecentres, run
    from optimizer.map_data import map_extent
    from optimizer.maps import agents_by_commune, render_html, render_png

    net = _grid_network_outside_lozere()
    rng = np.random.default_rng(1)
    agents = read_agents(
        pd.DataFrame(
            {
                "agent_id": [f"A{i}" for i in range(12)],
                "lon": rng.uniform(24.90, 24.97, 12),
                "lat": rng.uniform(60.16, 60.195, 12),
                "telework_days": 1,
            }
        )
    )
    # one telecentre at the head office's latitude: a single row of points
    sites = read_telecentres(
        pd.DataFrame({"telecentre_id": ["t1"], "lon": [24.91], "lat": [60.175], "capacity": [2]})
    )
    result = run(agents, sites, HeadOffice(24.96, 60.175), net, min_saving=0.0)
    west, south, east, north = map_extent(result, agents_by_commune(result))
    assert north - south >= 0.02 and east - west >= 0.02  # never a zero-width axis
    assert west <= 24.90 and east >= 24.97 and south <= 60.16 and north >= 60.195
    assert render_png(result)[:8] == b"\x89PNG\r\n\x1a\n"
    page = render_html(result)
    assert "60.1" in re.search(r"\.fitBounds\(\s*(\[\[[^\]]+\], \[[^\]]+\]\])", page).group(1)
