"""The trilateration attack on published travel times, for the privacy tests.

An attacker holds a run's shared files and the public road network, and knows
where the destinations are (telecentres and the head office are public). For
every point along every road (every ``step_m`` metres) the attacker computes,
with the same router, the minutes and km to every destination and back; each
agent's published figures, less its access leg (``snap_m``, driven at 30 km/h),
are matched against them. With exact figures the best point is the agent's
access point on the road. With rounded figures every point within the
rounding is kept and the attacker guesses their centroid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from optimizer import settings
from optimizer.network import RoadNetwork
from optimizer.travel import snap_points, travel_table

MEASURES = ("minutes_to", "km_to", "minutes_back", "km_back")


def road_points(network: RoadNetwork, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` along every road: Lambert-93 ``x``, ``y``."""
    candidates, _ = network.routing.snap_index
    xs, ys = [], []
    for line in network.routing.geometry[candidates]:
        n = max(int(line.length // step_m), 1)
        points = shapely.line_interpolate_point(line, np.linspace(0, 1, n + 1), normalized=True)
        coords = shapely.get_coordinates(points)
        xs.append(coords[:, 0])
        ys.append(coords[:, 1])
    return np.concatenate(xs), np.concatenate(ys)


def access_points(network: RoadNetwork, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Where each home joins the road (Lambert-93 ``(n, 2)``): what the attack aims at."""
    snap = snap_points(network.routing, lon, lat)
    lines = network.routing.geometry[snap.edge]
    points = shapely.line_interpolate_point(lines, snap.fraction, normalized=True)
    return shapely.get_coordinates(points)


def attack(
    network: RoadNetwork,
    travel: pd.DataFrame,
    snap_m: pd.Series,
    destinations: pd.DataFrame,
    *,
    step_m: float = 50.0,
    steps: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Guess every agent's access point from published travel times.

    Parameters
    ----------
    network
        The public road network.
    travel
        Published ``travel_times.csv`` (``agent_id, destination_id`` and the measures).
    snap_m
        Published access leg per agent (index: agent id), metres.
    destinations
        ``id, lon, lat`` of the destinations.
    step_m
        Spacing of the candidate points along the roads.
    steps
        Rounding step of each measure as published (None: exact figures).

    Returns
    -------
    pandas.DataFrame
        ``agent_id, x, y`` (Lambert-93) of the guess.
    """
    xs, ys = road_points(network, step_m)
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
    lon, lat = to_wgs.transform(xs, ys)
    grid = travel_table(
        network,
        pd.DataFrame({"id": np.arange(xs.size).astype(str), "lon": lon, "lat": lat}),
        destinations,
    )
    dest_ids = list(destinations["id"])
    shape = (xs.size, len(dest_ids))
    snap_grid = grid.origins["snap_m"].to_numpy(float)  # the grid points lie on the roads
    model = {}
    for m in MEASURES:  # figures from the road itself: remove what is left of the grid's legs
        per_km = 1.0 if m.startswith("km") else 60.0 / settings.ACCESS_SPEED_KMH
        values = grid.table[m].to_numpy(float).reshape(shape)
        model[m] = values - (snap_grid / 1000.0 * per_km)[:, None]
    guesses = []
    for agent, rows in travel.groupby("agent_id", sort=False):
        rows = rows.set_index("destination_id").reindex(dest_ids)
        leg_km = float(snap_m[agent]) / 1000.0
        score = np.zeros(xs.size)
        for m in MEASURES:
            per_km = 1.0 if m.startswith("km") else 60.0 / settings.ACCESS_SPEED_KMH
            published = rows[m].to_numpy(float) - leg_km * per_km
            step = (steps or {}).get(m)
            scale = step if step else (0.001 if m.startswith("km") else 0.01)
            error = np.abs(model[m] - published[None, :]) / scale
            score = np.maximum(score, np.nanmax(error, axis=1))
        best = score <= max(0.5 + 1e-6, float(np.nanmin(score)) + 1e-6)
        if not steps:
            best = score == np.nanmin(score)
        guesses.append({"agent_id": agent, "x": xs[best].mean(), "y": ys[best].mean()})
    return pd.DataFrame(guesses)


def attack_error_m(
    network: RoadNetwork,
    guesses: pd.DataFrame,
    agents: pd.DataFrame,
    ids: pd.Series,
) -> np.ndarray:
    """Distance from each guess to the agent's true access point, metres.

    ``ids`` maps the roster's ``agent_id`` to the id the guesses use (a pseudonym).
    """
    truth = access_points(network, agents["lon"].to_numpy(float), agents["lat"].to_numpy(float))
    where = pd.DataFrame({"agent_id": ids.to_numpy(), "tx": truth[:, 0], "ty": truth[:, 1]})
    both = guesses.merge(where, on="agent_id")
    return np.hypot(both["x"] - both["tx"], both["y"] - both["ty"]).to_numpy()
