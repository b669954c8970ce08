"""What a plan's saving is worth: hours, km, CO2 and the mileage allowance, per agent and in all.

:func:`weekly_benefits` turns each agent's round-trip saving per telework
day into the benefit columns of ``allocation.csv`` (:data:`BENEFIT_COLUMNS`),
:func:`benefit_totals` sums them for ``summary.json``'s ``totals``, and
:func:`factors` states the factors used, with their sources. One place for a
plain run's report and the grouped national plan's files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import optimizer.settings as settings

BENEFIT_COLUMNS = (
    "hours_saved_per_week",
    "km_saved_per_week",
    "kg_co2_saved_per_week",
    "eur_saved_per_week",
    "hours_saved_per_year",
    "km_saved_per_year",
    "kg_co2_saved_per_year",
    "eur_saved_per_year",
)


def mileage_eur(km_per_year: np.ndarray) -> np.ndarray:
    """Value of kilometres a year at the civil-service mileage rates, band by band.

    Parameters
    ----------
    km_per_year
        Kilometres a year (NaN stays NaN).

    Returns
    -------
    numpy.ndarray
        Euros a year (:data:`optimizer.settings.MILEAGE_TIERS`).
    """
    km = np.asarray(km_per_year, dtype=float)
    out = np.zeros_like(km)
    lower = 0.0
    for upper, rate in settings.MILEAGE_TIERS:
        out += np.clip(km - lower, 0.0, upper - lower) * rate
        lower = upper
    return np.where(np.isnan(km), np.nan, out)


def weekly_benefits(
    minutes_per_day: np.ndarray, km_per_day: np.ndarray, days: np.ndarray
) -> dict[str, np.ndarray]:
    """Hours, km, kgCO2e and euros saved per week and per year, per agent.

    Per week: the round-trip saving per telework day times the telework days.
    Per year: times :data:`optimizer.settings.WORKING_WEEKS_PER_YEAR`. CO2 at
    :data:`optimizer.settings.CO2_KG_PER_KM` (ADEME); euros at the
    civil-service mileage rates (:func:`mileage_eur`, on the yearly km).

    Parameters
    ----------
    minutes_per_day, km_per_day
        Round-trip saving per telework day (NaN when not assigned).
    days
        Telework days a week.

    Returns
    -------
    dict
        Column name to values (:data:`BENEFIT_COLUMNS`).
    """
    weeks = settings.WORKING_WEEKS_PER_YEAR
    km_week = km_per_day * days
    km_year = km_week * weeks
    eur_year = mileage_eur(km_year)
    return {
        "hours_saved_per_week": minutes_per_day * days / 60.0,
        "km_saved_per_week": km_week,
        "kg_co2_saved_per_week": km_week * settings.CO2_KG_PER_KM,
        "eur_saved_per_week": eur_year / weeks,
        "hours_saved_per_year": minutes_per_day * days / 60.0 * weeks,
        "km_saved_per_year": km_year,
        "kg_co2_saved_per_year": km_year * settings.CO2_KG_PER_KM,
        "eur_saved_per_year": eur_year,
    }


def benefit_totals(allocation: pd.DataFrame) -> dict[str, float]:
    """Sum the yearly and CO2/euro benefit columns of an allocation (rounded to 0.1).

    Parameters
    ----------
    allocation
        An allocation table with the :data:`BENEFIT_COLUMNS` (NaN when not assigned).

    Returns
    -------
    dict
        ``kg_co2_saved_per_week, eur_saved_per_week, hours_saved_per_year,
        km_saved_per_year, kg_co2_saved_per_year, eur_saved_per_year``.
    """
    return {
        name: round(float(allocation[name].sum()), 1)
        for name in BENEFIT_COLUMNS
        if name.startswith(("kg_co2", "eur", "hours_saved_per_year", "km_saved_per_year"))
    }


def factors() -> dict[str, Any]:
    """Return ``summary.json``'s ``factors``: CO2, mileage allowance and working weeks, sourced."""
    return {
        "co2_kg_per_km": settings.CO2_KG_PER_KM,
        "co2_source": "ADEME Base Carbone, average car, fuel production and combustion",
        "mileage_eur_per_km_by_band": [list(t) for t in settings.MILEAGE_TIERS[:-1]]
        + [["beyond", settings.MILEAGE_TIERS[-1][1]]],
        "mileage_source": "civil-service mileage allowance, car of 5 CV or less "
        "(arrêté of 3 July 2006 as amended 14 March 2022)",
        "working_weeks_per_year": settings.WORKING_WEEKS_PER_YEAR,
    }
