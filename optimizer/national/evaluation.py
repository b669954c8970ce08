"""What the tables written so far say: the pairs certified, the commutes, what is not known.

:class:`Evaluation` reads the tasks' tables (:class:`.routing.Routing`) and
applies the rules of the assignment problem: one row per pair (a certified
one, else the own task's, :func:`best_rows`), each group's commute and the
reason it is not usable (:func:`commutes`), the eligible (group, site) pairs
and their weekly gain (:func:`eligible_pairs`), and the pairs whose time is
not known that may still be eligible (:func:`.bounds.unknown_pairs`); the
plan's prices may rule some of those out (:meth:`Evaluation.priced`). A
group's forbidden sites (``forbidden_telecentres``) are no pair of it, known
or not (:func:`without_forbidden`); its preferred site
(``preferred_telecentre``) adds the preference bonus to the pair's gain, known
or not (:func:`preference_bonus_s`): ``gain`` is the objective, ``saving`` the
seconds saved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimizer.national.bounds import Reach, unknown_pairs
from optimizer.national.options import (
    REASON_COMMUTE_UNCERTIFIED,
    REASON_HOME_OUTSIDE,
    REASON_NO_COMMUTE,
    REASON_WORKPLACE_OUTSIDE,
    NationalOptions,
)
from optimizer.national.routing import Places, Routing
from optimizer.national.solve import FlowPrices, GroupPlan
from optimizer.national.tasks import AWAY, EXTENT, HORIZONS, ORIGINS, TRAVEL
from optimizer.settings import ACCESS_SPEED_KMH


@dataclass(frozen=True)
class Evaluation:
    """What the tables written so far say: the pairs, commutes and what is not certified."""

    raw: pd.DataFrame  # every task's rows (``departement``: the task's name)
    travel: pd.DataFrame  # one row per pair (:func:`best_rows`)
    horizons: pd.DataFrame  # the own extract's destinations
    commute: pd.DataFrame
    pairs: pd.DataFrame
    counts: dict[str, int]
    doubtful: pd.DataFrame  # routed, not certified, eligible at the time found
    unknown: pd.DataFrame  # not routed or not certified, possibly eligible
    top_kmh: float
    priced_out: np.ndarray | None = None  # per unknown pair: cannot improve the plan
    plan: GroupPlan | None = None  # the plan on the certified pairs whose prices did that
    forbidden_only: np.ndarray | None = None  # per group: its eligible pairs are all forbidden
    objective: str = "minutes"  # what a pair's gain counts: seconds, or metres ("km")

    def priced(
        self, prices: FlowPrices | None, groups: pd.DataFrame, desks: np.ndarray
    ) -> Evaluation:
        """Return this evaluation with the unknown pairs the plan's ``prices`` rule out.

        A pair's best case is its saving at the lower bounds of its times
        (:meth:`best_gain`): when even that cannot
        beat the prices (:meth:`.solve.FlowPrices.cannot_improve`), the plan on
        the certified pairs stays optimal whatever its time (LP duality; for
        every such pair at once).
        """
        if prices is None or len(self.unknown) == 0:
            return replace(self, priced_out=None)
        group = self.unknown["group"].to_numpy(np.int64)
        gain = self.best_gain(groups)
        patterns = groups["pattern"].to_numpy(np.int64)
        site = self.unknown["site"].to_numpy(np.int64)
        wanted = groups["wanted"].to_numpy(np.int64)
        out = prices.cannot_improve(group, site, gain, patterns, desks, wanted)
        return replace(self, priced_out=out)

    def best_gain(self, groups: pd.DataFrame) -> np.ndarray:
        """Each unknown pair's best weekly gain: no time of the merged network gives more.

        Its saving a day at the lower bounds of its times (``best_saving_s``;
        ``best_km_m`` at the straight line's km with the ``km`` objective),
        times the group's telework days, plus its preference bonus.
        """
        group = self.unknown["group"].to_numpy(np.int64)
        days = groups["days"].to_numpy(np.int64)[group]
        column = "best_km_m" if self.objective == "km" else "best_saving_s"
        best = self.unknown[column].to_numpy(np.int64) * days
        return np.asarray(best + self.unknown["bonus"].to_numpy(np.int64))

    def needed(self) -> pd.DataFrame:
        """``group, site``: the pairs not certified that may still improve the plan.

        The pairs whose bounds pass the rules (:attr:`unknown`), less those
        the plan's prices rule out. A pair an extract routed without
        certifying it (:attr:`doubtful`) is among them unless its bounds rule
        it out: a time not certified bounds nothing (its points may join
        other roads in the merged network).
        """
        keep = (
            np.ones(len(self.unknown), dtype=bool)
            if self.priced_out is None
            else ~np.asarray(self.priced_out, dtype=bool)
        )
        return self.unknown.loc[keep, ["group", "site"]].reset_index(drop=True)

    @classmethod
    def of(cls, routing: Routing, places: Places, opts: NationalOptions) -> Evaluation:
        """Read the tables of the tasks run so far (``routing``) and evaluate every pair."""
        raw = routing.read(TRAVEL)
        travel = best_rows(raw)
        every_horizon = routing.read(HORIZONS)
        reach = Reach(
            origins=routing.read(ORIGINS),
            away=routing.read(AWAY),
            extent=routing.read(EXTENT),
        )
        groups = places.groups
        commute = commutes(groups, travel, places.work_code_of, places.inside)
        commute["snap_m"] = access_legs(reach.origins, "origin_id", groups["home_id"].to_numpy())
        pairs, counts, doubtful = eligible_pairs(groups, commute, travel, places.site_ids, opts)
        top_kmh = max(
            [float(r.get("top_speed_kmh", 0.0)) for r in routing.results] + [ACCESS_SPEED_KMH]
        )
        unknown = unknown_pairs(
            groups,
            commute,
            travel,
            raw,
            places.sites,
            places.site_ids,
            places.site_code,
            every_horizon,
            reach,
            top_kmh,
            opts,
        )
        forbidden = forbidden_keys(groups, places.site_ids)
        had_pair = np.zeros(len(groups), dtype=bool)
        had_pair[pairs["group"].to_numpy(np.int64)] = True
        pairs, doubtful, unknown = (
            without_forbidden(frame, forbidden, places.site_ids.size)
            for frame in (pairs, doubtful, unknown)
        )
        has_pair = np.zeros(len(groups), dtype=bool)
        has_pair[pairs["group"].to_numpy(np.int64)] = True
        bonus_s = round(opts.preference_bonus * opts.unit)
        pairs = pairs.assign(
            gain=pairs["gain"] + preference_bonus_s(pairs, groups, places.site_ids, bonus_s)
        )
        unknown = unknown.assign(
            bonus=preference_bonus_s(unknown, groups, places.site_ids, bonus_s)
        )
        return cls(
            raw=raw,
            travel=travel,
            horizons=every_horizon[every_horizon["own"].to_numpy(bool)],
            commute=commute,
            pairs=pairs,
            counts={**counts, "uncertified_pairs": len(doubtful)},
            doubtful=doubtful,
            unknown=unknown,
            top_kmh=top_kmh,
            forbidden_only=had_pair & ~has_pair,
            objective=opts.objective,
        )

    def unresolved(self, groups: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``home_id, site`` and ``home_id, workplace_id`` that no extract has certified.

        The site pairs that may be eligible and improve the plan
        (:meth:`needed`) and the commutes not certified or not routed (the
        home outside its workplace's buffer), each once.
        """
        both = self.needed()
        home = groups["home_id"].to_numpy()
        todo_sites = pd.DataFrame(
            {
                "home_id": home[both["group"].to_numpy(np.int64)],
                "site": both["site"].to_numpy(np.int64),
            }
        ).drop_duplicates(ignore_index=True)
        reasons = self.commute["reason"].to_numpy()
        open_ = np.isin(reasons, [REASON_COMMUTE_UNCERTIFIED, REASON_HOME_OUTSIDE])
        todo_work = groups.loc[open_, ["home_id", "workplace_id"]].drop_duplicates(
            ignore_index=True
        )
        return todo_sites, todo_work


def best_rows(travel: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per (origin, destination): a certified one, else the own task's.

    A pair routed in several extracts has the merged network's time in every
    one that certifies it; an uncertified row of another département's
    extract is dropped (the bounds of :func:`.bounds.unknown_pairs` are the own
    extract's). Rows keep their order.
    """
    origin = pd.factorize(travel["origin_id"])[0].astype(np.int64)
    destination = pd.factorize(travel["destination_id"])[0].astype(np.int64)
    key = (origin * (int(np.max(destination, initial=0)) + 1) + destination) * 2 + (
        travel["kind"].to_numpy() == "site"
    )
    certified, own = travel["certified"].to_numpy(bool), travel["own"].to_numpy(bool)
    order = np.lexsort((~own, ~certified))  # certified first, then the own task's
    _, first = np.unique(key[order], return_index=True)
    best = np.sort(order[first])
    best = best[certified[best] | own[best]]
    return pd.DataFrame(travel.iloc[best].reset_index(drop=True))


def access_legs(frame: pd.DataFrame, column: str, ids: np.ndarray) -> np.ndarray:
    """Each point's access leg, metres: the least of the tasks where its road is surely its own.

    ``frame`` holds the tasks' rows of the points (``column``, ``snap_m``,
    ``alike``); NaN for a point no task placed.
    """
    alike = frame[frame["alike"].to_numpy(bool)]
    best = alike.groupby(column)["snap_m"].min().reindex(ids).to_numpy(float)
    anywhere = frame.groupby(column)["snap_m"].min().reindex(ids).to_numpy(float)
    return np.asarray(np.where(np.isnan(best), anywhere, best))


def commutes(
    groups: pd.DataFrame,
    travel: pd.DataFrame,
    work_code_of: dict[str, str],
    inside: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Per group: minutes and km to the workplace and back, and the reason when not usable."""
    work = travel[travel["kind"] == "workplace"].set_index(["origin_id", "destination_id"])
    key = pd.MultiIndex.from_frame(groups[["home_id", "workplace_id"]])
    found = work.reindex(key)
    out = pd.DataFrame(
        {
            "minutes_to": found["minutes_to"].to_numpy(float),
            "minutes_back": found["minutes_back"].to_numpy(float),
            "km_to": found["km_to"].to_numpy(float),
            "km_back": found["km_back"].to_numpy(float),
            "certified": found["certified"].fillna(False).to_numpy(bool),
        }
    )
    reason = np.full(len(groups), "", dtype=object)
    code = groups["workplace_id"].map(work_code_of).to_numpy()
    routed = found["minutes_to"].notna().to_numpy() | found.index.isin(work.index)
    reason[~routed] = REASON_HOME_OUTSIDE
    reason[code == ""] = REASON_WORKPLACE_OUTSIDE
    no_route = routed & ~(np.isfinite(out["minutes_to"]) & np.isfinite(out["minutes_back"]))
    certified = out["certified"].to_numpy(bool)
    # unreachable only where proven (a point beyond the snapping limit of the merged network
    # too, see .tasks); an extract that found no route proves nothing: the commute is unknown
    reason[no_route & certified & (reason == "")] = REASON_NO_COMMUTE
    reason[routed & ~certified & (reason == "")] = REASON_COMMUTE_UNCERTIFIED
    out["reason"] = reason
    return out


def forbidden_keys(groups: pd.DataFrame, site_ids: np.ndarray) -> np.ndarray:
    """Sorted ``group * n_sites + site`` of every pair a group may not use (its forbidden sites).

    ``groups["forbidden"]``: ``|``-joined site ids (:func:`.groups.forbidden_sets`);
    an id that is no site's is no pair (the roster's ids are checked before).
    """
    if "forbidden" not in groups:
        return np.zeros(0, dtype=np.int64)
    position = {site: j for j, site in enumerate(site_ids.tolist())}
    texts = groups["forbidden"].to_numpy()
    keys = [
        g * site_ids.size + position[site]
        for g in np.flatnonzero(texts != "").tolist()
        for site in str(texts[g]).split("|")
        if site in position
    ]
    return np.unique(np.asarray(keys, dtype=np.int64))


def preference_bonus_s(
    frame: pd.DataFrame, groups: pd.DataFrame, site_ids: np.ndarray, bonus_s: int
) -> np.ndarray:
    """Per pair (``group, site``): ``bonus_s`` at its group's preferred site, else 0."""
    if "preferred" not in groups or len(frame) == 0:
        return np.zeros(len(frame), dtype=np.int64)
    group = frame["group"].to_numpy(np.int64)
    site = site_ids[frame["site"].to_numpy(np.int64)]
    preferred = groups["preferred"].to_numpy()[group] == site
    return np.where(preferred, np.int64(bonus_s), np.int64(0))


def without_forbidden(frame: pd.DataFrame, keys: np.ndarray, n_sites: int) -> pd.DataFrame:
    """``frame`` (``group, site`` and more) less the pairs of ``keys`` (:func:`forbidden_keys`)."""
    if keys.size == 0 or len(frame) == 0:
        return frame
    key = frame["group"].to_numpy(np.int64) * n_sites + frame["site"].to_numpy(np.int64)
    return frame[~np.isin(key, keys)].reset_index(drop=True)


def eligible_pairs(
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    travel: pd.DataFrame,
    site_ids: np.ndarray,
    opts: NationalOptions,
) -> tuple[pd.DataFrame, dict[str, int], pd.DataFrame]:
    """Eligible (group, site) pairs and their whole weekly gain (the rules of the model stage).

    Each pair's ``gain`` (the objective's: whole seconds or metres a week,
    :attr:`.options.NationalOptions.unit`) and ``saving`` (whole seconds a
    week), one-way
    ``minutes_to`` and ``km_to`` the site, and ``km_saving`` (round-trip km
    a telework day). Also returns ``group, site``: the pairs a task routed without certifying
    them that would be eligible at the time found.
    """
    site_rows = travel[travel["kind"] == "site"]
    site_pos = pd.Series(np.arange(site_ids.size), index=site_ids)
    usable = groups[commute["reason"].to_numpy() == ""]
    merged = usable[["group", "home_id", "days"]].merge(
        site_rows, left_on="home_id", right_on="origin_id", how="inner"
    )
    wp_to = commute["minutes_to"].to_numpy()[merged["group"].to_numpy()]
    wp_back = commute["minutes_back"].to_numpy()[merged["group"].to_numpy()]
    s_to, s_back = merged["minutes_to"].to_numpy(), merged["minutes_back"].to_numpy()
    saving = np.rint((wp_to + wp_back - (s_to + s_back)) * 60.0)
    km_saving = _km_saving(commute, merged)
    with np.errstate(invalid="ignore"):
        ok = (saving > 0) & (saving >= np.rint(opts.min_saving * 60.0))
        ok &= s_to <= opts.max_minutes
        if opts.no_worse_off:
            ok &= s_to <= wp_to
        ok &= np.isfinite(s_to) & np.isfinite(s_back)
        per_day = saving  # the objective's gain a telework day: seconds, or metres
        if opts.objective == "km":
            per_day = np.rint(km_saving * 1000.0)
            ok &= per_day > 0
    certified = merged["certified"].to_numpy(bool)
    counts = {
        "routed_site_pairs": len(merged),
        "uncertified_pairs": int((ok & ~certified).sum()),
    }
    doubt = ok & ~certified
    doubtful = pd.DataFrame(
        {
            "group": merged["group"].to_numpy()[doubt],
            "site": site_pos.reindex(merged["destination_id"].to_numpy()[doubt]).to_numpy(np.int64),
        }
    )
    ok &= certified
    pairs = pd.DataFrame(
        {
            "group": merged["group"].to_numpy()[ok],
            "site": site_pos.reindex(merged["destination_id"].to_numpy()[ok]).to_numpy(np.int64),
            "gain": (per_day[ok] * merged["days"].to_numpy()[ok]).astype(np.int64),
            "saving": (saving[ok] * merged["days"].to_numpy()[ok]).astype(np.int64),
            "minutes_to": s_to[ok],
            "km_to": merged["km_to"].to_numpy(float)[ok],
            "km_saving": km_saving[ok],
        }
    )
    return pairs, counts, doubtful


def _km_saving(commute: pd.DataFrame, merged: pd.DataFrame) -> np.ndarray:
    """Round-trip km a telework day saves, per routed (group, site) row of ``merged``."""
    group = merged["group"].to_numpy()
    work = commute["km_to"].to_numpy(float)[group] + commute["km_back"].to_numpy(float)[group]
    return np.asarray(work - merged["km_to"].to_numpy(float) - merged["km_back"].to_numpy(float))
