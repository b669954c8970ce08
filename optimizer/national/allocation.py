"""A national plan's allocation: each group's placements handed to its agents, with reasons.

:func:`allocation` gives every agent of the roster its row: placed (site,
weekdays, minutes, saving) or the reason it is not (its commute, no site
that saves time, sites closed on its days, capacity full, not selected
(``--select``), the time limit, or an equal that the tie rule placed first,
:mod:`optimizer.ties`), as a plain run words them; and from those rows the
plan's figures (:func:`solve_figures`: who is placed and why not, the
saving apart from the objective's bonuses, ``--select``'s note).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimizer._text import fewer_selected
from optimizer.model.explain import (
    REASON_FORBIDDEN,
    REASON_NOT_SELECTED,
    REASON_SELECTED_FULL,
    REASON_SHORTER_COMMUTE,
    REASON_TIME_LIMIT,
)
from optimizer.national.dedicated import room as dedicated_room
from optimizer.national.groups import WEEKDAYS, pairs_on_enough_days
from optimizer.national.options import NationalOptions
from optimizer.national.solve import GroupPlan
from optimizer.ties import TieOrder, reason_kind, reason_label, tie_reason

#: Weekday names of each 5-bit mask, ``|``-separated (``"mon|thu"``).
_DAY_NAMES = np.array(
    ["|".join(d for k, d in enumerate(WEEKDAYS) if (mask >> k) & 1) for mask in range(32)],
    dtype=object,
)

REASON_NO_SITE = (
    "no site saves time: none within the longest acceptable drive saves at least the "
    "minimum saving on a day it can telework"
)
REASON_FULL = "capacity full: the sites that would save time are full on its days"
#: "capacity full" with dedicated desks: a desk held all week, so no "on its days".
REASON_FULL_DEDICATED = (
    "capacity full: the sites that would save time have no desk left for the whole week"
)
REASON_CLOSED = (
    "closed on its days: the sites that would save time are not open on enough of the days "
    "it can telework"
)


def allocation(
    agents: pd.DataFrame,
    membership: np.ndarray,
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    pairs: pd.DataFrame,
    placements: pd.DataFrame,
    site_ids: np.ndarray,
    desks: np.ndarray,
    ties: TieOrder,
    *,
    limit: int | None = None,
    proven: bool = True,
    forbidden_only: np.ndarray | None = None,
    dedicated: bool = False,
    chosen: np.ndarray | None = None,
) -> pd.DataFrame:
    """Hand each group's placements to its agents (by the tie rule) and give reasons.

    The agents of a group are equals (same home, workplace, days and rules):
    when only some are placed, they are the first by the tie rule of a plain
    run (:mod:`optimizer.ties`: the higher priority, then the draw), and each
    one left out is told which equal took its place and what decided. An
    agent left out whose eligible sites all open (desks > 0) on fewer of its
    allowed weekdays than its telework days is "closed on its days", not
    "capacity full": no desk was ever there for it. An agent left out that
    would fit at one of its eligible sites as the plan stands (a free desk on
    as many of its allowed weekdays as it teleworks) is "not selected" when
    the plan holds ``limit`` agents (``--select``), else left out by the time
    limit when the plan is not ``proven``; "capacity full" only otherwise. A
    group whose eligible sites are all forbidden to it (``forbidden_only``)
    is "forbidden", as in a plain run. ``dedicated`` desks: see :mod:`.dedicated`.
    ``chosen`` (``--select-by commute``, :mod:`.selection`): per group, its
    first agents by the tie rule that were chosen; the others it saves time
    are "not selected" for longer commutes, and a chosen agent left out by
    full sites says it was selected.
    """
    n = len(agents)
    site = np.full(n, -1, dtype=np.int64)
    weekday = np.zeros(n, dtype=np.int64)  # 5-bit masks
    order = np.lexsort((ties.rank, membership))
    starts = np.searchsorted(membership[order], np.arange(len(groups)))
    taken = np.zeros(len(groups), dtype=np.int64)
    for g, j, d, count in placements[["group", "site", "days", "agents"]].itertuples(index=False):
        lo = starts[g] + taken[g]
        members = order[lo : lo + count]
        site[members], weekday[members] = j, d
        taken[g] += count
    placed = site >= 0
    figures = _pair_figures(pairs, membership, site)
    reason = _why_not(
        membership, groups, commute, pairs, desks, placements, placed,
        limit=limit, proven=proven, forbidden_only=forbidden_only, dedicated=dedicated,
    )  # fmt: skip
    if chosen is not None:
        _commute_reasons(reason, chosen, order, starts, membership, limit)
    won_by = _ties_lost(reason, order, starts, taken, groups, agents, ties, limit)
    located = {c: agents[c].to_numpy() for c in ("location", "location_precision_m") if c in agents}
    return pd.DataFrame(
        {
            "agent_id": agents["agent_id"].astype(str).to_numpy(),
            "group": membership,
            "telecentre_id": np.where(placed, site_ids[np.maximum(site, 0)], ""),
            "weekday": np.where(placed, _DAY_NAMES[weekday], ""),
            "minutes_to_site": figures["minutes_to"],
            "km_to_site": figures["km_to"],
            "minutes_to_work": commute["minutes_to"].to_numpy()[membership],
            "km_to_work": _column(commute, "km_to")[membership],
            "saving_minutes_week": figures["saving"] / 60.0,
            "km_saving_day": figures["km_saving"],
            "snap_m": _column(commute, "snap_m")[membership],
            "status": np.where(placed, "assigned", "not_assigned"),
            **located,
            "reason": reason,
            "tie_won_by": won_by,
        }
    )


def _pair_figures(
    pairs: pd.DataFrame, membership: np.ndarray, site: np.ndarray
) -> dict[str, np.ndarray]:
    """Each agent's pair figures (``saving, minutes_to, km_to, km_saving``); NaN if not placed."""
    placed = site >= 0
    key = pd.MultiIndex.from_arrays([membership[placed], site[placed]])
    of = pairs.set_index(["group", "site"])
    out = {}
    for name in ("saving", "minutes_to", "km_to", "km_saving"):
        out[name] = np.full(site.size, np.nan)
        if name in of:
            out[name][placed] = of[name].reindex(key).to_numpy(float)
    return out


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Return a float column of ``frame``, NaN when it lacks it (a table made by hand)."""
    return frame[name].to_numpy(float) if name in frame else np.full(len(frame), np.nan)


def _ties_lost(
    reason: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    taken: np.ndarray,
    groups: pd.DataFrame,
    agents: pd.DataFrame,
    ties: TieOrder,
    select: int | None,
) -> np.ndarray:
    """Tell each agent left out for an equal of its group which one and why (in place).

    Returns each agent's ``tie_won_by``: the id of the equal placed instead ("" otherwise).
    """
    ids = agents["agent_id"].astype(str).to_numpy()
    sizes = groups["size"].to_numpy(np.int64)
    full = {REASON_FULL, REASON_FULL_DEDICATED, REASON_NOT_SELECTED, REASON_TIME_LIMIT}
    full.add(REASON_SELECTED_FULL.format(select=select))
    won_by = np.full(ids.size, "", dtype=object)
    for g in np.flatnonzero((taken > 0) & (taken < sizes)):
        winner = int(order[starts[g] + taken[g] - 1])  # the last of its equals placed
        for loser in order[starts[g] + taken[g] : starts[g] + sizes[g]]:
            if reason[loser] in full:
                rule = ties.decided_by(winner, int(loser))
                reason[loser] = tie_reason(ids[winner], rule, ties.seed)
                won_by[loser] = ids[winner]
    return won_by


def _commute_reasons(
    reason: np.ndarray,
    chosen: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    membership: np.ndarray,
    select: int | None,
) -> None:
    """Word the reasons of ``--select-by commute`` (in place), as a plain run does.

    An agent not chosen that a site would place ("capacity full", or a free
    desk left: "not selected", or the time limit) went after longer
    commutes; a chosen one left out by full sites was selected, and the
    sites are full.
    """
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size) - starts[membership[order]]
    picked = position < chosen[membership]
    waiting = np.isin(
        reason, [REASON_FULL, REASON_FULL_DEDICATED, REASON_NOT_SELECTED, REASON_TIME_LIMIT]
    )
    reason[waiting & ~picked] = REASON_SHORTER_COMMUTE
    full = np.isin(reason, [REASON_FULL, REASON_FULL_DEDICATED]) & picked
    reason[full] = REASON_SELECTED_FULL.format(select=select)


def _why_not(
    membership: np.ndarray,
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    pairs: pd.DataFrame,
    desks: np.ndarray,
    placements: pd.DataFrame,
    placed: np.ndarray,
    *,
    limit: int | None,
    proven: bool,
    forbidden_only: np.ndarray | None,
    dedicated: bool,
) -> np.ndarray:
    """Each agent's reason ("" when placed) before ties: forbidden, not selected, time limit."""
    reason = _reasons(membership, groups, commute, pairs, desks, placed)
    if forbidden_only is not None:
        reason[(reason == REASON_NO_SITE) & forbidden_only[membership]] = REASON_FORBIDDEN
    fits = (dedicated_room if dedicated else _room)(groups, pairs, desks, placements)
    room = fits[membership] & (reason == REASON_FULL)
    if limit is not None and int(placed.sum()) >= limit:
        reason[room] = REASON_NOT_SELECTED
    elif not proven:
        reason[room] = REASON_TIME_LIMIT
    if dedicated:
        reason[reason == REASON_FULL] = REASON_FULL_DEDICATED
    return reason


