r"""The configuration LP of weekly plans, its integer programs and the proof (HiGHS).

Owns the column generation (:func:`_column_generation`: the LP on a growing set
of columns, priced on every pair, keeping the smallest Lagrangian bound met),
the subgradient steps on :math:`L` (:func:`_subgradient`), HiGHS's integer
program on given columns (:func:`_mip`) and the proof by reduced-cost fixing
(:func:`_surviving`, :func:`_prove`); see :mod:`optimizer.model.weekly`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, linprog, milp

from optimizer.errors import InfeasibleError, SolverError
from optimizer.model.weekly_data import (
    _BITS,
    _BY_SIZE,
    CHUNK,
    Deadline,
    Progress,
    _best_per_group,
    _column_value,
    _Data,
    _day_value,
    _group_best,
    _lagrangian,
    _OutOfTimeError,
    _placed_all_must,
    _price,
    _whole_bound,
)

logger = logging.getLogger(__name__)


#: HiGHS's LP method (dual simplex: a vertex, so that few agents are split).
LP_METHOD = "highs-ds"
#: Columns per group in the first LP (each group's best at the first multipliers).
START_COLUMNS = 4
#: Columns added per group and round of column generation.
NEW_COLUMNS = 2
#: Most rounds of column generation.
MAX_ROUNDS = 60
#: Most subgradient steps on the Lagrangian bound (one pricing of every pair each) ...
SUBGRADIENT_ROUNDS = 100
#: ... the step halved after this many without a lower bound.
SUBGRADIENT_PATIENCE = 5
#: The shortest time limit an LP is given (HiGHS reads a limit of 0 as none).
MIN_LP_S = 1e-3
#: The shortest time left in which an integer program is still started.
MIN_MIP_S = 0.5
#: Above this many columns, the integer program on the LP's columns is not attempted.
MIP_COLUMNS = 400_000
#: Above this many surviving columns, the proof is not attempted (a rule of size, not of
#: time, so that whether it runs does not depend on the machine: 12 départements of 1 to 3
#: days kept all their 308,789 columns, and HiGHS found nothing better on them in 300 s).
PROOF_COLUMNS = 100_000
#: The proof's stage, as :attr:`~.weekly_data.Deadline.cut` names it.
PROOF_CUT = "integer program on surviving columns"
#: Branch-and-bound nodes of the integer program on the LP's columns (a search for a better
#: plan: a work limit, not the clock, ends it, so that the plan does not depend on the
#: machine's speed; 12 départements of 1 to 3 days: optimal on its 28,396 columns in 100).
RESTRICTED_NODES = 1_000
#: ... and of the integer program on the columns that survive reduced-cost fixing (the proof).
PROOF_NODES = 20_000


def timed_out(res: OptimizeResult) -> bool:
    """Say whether HiGHS stopped on its time limit (not on optimality or its node limit)."""
    return "time limit" in str(getattr(res, "message", "")).lower()


def _solve_lp(
    data: _Data, pair: np.ndarray, mask: np.ndarray, deadline: Deadline, method: str = LP_METHOD
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    """Solve the configuration LP on the given columns: ``(x, lam, mu, u, value)``.

    HiGHS is given the time left before ``deadline``; an LP it stops on that
    limit (or not started, no time being left) raises :class:`_OutOfTimeError`.
    """
    if deadline.left() <= 0:
        raise _OutOfTimeError
    n_cols = pair.size
    m = data.desks.shape[0]
    group = data.agent[pair]
    cols = np.arange(n_cols)
    bits = _BITS[mask].astype(bool)  # (n_cols, 5)
    c_idx, d_idx = np.nonzero(bits)
    slot_rows = data.site[pair[c_idx]] * 5 + d_idx
    g_rows = data.n_groups
    a = sp.csr_matrix(
        (
            np.ones(n_cols + c_idx.size),
            (np.concatenate([group, g_rows + slot_rows]), np.concatenate([cols, c_idx])),
        ),
        shape=(g_rows + 5 * m, n_cols),
    )
    b = np.concatenate([data.counts, data.desks.ravel()]).astype(np.float64)
    eq = np.zeros(a.shape[0], dtype=bool)
    eq[: data.n_groups] = data.must
    a_ub, b_ub = a[~eq], b[~eq]
    if data.limit is not None:
        a_ub = sp.vstack([a_ub, sp.csr_matrix(np.ones((1, n_cols)))]).tocsr()
        b_ub = np.append(b_ub, data.limit)
    value = _column_value(data, pair, mask).astype(np.float64)
    res = linprog(
        -value,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a[eq] if eq.any() else None,
        b_eq=b[eq] if eq.any() else None,
        bounds=(0, None),
        method=method,
        options={"time_limit": max(deadline.left(), MIN_LP_S)},
    )
    if res.status == 1:  # HiGHS's time limit (or its iteration limit): no solution to read
        logger.info("weekly pairs: an LP of %d columns stopped by the time limit", n_cols)
        raise _OutOfTimeError
    if res.status == 2:
        msg = "the agents who must be assigned cannot all get desks on their days."
        raise InfeasibleError(msg)
    if res.status != 0:
        msg = f"HiGHS could not solve the weekly LP: {res.message}"
        raise SolverError(msg)
    duals = np.zeros(a.shape[0])
    duals[~eq] = -res.ineqlin.marginals[: int((~eq).sum())]
    if eq.any():
        duals[eq] = -res.eqlin.marginals
    mu = float(-res.ineqlin.marginals[-1]) if data.limit is not None else 0.0
    lam = np.maximum(duals[data.n_groups :].reshape(m, 5), 0.0)
    return res.x, lam, max(mu, 0.0), duals[: data.n_groups], float(-res.fun)


def _top_columns(
    data: _Data, lam: np.ndarray, mu: float, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each group's ``width`` best columns (pair and day set) at the multipliers, days diverse.

    Every usable day set of every pair is looked at, a block of groups at a time.
    """
    out_pair, out_mask = [], []
    step = CHUNK // 64  # groups a block: their columns stay within tens of MB
    bounds = np.searchsorted(data.agent, np.arange(0, data.n_groups + step, step))
    need = data.days[data.agent]
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if hi <= lo:
            continue
        pairs, masks, values = [], [], []
        for k in range(1, 6):
            where = lo + np.flatnonzero(need[lo:hi] == k)
            if where.size == 0:
                continue
            kmasks = _BY_SIZE[k]
            day_value = _day_value(data, where) - lam[data.site[where]]
            value = day_value @ _BITS[kmasks].T + (data.gain[where] - mu)[:, None]
            fits = (kmasks[None, :] & ~data.usable[where][:, None]) == 0
            rows, cols = np.nonzero(fits)
            pairs.append(where[rows])
            masks.append(kmasks[cols])
            values.append(value[rows, cols])
        pair, mask, value = np.concatenate(pairs), np.concatenate(masks), np.concatenate(values)
        order = np.lexsort((-value, data.agent[pair]))
        pair, mask = pair[order], mask[order]
        group = data.agent[pair]
        first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
        rank = np.arange(pair.size) - np.repeat(first, np.diff(np.r_[first, pair.size]))
        out_pair.append(pair[rank < width])
        out_mask.append(mask[rank < width])
    if not out_pair:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_pair), np.concatenate(out_mask)


