r"""Weekly desk plans on sparse pairs: the configuration model and its Lagrangian bound.

A *group* :math:`g` is :math:`n_g` identical agents (``counts``) who telework
:math:`d_g` days a week, on weekdays they are allowed (``allowed``) and
preferably on those they prefer (``preferred``). A *pair* :math:`p = (g, t)`
says the group's agents may go to telecentre :math:`t` for a weekly gain
:math:`w_p` (whole seconds or metres). A *column* is a pair and a set of
weekdays :math:`S` (a 5-bit mask, Monday bit 0) with :math:`|S| = d_g`, every
day allowed for the group and open at the telecentre; it is worth

.. math::  v_{pS} = w_p + b\,|S \cap \text{preferred}_g| + k\,|S \cap \text{kept}_p|

where :math:`\text{kept}_p` are the weekdays the pair is worth :math:`k` more
on (``kept``: a re-plan's previous weekdays, on the pair of the agent's
previous telecentre).

The configuration model places :math:`x_{pS} \in \mathbb{Z}_{\ge 0}` agents on
each column:

.. math::

    \max \sum v_{pS} x_{pS}
    \;\text{s.t.}\;
    \sum_{p \in g, S} x_{pS} \le n_g \;(= n_g \text{ if } g \text{ must be placed}),\;
    \sum_{p = (\cdot, t),\, S \ni d} x_{pS} \le \text{desks}_{td},\;
    \sum x_{pS} \le K.

**Bound.** Relaxing the desk rows with multipliers :math:`\lambda_{td} \ge 0`
and the limit with :math:`\mu \ge 0`, every group takes its best column alone:
for each pair, the :math:`d_g` usable days with the largest
:math:`b[\text{preferred}] + k[\text{kept}] - \lambda_{td}`, so

.. math::

    L(\lambda, \mu) = \sum_g n_g \max(0, \beta_g) + \sum_{td} \lambda_{td}\,\text{desks}_{td}
    + \mu K,\quad
    \beta_g = \max_{p \in g, S} \Big(v_{pS} - \sum_{d \in S} \lambda_{td} - \mu\Big)

(no 0 for a group that must be placed) bounds every plan, for any
:math:`\lambda, \mu \ge 0`; it is always evaluated on *all* pairs. Its
minimum is the LP bound of the configuration model, reached here with the
duals of that LP, solved by column generation with HiGHS.

**Plan.** The LP's whole parts are kept (rounding down keeps every row), the
rest is filled greedily, agents by their Lagrangian value; HiGHS's integer
program on the LP's columns then looks for a better plan (price and branch).
Above :data:`LARGE_GROUPS` groups, the multipliers come from the LP of a
sample of groups and only a core of undecided groups gets an LP (see
:func:`_large_plan`); the bound is still :math:`L` on every pair.

**Proof.** With a plan worth :math:`z` and :math:`L = L(\lambda, \mu)`, any
plan :math:`x` satisfies
:math:`\text{value}(x) \le L - \sum x_{pS}\,r_{pS} - \sum_g (n_g - \text{placed}_g)\max(0, \beta_g)`
where :math:`r_{pS} = \max(0, \beta_g) - (v_{pS} - \sum_{d\in S} \lambda_{td} - \mu) \ge 0`
is the column's reduced cost. A plan worth at least :math:`z + 1` (values are
whole) therefore uses no column with :math:`r_{pS} > L - z - 1`. The integer
program on the columns that survive, solved to optimality by HiGHS, finds
the best plan better than :math:`z` if there is one: its optimum (or
:math:`z`) is the optimum of the whole problem. That is the certificate.

**A second bound.** When time runs out before the column generation
converges (many telecentres, scarce desks, large groups), :math:`L` at the
last multipliers can be far above the plan. The *split-days* relaxation, in
which each agent-day may go to any of its group's telecentres on its own, is a
min-cost flow solved exactly by OR-Tools; its optimum also bounds every plan,
and the smaller of the two bounds is reported (:func:`_split_days_bound`).

**Time limit.** One :class:`Deadline` (the start and the limit) is handed down:
every LP is given the time left (HiGHS's ``time_limit``), and an LP it stops
ends the column generation with what it had; an integer program is started
only with twice the longest LP's time left (HiGHS may overrun its limit in
the LP at its root). The plan is then the best met: the LP's rounded plan,
the greedy plan (at the multipliers, and at zero), the split-days flow's when
it is one; there is always one. The bound reported is never a restricted
LP's value (valid only for an LP solved to optimality on every column): it is
the Lagrangian :math:`L` at the best multipliers met (duals of an LP solved on
its columns, or subgradient steps, :func:`_subgradient`: valid at any
:math:`\lambda, \mu \ge 0`, priced on every pair) or the split-days flow's,
whichever is smaller; the status is ``optimal`` only when the plan reaches
it, else ``feasible`` with the gap. The split-days flow (OR-Tools, no time
limit of its own) is polynomial and bounded in size (:data:`SPLIT_DAYS_ARCS`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, linprog, milp

from optimizer.errors import InfeasibleError, InputError, SolverError
from optimizer.model.flow import solve_flow

logger = logging.getLogger(__name__)

#: Called with (stage, objective, bound) as the solve progresses.
Progress = Callable[[str, float, float], None]

#: Pairs priced at once (bounds the memory of pricing).
CHUNK = 1 << 18
#: HiGHS's LP method (dual simplex: a vertex, so that few agents are split).
LP_METHOD = "highs-ds"
#: HiGHS's LP method for the core of large problems (interior point, then crossover to a
#: vertex: many times faster than dual simplex on those degenerate LPs).
CORE_LP_METHOD = "highs-ipm"
#: Columns per group in the first LP (each group's best at the first multipliers).
START_COLUMNS = 4
#: Columns added per group and round of column generation.
NEW_COLUMNS = 2
#: Most rounds of column generation.
MAX_ROUNDS = 60
#: Above this many groups, the multipliers are sought on a sample and only a core gets an LP.
LARGE_GROUPS = 15_000
#: Groups in that sample (at 100,000 x 200: 0.13 % from the bound with 25,000, 0.7 % with
#: 15,000 and a core of 15,000).
SAMPLE_GROUPS = 25_000
#: Pairs per group the greedy plan tries (all for must-assign groups).
GREEDY_PAIRS = 4
#: Most subgradient steps on the Lagrangian bound (one pricing of every pair each) ...
SUBGRADIENT_ROUNDS = 100
#: ... the step halved after this many without a lower bound.
SUBGRADIENT_PATIENCE = 5
#: Groups whose choice is least clear at the sample's multipliers, solved by LP.
CORE_GROUPS = 30_000
#: Share of the time left given to the integer program on the LP's columns.
RESTRICTED_SHARE = 0.25
#: The shortest time limit an LP is given (HiGHS reads a limit of 0 as none).
MIN_LP_S = 1e-3
#: The shortest time left in which an integer program is still started.
MIN_MIP_S = 0.5
#: An integer program is started only with this many times the longest LP's time left.
MIP_LP_TIMES = 2.0
#: Above this many surviving columns, the integer program is not attempted.
MIP_COLUMNS = 400_000
#: When the sampled plan of a large problem leaves must-assign agents out, the whole model
#: gets the time left of the limit, but at least this share of it (so that it can still find
#: a plan: the whole solve then overruns the limit by this share at most).
FALLBACK_SHARE = 0.1
#: The split-days bound (:func:`_split_days_bound`) is computed up to this many arcs (five
#: per pair): a few seconds of OR-Tools at most ...
SPLIT_DAYS_ARCS = 3_000_000
#: ... first, within the time limit, from this many pairs (where the column generation may
#: not converge in time); on smaller problems, at the end when the plan is not proven.
SPLIT_DAYS_FIRST = 20_000

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

    @classmethod
    def after(cls, limit: float) -> Deadline:
        """Return the deadline ``limit`` seconds from now."""
        return cls(time.perf_counter(), float(limit))

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
        return Deadline(self.start, fraction * self.limit)


class _OutOfTimeError(Exception):
    """An LP stopped by its time limit: no solution, no multipliers to read."""


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
    """

    group: np.ndarray
    site: np.ndarray
    mask: np.ndarray
    count: np.ndarray
    objective: int
    bound: int
    status: str

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

    @property
    def n_groups(self) -> int:
        return int(self.counts.size)