def _reasons(
    membership: np.ndarray,
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    pairs: pd.DataFrame,
    desks: np.ndarray,
    placed: np.ndarray,
) -> np.ndarray:
    """Each agent's reason ("" when placed): its commute's, no site, closed, or full."""
    reason = commute["reason"].to_numpy()[membership].copy()
    has_pair = np.zeros(len(groups), dtype=bool)
    has_pair[pairs["group"].to_numpy()] = True
    has_usable = _enough_days(groups, pairs, np.asarray(desks) > 0)
    reason[(reason == "") & ~has_pair[membership]] = REASON_NO_SITE
    reason[(reason == "") & ~has_usable[membership]] = REASON_CLOSED
    reason[(reason == "") & ~placed] = REASON_FULL
    reason[placed] = ""
    return np.asarray(reason)


def _room(
    groups: pd.DataFrame, pairs: pd.DataFrame, desks: np.ndarray, placements: pd.DataFrame
) -> np.ndarray:
    """Per group: an agent of it would fit at one of its eligible sites as the plan stands.

    A free desk on as many of the group's allowed weekdays as it teleworks,
    at one site (the rule of :func:`optimizer.pipeline.reasons.room_on_days`).
    """
    desks = np.asarray(desks, dtype=np.int64)
    used = np.zeros_like(desks)
    site = placements["site"].to_numpy(np.int64)
    mask = placements["days"].to_numpy(np.int64)
    count = placements["agents"].to_numpy(np.int64)
    for day in range(5):
        on = ((mask >> day) & 1) > 0
        np.add.at(used[:, day], site[on], count[on])
    return _enough_days(groups, pairs, desks - used > 0)