def _column_generation(
    data: _Data,
    deadline: Deadline,
    report: Progress,
    lam0: np.ndarray | None = None,
    mu0: float = 0.0,
    method: str = LP_METHOD,
) -> tuple[np.ndarray, float, tuple[np.ndarray, np.ndarray, np.ndarray], float, float]:
    r"""Solve the configuration LP by column generation; keep the best Lagrangian bound.

    Starts from each group's best columns at the multipliers ``lam0, mu0``
    (zero by default) and stops at convergence, when another round would
    end after ``deadline``, or when an LP is stopped by it (each LP is given
    the time left).

    Returns ``(lam, mu, (column pairs, masks, x), bound, seconds)`` where the bound is
    the smallest :math:`L(\lambda, \mu)` met (valid whether or not the column
    generation converged: always priced on every pair, at multipliers
    :math:`\ge 0`), ``lam, mu`` its multipliers, ``x`` the last LP solved
    to optimality on its columns (zero when none was) and ``seconds`` the
    longest LP solve (infinite when one was stopped by the deadline, or none
    was solved: an integer program on these columns, whose root is that LP,
    might not end in time).
    """
    m = data.desks.shape[0]
    lam = np.zeros((m, 5)) if lam0 is None else lam0
    mu = mu0
    best_bound, new_mask, value = _lagrangian(data, lam, mu)
    best_lam, best_mu = lam, mu
    report("Lagrangian bound at the first multipliers", 0.0, best_bound)
    cols = _Columns(*_top_columns(data, lam, mu, START_COLUMNS))
    took = 0.0
    longest = 0.0
    for round_ in range(MAX_ROUNDS):
        begun = time.perf_counter()
        if begun + took > deadline.end:
            deadline.note_cut("column generation")
            break
        try:
            x_new, lam, mu, u, lp_value = _lp_round(data, cols, deadline, method)
        except _OutOfTimeError:
            # the multipliers met so far still give a valid bound; x is the last LP's
            logger.info(
                "weekly pairs: column generation stopped by the time limit, round %d", round_ + 1
            )
            longest = math.inf
            deadline.note_cut("column generation")
            break
        cols.x = x_new
        longest = max(longest, time.perf_counter() - begun)
        bound, new_mask, value = _lagrangian(data, lam, mu)
        if bound < best_bound:
            best_bound, best_lam, best_mu = bound, lam, mu
        report(f"column generation round {round_ + 1}, {cols.pair.size} columns", lp_value, bound)
        took = time.perf_counter() - begun
        reduced = value - mu - u[data.agent]
        tol = 1e-6 * max(1.0, abs(lp_value)) / max(1, data.n_groups)
        cand_pair, cand_mask = _best_per_group(data, new_mask, reduced, reduced > tol, NEW_COLUMNS)
        if not cols.add_fresh(cand_pair, cand_mask, best_bound - lp_value < 0.5):
            break
    if not cols.x.any() and longest == 0.0:  # no LP solved: nothing says how long one takes
        longest = math.inf
    return best_lam, best_mu, (cols.pair, cols.mask, cols.x), best_bound, longest


