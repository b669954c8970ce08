"""The embedded Lozère default: where its files are, and how the demo roster is made.

The files live in the repository's ``data/`` folder; a wheel carries them as
``optimizer/_embedded``. See ``data/README.md`` for their sources and licences.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from optimizer import settings
from optimizer._offline import town_points
from optimizer.errors import InputError
from optimizer.inputs import HeadOffice, read_agents, read_telecentres

logger = logging.getLogger(__name__)

COMMUNES_FILE = "lozere_communes_2026.gpkg"
#: Every commune of France (INSEE code, name, postcodes, town-hall point, extent), gzip CSV.
FRANCE_COMMUNES_FILE = "communes_france.csv.gz"
TELECENTRES_FILE = "telecentres_solozere.csv"
HEAD_OFFICE_FILE = "head_office.csv"
AGENTS_FILE = "agents_demo.csv"
NETWORK_FILE = "lozere_offline.osm"
#: Cruising factors of the realistic speed model for the offline network, calibrated on
#: the public reference trips of ``REFERENCE_TRIPS_FILE`` (``data/build.py`` writes it).
NETWORK_FACTORS_FILE = "lozere_offline_factors.csv"
#: Public reference trips between Lozère towns, with their sources.
REFERENCE_TRIPS_FILE = "reference_trips.csv"

#: Seed of the demo roster: the year the scheme opened.
DEMO_SEED = 2015
#: Size of the demo roster.
DEMO_AGENTS = 150
#: Spread of homes around their commune's town hall (standard deviation, metres).
DEMO_SPREAD_M = 1500.0


def data_dir() -> Path:
    """Return the folder of the embedded data (installed copy first, then the repository's)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_embedded", here.parent / "data"):
        if (candidate / TELECENTRES_FILE).exists():
            return candidate
    msg = (
        "the embedded Lozère data is missing (no optimizer/_embedded nor data/ folder). "
        "Reinstall the package with 'pip install .' from the repository."
    )
    raise InputError(msg)


def path(name: str) -> Path:
    """Return the path of one embedded file, e.g. ``path(NETWORK_FILE)``."""
    return data_dir() / name


def communes() -> gpd.GeoDataFrame:
    """Return the 152 communes of Lozère with boundaries (EPSG:4326), a fresh copy each call."""
    return _communes().copy()


@functools.cache
def _communes() -> gpd.GeoDataFrame:
    # read once per process: maps and reports ask for it several times a run
    return gpd.read_file(path(COMMUNES_FILE))


def telecentres() -> pd.DataFrame:
    """Return the seven SoLozère telecentres, with illustrative capacities."""
    table = read_telecentres(path(TELECENTRES_FILE))
    table.attrs["embedded"] = "illustrative capacities"
    return table


def agents() -> pd.DataFrame:
    """Return the synthetic demo roster (no real person)."""
    table = read_agents(path(AGENTS_FILE))
    table.attrs["embedded"] = "synthetic roster"
    return table


def head_office() -> HeadOffice:
    """Return the head office (Hôtel du Département, Mende)."""
    row = pd.read_csv(path(HEAD_OFFICE_FILE)).iloc[0]
    return HeadOffice(lon=float(row["lon"]), lat=float(row["lat"]), name=str(row["name"]))


def make_demo_roster(
    communes: gpd.GeoDataFrame,
    *,
    n_agents: int = DEMO_AGENTS,
    seed: int = DEMO_SEED,
    spread_m: float = DEMO_SPREAD_M,
) -> pd.DataFrame:
    """Draw a synthetic roster of volunteers living across the communes.

    Each agent's commune is drawn with probability proportional to its
    population; the home is the town hall (see
    :func:`optimizer._offline.town_points`) moved by a Gaussian offset of
    ``spread_m`` metres, redrawn until it falls inside the commune. Telework
    days are 1 (60 %), 2 (30 %) or 3 (10 %).

    Parameters
    ----------
    communes
        Communes with ``nom``, ``population_cog2026``, ``mairie_lon``,
        ``mairie_lat`` and boundaries.
    n_agents
        Number of agents.
    seed
        Seed of the random generator: the same seed gives the same roster.
    spread_m
        Standard deviation of the home around the town hall.

    Returns
    -------
    pandas.DataFrame
        ``agent_id, lon, lat, commune, telework_days``.
    """
    rng = np.random.default_rng(seed)
    metric = communes.to_crs(settings.WORKING_CRS).reset_index(drop=True)
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
    halls = town_points(communes.reset_index(drop=True))
    weights = metric["population_cog2026"].to_numpy(dtype=float)
    chosen = rng.choice(len(metric), size=n_agents, p=weights / weights.sum())
    rows = []
    for k, i in enumerate(chosen, start=1):
        hx, hy = to_metric.transform(halls[i, 0], halls[i, 1])
        polygon = metric.geometry.iloc[i]
        x, y = hx, hy
        for _ in range(50):
            dx, dy = rng.normal(0.0, spread_m, size=2)
            if polygon.contains(shapely.Point(hx + dx, hy + dy)):
                x, y = hx + dx, hy + dy
                break
        lon, lat = to_wgs.transform(x, y)
        days = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        rows.append(
            {
                "agent_id": f"A{k:03d}",
                "lon": round(float(lon), 6),
                "lat": round(float(lat), 6),
                "commune": str(metric["nom"].iloc[i]),
                "telework_days": days,
            }
        )
    return pd.DataFrame(rows)
