"""The weekly pairs model's data: inputs, plans, the deadline and the price of columns.

Owns what every stage of :func:`optimizer.model.weekly.solve_weekly_pairs` shares:
the weekday-set bit tables, the :class:`Deadline` handed down, the plan returned
(:class:`WeeklyPairsPlan`), the validated inputs (:class:`_Data`,
:func:`_validated`), each pair's best day set and the Lagrangian :math:`L` at
given multipliers (:func:`_price`, :func:`_lagrangian`), and the value of columns
and plans (:func:`_column_value`, :func:`_value`, :func:`_better`). The model and
its proof are described in :mod:`optimizer.model.weekly`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optimizer.errors import InfeasibleError, InputError

#: Called with (stage, objective, bound) as the solve progresses.
Progress = Callable[[str, float, float], None]


#: A plan, or columns with agents on them: ``(pair, mask, count)``.
_Placement = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Pairs priced at once (bounds the memory of pricing).
CHUNK = 1 << 18
_BITS = np.array([[(mask >> d) & 1 for d in range(5)] for mask in range(32)], dtype=np.float64)
_SIZE = _BITS.sum(axis=1).astype(np.int64)
_BY_SIZE = [np.flatnonzero(np.equal(_SIZE, k)) for k in range(6)]


@dataclass(frozen=True)
class Deadline:
    """When a solve must end: ``start`` (a :func:`time.perf_counter` time) plus ``limit`` s.

    One object is handed down to every stage; each LP and integer program is
    given the time left (:meth:`left`), and a stage given a share of the solve
    ends at :meth:`share`'s deadline.
    """

    start: float
    limit: float
    #: The stages the clock, not their work, ended (shared by every share of the deadline):
    #: where they are, another run on a faster or slower machine may find another plan.
    cut: list[str] = field(default_factory=list, compare=False)

    @classmethod
    def after(cls, limit: float, cut: list[str] | None = None) -> Deadline:
        """Return the deadline ``limit`` seconds from now (recording cuts in ``cut``)."""
        return cls(time.perf_counter(), float(limit), [] if cut is None else cut)

    @property
    def end(self) -> float:
        """The :func:`time.perf_counter` time of the deadline."""
        return self.start + self.limit

    def left(self) -> float:
        """Seconds left (negative once passed)."""
        return self.end - time.perf_counter()

    def passed(self) -> bool:
        """Say whether the deadline is reached."""
        return self.left() <= 0.0

    def share(self, fraction: float) -> Deadline:
        """Return the deadline at ``fraction`` of this one's limit, from the same start."""
        return Deadline(self.start, fraction * self.limit, self.cut)

    def note_cut(self, stage: str) -> None:
        """Record that the clock ended (or skipped) ``stage`` before its work was done."""
        if stage not in self.cut:
            self.cut.append(stage)


class _OutOfTimeError(Exception):
    """An LP stopped by its time limit: no solution, no multipliers to read."""


@dataclass(frozen=True)
class WeeklyPrices:
    r"""The multipliers of the plan's Lagrangian bound and :math:`L` at them.

    Attributes
    ----------
    day
        ``(n_sites, 5)`` :math:`\lambda_{td} \ge 0`: the price of a desk-day.
    mu
        :math:`\mu \ge 0`: the price of the limit on agents placed.
    lagrangian
        :math:`L(\lambda, \mu)` on the pairs solved (not rounded).
    """

    day: np.ndarray
    mu: float
    lagrangian: float


