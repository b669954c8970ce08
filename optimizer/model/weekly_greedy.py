"""Weekly plans built greedily: the LP's plan rounded, and the plan at zero multipliers.

Owns the greedy pass (:func:`_greedy`: the agents left, must-assign first then by
Lagrangian value, where desks remain), the rounding of an LP's solution
(:func:`_round`) and the plan to fall back on (:func:`_greedy_plan`); see
:mod:`optimizer.model.weekly`.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.weekly_data import _BITS, _best_per_group, _Data, _day_value, _price

#: Pairs per group the greedy plan tries (all for must-assign groups).
GREEDY_PAIRS = 4


def _round(
    data: _Data,
    lam: np.ndarray,
    mu: float,
    pair: np.ndarray,
    mask: np.ndarray,
    x: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Build a plan from the LP: its whole parts, then the rest greedily by Lagrangian value."""
    whole = np.floor(x + 1e-7).astype(np.int64)
    keep = whole > 0
    p_out, m_out, n_out = [pair[keep]], [mask[keep]], [whole[keep]]
    usage = np.zeros_like(data.desks)
    np.add.at(usage, data.site[pair[keep]], _BITS[mask[keep]].astype(np.int64) * whole[keep, None])
    free = data.desks - usage
    done = np.bincount(data.agent[pair[keep]], weights=whole[keep], minlength=data.n_groups)
    left = data.counts - done.astype(np.int64)
    room = None if data.limit is None else int(data.limit) - int(whole.sum())
    p2, m2, n2 = _greedy(data, lam, mu, free, left, room)
    return (
        np.concatenate([*p_out, p2]),
        np.concatenate([*m_out, m2]),
        np.concatenate([*n_out, n2]),
    )


def _greedy(
    data: _Data,
    lam: np.ndarray,
    mu: float,
    free: np.ndarray,
    left: np.ndarray,
    room: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place the agents left, must-assign first then by Lagrangian value, where desks remain.

    Never more than ``room`` agents (None: no limit), must-assign ones included: a
    plan over the limit is no plan (they come first, so they get the room first).
    ``free`` (desks left) and ``left`` (agents left per group) are updated in place.
    """
    out_p: list[int] = []
    out_m: list[int] = []
    out_n: list[int] = []
    candidate = (left[data.agent] > 0) & (data.must[data.agent] | (data.gain > 0))
    idx = np.flatnonzero(candidate)
    if idx.size == 0 or (room is not None and room <= 0):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, value = _price(data, lam, idx)
    # each group's best few pairs at these prices (every pair for must-assign groups)
    full = np.full(data.agent.size, -np.inf)
    full[idx] = value
    top, _ = _best_per_group(data, np.zeros(full.size, np.int64), full, candidate, GREEDY_PAIRS)
    idx = np.union1d(top, idx[data.must[data.agent[idx]]])
    order = np.lexsort((-full[idx], ~data.must[data.agent[idx]]))
    idx = idx[order]
    for p in idx.tolist():
        g = int(data.agent[p])
        if left[g] <= 0:
            continue
        if room is not None and room <= 0:
            break
        t = int(data.site[p])
        k = int(data.days[g])
        open_days = np.flatnonzero((data.usable[p] >> np.arange(5)) & 1 & (free[t] > 0))
        if open_days.size < k:
            continue
        day_value = _day_value(data, np.array([p]))[0]
        score = day_value[open_days] - lam[t, open_days]
        chosen = open_days[np.lexsort((-free[t, open_days], -score))[:k]]
        number = int(min(left[g], free[t, chosen].min()))
        if room is not None:
            number = min(number, room)
        if number <= 0 or (data.gain[p] + int(day_value[chosen].sum()) <= 0 and not data.must[g]):
            continue
        free[t, chosen] -= number
        left[g] -= number
        if room is not None:
            room -= number
        out_p.append(p)
        out_m.append(int((1 << chosen).sum()))
        out_n.append(number)
    return (
        np.array(out_p, dtype=np.int64),
        np.array(out_m, dtype=np.int64),
        np.array(out_n, dtype=np.int64),
    )


def _greedy_plan(data: _Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the greedy plan at zero multipliers: a plan to fall back on, found in a second."""
    room = None if data.limit is None else int(data.limit)
    zero = np.zeros(data.desks.shape)
    return _greedy(data, zero, 0.0, data.desks.copy(), data.counts.copy(), room)
