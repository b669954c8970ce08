"""assignment.gpkg: its layers hold what the CSV files say, styled for QGIS, and shared runs hold
nothing finer than the shared files."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from pyproj import Geod

from optimizer import datasets
from optimizer.cli import main
from optimizer.gpkg import LAYERS, allocation_layer, gpkg_timestamp, layer_styles
from optimizer.maps import SHARE_CMAP
from optimizer.pipeline import run
from optimizer.report import GPKG_FILE, allocation_table
from optimizer.sharing import MIN_CELL, OTHER_COMMUNES

GEOD = Geod(ellps="WGS84")


def _run(out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(main, ["--out", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    return _run(tmp_path_factory.mktemp("gpkg") / "out")


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    return _run(tmp_path_factory.mktemp("gpkg") / "shared", "--pseudonymise", "s3cret-salt")


def _layer(folder: Path, name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(folder / GPKG_FILE, layer=name)


def test_every_run_writes_the_four_layers_beside_the_csv_files(plain) -> None:
    listed = {str(name): kind for name, kind in pyogrio.list_layers(plain / GPKG_FILE)}
    assert [n for n in listed if n != "layer_styles"] == list(LAYERS)
    assert listed["communes"] == "MultiPolygon"
    assert {listed[n] for n in ("telecentres", "head_office", "allocation")} == {"Point"}
    summary = json.loads((plain / "summary.json").read_text(encoding="utf-8"))
    assert GPKG_FILE in summary["files"]
    for name in LAYERS:
        assert _layer(plain, name).crs.to_epsg() == 4326


def test_telecentres_layer_is_telecentres_csv_at_the_telecentres(plain) -> None:
    centres = pd.read_csv(plain / "telecentres.csv")
    layer = _layer(plain, "telecentres")
    assert layer["telecentre_id"].tolist() == centres["telecentre_id"].tolist()
    for column in ("capacity", "assigned", "desk_days_offered", "desk_days_used"):
        assert layer[column].tolist() == centres[column].tolist(), column
    np.testing.assert_array_equal(layer["utilisation"], centres["utilisation"])
    given = datasets.telecentres()
    assert layer.geometry.x.tolist() == given["lon"].tolist()
    assert layer.geometry.y.tolist() == given["lat"].tolist()


def test_allocation_layer_is_allocation_csv_at_each_home_s_road_access(plain) -> None:
    allocation = pd.read_csv(plain / "allocation.csv", keep_default_na=False)
    layer = _layer(plain, "allocation")
    assert len(layer) == len(allocation)
    for column in ("agent_id", "status", "telecentre_id"):
        assert layer[column].fillna("").tolist() == allocation[column].tolist(), column
    assert (layer["status"] == "assigned").sum() == (allocation["status"] == "assigned").sum()
    assert set(layer["point"]) == {"road access"}
    # the road access lies on the road the home was snapped to: snap_m from the home
    roster = datasets.agents()
    _, _, metres = GEOD.inv(roster["lon"], roster["lat"], layer.geometry.x, layer.geometry.y)
    np.testing.assert_allclose(metres, allocation["snap_m"], atol=1.0)


def test_communes_layer_adds_up_to_the_roster_and_the_savings(plain) -> None:
    allocation = pd.read_csv(plain / "allocation.csv", keep_default_na=False)
    summary = json.loads((plain / "summary.json").read_text(encoding="utf-8"))
    communes = _layer(plain, "communes")
    assert communes["agents"].sum() == len(allocation)
    assert communes["placed"].sum() == (allocation["status"] == "assigned").sum()
    assert communes["minutes_saved_per_week"].sum() == pytest.approx(
        summary["totals"]["minutes_saved_per_week"], abs=0.1 * len(communes)
    )
    np.testing.assert_allclose(
        communes["share_placed"], communes["placed"] / communes["agents"], atol=5e-4
    )
    known = datasets.communes().set_index("code")
    for row in communes.head(5).itertuples():
        assert known.loc[row.insee, "nom"] == row.commune
        assert row.geometry.area == pytest.approx(known.loc[row.insee, "geometry"].area)


def test_head_office_layer(plain) -> None:
    office = _layer(plain, "head_office")
    ho = datasets.head_office()
    assert len(office) == 1
    assert (office.geometry.x[0], office.geometry.y[0]) == (ho.lon, ho.lat)


def test_each_layer_opens_styled_in_the_colours_of_the_html_map(plain) -> None:
    with sqlite3.connect(plain / GPKG_FILE) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, styleSLD, useAsDefault "
            "FROM layer_styles"
        ).fetchall()
        registered = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchall()
        columns = {
            name: db.execute(
                f"SELECT column_name FROM gpkg_geometry_columns WHERE table_name = '{name}'"
            ).fetchone()[0]
            for name in LAYERS
        }
    assert registered == [("attributes",)]
    assert sorted(r[0] for r in rows) == sorted(LAYERS)  # one style per layer
    styles = {r[0]: r for r in rows}
    for name, (_, geometry, qml, sld, default) in styles.items():
        assert default == 1 and geometry == columns[name]
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis" and root.find("renderer-v2") is not None
        assert ET.fromstring(sld.encode()).tag.endswith("StyledLayerDescriptor")
    telecentres = ET.fromstring(styles["telecentres"][2].split("\n", 1)[1])
    colours = {o.get("value") for o in telecentres.iter("Option") if o.get("name") == "color"}
    assert colours == {"31,95,168,255"}  # #1f5fa8, the telecentres of map.html
    communes = ET.fromstring(styles["communes"][2].split("\n", 1)[1])
    renderer = communes.find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == "share_placed"
    import matplotlib as mpl

    fills = [o.get("value") for o in communes.iter("Option") if o.get("name") == "color"]
    top = [round(255 * c) for c in mpl.colormaps[SHARE_CMAP](0.9)[:3]]
    assert fills[-1] == ",".join(map(str, top)) + ",255"  # the YlGn ramp of map.html
    assert "#c0392b" in styles["head_office"][3]


def test_no_maps_no_geopackage(tmp_path) -> None:
    out = _run(tmp_path / "out", "--no-maps")
    assert not (out / GPKG_FILE).exists()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert GPKG_FILE not in summary["files"]


def test_shared_geopackage_holds_nothing_finer_than_the_shared_files(shared) -> None:
    allocation = pd.read_csv(shared / "allocation.csv", keep_default_na=False)
    centres = pd.read_csv(shared / "telecentres.csv", keep_default_na=False)
    layer = _layer(shared, "allocation")
    # no agent: counts per telecentre and commune, exactly the cells of telecentres.csv
    assert list(layer.columns) == ["telecentre_id", "commune", "agents", "point", "geometry"]
    assert layer["agents"].sum() == (allocation["status"] == "assigned").sum()
    for site, group in layer.groupby("telecentre_id", sort=False):
        cells = "; ".join(
            f"{c} ({n})" for c, n in zip(group["commune"], group["agents"], strict=True)
        )
        assert centres.set_index("telecentre_id").loc[site, "communes"] == cells
    pointed = layer.geometry.notna()
    assert (layer.loc[pointed, "agents"] >= MIN_CELL).all()
    assert (layer.loc[~pointed, "commune"] == OTHER_COMMUNES).all()
    assert set(layer.loc[pointed, "point"]) == {"town hall"}
    halls = datasets.communes().set_index("nom")
    for row in layer[pointed].itertuples():
        assert (row.geometry.x, row.geometry.y) == (
            halls.loc[row.commune, "mairie_lon"],
            halls.loc[row.commune, "mairie_lat"],
        )
    communes = _layer(shared, "communes")
    assert (communes.loc[communes.geometry.notna(), "agents"] >= MIN_CELL).all()
    assert communes["agents"].sum() == len(allocation)
    assert communes["minutes_saved_per_week"].isna().all()  # no drive time per commune
    data = (shared / GPKG_FILE).read_bytes()
    for pseudonym in allocation["agent_id"].head(20):
        assert pseudonym.encode() not in data
    summary = json.loads((shared / "summary.json").read_text(encoding="utf-8"))
    assert "per telecentre and commune" in summary["privacy"]["gpkg_allocation_points"]


def test_homes_given_by_commune_stand_at_the_town_hall(lozere_network) -> None:
    roster = pd.DataFrame(
        {
            "agent_id": ["a", "b", "c"],
            "commune": ["Langogne", "Marvejols", ""],
            "lon": [np.nan, np.nan, 3.496439],
            "lat": [np.nan, np.nan, 44.514948],
            "telework_days": [1, 2, 1],
        }
    )
    from optimizer.inputs import read_agents

    agents = read_agents(roster, area_departements={"48"})
    result = run(agents, datasets.telecentres(), datasets.head_office(), lozere_network)
    layer = allocation_layer(result, allocation_table(result))
    assert layer["point"].tolist() == ["town hall", "town hall", "road access"]
    assert layer.geometry.x.tolist()[:2] == agents["lon"].tolist()[:2]
    assert layer.geometry.x[2] != agents["lon"][2]


def test_styles_cover_every_layer_both_ways() -> None:
    for shared_run in (False, True):
        assert set(layer_styles(shared=shared_run)) == set(LAYERS)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")
def test_ogrinfo_reads_every_layer(plain) -> None:
    done = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(plain / GPKG_FILE)],
        capture_output=True,
        text=True,
        check=True,
    )
    for name in LAYERS:
        assert f"Layer name: {name}" in done.stdout
    assert "ERROR" not in done.stderr


def test_two_runs_of_one_plan_write_the_same_geopackage(plain, tmp_path) -> None:
    """GDAL stamps each layer with the time it was written; the stamps are fixed (the
    epoch, or SOURCE_DATE_EPOCH), so the file depends on the plan alone."""
    again = _run(tmp_path / "again")
    assert (again / GPKG_FILE).read_bytes() == (plain / GPKG_FILE).read_bytes()
    with sqlite3.connect(plain / GPKG_FILE) as db:
        stamps = {row[0] for row in db.execute("SELECT last_change FROM gpkg_contents")}
    db.close()
    assert stamps == {gpkg_timestamp()}


def test_a_french_run_writes_a_french_geopackage_its_styles_naming_its_fields(tmp_path) -> None:
    """--lang fr: the layers' fields and values are the French files' (allocation.csv's
    headers and statuses), and every field a style reads is a field of its layer."""
    out = _run(tmp_path / "fr", "--lang", "fr")
    allocation = _layer(out, "allocation")
    written = pd.read_csv(out / "allocation.csv", keep_default_na=False)
    assert [c for c in written.columns if c in allocation.columns] == written.columns.tolist()
    assert set(allocation["statut"]) == set(written["statut"]) == {"affecté", "non affecté"}
    assert "part_placée" in _layer(out, "communes").columns
    assert "identifiant_télécentre" in _layer(out, "telecentres").columns
    with sqlite3.connect(out / GPKG_FILE) as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall())
    db.close()
    for name in LAYERS:
        fields = set(_layer(out, name).columns)
        root = ET.fromstring(styles[name])
        read = {e.get("attr") for e in root.iter() if e.get("attr")}
        read |= {e.get("fieldName") for e in root.iter("settings") if e.get("fieldName")}
        assert read <= fields, (name, read - fields)
    labels = {
        name: {e.get("label") for e in ET.fromstring(styles[name]).iter() if e.get("label")}
        for name in LAYERS
    }
    assert {"affecté", "non affecté"} <= labels["allocation"]
    assert any(label.endswith("placés") for label in labels["communes"])