def solve_weekly_pairs(
    pair_agent: np.ndarray,
    pair_site: np.ndarray,
    pair_gain: np.ndarray,
    *,
    counts: np.ndarray | None,
    days: np.ndarray,
    allowed: np.ndarray,
    preferred: np.ndarray,
    bonus: int,
    desks: np.ndarray,
    must: np.ndarray | None = None,
    limit: int | None = None,
    kept: np.ndarray | None = None,
    keep: int = 0,
    time_limit_s: float = 60.0,
    prove: bool = True,
    progress: Progress | None = None,
) -> WeeklyPairsPlan:
    """Plan telecentres and weekdays for groups of identical agents, on sparse pairs.

    Parameters
    ----------
    pair_agent, pair_site, pair_gain
        ``(P,)`` each: the group, the telecentre and the whole weekly gain of
        every pair the groups may use (gains in the objective's whole units).
    counts
        ``(G,)`` agents in each group (None: one each).
    days
        ``(G,)`` telework days a week, 1 to 5.
    allowed, preferred
        ``(G, 5)`` booleans: weekdays the group can, and prefers to, telework.
    bonus
        Whole bonus per preferred weekday granted.
    desks
        ``(n_sites, 5)`` desks per weekday.
    must
        ``(G,)`` True for groups whose agents must all be placed.
    limit
        At most this many agents placed (None: no limit).
    kept
        ``(P,)`` 5-bit masks (Monday bit 0): weekdays each pair is worth
        ``keep`` more on (a re-plan's previous weekdays, on the pair of the
        previous telecentre; None: none).
    keep
        Whole bonus per kept weekday taken.
    time_limit_s
        Time for the whole solve: every LP and integer program is given the
        time left of it (see the module docstring); the proof (integer program
        on the columns that survive reduced-cost fixing) gets what is left.
        When the path for many groups falls back to the whole model, that model
        gets what is left too, but at least :data:`FALLBACK_SHARE` of it.
    prove
        Try to prove the plan optimal (skip for a quick plan within the LP gap).
    progress
        Called with ``(stage, objective, bound)`` after each stage.

    Returns
    -------
    WeeklyPairsPlan
        The plan, its value and a valid bound.

    Raises
    ------
    InfeasibleError
        When the groups that must be placed cannot all be.
    """
    deadline = Deadline.after(time_limit_s)  # a later one after the large path falls back
    started = deadline.start
    data = _validated(
        pair_agent,
        pair_site,
        pair_gain,
        counts,
        days,
        allowed,
        preferred,
        bonus,
        desks,
        must,
        limit,
        kept,
        keep,
    )

    def report(stage: str, objective: float, bound: float) -> None:
        logger.info(
            "weekly pairs: %s, objective %.0f, bound %.0f, %.1f s",
            stage,
            objective,
            bound,
            time.perf_counter() - started,
        )
        if progress is not None:
            progress(stage, objective, bound)

    if data.agent.size == 0:  # no group can go anywhere: the empty plan is the only one
        empty = np.zeros(0, dtype=np.int64)
        if np.any(data.must & (data.counts > 0)):
            msg = "an agent who must be assigned has no telecentre open on enough of its days."
            raise InfeasibleError(msg)
        return WeeklyPairsPlan(empty, empty, empty.astype(np.uint8), empty, 0, 0, "optimal")
    split: int | None = None
    # a plan to fall back on: the split-days flow's when it is one (never worse than the
    # column generation's, which the deadline may stop before it converges)
    flow_plan: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    if data.agent.size >= SPLIT_DAYS_FIRST and 5 * data.agent.size <= SPLIT_DAYS_ARCS:
        split, as_plan = _split_days(data)
        if split is not None:
            report("split-days bound", 0.0, split)
        if split is not None and as_plan is not None and _placed_all_must(data, as_plan):
            objective = _value(data, *as_plan)
            if objective >= split:  # the relaxation's optimum is a plan: it is optimal
                report("split-days flow, a plan already", objective, split)
                return _plan(data, as_plan, objective, float(split), True)
            flow_plan = as_plan
    if data.n_groups > LARGE_GROUPS:
        lam, mu, lagrangian, placed = _large_plan(data, deadline, report)
        bound = _whole_bound(lagrangian)
        placed = _better(data, placed, flow_plan)
        objective = _value(data, *placed)
        report("plan from the core LP", objective, bound)
        if _placed_all_must(data, placed):
            if split is None and objective < bound and 5 * data.agent.size <= SPLIT_DAYS_ARCS:
                split = _split_days_bound(data)
            if split is not None and split < bound:
                bound = float(split)
                report("split-days bound", objective, bound)
            return _plan(data, placed, objective, bound, objective >= bound)
        # the groups fixed at the sample's prices took desks that agents who must be
        # assigned need: that says nothing of the problem, so solve it whole
        logger.warning(
            "weekly pairs: the sampled plan leaves agents who must be assigned out; "
            "solving the whole configuration model"
        )
        # the whole model gets what is left of the limit (a share of it at least), not a
        # fresh limit
        deadline = Deadline.after(max(deadline.left(), FALLBACK_SHARE * time_limit_s))
    lam, mu, x_cols, lagrangian, lp_seconds = _column_generation(data, deadline.share(0.5), report)
    bound = min(_whole_bound(lagrangian), np.inf if split is None else split)
    cols_pair, cols_mask, x = x_cols
    placed = _better(data, _round(data, lam, mu, cols_pair, cols_mask, x), flow_plan)
    objective = _value(data, *placed)
    report("rounded LP plan", objective, bound)
    # HiGHS's integer programs start with an LP at least as large as the column
    # generation's, which HiGHS may not stop on time (it took 17 s of a 2.4 s limit on a
    # loaded machine): one is started only when it has MIP_LP_TIMES that LP's time
    left = deadline.left()
    mip_time = min(left * RESTRICTED_SHARE, left - 1.0)
    if (
        RESTRICTED_SHARE > 0
        and objective < bound
        and cols_pair.size <= MIP_COLUMNS
        and left > 2
        and mip_time >= MIP_LP_TIMES * lp_seconds
    ):
        # price and branch: the integer program on the LP's columns, for a better plan
        res = _mip(
            data,
            cols_pair,
            cols_mask,
            _column_value(data, cols_pair, cols_mask).astype(np.float64),
            data.must,
            mip_time,
        )
        if res.x is not None and -res.fun > objective + 0.5:
            x_int = np.rint(res.x).astype(np.int64)
            use = x_int > 0
            placed = (cols_pair[use], cols_mask[use], x_int[use])
            objective = _value(data, *placed)
            report("integer program on the LP's columns", objective, bound)
    must_ok = _placed_all_must(data, placed)
    status = "optimal" if must_ok and objective >= bound else "feasible"
    if (
        status != "optimal"
        and (prove or not must_ok)
        and deadline.left() > max(1.0, MIP_LP_TIMES * lp_seconds)
    ):
        better = _prove(data, lam, mu, objective, lagrangian, placed, deadline)
        if better is not None:
            placed, objective, bound, proven = better
            status = "optimal" if proven or objective >= bound else "feasible"
            report("integer program on surviving columns", objective, bound)
    if split is None and status != "optimal" and 5 * data.agent.size <= SPLIT_DAYS_ARCS:
        split = _split_days_bound(data)
    if split is not None and split < bound:
        bound = float(split)
        report("split-days bound", objective, bound)
        if objective >= bound and _placed_all_must(data, placed):
            status = "optimal"
    if not _placed_all_must(data, placed):
        if status == "optimal":  # the integer program on every column found no such plan
            msg = "the agents who must be assigned cannot all get desks on their days."
            raise InfeasibleError(msg)
        msg = (
            f"no plan placing every agent who must be assigned was found in {time_limit_s:g} s;"
            " allow more time (--time-limit) or fewer must-assign agents."
        )
        raise SolverError(msg)
    return _plan(data, placed, objective, bound, status == "optimal")