@dataclass
class _Columns:
    """The column generation's columns (pair, day mask), the last LP's ``x`` and those seen."""

    pair: np.ndarray
    mask: np.ndarray
    x: np.ndarray = field(init=False)
    seen: set[int] = field(init=False)

    def __post_init__(self) -> None:
        self.seen = set((self.pair * 32 + self.mask).tolist())
        self.x = np.zeros(self.pair.size)

    def extend(self, pair: np.ndarray, mask: np.ndarray) -> None:
        """Add columns (at 0 in ``x``)."""
        self.pair = np.concatenate([self.pair, pair])
        self.mask = np.concatenate([self.mask, mask])
        self.x = np.concatenate([self.x, np.zeros(pair.size)])

    def add_fresh(self, pair: np.ndarray, mask: np.ndarray, converged: bool) -> bool:
        """Add the columns not seen yet; False (adding none) when none is, or ``converged``."""
        fresh = np.array([k not in self.seen for k in (pair * 32 + mask).tolist()], dtype=bool)
        if not fresh.any() or converged:
            return False
        pair, mask = pair[fresh], mask[fresh]
        self.seen.update((pair * 32 + mask).tolist())
        self.extend(pair, mask)
        return True


def _lp_round(
    data: _Data, cols: _Columns, deadline: Deadline, method: str
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float]:
    """Solve the LP on ``cols`` (:func:`_solve_lp`), giving must-assign groups all theirs.

    When the columns so far cannot place every must-assign agent, which says
    nothing of the problem, those groups get all their columns (added to
    ``cols``) and the LP is solved again: then an infeasible LP is the whole
    problem's, since other groups may stay.
    """
    try:
        return _solve_lp(data, cols.pair, cols.mask, deadline, method)
    except InfeasibleError:
        extra_pair, extra_mask = _all_columns(data)
        extra = data.must[data.agent[extra_pair]]
        extra &= ~np.isin(extra_pair * 32 + extra_mask, cols.pair * 32 + cols.mask)
        if not extra.any():
            raise
        cols.extend(extra_pair[extra], extra_mask[extra])
        cols.seen.update((cols.pair * 32 + cols.mask).tolist())
        return _solve_lp(data, cols.pair, cols.mask, deadline, method)


