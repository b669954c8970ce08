"""Weekly plans for many groups: multipliers from a sample, an LP on a core of groups.

Owns the path taken above :data:`optimizer.model.weekly.LARGE_GROUPS` groups
(:func:`_large_plan`): the multipliers of a random sample's LP (or subgradient
steps), the groups whose choice is clear at them fixed, the LP of the core of
undecided groups, then a greedy pass; the bound is the Lagrangian on every pair.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optimizer.errors import InfeasibleError
from optimizer.model.weekly_data import (
    _BITS,
    Deadline,
    Progress,
    _better,
    _column_value,
    _Data,
    _lagrangian,
    _placed_all_must,
    _Placement,
    _value,
)
from optimizer.model.weekly_greedy import _greedy, _greedy_plan
from optimizer.model.weekly_lp import _column_generation, _subgradient, _top_columns

#: Groups in that sample (at 100,000 x 200: 0.13 % from the bound with 25,000, 0.7 % with
#: 15,000 and a core of 15,000).
SAMPLE_GROUPS = 25_000
#: Groups whose choice is least clear at the sample's multipliers, solved by LP.
CORE_GROUPS = 30_000
#: HiGHS's LP method for the core of large problems (interior point, then crossover to a
#: vertex: many times faster than dual simplex on those degenerate LPs).
CORE_LP_METHOD = "highs-ipm"


def _subset(data: _Data, pick: np.ndarray, desks: np.ndarray, limit: float | None) -> _Data:
    """Keep the groups in ``pick`` (renumbered), with these desks and limit."""
    new_id = np.cumsum(pick) - 1
    rows = np.flatnonzero(pick[data.agent])
    return _Data(
        agent=new_id[data.agent[rows]],
        site=data.site[rows],
        gain=data.gain[rows],
        usable=data.usable[rows],
        counts=data.counts[pick],
        days=data.days[pick],
        pref_bits=data.pref_bits[pick],
        preferred=data.preferred[pick],
        bonus=data.bonus,
        kept=data.kept[rows],
        keep=data.keep,
        desks=desks,
        must=data.must[pick],
        limit=limit,
    )


def _large_plan(
    data: _Data, deadline: Deadline, report: Progress
) -> tuple[np.ndarray, float, float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Multipliers from a sample, then the LP on a core of undecided groups; a plan and bound.

    1. The configuration LP of about :data:`SAMPLE_GROUPS` groups drawn at
       random, with their share of the desks (and of the limit), gives
       multipliers close to the whole LP's; :math:`L` at them, priced on every
       pair, is the bound.
    2. At those multipliers most groups are clearly in (best column well
       above zero and well above their second best) or clearly out (best
       column below zero). The :data:`CORE_GROUPS` least clear form the core;
       the clearly-in take their best column (released into the core where a
       desk-day would be over-used); the core's LP, solved by column
       generation on the desks left, is rounded down; a greedy pass then
       places whoever still fits. (The core only shapes the plan: the bound
       is :math:`L`, valid whatever the core.)

    Returns ``(lam, mu, bound, plan)``.
    """
    fallback = _greedy_plan(data)
    lam, mu, lagrangian = _sample_multipliers(data, fallback, deadline, report)
    choice = _choices(data, lam, mu)
    use = _release(data, choice)
    free = data.desks - use
    placed_fixed = int(data.counts[choice.fixed].sum())
    room = None if data.limit is None else max(0.0, data.limit - placed_fixed)
    core_data = _subset(data, choice.core, free.copy(), room)
    report(
        f"core of {int(choice.core.sum())} groups, {int(choice.fixed.sum())} fixed",
        0.0,
        lagrangian,
    )
    c_lam, c_mu, core_columns = _core_lp(core_data, lam, mu, deadline, report)
    # the core's multipliers are multipliers too: keep the smaller L
    other, _, _ = _lagrangian(data, c_lam, c_mu)
    if other < lagrangian:
        lagrangian, lam, mu = other, c_lam, c_mu
    report("Lagrangian bound at the core's multipliers", 0.0, other)
    plan = _core_plan(data, choice, core_data, core_columns, (lam, mu))
    return lam, mu, lagrangian, _better(data, plan, fallback)