def _split_days_bound(data: _Data) -> int | None:
    """Return the split-days bound alone (:func:`_split_days`)."""
    return _split_days(data)[0]


def _split_days(
    data: _Data,
) -> tuple[int | None, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    r"""Bound every plan by the split-days relaxation, a min-cost flow (OR-Tools).

    Each agent-day is placed on its own: group :math:`g` sends
    :math:`n_g d_g` agent-days, at most :math:`n_g` on each weekday, each to a
    usable (telecentre, weekday) of one of its pairs for
    :math:`w_p / d_g + b[\text{preferred}] + k[\text{kept}]`, within the desks; the agent-days
    of groups that must be placed all go; the limit on agents is dropped.
    Every plan of the configuration model is such a flow of the same value (a
    column's agents send one agent-day on each of its days), so the flow's
    optimum bounds them all. Costs are scaled by 60 (whole for any
    :math:`d_g \le 5`).

    Returns the bound (rounded down: plans are worth whole units), or None when
    the relaxation has no flow (agents who must be placed cannot be); and the
    flow read as a plan when it is one (:func:`_flow_as_plan`: every group's
    agent-days at one telecentre, in whole agents), else None. With desks to
    spare, every agent's days go to its best telecentre and the relaxation is
    already the optimal plan: no column generation is needed (20,000 agents of
    1 to 5 days with plentiful desks: a proven plan in seconds, where the
    column generation ran for minutes).
    """
    n_groups, m = data.n_groups, data.desks.shape[0]
    scale = 60
    stay = 0
    group_day = 1 + np.arange(n_groups * 5).reshape(n_groups, 5)
    slot = 1 + 5 * n_groups + np.arange(m * 5).reshape(m, 5)
    source = 1 + 5 * n_groups + 5 * m
    sink = source + 1
    group_node = sink + 1 + np.arange(n_groups)
    p_idx, day = np.nonzero(_BITS[data.usable].astype(bool))
    group = data.agent[p_idx]
    per_day = data.gain[p_idx] * (scale // data.days[group]) + scale * (
        data.bonus * (data.preferred[group, day] > 0) + data.keep * ((data.kept[p_idx] >> day) & 1)
    )
    days_ok = np.zeros((n_groups, 5), dtype=bool)
    days_ok[group, day] = True
    gd_g, gd_d = np.nonzero(days_ok)
    supply = data.counts * data.days
    free = np.flatnonzero(~data.must)
    total = int(supply.sum())
    try:
        flow = solve_flow(
            np.concatenate(
                [
                    np.full(n_groups, source),
                    group_node[gd_g],
                    group_day[group, day],
                    slot.ravel(),
                    group_node[free],
                    [stay],
                ]
            ),
            np.concatenate(
                [
                    group_node,
                    group_day[gd_g, gd_d],
                    slot[data.site[p_idx], day],
                    np.full(5 * m, sink),
                    np.full(free.size, stay),
                    [sink],
                ]
            ),
            np.concatenate(
                [
                    supply,
                    data.counts[gd_g],
                    data.counts[group],
                    data.desks.ravel(),
                    supply[free],
                    [total],
                ]
            ),
            np.concatenate(
                [np.zeros(n_groups + gd_g.size), -per_day, np.zeros(5 * m + free.size + 1)]
            ),
            n_nodes=int(group_node[-1]) + 1 if n_groups else sink + 1,
            source=source,
            sink=sink,
            amount=total,
        )
    except SolverError as exc:  # the bound is a help, never a reason to fail
        logger.warning("weekly pairs: no split-days bound (%s)", exc)
        return None, None
    if flow is None:
        return None, None
    first = n_groups + gd_g.size  # the (group, weekday) -> slot arcs, in p_idx order
    used = flow.flows(np.arange(first, first + p_idx.size, dtype=np.int32)).astype(np.int64)
    return -int(flow.optimal_cost()) // scale, _flow_as_plan(data, p_idx, day, used)


def _flow_as_plan(
    data: _Data, p_idx: np.ndarray, day: np.ndarray, used: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Read the split-days flow as columns ``(pair, mask, count)``, or None if it is no plan.

    A group whose agent-days, ``k d_g`` of them with at most ``k`` on any
    weekday, go to one telecentre is ``k`` agents with ``d_g`` distinct
    weekdays each (dealt in turn, weekday by weekday). A group the flow spread
    over telecentres (an agent equally well off at two) is moved whole to one
    of them with room on those weekdays; the plan's value is then checked
    against the bound by the caller. More agents than the limit: no plan.
    """
    sent = used > 0
    pairs, days_sent, amount = p_idx[sent], day[sent], used[sent]
    group = data.agent[pairs]
    load = np.zeros(data.desks.shape, dtype=np.int64)
    np.add.at(load, (data.site[pairs], days_sent), amount)
    by_group: dict[int, list[int]] = {}
    for k, g in enumerate(group.tolist()):
        by_group.setdefault(g, []).append(k)
    out: list[tuple[int, int, int]] = []
    for g, rows in by_group.items():
        per_day = np.zeros(5, dtype=np.int64)
        np.add.at(per_day, days_sent[rows], amount[rows])
        own = np.unique(pairs[rows])
        target = int(own[0])
        if own.size > 1:  # spread over telecentres: all of it to one with room
            load_without = load.copy()
            np.subtract.at(load_without, (data.site[pairs[rows]], days_sent[rows]), amount[rows])
            totals = [int(amount[[r for r in rows if pairs[r] == p]].sum()) for p in own]
            fits = [
                int(p)
                for _, p in sorted(zip(totals, own.tolist(), strict=True), reverse=True)
                if np.all(load_without[data.site[p]] + per_day <= data.desks[data.site[p]])
                and np.all(((int(data.usable[p]) >> np.arange(5)) & 1)[per_day > 0] == 1)
            ]
            if not fits:
                return None
            target = fits[0]
            load = load_without
            load[data.site[target]] += per_day
        columns = _dealt(per_day, int(data.days[g]))
        if columns is None:
            return None
        out += [(target, mask, count) for mask, count in columns]
    placed = (
        np.array([c[0] for c in out], dtype=np.int64),
        np.array([c[1] for c in out], dtype=np.uint8),
        np.array([c[2] for c in out], dtype=np.int64),
    )
    if data.limit is not None and int(placed[2].sum()) > data.limit:
        return None
    return placed


def _dealt(per_day: np.ndarray, days: int) -> list[tuple[int, int]] | None:
    """Deal a group's agent-days per weekday to whole agents: ``(mask, agents)``, or None.

    ``k days`` agent-days with at most ``k`` on a weekday make ``k`` agents
    with ``days`` distinct weekdays: dealt in turn, weekday by weekday, two of
    one weekday never go to one agent.
    """
    total = int(per_day.sum())
    if total % days:
        return None
    k = total // days
    if k == 0 or int(per_day.max()) > k:
        return None
    dealt = np.repeat(np.arange(5), per_day)
    masks = np.zeros(k, dtype=np.int64)
    np.bitwise_or.at(masks, np.arange(dealt.size) % k, 1 << dealt)
    kinds, counts = np.unique(masks, return_counts=True)
    return list(zip(kinds.tolist(), counts.tolist(), strict=True))


def _plan(
    data: _Data,
    placed: tuple[np.ndarray, np.ndarray, np.ndarray],
    objective: int,
    bound: float,
    proven: bool,
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
    )


def _whole_bound(value: float) -> float:
    """Round a bound down to a whole value, after a margin for floating-point error."""
    return float(math.floor(value + 1e-6 + 1e-10 * abs(value)))


def _placed_all_must(data: _Data, placed: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
    if not np.any(data.must):
        return True
    got = np.bincount(data.agent[placed[0]], weights=placed[2], minlength=data.n_groups)
    return bool(np.all(got[data.must] >= data.counts[data.must]))


# ---------------------------------------------------------------------- inputs


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
    weights = 1 << np.arange(5)
    if kept is None or keep == 0:
        kept_bits = np.zeros(agent.size, dtype=np.uint8)
    else:
        kept_ = np.asarray(kept, dtype=np.int64).ravel()
        if kept_.shape != agent.shape or np.any((kept_ < 0) | (kept_ > 31)) or keep < 0:
            msg = f"kept must be {agent.size} weekday masks 0-31 (one per pair), keep >= 0."
            raise InputError(msg)
        kept_bits = kept_.astype(np.uint8)
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
    )


# ---------------------------------------------------------------------- pricing


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


# ---------------------------------------------------------------------- the LP


def _column_value(data: _Data, pair: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Whole value of columns: the pair's gain plus the bonuses of preferred and kept days."""
    granted = _SIZE[mask & data.pref_bits[data.agent[pair]]]
    kept = _SIZE[mask & data.kept[pair]] if data.keep else 0
    return np.asarray(data.gain[pair] + data.bonus * granted + data.keep * kept)


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
    pair, mask = _top_columns(data, lam, mu, START_COLUMNS)
    seen = set((pair * 32 + mask).tolist())
    x = np.zeros(pair.size)
    lp_value = 0.0
    took = 0.0
    longest = 0.0
    for round_ in range(MAX_ROUNDS):
        begun = time.perf_counter()
        if begun + took > deadline.end:
            break
        try:
            try:
                x_new, lam, mu, u, lp_value = _solve_lp(data, pair, mask, deadline, method)
            except InfeasibleError:
                # the columns so far cannot place every must-assign agent, which says
                # nothing of the problem: give those groups all their columns (then an
                # infeasible LP is the whole problem's, since other groups may stay)
                extra_pair, extra_mask = _all_columns(data)
                extra = data.must[data.agent[extra_pair]]
                extra &= ~np.isin(extra_pair * 32 + extra_mask, pair * 32 + mask)
                if not extra.any():
                    raise
                pair = np.concatenate([pair, extra_pair[extra]])
                mask = np.concatenate([mask, extra_mask[extra]])
                x = np.concatenate([x, np.zeros(int(extra.sum()))])
                seen.update((pair * 32 + mask).tolist())
                x_new, lam, mu, u, lp_value = _solve_lp(data, pair, mask, deadline, method)
        except _OutOfTimeError:
            # the multipliers met so far still give a valid bound; x is the last LP's
            logger.info(
                "weekly pairs: column generation stopped by the time limit, round %d", round_ + 1
            )
            longest = math.inf
            break
        x = x_new
        longest = max(longest, time.perf_counter() - begun)
        bound, new_mask, value = _lagrangian(data, lam, mu)
        if bound < best_bound:
            best_bound, best_lam, best_mu = bound, lam, mu
        report(f"column generation round {round_ + 1}, {pair.size} columns", lp_value, bound)
        took = time.perf_counter() - begun
        reduced = value - mu - u[data.agent]
        tol = 1e-6 * max(1.0, abs(lp_value)) / max(1, data.n_groups)
        cand_pair, cand_mask = _best_per_group(data, new_mask, reduced, reduced > tol, NEW_COLUMNS)
        fresh = np.array([k not in seen for k in (cand_pair * 32 + cand_mask).tolist()], dtype=bool)
        if not fresh.any() or best_bound - lp_value < 0.5:
            break
        cand_pair, cand_mask = cand_pair[fresh], cand_mask[fresh]
        seen.update((cand_pair * 32 + cand_mask).tolist())
        pair = np.concatenate([pair, cand_pair])
        mask = np.concatenate([mask, cand_mask])
        x = np.concatenate([x, np.zeros(cand_pair.size)])
    if not x.any() and longest == 0.0:  # no LP solved: nothing says how long one takes
        longest = math.inf
    return best_lam, best_mu, (pair, mask, x), best_bound, longest


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
    pick = np.random.default_rng(2015).random(data.n_groups) < SAMPLE_GROUPS / data.n_groups
    if pick.all():
        # the sample would be the whole problem, whose LP may not end in time (and an LP
        # stopped by the limit gives nothing): the multipliers come from subgradient steps
        low = _value(data, *fallback) if _placed_all_must(data, fallback) else 0.0
        lam, mu, lagrangian = _subgradient(data, low, deadline.share(0.5), report)
    else:
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
    # each group's two best columns and how clear its choice is
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
    # release the fixed groups of least value from every over-used desk-day
    use = np.zeros_like(data.desks)
    np.add.at(
        use,
        data.site[best_pair[fixed]],
        _BITS[best_mask[fixed]].astype(np.int64) * data.counts[fixed, None],
    )
    for t, d in zip(*np.nonzero(use > data.desks), strict=True):
        on = np.flatnonzero(
            fixed & (data.site[np.maximum(best_pair, 0)] == t) & ((best_mask >> d) & 1 == 1)
        )
        on = on[np.lexsort((r1[on], data.must[on]))]  # must-assign groups last
        excess = use[t, d] - data.desks[t, d]
        drop = on[np.cumsum(data.counts[on]) - data.counts[on] < excess]
        fixed[drop] = False
        core[drop] = True
        np.add.at(
            use,
            data.site[best_pair[drop]],
            -_BITS[best_mask[drop]].astype(np.int64) * data.counts[drop, None],
        )
    if data.limit is not None and data.counts[fixed].sum() > data.limit:
        # more fixed agents than the limit allows: release those of least value, groups
        # that must be placed last (else the limit is taken and the core cannot place them)
        on = np.flatnonzero(fixed)
        on = on[np.lexsort((r1[on], data.must[on]))]
        excess = data.counts[on].sum() - data.limit
        drop = on[np.cumsum(data.counts[on]) - data.counts[on] < excess]
        fixed[drop] = False
        core[drop] = True
        np.add.at(
            use,
            data.site[best_pair[drop]],
            -_BITS[best_mask[drop]].astype(np.int64) * data.counts[drop, None],
        )
    free = data.desks - use
    placed_fixed = int(data.counts[fixed].sum())
    room = None if data.limit is None else max(0.0, data.limit - placed_fixed)
    core_data = _subset(data, core, free.copy(), room)
    report(f"core of {int(core.sum())} groups, {int(fixed.sum())} fixed", 0.0, lagrangian)
    try:
        c_lam, c_mu, (c_pair, c_mask, c_x), _, _ = _column_generation(
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
        c_lam, c_mu, (c_pair, c_mask, c_x), _, _ = _column_generation(
            core_data, deadline.share(0.85), report, lam, mu, CORE_LP_METHOD
        )
    # the core's multipliers are multipliers too: keep the smaller L
    other, _, _ = _lagrangian(data, c_lam, c_mu)
    if other < lagrangian:
        lagrangian, lam, mu = other, c_lam, c_mu
    report("Lagrangian bound at the core's multipliers", 0.0, other)
    whole = np.floor(c_x + 1e-7).astype(np.int64)
    keep = whole > 0
    core_ids = np.flatnonzero(core)
    core_start = np.searchsorted(data.agent, core_ids)
    # map core pairs back: pairs of a group are contiguous in both numberings
    core_first = np.searchsorted(core_data.agent, np.arange(core_ids.size))
    c_group = core_data.agent[c_pair[keep]]
    full_pair = core_start[c_group] + (c_pair[keep] - core_first[c_group])
    p_all = np.concatenate([best_pair[fixed], full_pair])
    m_all = np.concatenate([best_mask[fixed], c_mask[keep]])
    n_all = np.concatenate([data.counts[fixed], whole[keep]])
    usage = np.zeros_like(data.desks)
    np.add.at(usage, data.site[p_all], _BITS[m_all].astype(np.int64) * n_all[:, None])
    left = data.counts - np.bincount(
        data.agent[p_all], weights=n_all, minlength=data.n_groups
    ).astype(np.int64)
    room_left = None if data.limit is None else int(data.limit) - int(n_all.sum())
    p2, m2, n2 = _greedy(data, lam, mu, data.desks - usage, left, room_left)
    plan = (np.concatenate([p_all, p2]), np.concatenate([m_all, m2]), np.concatenate([n_all, n2]))
    return lam, mu, lagrangian, _better(data, plan, fallback)


# ---------------------------------------------------------------------- the plan


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


# ---------------------------------------------------------------------- the proof


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
) -> OptimizeResult:
    """HiGHS's integer program on the given columns, groups in ``forced`` all placed."""
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
        options={"time_limit": max(MIN_LP_S, time_limit_s), "mip_rel_gap": 0.0},
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
    if pair.size > MIP_COLUMNS:
        return None
    if pair.size == 0:
        return placed, objective, float(objective), True
    if deadline.left() <= MIN_MIP_S:
        return None
    value = _column_value(data, pair, mask).astype(np.float64)
    res = _mip(data, pair, mask, value, forced, deadline.left())
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
