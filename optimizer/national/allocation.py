"""A national plan's allocation: each group's placements handed to its agents, with reasons.

:func:`allocation` gives every agent of the roster its row: placed (site,
weekdays, minutes, saving) or the reason it is not (its commute, no site
that saves time, sites closed on its days, capacity full, or an equal that
the tie rule placed first, :mod:`optimizer.ties`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.national.groups import WEEKDAYS
from optimizer.ties import TieOrder, tie_reason

#: Weekday names of each 5-bit mask, ``|``-separated (``"mon|thu"``).
_DAY_NAMES = np.array(
    ["|".join(d for k, d in enumerate(WEEKDAYS) if (mask >> k) & 1) for mask in range(32)],
    dtype=object,
)
#: Weekdays in each 5-bit mask.
_DAY_COUNT = np.array([bin(mask).count("1") for mask in range(32)], dtype=np.int64)

REASON_NO_SITE = (
    "no site saves time: none within the longest acceptable drive saves at least the "
    "minimum saving on a day it can telework"
)
REASON_FULL = "capacity full: the sites that would save time are full on its days"
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
) -> pd.DataFrame:
    """Hand each group's placements to its agents (by the tie rule) and give reasons.

    The agents of a group are equals (same home, workplace, days and rules):
    when only some are placed, they are the first by the tie rule of a plain
    run (:mod:`optimizer.ties`: the higher priority, then the draw), and each
    one left out is told which equal took its place and what decided. An
    agent left out whose eligible sites all open (desks > 0) on fewer of its
    allowed weekdays than its telework days is "closed on its days", not
    "capacity full": no desk was ever there for it.
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
    gain_of = pairs.set_index(["group", "site"])
    placed = site >= 0
    key = pd.MultiIndex.from_arrays([membership[placed], site[placed]])
    saving = np.full(n, np.nan)
    to_site = np.full(n, np.nan)
    saving[placed] = gain_of["gain"].reindex(key).to_numpy(float) / 60.0
    to_site[placed] = gain_of["minutes_to"].reindex(key).to_numpy(float)
    reason = _reasons(membership, groups, commute, pairs, desks, placed)
    ids = agents["agent_id"].astype(str).to_numpy()
    sizes = groups["size"].to_numpy(np.int64)
    for g in np.flatnonzero((taken > 0) & (taken < sizes)):
        winner = int(order[starts[g] + taken[g] - 1])  # the last of its equals placed
        for loser in order[starts[g] + taken[g] : starts[g] + sizes[g]]:
            if reason[loser] == REASON_FULL:
                rule = ties.decided_by(winner, int(loser))
                reason[loser] = tie_reason(ids[winner], rule, ties.seed)
    located = {c: agents[c].to_numpy() for c in ("location", "location_precision_m") if c in agents}
    return pd.DataFrame(
        {
            "agent_id": agents["agent_id"].astype(str).to_numpy(),
            "group": membership,
            "telecentre_id": np.where(placed, site_ids[np.maximum(site, 0)], ""),
            "weekday": np.where(placed, _DAY_NAMES[weekday], ""),
            "minutes_to_site": to_site,
            "minutes_to_work": commute["minutes_to"].to_numpy()[membership],
            "saving_minutes_week": saving,
            "status": np.where(placed, "assigned", "not_assigned"),
            **located,
            "reason": reason,
        }
    )


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
    open_mask = (np.asarray(desks) > 0) @ (1 << np.arange(5, dtype=np.int64))
    pair_group = pairs["group"].to_numpy(np.int64)
    common = (
        groups["pattern"].to_numpy(np.int64)[pair_group]
        & open_mask[pairs["site"].to_numpy(np.int64)]
    )
    enough = _DAY_COUNT[common] >= groups["days"].to_numpy(np.int64)[pair_group]
    has_usable = np.zeros(len(groups), dtype=bool)
    has_usable[pair_group[enough]] = True
    reason[(reason == "") & ~has_pair[membership]] = REASON_NO_SITE
    reason[(reason == "") & ~has_usable[membership]] = REASON_CLOSED
    reason[(reason == "") & ~placed] = REASON_FULL
    reason[placed] = ""
    return np.asarray(reason)