def _enough_days(groups: pd.DataFrame, pairs: pd.DataFrame, days_on: np.ndarray) -> np.ndarray:
    """Per group: one of its pairs' sites is on, in ``days_on``, on enough of its days.

    ``days_on`` is ``(n_sites, 5)`` booleans (open, or with a free desk); enough
    is as many of the group's allowed weekdays as it teleworks.
    """
    pair_group = pairs["group"].to_numpy(np.int64)
    enough = pairs_on_enough_days(groups, pair_group, pairs["site"].to_numpy(np.int64), days_on)
    out = np.zeros(len(groups), dtype=bool)
    out[pair_group[enough]] = True
    return out


def selection(
    allocation: pd.DataFrame, select: int | None, select_by: str = "saving"
) -> dict[str, object] | None:
    """``--select K``: how many were placed, and why fewer than K, as a plain run says it.

    Returns
    -------
    dict or None
        ``select, select_by, placed, why_fewer`` (the sentence, empty when K
        were placed), None without ``--select``.
    """
    if select is None:
        return None
    assigned = (allocation["status"] == "assigned").to_numpy()
    placed = int(assigned.sum())
    why = ""
    if placed < select:
        left_out = allocation.loc[~assigned, "reason"].map(reason_label).value_counts()
        why = fewer_selected(select, placed, left_out.items())
    return {"select": select, "select_by": select_by, "placed": placed, "why_fewer": why}