def _subgradient(
    data: _Data,
    low: float,
    deadline: Deadline,
    report: Progress,
) -> tuple[np.ndarray, float, float]:
    r"""Multipliers by subgradient steps on :math:`L`, from zero; the smallest :math:`L` met.

    Each step prices every pair once (no LP): each group takes its best
    column (when worth more than 0, or when it must be placed), the desks
    each weekday and the agents taken give the subgradient, and the step is
    Polyak's towards ``low`` (the value of a plan, a lower bound), halved
    when :math:`L` has not fallen for a few steps. At most
    :data:`SUBGRADIENT_ROUNDS` steps, none begun after ``deadline``. Every
    :math:`L` met is a valid bound (multipliers :math:`\ge 0`, all pairs
    priced); the best one's multipliers start the LP's column generation,
    which then needs few rounds, and shape the plan when no LP can be
    solved in time.

    Returns ``(lam, mu, bound)``.
    """
    m = data.desks.shape[0]
    lam, mu = np.zeros((m, 5)), 0.0
    best, best_lam, best_mu = math.inf, lam, mu
    theta, stale = 1.0, 0
    everything = np.ones(data.agent.size, dtype=bool)
    for _ in range(SUBGRADIENT_ROUNDS):
        if deadline.passed():
            deadline.note_cut("subgradient steps")
            break
        bound, mask, value = _lagrangian(data, lam, mu)
        if bound < best - 1e-9 * max(1.0, abs(bound)):
            best, best_lam, best_mu, stale = bound, lam, mu, 0
        else:
            stale += 1
            if stale >= SUBGRADIENT_PATIENCE:
                theta, stale = theta / 2, 0
        if best - low < 0.5:  # the plan is proven: nothing left to gain
            break
        pair, pair_mask = _best_per_group(data, mask, value, everything, 1)
        group = data.agent[pair]
        takes = data.must[group] | (value[pair] - mu > 0)
        pair, pair_mask, group = pair[takes], pair_mask[takes], group[takes]
        used = np.zeros(data.desks.shape)
        np.add.at(used, data.site[pair], _BITS[pair_mask] * data.counts[group, None])
        step_lam = data.desks - used
        step_mu = 0.0 if data.limit is None else data.limit - float(data.counts[group].sum())
        norm = float((step_lam**2).sum()) + step_mu**2
        if norm == 0:  # every desk-day used exactly: these multipliers are the LP's
            break
        size = theta * max(bound - low, 1e-3 * max(1.0, abs(bound))) / norm
        lam = np.maximum(lam - size * step_lam, 0.0)
        mu = max(mu - size * step_mu, 0.0)
    if not math.isfinite(best):  # no step taken: the bound at zero
        best = _lagrangian(data, best_lam, best_mu)[0]
    report("Lagrangian bound by subgradient steps", low, best)
    return best_lam, best_mu, best


def _all_columns(data: _Data) -> tuple[np.ndarray, np.ndarray]:
    """Every column: each pair with each usable day set of the right size."""
    pairs, masks = [], []
    need = data.days[data.agent]
    for k in range(1, 6):
        where = np.flatnonzero(need == k)
        for mask in _BY_SIZE[k].tolist():
            ok = where[(mask & ~data.usable[where]) == 0]
            pairs.append(ok)
            masks.append(np.full(ok.size, mask, dtype=np.int64))
    return np.concatenate(pairs), np.concatenate(masks)