@dataclass(frozen=True)
class WeeklyPairsPlan:
    """A weekly plan on pairs.

    Attributes
    ----------
    group, site, mask, count
        One row per placement: ``count`` agents of ``group`` at ``site`` on
        the weekdays of the 5-bit ``mask`` (bit 0 Monday).
    objective
        The plan's value (whole units: gains plus day bonuses).
    bound
        A valid upper bound on every plan's value (whole units).
    status
        ``"optimal"`` when proven, else ``"feasible"``.
    prices
        The multipliers of the Lagrangian bound met (None when the plan was
        proven without them: the split-days flow, or no pair).
    wider_bound
        With ``hopeful`` pairs (see :func:`optimizer.model.weekly.solve_weekly_pairs`):
        a bound on every plan that may also use them, at any gain up to theirs.
    hopeful_out
        With ``hopeful`` pairs: for each, in the order given, True when it
        cannot raise that bound above :attr:`bound` (on its own; see
        :mod:`optimizer.model.weekly_hopeful`).
    time_cut
        The stages that the time limit ended before their work was done
        (column generation, subgradient steps, integer programs): empty when
        every stage ended by its own rule (convergence, node limits), so that
        the plan does not depend on the machine's speed; else another run may
        find another plan.
    """

    group: np.ndarray
    site: np.ndarray
    mask: np.ndarray
    count: np.ndarray
    objective: int
    bound: int
    status: str
    prices: WeeklyPrices | None = None
    wider_bound: int | None = None
    hopeful_out: np.ndarray | None = None
    time_cut: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        """True when the plan is proven optimal."""
        return self.status == "optimal"

    @property
    def gap(self) -> float:
        """Relative distance between the objective and the bound."""
        return (self.bound - self.objective) / max(1.0, abs(self.bound))

    def days(self) -> np.ndarray:
        """``(rows, 5)`` booleans: the weekdays of each placement."""
        return np.asarray(_BITS[self.mask] > 0)


@dataclass
class _Data:
    """Validated inputs, pairs sorted by group, unusable pairs dropped."""

    agent: np.ndarray
    site: np.ndarray
    gain: np.ndarray
    usable: np.ndarray  # 5-bit mask of each pair's usable days
    counts: np.ndarray
    days: np.ndarray
    pref_bits: np.ndarray  # (G,) 5-bit mask
    preferred: np.ndarray  # (G, 5) float
    bonus: int
    kept: np.ndarray  # (P,) 5-bit mask of the days each pair is worth ``keep`` more on
    keep: int
    desks: np.ndarray
    must: np.ndarray
    limit: float | None
    index: np.ndarray | None = None  # each pair's position in the pairs given

    @property
    def n_groups(self) -> int:
        return int(self.counts.size)


def _validated(
    pair_agent: np.ndarray,
    pair_site: np.ndarray,
    pair_gain: np.ndarray,
    counts: np.ndarray | None,
    days: np.ndarray,
    allowed: np.ndarray,
    preferred: np.ndarray,
    bonus: int,
    desks: np.ndarray,
    must: np.ndarray | None,
    limit: int | None,
    kept: np.ndarray | None = None,
    keep: int = 0,
) -> _Data:
    agent = np.asarray(pair_agent, dtype=np.int64).ravel()
    site = np.asarray(pair_site, dtype=np.int64).ravel()
    gain = np.asarray(pair_gain, dtype=np.int64).ravel()
    d = np.asarray(days, dtype=np.int64).ravel()
    g_count = d.size
    counts_ = np.ones(g_count, np.int64) if counts is None else np.asarray(counts, np.int64)
    allowed_ = np.asarray(allowed, dtype=bool)
    preferred_ = np.asarray(preferred, dtype=bool)
    desks_ = np.asarray(desks, dtype=np.int64)
    must_ = np.zeros(g_count, bool) if must is None else np.asarray(must, dtype=bool)
    _check(agent, site, gain, (counts_, must_, allowed_, preferred_), desks_, d, limit)
    weights = 1 << np.arange(5)
    kept_bits = _kept_bits(agent, kept, keep)
    open_bits = (desks_ > 0).astype(np.int64) @ weights
    allowed_bits = allowed_.astype(np.int64) @ weights
    usable = allowed_bits[agent] & open_bits[site]
    fits = _SIZE[usable] >= d[agent]
    order = np.argsort(agent[fits], kind="stable")
    idx = np.flatnonzero(fits)[order]
    # a group of no agents has nobody to place: "must" says nothing of it (with no pair it
    # would make the problem look infeasible)
    must_ = must_ & (counts_ > 0)
    if limit is not None and limit >= int(counts_.sum()):
        limit = None
    return _Data(
        agent=agent[idx],
        site=site[idx],
        gain=gain[idx],
        usable=usable[idx],
        counts=counts_,
        days=d,
        pref_bits=preferred_.astype(np.int64) @ weights,
        preferred=preferred_.astype(np.float64),
        bonus=int(bonus),
        kept=kept_bits[idx],
        keep=int(keep),
        desks=desks_,
        must=must_,
        limit=limit,
        index=idx,
    )