def saving_seconds(allocation: pd.DataFrame) -> int:
    """Round-trip seconds the placed agents save a week (whole seconds each, no bonus)."""
    return int(np.rint(allocation["saving_minutes_week"].sum() * 60.0))  # NaN (not placed) skipped


def solve_figures(
    placed: pd.DataFrame, plan: GroupPlan, groups: pd.DataFrame, opts: NationalOptions
) -> dict[str, Any]:
    """Count the plan's figures: who is placed, why not, the solve and its bound, ``--select``."""
    one_day = bool(np.all(groups["days"].to_numpy() == 1))
    # with dedicated desks the day bonus chooses days only, as in a plain run
    day_bonus = opts.day_bonus > 0 and not opts.dedicated_desks
    bonuses = [
        name
        for name, on in (
            ("preference", opts.preference_bonus > 0 and bool((groups["preferred"] != "").any())),
            ("weekday", day_bonus and bool((groups["wanted"] > 0).any())),
        )
        if on
    ]
    return {
        "placed": int((placed["status"] == "assigned").sum()),
        "not_assigned_by_reason": {
            str(k): int(v)
            for k, v in placed.loc[placed["status"] != "assigned", "reason"]
            .map(reason_kind)
            .value_counts()
            .sort_index()
            .items()
        },
        "saving_minutes_week": saving_seconds(placed) / 60.0,
        # the solver's objective: a plain run's objective_value leaves the weekday bonus out
        "objective": (
            "minutes driven per week by all agents"
            if opts.objective == "travel"
            else f"round-trip {opts.objective} saved per week"
        )
        + (
            f" ({' and '.join(bonuses)} bonus{'es' if len(bonuses) > 1 else ''} "
            + ("deducted)" if opts.objective == "travel" else "included)")
            if bonuses
            else ""
        ),
        f"objective_{opts.objective}_week": plan.gain / opts.unit,
        "solver": "group min-cost flow (dedicated desks)"
        if opts.dedicated_desks
        else "group min-cost flow"
        if one_day
        else "weekly configuration model",
        "status": plan.status,
        "proven": plan.proven,
        f"bound_{opts.objective}_week": plan.bound / opts.unit,
        "gap": round(plan.gap, 6),
        # the solver's stages the time limit ended: another run may find another plan
        "time_limit_cut": list(plan.time_cut),
        "flow_arcs": plan.arcs,
        "selection": selection(placed, opts.select, opts.select_by),
    }


def as_minutes_driven(summary: dict[str, Any], drive: float | None) -> dict[str, Any]:
    """Say the plan's objective, bound and merged bound as minutes driven a week (``travel``).

    The same plan as the minutes objective: each value is the minutes every
    agent drives a week with no telework (``drive``: five round trips each,
    :func:`drive_minutes`) less the gain in minutes; a bound on the gain
    becomes a least value. None where ``drive`` is (a commute not certified).
    """
    out = dict(summary)
    for key in ("objective_travel_week", "bound_travel_week", "merged_bound_travel_week"):
        gain = summary.get(key)
        out[key] = None if gain is None or drive is None else drive - gain
    return out


def drive_minutes(commute: pd.DataFrame, groups: pd.DataFrame) -> float:
    """Minutes all agents drive a week with no telework: five round trips each.

    An agent proven to have no route counts none, as in a plain run.
    """
    trip = (commute["minutes_to"] + commute["minutes_back"]).to_numpy(float)
    return float(np.nansum(trip * 5 * groups["size"].to_numpy(np.int64)))
