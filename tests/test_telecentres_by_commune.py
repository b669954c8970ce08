"""Telecentres and workplaces given by commune, INSEE code or postcode: placed at the town hall."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer import datasets
from optimizer.cli import main
from optimizer.errors import InputError
from optimizer.inputs import read_telecentres, read_workplaces
from optimizer.places import locate_communes
from optimizer.report import ALLOCATION_FILE, TELECENTRES_FILE


def _embedded() -> pd.DataFrame:
    return pd.read_csv(datasets.path(datasets.TELECENTRES_FILE), dtype=str)


def _town_halls(communes: list[str]) -> pd.DataFrame:
    return locate_communes(communes, area_departements={"48"})


def _assign(tmp_path: Path, sites: pd.DataFrame, tag: str) -> Path:
    source = tmp_path / f"{tag}.csv"
    sites.to_csv(source, index=False)
    out = tmp_path / tag
    result = CliRunner().invoke(
        main, ["--telecentres", str(source), "--out", str(out), "--no-maps", "-q"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_telecentres_by_commune_name_give_the_plan_of_their_town_halls(tmp_path) -> None:
    embedded = _embedded()
    # by name only, as a planner knows them: Villefort is also a commune of the Aude
    by_name = embedded[["telecentre_id", "name", "commune", "capacity"]]
    halls = _town_halls(embedded["commune"].tolist())
    by_point = embedded[["telecentre_id", "name", "capacity"]].assign(
        lon=halls["lon"].to_numpy(), lat=halls["lat"].to_numpy()
    )
    named = _assign(tmp_path, by_name, "named")
    placed = _assign(tmp_path, by_point, "placed")
    assert (named / ALLOCATION_FILE).read_bytes() == (placed / ALLOCATION_FILE).read_bytes()
    centres_named = pd.read_csv(named / TELECENTRES_FILE, keep_default_na=False)
    centres_placed = pd.read_csv(placed / TELECENTRES_FILE, keep_default_na=False)
    assert centres_named["location"].tolist() == ["commune"] * len(embedded)
    assert centres_placed["location"].tolist() == ["coordinates"] * len(embedded)
    assert centres_named["location_precision_m"].tolist() == halls["extent_m"].tolist()
    assert (centres_placed["location_precision_m"] == "").all()
    same = [c for c in centres_named if not c.startswith("location")]
    pd.testing.assert_frame_equal(centres_named[same], centres_placed[same])
    assert (centres_named["assigned"] > 0).any()


def test_insee_codes_and_names_with_postcodes_place_telecentres_too() -> None:
    table = pd.DataFrame(
        {
            "Identifiant": ["langogne", "marvejols", "mende"],
            "Nom": ["Langogne", "Marvejols", "POLeN"],
            "Code INSEE": ["48080", "", ""],
            "Commune": ["", "MARVEJOLS", ""],
            "Code postal": ["", "48100", ""],
            "Longitude": ["", "", "3.501172"],
            "Latitude": ["", "", "44.517817"],
            "Places": ["4", "5", "6"],
        }
    )
    sites = read_telecentres(table)
    halls = locate_communes(insee=["48080", "48092"])
    assert sites["location"].tolist() == ["commune", "commune", "coordinates"]
    assert sites["insee"].tolist() == ["48080", "48092", ""]
    assert sites["commune"].tolist()[:2] == ["Langogne", "Marvejols"]
    assert sites["lon"].tolist()[:2] == halls["lon"].tolist()
    assert sites["lat"].tolist()[:2] == halls["lat"].tolist()
    assert sites["location_precision_m"].tolist()[:2] == halls["extent_m"].tolist()
    assert np.isnan(sites["location_precision_m"].iloc[2])
    assert sites["capacity"].tolist() == [4, 5, 6]


def test_a_homonym_is_the_area_s_with_a_warning(caplog) -> None:
    table = pd.DataFrame({"id": ["v"], "commune": ["Villefort"], "capacity": [3]})
    with pytest.raises(InputError, match=r"row 2, column 'commune': 'Villefort' names 2 communes"):
        read_telecentres(table)
    with caplog.at_level(logging.WARNING, logger="optimizer.inputs"):
        sites = read_telecentres(table, area_departements={"48"})
    assert sites["insee"].tolist() == ["48198"]
    assert "Villefort (Villefort, 48198)" in sites.attrs["warnings"][0]
    assert "a telecentre stands in another" in caplog.text


def test_a_telecentre_without_point_or_commune_is_an_error_naming_row_and_value() -> None:
    with pytest.raises(InputError, match=r"missing column 'lon'.*or its commune as commune"):
        read_telecentres(pd.DataFrame({"id": ["a"], "capacity": [3]}))
    table = pd.DataFrame({"id": ["a", "b"], "commune": ["Mende", ""], "capacity": [3, 2]})
    with pytest.raises(InputError, match=r"the DataFrame: row 3: no coordinates and no commune"):
        read_telecentres(table)
    table = pd.DataFrame({"id": ["a"], "commune": ["Mendee"], "capacity": [3]})
    with pytest.raises(
        InputError, match=r"the DataFrame: row 2, column 'commune': .*'Mendee'.*did you mean Mende"
    ):
        read_telecentres(table)


def test_a_geocoded_telecentres_file_keeps_its_address_precision() -> None:
    table = pd.DataFrame(
        {
            "telecentre_id": ["polen"],
            "lon": [3.4956],
            "lat": [44.5204],
            "capacity": [6],
            "location": ["address"],
            "location_precision_m": ["30"],
        }
    )
    sites = read_telecentres(table)
    assert sites["location"].tolist() == ["address"]
    assert sites["location_precision_m"].tolist() == [30.0]


def test_workplaces_by_commune_through_the_command(tmp_path) -> None:
    roster = datasets.agents().head(40)[["agent_id", "lon", "lat", "telework_days"]]
    roster = roster.assign(workplace_id=["marvejols-site"] * 20 + [""] * 20)
    roster.to_csv(tmp_path / "agents.csv", index=False)
    work = pd.DataFrame({"workplace_id": ["marvejols-site"], "name": ["Site"], "insee": ["48092"]})
    work.to_csv(tmp_path / "work.csv", index=False)
    read = read_workplaces(tmp_path / "work.csv")
    hall = locate_communes(insee=["48092"])
    assert read[["lon", "lat"]].to_numpy().tolist() == hall[["lon", "lat"]].to_numpy().tolist()
    assert read["location"].tolist() == ["commune"]
    out = tmp_path / "out"
    args = ["--agents", str(tmp_path / "agents.csv"), "--workplaces", str(tmp_path / "work.csv")]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--no-maps", "-q"])
    assert result.exit_code == 0, result.output
    allocation = pd.read_csv(out / ALLOCATION_FILE, keep_default_na=False)
    assert allocation["workplace_id"].tolist() == ["marvejols-site"] * 20 + ["head_office"] * 20