def _check(
    agent: np.ndarray,
    site: np.ndarray,
    gain: np.ndarray,
    groups: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    desks_: np.ndarray,
    d: np.ndarray,
    limit: int | None,
) -> None:
    """Raise :class:`InputError` on inputs of the wrong shape or out of range.

    ``groups`` is ``(counts, must, allowed, preferred)``; ``d`` the days of each group.
    """
    counts_, must_, allowed_, preferred_ = groups
    g_count = d.size
    m = desks_.shape[0] if desks_.ndim == 2 else -1
    if not (agent.shape == site.shape == gain.shape):
        msg = "pair_agent, pair_site and pair_gain must have the same length."
        raise InputError(msg)
    if counts_.shape != (g_count,) or must_.shape != (g_count,) or np.any(counts_ < 0):
        msg = f"counts and must need one entry per group ({g_count}), counts >= 0."
        raise InputError(msg)
    if allowed_.shape != (g_count, 5) or preferred_.shape != (g_count, 5):
        msg = f"allowed and preferred must be {g_count} x 5 booleans."
        raise InputError(msg)
    if desks_.ndim != 2 or desks_.shape[1] != 5 or np.any(desks_ < 0):
        msg = "desks must be whole numbers >= 0, one row per telecentre, 5 weekdays."
        raise InputError(msg)
    if np.any((d < 1) | (d > 5)):
        msg = "telework days must be 1 to 5."
        raise InputError(msg)
    if agent.size and (
        agent.min() < 0 or agent.max() >= g_count or site.min() < 0 or site.max() >= m
    ):
        msg = "pairs must name groups and telecentres within the problem."
        raise InputError(msg)
    if limit is not None and limit < 0:
        msg = f"limit must be 0 or more, got {limit}."
        raise InputError(msg)


def _kept_bits(agent: np.ndarray, kept: np.ndarray | None, keep: int) -> np.ndarray:
    """Each pair's 5-bit mask of kept weekdays (none when ``keep`` is 0)."""
    if kept is None or keep == 0:
        return np.zeros(agent.size, dtype=np.uint8)
    kept_ = np.asarray(kept, dtype=np.int64).ravel()
    if kept_.shape != agent.shape or np.any((kept_ < 0) | (kept_ > 31)) or keep < 0:
        msg = f"kept must be {agent.size} weekday masks 0-31 (one per pair), keep >= 0."
        raise InputError(msg)
    return kept_.astype(np.uint8)


def _plan(
    data: _Data,
    placed: tuple[np.ndarray, np.ndarray, np.ndarray],
    objective: int,
    bound: float,
    proven: bool,
    prices: WeeklyPrices | None = None,
) -> WeeklyPairsPlan:
    pairs, masks, number = placed
    return WeeklyPairsPlan(
        group=data.agent[pairs],
        site=data.site[pairs],
        mask=masks.astype(np.uint8),
        count=number.astype(np.int64),
        objective=int(objective),
        bound=int(max(bound, objective)),
        status="optimal" if proven else "feasible",
        prices=prices,
    )


def _whole_bound(value: float) -> float:
    """Round a bound down to a whole value, after a margin for floating-point error."""
    return float(_whole_bounds(np.asarray(value, dtype=np.float64)))


def _whole_bounds(values: np.ndarray) -> np.ndarray:
    """:func:`_whole_bound` of each value."""
    return np.floor(values + 1e-6 + 1e-10 * np.abs(values))


