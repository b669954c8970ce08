"""Rebuild the generated files of data/.

- ``agents_demo.csv``: the synthetic demo roster;
- ``lozere_offline.osm``: the approximate offline road network;
- ``reference_trips.csv``: the public reference trips of ``reference_trips_sources.csv``
  that give a car time, placed at their communes' town halls (``assign calibrate`` format);
- ``lozere_offline_factors.csv``: the realistic speed model's factors for the offline
  network, fitted on those trips (``optimizer.calibration``).

Run from the repository root: ``python data/build.py``. The output is deterministic
(fixed seed, fixed rounding), so a rebuild changes no byte unless the code changed;
``tests/test_datasets.py`` checks that.
"""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from optimizer import datasets
from optimizer._offline import town_points, write_offline_network
from optimizer.calibration import calibrate
from optimizer.network import load_network
from optimizer.speed_model import speed_model

SOURCES = "reference_trips_sources.csv"


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


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
