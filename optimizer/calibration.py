"""Calibrating the speed model to reference trips.

A planner has reference trips whose real drive times are known: mileage
claims, times read off a route planner, a bus timetable's duration (an upper
bound). :func:`calibrate` fits the cruising factor of each road-class group
(:data:`optimizer.speed_model.GROUPS`) so that the network's times match them
best, by robust least squares on the relative errors (a 10 % error counts
the same on a 10-minute and on a 60-minute trip; beyond 15 % an error weighs
less and less, so that one wrong reference cannot drag the factors),
routing every trip again at each step so that a route may change as the
factors change. Bends, delays and
built-up areas keep their documented values: the factors take up what the
network does not show (road width, gradients, traffic).

:func:`write_profile` saves the result as a profile CSV (``highway, kmh,
factor``), which ``assign --speed-profile profile.csv`` and
:func:`optimizer.inputs.read_speed_profile` read back.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.network import Progress, RoadNetwork, retime
from optimizer.outfile import write_atomic
from optimizer.speed_model import GROUPS, OTHER_GROUP, SpeedModel, speed_model, time_edges
from optimizer.travel import travel_table

logger = logging.getLogger(__name__)

#: Bounds of a fitted factor.
FACTOR_BOUNDS = (0.3, 1.2)
#: Largest junction delay calibration may fit, seconds.
JUNCTION_DELAY_MAX_S = 180.0
#: Group name that fits one factor for every road class (few reference trips).
POOLED = "all"
POOLED_REFERENCE = "primary"
#: Relative error beyond which a trip's weight in the fit decreases (robust ``soft_l1``
#: loss): one wrong reference (a typo, a figure for another route) cannot drag the factors.
ROBUST_SCALE = 0.15
#: A group is fitted when it carries at least this share of the reference trips' time.
MIN_GROUP_SHARE = 0.03


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`calibrate`.

    Attributes
    ----------
    model
        The calibrated speed model.
    factors
        Fitted factor per group (groups not fitted are absent).
    trips
        One row per reference trip: ``label, minutes, km, minutes_before,
        minutes_after, km_model, error_before, error_after`` (errors are
        relative: model / reference - 1).
    speeds
        km/h per ``highway`` class of the profile used.
    """

    model: SpeedModel
    factors: dict[str, float]
    trips: pd.DataFrame
    speeds: Mapping[str, float]

    def errors(self, which: str = "after") -> dict[str, float]:
        """Median and worst absolute error, in % and minutes (``which``: before or after)."""
        rel = (self.trips[f"error_{which}"]).abs()
        minutes = (self.trips[f"minutes_{which}"] - self.trips["minutes"]).abs()
        return {
            "median_pct": float(rel.median() * 100.0),
            "worst_pct": float(rel.max() * 100.0),
            "median_min": float(minutes.median()),
            "worst_min": float(minutes.max()),
        }


def calibrate(
    network: RoadNetwork,
    trips: pd.DataFrame,
    *,
    speeds: Mapping[str, float] | None = None,
    groups: tuple[str, ...] | None = None,
    fit_junction_delay: bool = False,
    progress: Progress | None = None,
) -> Calibration:
    """Fit the speed model's cruising factors to reference trips.

    Parameters
    ----------
    network
        A prepared network. The errors "before" are those of its own speed
        model; the fit starts from that model (from ``realistic`` with its
        documented defaults when the network is ``free-flow``).
    trips
        ``from_lon, from_lat, to_lon, to_lat, minutes`` and optionally ``km``
        and ``label`` (see :func:`optimizer.inputs.read_reference_trips`).
    speeds
        km/h per class of the network's profile, written into the profile.
    groups
        Groups to fit (default: those carrying at least 3 % of the trips' time);
        ``("all",)`` fits one factor for every class, the safe choice when the
        trips are few or come from few places.
    fit_junction_delay
        Also fit the delay at junctions of three roads or more (seconds, 0 to
        180): on a coarse network whose nodes are towns it is the time lost
        crossing a village.
    progress
        Called with a short message before each step.

    Returns
    -------
    Calibration
        The fitted model and the error on every trip before and after.
    """
    if network.pieces is None:
        msg = "calibrate needs a network prepared by this package (load_network)."
        raise InputError(msg)
    own = network.speed_model
    base = speed_model("realistic") if own.name == "free-flow" else own
    pieces = network.pieces
    n = len(trips)
    route = _TripRouter.of(network, trips)
    reference = trips["minutes"].to_numpy(dtype=float)

    def minutes_under(model: SpeedModel) -> tuple[np.ndarray, np.ndarray]:
        return route(time_edges(pieces, model).seconds)

    if progress:
        progress(f"routing {n} reference trips")
    before, _ = minutes_under(own)
    _check_routed(trips, before)
    if groups is None:
        groups = _groups_used(time_edges(pieces, base).by_group, route)
    names = list(groups)
    model_of = _ModelOf(base, names, pieces.classes, fit_junction_delay)

    def residuals(x: np.ndarray) -> np.ndarray:
        got, _ = minutes_under(model_of(x))
        return np.asarray(got / reference - 1.0, dtype=float)

    if progress:
        progress(f"fitting {len(names)} factors ({', '.join(names)}) by least squares")
    best = _least_squares(residuals, model_of.start(), n_factors=len(names))
    fitted = model_of(best)
    after, km_after = minutes_under(fitted)
    table = _trip_table(trips, reference, before, after, km_after)
    factors = {g: round(float(v), 4) for g, v in zip(names, best[: len(names)], strict=True)}
    if fit_junction_delay:
        factors["junction_delay_s"] = fitted.junction_delay_s
    logger.info("calibrated factors %s on %d trips", factors, n)
    profile = dict(speeds) if speeds is not None else {}
    return Calibration(model=fitted, factors=factors, trips=table, speeds=profile)


