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
REALISTIC_LIMIT_FACTOR : float
    Under the ``realistic`` speed model, a car cruises at this fraction of the
    speed limit on a straight, open road: 0.8, the ``speed_reduction`` that
    OSRM's car profile (``profiles/car.lua``, Project-OSRM) applies to tagged
    limits. IGN's BD TOPO gives rural single-carriageway roads 58-67 km/h by
    importance class against their 80-90 km/h limits (0.7-0.8 of the limit,
    bends and junctions included). A calibrated profile replaces it per class.
MIN_SPEED_FACTOR, MAX_SPEED_FACTOR : float
    Range of a speed factor in a profile (``assign --speed-profile``, the
    ``factor`` column): 0.05 to 1.5 of the limit. Below, a 90 km/h road
    would be driven under 4.5 km/h, a walking pace: a typo, refused before
    any work (a factor of 1e-300 made the run exhaust memory); above, a car
    would drive half again as fast as the limit.
MAX_JUNCTION_DELAY_S : float
    Largest delay at a junction a profile may give: 600 s.
LATERAL_ACCEL_MS2 : float
    Lateral acceleration a driver accepts in a bend: 2.5 m/s² (about 0.25 g),
    so a bend of radius R is taken at ``sqrt(2.5 R)`` m/s (30 m: 31 km/h,
    100 m: 57 km/h, 250 m: 90 km/h). This is the order of superelevation plus
    side friction that road design guides allow at 40-80 km/h (AASHTO's
    "Green Book", SETRA's ARP for French rural roads).
ACCEL_MS2, DECEL_MS2 : float
    Comfortable acceleration out of a bend (1.0 m/s²) and braking into one
    (3.0 m/s², under the 3.4 m/s² that AASHTO's stopping-sight-distance rule
    takes as comfortable braking).
BEND_CHORD_M : float
    A bend's radius is read through the points 30 m before and after it
    along the road (or the nearest drawn points beyond): OpenStreetMap draws
    roads with a point every few metres, each a metre or so off, and three
    close points would show false sharp bends on a straight motorway.
MIN_BEND_SPEED_KMH : float
    No bend is taken slower than 15 km/h (a hairpin), whatever its radius
    computes to from noisy geometry.
SIGNAL_DELAY_S, STOP_DELAY_S, GIVE_WAY_DELAY_S : float
    Delay at a node tagged ``highway=traffic_signals`` (2 s, OSRM's
    ``traffic_signal_penalty``), ``highway=stop`` (6 s: braking to a halt and
    pulling away from 30 km/h at the rates above, plus a look) and
    ``highway=give_way`` (3 s).
JUNCTION_DELAY_S : float
    Delay for crossing a junction where three roads or more meet: 1 s. OSRM
    charges about 2 s for a right-angle turn and nothing for going straight;
    a route turns at about half of the junctions it crosses.
URBAN_RADIUS_M, URBAN_MIN_NODES : float, int
    Built-up rule of the ``realistic`` model: a road piece with at least 8
    junctions or road ends within 250 m of its middle is in a built-up area,
    where a road with no ``maxspeed`` tag is limited to ``FR:urban`` (50 km/h).
    Villages of Lozère pass it; open country does not.
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

REALISTIC_LIMIT_FACTOR: Final[float] = 0.8
MIN_SPEED_FACTOR: Final[float] = 0.05
MAX_SPEED_FACTOR: Final[float] = 1.5
MAX_JUNCTION_DELAY_S: Final[float] = 600.0
LATERAL_ACCEL_MS2: Final[float] = 2.5
ACCEL_MS2: Final[float] = 1.0
DECEL_MS2: Final[float] = 3.0
MIN_BEND_SPEED_KMH: Final[float] = 15.0
BEND_CHORD_M: Final[float] = 30.0
SIGNAL_DELAY_S: Final[float] = 2.0
STOP_DELAY_S: Final[float] = 6.0
GIVE_WAY_DELAY_S: Final[float] = 3.0
JUNCTION_DELAY_S: Final[float] = 1.0
URBAN_RADIUS_M: Final[float] = 250.0
URBAN_MIN_NODES: Final[int] = 8

SOLVER_TIME_LIMIT_S: Final[float] = 60.0

CACHE_DIR: Final[Path] = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lozere-optimizer"
)
