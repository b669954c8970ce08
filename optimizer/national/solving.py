"""Which solver plans a national plan's pairs, and the bound of the pairs not certified.

:func:`solve_pairs` sends the pairs to the exact group flow (one telework day
each), to the dedicated-desk flow (:mod:`.dedicated`, any days) or to the
weekly configuration model (1 to 5 days on desks shared by weekday);
:func:`best_case` gives the pairs not certified at their best gains, and
:func:`wider_bound` the bound of every plan on the merged network that they
may improve. Used by :mod:`.plan` for the plan, its prices and its bounds.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from optimizer.national.dedicated import solve_dedicated
from optimizer.national.evaluation import Evaluation
from optimizer.national.options import NationalOptions
from optimizer.national.solve import GroupPlan, solve_groups, solve_weekly_groups

logger = logging.getLogger(__name__)


def solve_pairs(
    pairs: pd.DataFrame,
    groups: pd.DataFrame,
    desks: np.ndarray,
    opts: NationalOptions,
    hopeful: pd.DataFrame | None = None,
) -> GroupPlan:
    """Solve the plan on ``pairs``: a flow (one day each, or dedicated desks), else weekly.

    The weekly model plans agents of 1 to 5 days on desks shared by weekday.
    ``hopeful`` (``group, site, gain``, the weekly model only): pairs not
    certified, at their best gains, to price.
    """
    if opts.dedicated_desks:
        return solve_dedicated(pairs, groups, desks, opts.select)
    arrays = (
        pairs["group"].to_numpy(np.int64),
        pairs["site"].to_numpy(np.int64),
        pairs["gain"].to_numpy(np.int64),
        desks,
    )
    sizes, patterns = groups["size"].to_numpy(np.int64), groups["pattern"].to_numpy(np.int64)
    days = groups["days"].to_numpy(np.int64)
    wanted, day_bonus = groups["wanted"].to_numpy(np.int64), round(opts.day_bonus * opts.unit)
    if bool(np.all(days == 1)):
        return solve_groups(
            sizes, patterns, *arrays, limit=opts.select, preferred=wanted, day_bonus=day_bonus
        )
    given = None
    if hopeful is not None:
        given = (
            hopeful["group"].to_numpy(np.int64),
            hopeful["site"].to_numpy(np.int64),
            hopeful["gain"].to_numpy(np.int64),
        )
    return solve_weekly_groups(
        sizes,
        days,
        patterns,
        *arrays,
        time_limit_s=opts.time_limit_s,
        hopeful=given,
        limit=opts.select,
        preferred=wanted,
        day_bonus=day_bonus,
    )


def best_case(state: Evaluation, groups: pd.DataFrame) -> pd.DataFrame:
    """``group, site, gain``: every pair not certified at its best weekly gain.

    Its saving at the lower bounds of its times, which no time of the merged
    network beats (:meth:`.evaluation.Evaluation.best_gain`).
    """
    best = state.unknown
    return pd.DataFrame(
        {
            "group": best["group"].to_numpy(np.int64),
            "site": best["site"].to_numpy(np.int64),
            "gain": state.best_gain(groups),
        }
    )


def wider_bound(
    state: Evaluation,
    plan: GroupPlan,
    groups: pd.DataFrame,
    desks: np.ndarray,
    opts: NationalOptions,
) -> int:
    """Bound every plan on the merged network: the pairs not certified at their best savings.

    The plan is solved again with every pair not certified added at its best
    case (``best_saving_s``: its saving at the lower bounds of its times,
    which no time of the merged network beats), beside the certified pairs.
    That problem's bound bounds the merged network's plans; when it is no
    more than the plan's (``plan.bound``, the plan's gain when proven), no
    time the pairs not certified may have improves on the plan's bound, each
    pair alone or all together. The weekly model computed it already, when
    given those pairs (``plan.wider_bound``).
    """
    if plan.wider_bound is not None:
        return int(plan.wider_bound)
    hopeful = best_case(state, groups)
    # the unknown pairs are none of the certified ones: no pair twice
    wider = pd.concat([state.pairs[["group", "site", "gain"]], hopeful], ignore_index=True)
    bound = solve_pairs(wider, groups, desks, opts).bound
    logger.info(
        "%d pair(s) not certified at their best: bound %d s against the plan's %d s",
        len(hopeful),
        bound,
        plan.bound,
    )
    return int(max(bound, plan.bound))
