"""Dedicated desks in a national plan (``--dedicated-desks``): one desk per agent, all week.

An agent holds one of its site's desks on every day the site is open, so a
site hosts at most its dedicated desks
(:func:`optimizer.schedule.dedicated_capacities`: its desks on its
least-furnished open day), whatever the agents' telework days; a pair is
usable only where its site opens on as many of the group's allowed weekdays
as it teleworks (:func:`usable`), as in a plain run.

The plan is then a transportation problem, a min-cost flow for agents of 1
to 5 telework days alike, so it is exact at any size: :func:`solve_dedicated`
gives it to :func:`.solve.solve_groups` as if every group teleworked on
Monday at sites holding their dedicated desks on Monday (:func:`flow_view`),
which is that flow exactly, and the same view prices the pairs not certified
(:func:`priced_out`). Each placed group's weekdays are then chosen as a plain
run chooses them (:func:`optimizer.schedule.dedicated_days`): its preferred
days first, then the earliest, among the days it can and its site is open.
As in a plain run, the day bonus only chooses those days: it is not in the
objective.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from optimizer.national.groups import pairs_on_enough_days
from optimizer.national.solve import FlowPrices, GroupPlan, solve_groups
from optimizer.schedule import dedicated_capacities, dedicated_days

#: The one weekday of the flow's view (Monday, bit 0).
_VIEW_DAY = 1


def usable(
    groups: pd.DataFrame, desks: np.ndarray, group: np.ndarray, site: np.ndarray
) -> np.ndarray:
    """Per (``group``, ``site``) pair: its site opens on enough of the group's days to host it.

    Parameters
    ----------
    groups
        The groups (``pattern``: allowed weekdays, ``days``: telework days).
    desks
        ``(n_sites, 5)`` desks per weekday.
    group, site
        The pairs.

    Returns
    -------
    numpy.ndarray
        Booleans, one per pair.
    """
    return pairs_on_enough_days(groups, group, site, np.asarray(desks) > 0)


def flow_view(desks: np.ndarray) -> np.ndarray:
    """``(n_sites, 5)`` desks as the flow sees them: each site's dedicated desks on Monday."""
    view = np.zeros(np.shape(desks), dtype=np.int64)
    view[:, 0] = dedicated_capacities(desks)
    return view


def solve_dedicated(
    pairs: pd.DataFrame, groups: pd.DataFrame, desks: np.ndarray, limit: int | None = None
) -> GroupPlan:
    """Plan with dedicated desks: the exact flow, then each group's weekdays.

    Parameters
    ----------
    pairs
        ``group, site, gain``: eligible pairs and their whole weekly gain.
    groups
        The groups (``size, pattern, days, wanted``).
    desks
        ``(n_sites, 5)`` desks per weekday.
    limit
        At most this many agents placed (``--select``; None: no limit).

    Returns
    -------
    GroupPlan
        ``placements`` as ``group, site, days, agents`` (``days`` the 5-bit
        mask of the weekdays each of those agents teleworks there).
    """
    group = pairs["group"].to_numpy(np.int64)
    site = pairs["site"].to_numpy(np.int64)
    keep = usable(groups, desks, group, site)
    sizes = groups["size"].to_numpy(np.int64)
    plan = solve_groups(
        sizes,
        np.full(sizes.size, _VIEW_DAY, dtype=np.int64),
        group[keep],
        site[keep],
        pairs["gain"].to_numpy(np.int64)[keep],
        flow_view(desks),
        limit=limit,
    )
    placed = plan.placements.groupby(["group", "site"], sort=True)["agents"].sum().reset_index()
    return replace(plan, placements=_with_days(placed, groups, desks))


def _with_days(placed: pd.DataFrame, groups: pd.DataFrame, desks: np.ndarray) -> pd.DataFrame:
    """Give each placed group its weekdays there (:func:`optimizer.schedule.dedicated_days`)."""
    bits = 1 << np.arange(5)
    pattern = groups["pattern"].to_numpy(np.int64)
    wanted = groups["wanted"].to_numpy(np.int64)
    days = groups["days"].to_numpy(np.int64)
    open_days = np.asarray(desks) > 0
    masks = []
    for g, j in placed[["group", "site"]].itertuples(index=False):
        on = ((pattern[g] & bits) > 0) & open_days[j]
        masks.append(int(dedicated_days(on, (wanted[g] & bits) > 0, days[g]) @ bits))
    out = placed.assign(days=np.asarray(masks, dtype=np.int64))
    return out[["group", "site", "days", "agents"]].astype(np.int64)


def priced_out(
    prices: FlowPrices,
    groups: pd.DataFrame,
    desks: np.ndarray,
    group: np.ndarray,
    site: np.ndarray,
    gain: np.ndarray,
) -> np.ndarray:
    """Per pair not certified: whether it surely cannot improve the plan.

    Its site never hosts the group (not open on enough of its days), or the
    flow's prices rule it out at its best ``gain``
    (:meth:`.solve.FlowPrices.cannot_improve` on the flow's view).
    """
    one_day = np.full(len(groups), _VIEW_DAY, dtype=np.int64)
    ruled = prices.cannot_improve(group, site, gain, one_day, flow_view(desks))
    return np.asarray(ruled | ~usable(groups, desks, group, site))


def room(
    groups: pd.DataFrame, pairs: pd.DataFrame, desks: np.ndarray, placements: pd.DataFrame
) -> np.ndarray:
    """Per group: an agent of it would fit at one of its eligible sites as the plan stands.

    A site that opens on enough of its days and hosts fewer agents than its
    dedicated desks (the rule of :func:`optimizer.pipeline.reasons.room_on_days`).
    """
    capacity = dedicated_capacities(desks)
    load = np.bincount(
        placements["site"].to_numpy(np.int64),
        weights=placements["agents"].to_numpy(np.int64),
        minlength=capacity.size,
    )
    group = pairs["group"].to_numpy(np.int64)
    site = pairs["site"].to_numpy(np.int64)
    fits = usable(groups, desks, group, site) & (load[site] < capacity[site])
    out = np.zeros(len(groups), dtype=bool)
    out[group[fits]] = True
    return out