def _sample_multipliers(
    data: _Data, fallback: _Placement, deadline: Deadline, report: Progress
) -> tuple[np.ndarray, float, float]:
    """Multipliers from the LP of a sample of groups (subgradient steps when it is all).

    Returns ``(lam, mu, L)``, :math:`L` at them priced on every pair.
    """
    pick = np.random.default_rng(2015).random(data.n_groups) < SAMPLE_GROUPS / data.n_groups
    if pick.all():
        # the sample would be the whole problem, whose LP may not end in time (and an LP
        # stopped by the limit gives nothing): the multipliers come from subgradient steps
        low = _value(data, *fallback) if _placed_all_must(data, fallback) else 0.0
        return _subgradient(data, low, deadline.share(0.5), report)
    share = float(data.counts[pick].sum()) / max(1.0, float(data.counts.sum()))
    sample = _subset(
        data, pick, data.desks * share, None if data.limit is None else data.limit * share
    )
    # any multipliers give a valid bound: the sample need not place its must-assign groups
    sample.must = np.zeros_like(sample.must)
    lam, mu, _, _, _ = _column_generation(
        sample,
        deadline.share(0.25),
        lambda stage, objective, bound: report(f"sample: {stage}", objective, bound),
    )
    lagrangian, _, _ = _lagrangian(data, lam, mu)
    report("Lagrangian bound at the sample's multipliers", 0.0, lagrangian)
    return lam, mu, lagrangian


class _Choices(NamedTuple):
    """Each group's best column at the sample's multipliers and what is decided of it."""

    r1: np.ndarray  # the best column's reduced value (-inf: no column)
    best_pair: np.ndarray  # its pair (-1: none)
    best_mask: np.ndarray  # its weekdays
    core: np.ndarray  # the groups left to the core's LP (updated by _release)
    fixed: np.ndarray  # the groups that take their best column (updated by _release)


def _choices(data: _Data, lam: np.ndarray, mu: float) -> _Choices:
    """Each group's two best columns and how clear its choice is: the core and the fixed."""
    pair, mask = _top_columns(data, lam, mu, 2)
    group = data.agent[pair]
    reduced = (
        _column_value(data, pair, mask) - (_BITS[mask] * lam[data.site[pair]]).sum(axis=1) - mu
    )
    first = np.r_[True, group[1:] != group[:-1]]
    r1 = np.full(data.n_groups, -np.inf)
    r2 = np.full(data.n_groups, -np.inf)
    r1[group[first]] = reduced[first]
    r2[group[~first]] = reduced[~first]
    best_pair = np.full(data.n_groups, -1)
    best_mask = np.zeros(data.n_groups, np.int64)
    best_pair[group[first]] = pair[first]
    best_mask[group[first]] = mask[first]
    with np.errstate(invalid="ignore"):
        clear = np.where(r1 > 0, np.minimum(r1, r1 - r2), -r1)
    clear[data.must & (r1 <= 0)] = np.inf
    clear[best_pair < 0] = np.inf
    core = np.zeros(data.n_groups, dtype=bool)
    core[np.argsort(clear)[:CORE_GROUPS]] = True
    fixed = ~core & (best_pair >= 0) & ((r1 > 0) | data.must)
    return _Choices(r1, best_pair, best_mask, core, fixed)