def _check_routed(trips: pd.DataFrame, minutes: np.ndarray) -> None:
    """Refuse reference trips that have no route on the network (the first one named)."""
    unrouted = np.flatnonzero(~np.isfinite(minutes))
    if unrouted.size:
        i = int(unrouted[0])
        msg = (
            f"reference trip {_label(trips, i)}: no route between its points on this network. "
            "Check that both ends are on the network's roads."
        )
        raise InputError(msg)


@dataclass(frozen=True)
class _TripRouter:
    """Routes the reference trips on a network re-timed with given edge seconds."""

    network: RoadNetwork
    origins: pd.DataFrame
    dests: pd.DataFrame
    pair_keys: list[tuple[str, str]]

    @classmethod
    def of(cls, network: RoadNetwork, trips: pd.DataFrame) -> _TripRouter:
        """Return the router of the trips: one origin per trip, one destination per end."""
        n = len(trips)
        origins = pd.DataFrame(
            {"id": [f"o{i}" for i in range(n)], "lon": trips["from_lon"], "lat": trips["from_lat"]}
        )
        ends = trips[["to_lon", "to_lat"]].drop_duplicates().reset_index(drop=True)
        dests = pd.DataFrame(
            {
                "id": [f"d{j}" for j in range(len(ends))],
                "lon": ends["to_lon"],
                "lat": ends["to_lat"],
            }
        )
        end_of = {(r.to_lon, r.to_lat): f"d{j}" for j, r in enumerate(ends.itertuples())}
        pair_keys = [
            (f"o{i}", end_of[(lo, la)])
            for i, (lo, la) in enumerate(zip(trips["to_lon"], trips["to_lat"], strict=True))
        ]
        return cls(network, origins, dests, pair_keys)

    def __call__(self, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Minutes and km of every trip with these edge times."""
        net = retime(self.network, seconds)
        table = travel_table(net, self.origins, self.dests).table
        rows = table.set_index(["origin_id", "destination_id"]).loc[self.pair_keys]
        return rows["minutes_to"].to_numpy(float), rows["km_to"].to_numpy(float)


@dataclass(frozen=True)
class _ModelOf:
    """The speed model of a vector of fitted values: one factor per group, then the delay."""

    base: SpeedModel
    names: list[str]
    classes: tuple[str, ...]
    fit_junction_delay: bool

    def start(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the starting values and their lower and upper bounds."""
        start = np.array([_group_factor(self.base, g) for g in self.names])
        low = np.full(len(self.names), FACTOR_BOUNDS[0])
        high = np.full(len(self.names), FACTOR_BOUNDS[1])
        if self.fit_junction_delay:
            start = np.append(start, self.base.junction_delay_s)
            low, high = np.append(low, 0.0), np.append(high, JUNCTION_DELAY_MAX_S)
        return start, low, high

    def __call__(self, x: np.ndarray) -> SpeedModel:
        """Return the base model with the factors (and delay) of ``x``."""
        factors: dict[str, float] = {}
        for g, value in zip(self.names, x[: len(self.names)], strict=True):
            for cls in _classes_of(g, self.classes):
                factors[cls] = float(value)
        model = self.base.with_factors(factors, source="calibrated")
        if self.fit_junction_delay:
            model = replace(model, junction_delay_s=round(float(x[-1]), 2))
        return model


def _least_squares(
    residuals: Callable[[np.ndarray], np.ndarray],
    bounded: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    n_factors: int,
) -> np.ndarray:
    """Return the values minimising the robust sum of squared relative errors.

    The first ``n_factors`` values are factors, the others (a delay) seconds.
    """
    start, low, high = bounded
    if not start.size:
        return start
    fit = least_squares(
        residuals,
        start,
        bounds=(low, high),
        # steps large enough to move times past their millisecond rounding
        diff_step=np.where(np.arange(start.size) < n_factors, 1e-3, 0.1),
        loss="soft_l1",
        f_scale=ROBUST_SCALE,
        x_scale="jac",
        xtol=1e-6,
        ftol=1e-8,
    )
    return np.asarray(fit.x)


def _trip_table(
    trips: pd.DataFrame,
    reference: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    km_after: np.ndarray,
) -> pd.DataFrame:
    """Return every trip's reference and modelled minutes and km, and the errors."""
    n = len(trips)
    table = pd.DataFrame(
        {
            "label": [_label(trips, i) for i in range(n)],
            "minutes": reference,
            "km": trips["km"].to_numpy(float) if "km" in trips else np.full(n, np.nan),
            "minutes_before": before,
            "minutes_after": after,
            "km_model": km_after,
        }
    )
    table["error_before"] = table["minutes_before"] / table["minutes"] - 1.0
    table["error_after"] = table["minutes_after"] / table["minutes"] - 1.0
    return table


def _label(trips: pd.DataFrame, i: int) -> str:
    if "label" in trips and str(trips["label"].iloc[i]):
        return str(trips["label"].iloc[i])
    return f"row {i + 2}"


def _classes_of(group: str, classes: tuple[str, ...]) -> list[str]:
    if group == POOLED:
        return sorted(set(classes) | {c for g in GROUPS.values() for c in g})
    members = set(GROUPS[group])
    if group == OTHER_GROUP:
        known = {c for g in GROUPS.values() for c in g}
        members |= {c for c in classes if c not in known}
    return sorted(members)


def _group_factor(model: SpeedModel, group: str) -> float:
    return model.factor(GROUPS[POOLED_REFERENCE if group == POOLED else group][0])


def _groups_used(
    by_group: np.ndarray, route: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
) -> tuple[str, ...]:
    """Return the groups that carry a fair share of the trips' time.

    The share of a group is read off how much the trips' total time grows when
    that group alone is driven 10 % slower (routes kept: the change is small).
    ``by_group`` is the edges' time split by group, ``route`` times the trips.
    """

    def total(multipliers: np.ndarray) -> float:
        return float(np.nansum(route(by_group @ multipliers)[0]))

    ones = np.ones(by_group.shape[1])
    base = total(ones)
    shares = {}
    for j, group in enumerate(GROUPS):
        bumped = ones.copy()
        bumped[j] = 1.1
        shares[group] = (total(bumped) - base) / 0.1
    return tuple(g for g, s in shares.items() if base > 0 and s / base >= MIN_GROUP_SHARE)


#: Header of a profile written by :func:`write_profile` (how ``--out`` recognises its own file).
PROFILE_COLUMNS = ("highway", "kmh", "factor", "junction_delay_s")


def profile_text(calibration: Calibration) -> str:
    """Return the profile CSV of a calibration (see :func:`write_profile`)."""
    classes = sorted(set(calibration.speeds) | {c for g in GROUPS.values() for c in g})
    rows = [
        {
            "highway": cls,
            "kmh": calibration.speeds.get(cls, settings.FALLBACK_SPEED_KMH),
            "factor": round(calibration.model.factor(cls), 4),
            "junction_delay_s": calibration.model.junction_delay_s,
        }
        for cls in classes
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(PROFILE_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def is_profile(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a profile this module wrote."""
    return head.lstrip(b"\xef\xbb\xbf").startswith(",".join(PROFILE_COLUMNS).encode() + b"\r\n")


def write_profile(calibration: Calibration, path: str | Path) -> Path:
    """Write a calibrated profile: ``highway, kmh, factor, junction_delay_s`` per road class.

    The file is written under a temporary name beside ``path`` and renamed
    into place: a reader never sees half a profile.

    Parameters
    ----------
    calibration
        The result of :func:`calibrate`.
    path
        CSV file to write (read back by ``assign --speed-profile``).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, profile_text(calibration).encode("utf-8"))
    return path
