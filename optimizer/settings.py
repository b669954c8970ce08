"""Typed, documented defaults for the whole package.

Every value here is a plain module attribute that a user may read, and that a
caller overrides by passing an argument to the function that uses it (the
library never reads these at import time of another module, so changing one
here at run time takes effect on the next call).

Attributes
----------
WORKING_CRS : str
    Metric CRS used for snapping and straight-line distances: Lambert-93,
    ``"EPSG:2154"``, the official projection of metropolitan France.
INPUT_CRS : str
    CRS of coordinates in input files unless told otherwise: WGS84 lon/lat,
    ``"EPSG:4326"``.
SPEED_PROFILES : dict[str, dict[str, float]]
    Speeds in km/h per OSM ``highway`` class, used where an edge has no usable
    ``maxspeed`` tag. ``"france"`` holds the French legal defaults since
    1 July 2018 (80 km/h on two-way roads outside built-up areas, 110 on
    roads with a central reservation, 130 on motorways, 50 in built-up areas);
    ``"lozere"`` (the default) raises primary, secondary and tertiary roads to
    90 km/h, as the Conseil départemental did on about 87 % of its road network
    from 1 October 2020; ``"lozere80"`` is the same network at 80 km/h, for
    comparing the two regimes.
DEFAULT_SPEED_PROFILE : str
    Name of the profile used when the caller gives none: ``"lozere"``.
FALLBACK_SPEED_KMH : float
    Speed for an edge whose class is in no profile: 50 km/h.
IMPLICIT_MAXSPEEDS : dict[str, float]
    Meaning of the French implicit ``maxspeed`` values. ``FR:motorway`` is the
    legal 130 km/h (osmnx's own table says 120).
ACCESS_SPEED_KMH : float
    Speed on the straight access leg between a point (home, telecentre) and
    the point where it joins the road network: 30 km/h, a slow drive on an
    unmapped lane.
MAX_SNAP_M : float
    A point further than this from any road of the network is not routed
    (its agent is reported as unreachable): 10,000 m.
OFFLINE_DETOUR_FACTOR : float
    Ratio of road length to straight-line length on the offline approximate
    network: 1.4, a mountain-road circuity (French rural circuity factors are
    usually quoted between 1.2 and 1.4; Lozère's relief puts it at the top).
CO2_KG_PER_KM : float
    0.193 kgCO2e per vehicle-km for an average car (ADEME Base Carbone, fuel
    production and combustion).
MILEAGE_EUR_PER_KM : float
    0.32 EUR/km: civil-service mileage allowance, car of 5 CV or less, first
    2,000 km a year (arrêté of 3 July 2006 as amended 14 March 2022).
MILEAGE_TIERS : tuple of (float, float)
    The same allowance by band of km a year: up to 2,000 km 0.32 EUR/km,
    2,001 to 10,000 km 0.40, beyond 10,000 km 0.23. Savings are valued at
    these rates, each km at the rate of its band.
WORKING_WEEKS_PER_YEAR : int
    Weeks a year over which weekly savings are counted: 45.
SOLVER_TIME_LIMIT_S : float
    Time limit for CP-SAT solves: 60 s.
CACHE_DIR : pathlib.Path
    Where downloaded networks are cached: ``~/.cache/lozere-optimizer``
    (``$XDG_CACHE_HOME`` is honoured).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType
from typing import Final

WORKING_CRS: Final[str] = "EPSG:2154"
INPUT_CRS: Final[str] = "EPSG:4326"

_FRANCE: Final[dict[str, float]] = {
    "motorway": 130.0,
    "motorway_link": 90.0,
    "trunk": 110.0,
    "trunk_link": 70.0,
    "primary": 80.0,
    "primary_link": 50.0,
    "secondary": 80.0,
    "secondary_link": 50.0,
    "tertiary": 80.0,
    "tertiary_link": 50.0,
    "unclassified": 80.0,
    "residential": 50.0,
    "living_street": 20.0,
    "service": 30.0,
    "road": 50.0,
}
_LOZERE: Final[dict[str, float]] = {**_FRANCE, "primary": 90.0, "secondary": 90.0, "tertiary": 90.0}

SPEED_PROFILES: Final[MappingProxyType[str, MappingProxyType[str, float]]] = MappingProxyType(
    {
        "france": MappingProxyType(dict(_FRANCE)),
        "lozere": MappingProxyType(dict(_LOZERE)),
        "lozere80": MappingProxyType(dict(_FRANCE)),
    }
)
DEFAULT_SPEED_PROFILE: Final[str] = "lozere"
FALLBACK_SPEED_KMH: Final[float] = 50.0

IMPLICIT_MAXSPEEDS: Final[MappingProxyType[str, float]] = MappingProxyType(
    {
        "fr:urban": 50.0,
        "fr:rural": 80.0,
        "fr:zone30": 30.0,
        "fr:zone20": 20.0,
        "fr:walk": 6.0,
        "fr:motorway": 130.0,
        "fr:trunk": 110.0,
        "fr:living_street": 20.0,
        "walk": 6.0,
        "none": 130.0,
    }
)

ACCESS_SPEED_KMH: Final[float] = 30.0
MAX_SNAP_M: Final[float] = 10_000.0
OFFLINE_DETOUR_FACTOR: Final[float] = 1.4

CO2_KG_PER_KM: Final[float] = 0.193
MILEAGE_EUR_PER_KM: Final[float] = 0.32
MILEAGE_TIERS: Final[tuple[tuple[float, float], ...]] = (
    (2_000.0, 0.32),
    (10_000.0, 0.40),
    (float("inf"), 0.23),
)
WORKING_WEEKS_PER_YEAR: Final[int] = 45

SOLVER_TIME_LIMIT_S: Final[float] = 60.0

CACHE_DIR: Final[Path] = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lozere-optimizer"
)
