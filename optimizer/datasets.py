"""The embedded Lozère default, ready to use: telecentres, demo roster, head office, communes.

Read through :mod:`optimizer.inputs` (the same readers and checks as a user's
files); the files' names and folder are :mod:`optimizer.datafiles`' (and stay
importable from here). See ``data/README.md`` for their sources and licences.
"""

from __future__ import annotations

import functools
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

import optimizer.settings as settings
from optimizer._offline import town_points
from optimizer.datafiles import (  # the files are named there; importable from here too
    AGENTS_FILE,
    COMMUNES_FILE,
    FRANCE_COMMUNES_FILE,
    HEAD_OFFICE_FILE,
    NETWORK_FACTORS_FILE,
    NETWORK_FILE,
    REFERENCE_TRIPS_FILE,
    TELECENTRES_FILE,
    data_dir,
    path,
)
from optimizer.inputs import HeadOffice, read_agents, read_telecentres

logger = logging.getLogger(__name__)

#: Seed of the demo roster: the year the scheme opened.
DEMO_SEED = 2015
#: Size of the demo roster.
DEMO_AGENTS = 150
#: Spread of homes around their commune's town hall (standard deviation, metres).
DEMO_SPREAD_M = 1500.0


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


__all__ = [
    "AGENTS_FILE",
    "COMMUNES_FILE",
    "DEMO_AGENTS",
    "DEMO_SEED",
    "DEMO_SPREAD_M",
    "FRANCE_COMMUNES_FILE",
    "HEAD_OFFICE_FILE",
    "NETWORK_FACTORS_FILE",
    "NETWORK_FILE",
    "REFERENCE_TRIPS_FILE",
    "TELECENTRES_FILE",
    "agents",
    "communes",
    "data_dir",
    "head_office",
    "make_demo_roster",
    "path",
    "telecentres",
]