def _placed_all_must(data: _Data, placed: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
    if not np.any(data.must):
        return True
    got = np.bincount(data.agent[placed[0]], weights=placed[2], minlength=data.n_groups)
    return bool(np.all(got[data.must] >= data.counts[data.must]))


def _value(data: _Data, pair: np.ndarray, mask: np.ndarray, count: np.ndarray) -> int:
    return int((_column_value(data, pair, mask) * count).sum())


def _better(
    data: _Data,
    plan: tuple[np.ndarray, np.ndarray, np.ndarray],
    other: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the better plan: the one placing every must-assign group, then the higher value."""
    if other is None:
        return plan

    def key(p: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[bool, int]:
        return _placed_all_must(data, p), _value(data, *p)

    return other if key(other) > key(plan) else plan


def _day_value(data: _Data, pairs: np.ndarray) -> np.ndarray:
    """``(len(pairs), 5)`` worth of each weekday on each pair: preferred and kept bonuses."""
    value = data.bonus * data.preferred[data.agent[pairs]]
    if data.keep:
        value = value + data.keep * _BITS[data.kept[pairs]]
    return np.asarray(value)


def _price(
    data: _Data, lam: np.ndarray, rows: np.ndarray | slice = slice(None)
) -> tuple[np.ndarray, np.ndarray]:
    r"""Each pair's best day set under day prices ``lam`` and its Lagrangian value.

    Returns ``(mask, value)``: value is :math:`w_p + \max_S \sum_{d \in S}
    (b[\text{pref}] + k[\text{kept}] - \lambda_{td})` (without :math:`\mu`).
    """
    pairs = np.arange(data.agent.size)[rows]
    best_mask = np.zeros(pairs.size, dtype=np.int64)
    best_value = np.zeros(pairs.size, dtype=np.float64)
    need = data.days[data.agent[pairs]]
    for k in range(1, 6):
        where = np.flatnonzero(need == k)
        masks = _BY_SIZE[k]
        bits = _BITS[masks].T  # (5, n_masks)
        for lo in range(0, where.size, CHUNK):
            sel = where[lo : lo + CHUNK]
            p = pairs[sel]
            day_value = _day_value(data, p) - lam[data.site[p]]
            values = day_value @ bits
            fits = (masks[None, :] & ~data.usable[p][:, None]) == 0
            values = np.where(fits, values, -np.inf)
            arg = values.argmax(axis=1)
            best_mask[sel] = masks[arg]
            best_value[sel] = values[np.arange(sel.size), arg] + data.gain[p]
    return best_mask, best_value


def _group_best(data: _Data, value: np.ndarray) -> np.ndarray:
    """Best value of each group over its pairs (-inf when it has none)."""
    best = np.full(data.n_groups, -np.inf)
    np.maximum.at(best, data.agent, value)
    return best


def _best_per_group(
    data: _Data, mask: np.ndarray, value: np.ndarray, candidate: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pick the ``width`` best candidate pairs of each group (pairs are sorted by group)."""
    idx = np.flatnonzero(candidate)
    if idx.size == 0:
        return idx, idx
    order = np.lexsort((-value[idx], data.agent[idx]))
    idx = idx[order]
    group = data.agent[idx]
    first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    rank = np.arange(idx.size) - np.repeat(first, np.diff(np.r_[first, idx.size]))
    idx = idx[rank < width]
    return idx, mask[idx]


def _lagrangian(data: _Data, lam: np.ndarray, mu: float) -> tuple[float, np.ndarray, np.ndarray]:
    """``L(lam, mu)`` on all pairs, with each pair's best mask and value (mu not subtracted)."""
    mask, value = _price(data, lam)
    best = _group_best(data, value) - mu
    if np.any(np.isneginf(best[data.must] if np.any(data.must) else np.zeros(0))):
        msg = "an agent who must be assigned has no telecentre open on enough of its days."
        raise InfeasibleError(msg)
    take = np.where(data.must, best, np.maximum(best, 0.0))
    total = float((data.counts * np.where(np.isneginf(take), 0.0, take)).sum())
    total += float((lam * data.desks).sum())
    if data.limit is not None:
        total += mu * data.limit
    return total, mask, value


def _column_value(data: _Data, pair: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Whole value of columns: the pair's gain plus the bonuses of preferred and kept days."""
    granted = _SIZE[mask & data.pref_bits[data.agent[pair]]]
    kept = _SIZE[mask & data.kept[pair]] if data.keep else 0
    return np.asarray(data.gain[pair] + data.bonus * granted + data.keep * kept)