def _release(data: _Data, choice: _Choices) -> np.ndarray:
    """Release fixed groups into the core until they fit the desks and the limit.

    The fixed groups of least value go first, from every over-used desk-day,
    then while more fixed agents than the limit allows (groups that must be
    placed last, else the limit is taken and the core cannot place them).
    Updates ``choice.core`` and ``choice.fixed``; returns the desks the fixed
    groups use, ``(n_sites, 5)``.
    """
    r1, best_pair, best_mask, core, fixed = choice
    use = np.zeros_like(data.desks)
    np.add.at(
        use,
        data.site[best_pair[fixed]],
        _BITS[best_mask[fixed]].astype(np.int64) * data.counts[fixed, None],
    )

    def drop(on: np.ndarray, excess: float) -> None:
        gone = on[np.cumsum(data.counts[on]) - data.counts[on] < excess]
        fixed[gone] = False
        core[gone] = True
        np.add.at(
            use,
            data.site[best_pair[gone]],
            -_BITS[best_mask[gone]].astype(np.int64) * data.counts[gone, None],
        )

    for t, d in zip(*np.nonzero(use > data.desks), strict=True):
        on = np.flatnonzero(
            fixed & (data.site[np.maximum(best_pair, 0)] == t) & ((best_mask >> d) & 1 == 1)
        )
        on = on[np.lexsort((r1[on], data.must[on]))]  # must-assign groups last
        drop(on, use[t, d] - data.desks[t, d])
    if data.limit is not None and data.counts[fixed].sum() > data.limit:
        on = np.flatnonzero(fixed)
        on = on[np.lexsort((r1[on], data.must[on]))]
        drop(on, data.counts[on].sum() - data.limit)
    return use


def _core_lp(
    core_data: _Data, lam: np.ndarray, mu: float, deadline: Deadline, report: Progress
) -> tuple[np.ndarray, float, _Placement]:
    """Solve the core's LP by column generation from the sample's multipliers."""
    try:
        c_lam, c_mu, columns, _, _ = _column_generation(
            core_data,
            deadline.share(0.85),
            lambda stage, objective, bound: report(f"core: {stage}", objective, bound),
            lam,
            mu,
            CORE_LP_METHOD,
        )
    except InfeasibleError:
        # the fixed groups took desks the core's must-assign groups need: the greedy
        # pass places those first (and the final check says if it cannot)
        core_data.must = np.zeros_like(core_data.must)
        c_lam, c_mu, columns, _, _ = _column_generation(
            core_data, deadline.share(0.85), report, lam, mu, CORE_LP_METHOD
        )
    return c_lam, c_mu, columns


def _core_plan(
    data: _Data,
    choice: _Choices,
    core_data: _Data,
    core_columns: _Placement,
    multipliers: tuple[np.ndarray, float],
) -> _Placement:
    """Build the plan: the fixed groups' best columns, the core LP's whole parts, then greedy."""
    lam, mu = multipliers
    c_pair, c_mask, c_x = core_columns
    fixed = choice.fixed
    whole = np.floor(c_x + 1e-7).astype(np.int64)
    keep = whole > 0
    core_ids = np.flatnonzero(choice.core)
    core_start = np.searchsorted(data.agent, core_ids)
    # map core pairs back: pairs of a group are contiguous in both numberings
    core_first = np.searchsorted(core_data.agent, np.arange(core_ids.size))
    c_group = core_data.agent[c_pair[keep]]
    full_pair = core_start[c_group] + (c_pair[keep] - core_first[c_group])
    p_all = np.concatenate([choice.best_pair[fixed], full_pair])
    m_all = np.concatenate([choice.best_mask[fixed], c_mask[keep]])
    n_all = np.concatenate([data.counts[fixed], whole[keep]])
    usage = np.zeros_like(data.desks)
    np.add.at(usage, data.site[p_all], _BITS[m_all].astype(np.int64) * n_all[:, None])
    left = data.counts - np.bincount(
        data.agent[p_all], weights=n_all, minlength=data.n_groups
    ).astype(np.int64)
    room_left = None if data.limit is None else int(data.limit) - int(n_all.sum())
    p2, m2, n2 = _greedy(data, lam, mu, data.desks - usage, left, room_left)
    return np.concatenate([p_all, p2]), np.concatenate([m_all, m2]), np.concatenate([n_all, n2])