def _mip(
    data: _Data,
    pair: np.ndarray,
    mask: np.ndarray,
    value: np.ndarray,
    forced: np.ndarray,
    time_limit_s: float,
    node_limit: int | None = None,
) -> OptimizeResult:
    """HiGHS's integer program on the given columns, groups in ``forced`` all placed.

    It stops at ``time_limit_s`` or after ``node_limit`` branch-and-bound nodes
    (None: no limit), whichever comes first.
    """
    n_cols = pair.size
    m = data.desks.shape[0]
    group = data.agent[pair]
    c_idx, d_idx = np.nonzero(_BITS[mask].astype(bool))
    g_rows = data.n_groups
    a = sp.csr_matrix(
        (
            np.ones(n_cols + c_idx.size),
            (
                np.concatenate([group, g_rows + data.site[pair[c_idx]] * 5 + d_idx]),
                np.concatenate([np.arange(n_cols), c_idx]),
            ),
        ),
        shape=(g_rows + 5 * m, n_cols),
    )
    upper = np.concatenate([data.counts, data.desks.ravel()]).astype(np.float64)
    lower = np.zeros_like(upper)
    lower[:g_rows] = np.where(forced, data.counts, 0)
    constraints = [LinearConstraint(a, lower, upper)]
    if data.limit is not None:
        constraints.append(LinearConstraint(np.ones((1, n_cols)), 0, data.limit))
    return milp(
        -value,
        integrality=np.ones(n_cols),
        bounds=Bounds(0, data.counts[group].astype(np.float64)),
        constraints=constraints,
        options={
            "time_limit": max(MIN_LP_S, time_limit_s),
            "mip_rel_gap": 0.0,
            **({} if node_limit is None else {"node_limit": int(node_limit)}),
        },
    )


def _surviving(
    data: _Data, lam: np.ndarray, mu: float, lagrangian: float, objective: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Reduced-cost fixing: the columns a plan worth more than ``objective`` may use.

    ``lagrangian`` is :math:`L(\lambda, \mu)` at ``lam, mu``. Returns the
    surviving columns (pairs, masks) and the groups such a plan must place
    in full (those that must be, and those whose best reduced value exceeds
    :math:`L - z - 1`).
    """
    pair, mask = _all_columns(data)
    value = _column_value(data, pair, mask).astype(np.float64)
    reduced_value = value - (_BITS[mask] * lam[data.site[pair]]).sum(axis=1) - mu
    _, best_value = _price(data, lam)
    best = _group_best(data, best_value) - mu
    best = np.where(data.must, best, np.maximum(best, 0.0))
    reduced_cost = best[data.agent[pair]] - reduced_value
    slack = lagrangian - objective - 1
    tol = 1e-6 * max(1.0, abs(lagrangian))
    keep = reduced_cost <= slack + tol
    logger.info(
        "reduced-cost fixing: %d of %d columns survive (L - z = %.1f)",
        int(keep.sum()),
        pair.size,
        lagrangian - objective,
    )
    return pair[keep], mask[keep], data.must | (best > slack + tol)


def _prove(
    data: _Data,
    lam: np.ndarray,
    mu: float,
    objective: int,
    lagrangian: float,
    placed: tuple[np.ndarray, np.ndarray, np.ndarray],
    deadline: Deadline,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], int, float, bool] | None:
    """Reduced-cost fixing, then HiGHS on the columns that survive, until ``deadline``.

    Every plan worth more than ``objective`` uses surviving columns only (see
    the module docstring), so the integer program's optimum, when proven, is
    the optimum of the whole problem unless ``objective`` is higher.
    Returns None when too many columns survive, or no time is left for them.
    """
    # a plan that breaks a must-assign rule is no incumbent: then nothing is fixed
    must_ok = _placed_all_must(data, placed)
    fix_at = objective if must_ok else -math.inf
    bound = _whole_bound(lagrangian)
    pair, mask, forced = _surviving(data, lam, mu, lagrangian, fix_at)
    if pair.size > PROOF_COLUMNS:
        return None
    if pair.size == 0:
        return placed, objective, float(objective), True
    if deadline.left() <= MIN_MIP_S:
        deadline.note_cut(PROOF_CUT)
        return None
    value = _column_value(data, pair, mask).astype(np.float64)
    res = _mip(data, pair, mask, value, forced, deadline.left(), node_limit=PROOF_NODES)
    if timed_out(res):
        deadline.note_cut(PROOF_CUT)
    inner_bound = getattr(res, "mip_dual_bound", None)
    if res.status == 2:  # no plan better than z exists in the reduced model: z is optimal
        return placed, objective, float(objective), True
    if res.x is None:
        return None
    x = np.rint(res.x).astype(np.int64)
    found = round(-res.fun)
    top = -inner_bound if inner_bound is not None and np.isfinite(inner_bound) else bound
    new_bound = min(bound, max(float(objective), _whole_bound(top)))
    if found > objective or not must_ok:
        use = x > 0
        return (pair[use], mask[use], x[use]), found, new_bound, res.status == 0
    return placed, objective, new_bound, res.status == 0
