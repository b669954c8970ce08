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
When the path for many groups falls back to the whole model, that model gets
what is left of the limit, but at least :data:`FALLBACK_SHARE` of it.

**The same plan every time.** The clock is a backstop, not the rule that ends
a stage: the column generation ends at convergence (or
:data:`~optimizer.model.weekly_lp.MAX_ROUNDS`), the integer programs at their
node limits (:data:`~optimizer.model.weekly_lp.RESTRICTED_NODES`,
:data:`~optimizer.model.weekly_lp.PROOF_NODES`) or their optimum. Every stage
the clock ends or skips instead is named in the plan's ``time_cut``: when it
is empty, the plan does not depend on the machine's speed or load, and two
runs give the same plan; when not, another run may find another.

**Modules.** This one owns :func:`solve_weekly_pairs` and the order of its
stages; the stages live in :mod:`optimizer.model.weekly_data` (inputs, plans,
the deadline, prices and :math:`L`), :mod:`optimizer.model.weekly_lp` (column
generation, subgradient steps, integer programs, the proof),
:mod:`optimizer.model.weekly_greedy` (rounding and greedy plans),
:mod:`optimizer.model.weekly_large` (many groups) and
:mod:`optimizer.model.weekly_split` (the split-days bound).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import numpy as np

from optimizer.errors import InfeasibleError, InputError, SolverError
from optimizer.model.weekly_data import (
    Deadline,
    Progress,
    WeeklyPairsPlan,
    WeeklyPrices,
    _better,
    _column_value,
    _Data,
    _placed_all_must,
    _Placement,
    _plan,
    _validated,
    _value,
    _whole_bound,
)
from optimizer.model.weekly_greedy import _round
from optimizer.model.weekly_hopeful import Hopeful, with_hopeful
from optimizer.model.weekly_large import _large_plan
from optimizer.model.weekly_lp import (
    MIP_COLUMNS,
    PROOF_CUT,
    RESTRICTED_NODES,
    _column_generation,
    _mip,
    _prove,
    timed_out,
)
from optimizer.model.weekly_split import _split_days, _split_days_bound

logger = logging.getLogger(__name__)


#: Above this many groups, the multipliers are sought on a sample and only a core gets an LP.
LARGE_GROUPS = 15_000
#: Share of the time left given to the integer program on the LP's columns.
RESTRICTED_SHARE = 0.25
#: An integer program is started only with this many times the longest LP's time left.
MIP_LP_TIMES = 2.0
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
    hopeful: Hopeful | None = None,
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
        Time for the whole solve, each stage given the time left (see the
        module docstring); the stages it ends are in ``time_cut``.
    prove
        Try to prove the plan optimal (skip for a quick plan within the LP gap).
    progress
        Called with ``(stage, objective, bound)`` after each stage.
    hopeful
        ``(group, site, gain)``: pairs that may exist with a gain of at most
        ``gain`` (a time not known yet). They are not used in the plan; the
        plan's :attr:`~WeeklyPairsPlan.wider_bound` covers every plan that
        uses them too, and :attr:`~WeeklyPairsPlan.hopeful_out` says which
        cannot matter (see :mod:`optimizer.model.weekly_hopeful`).

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
    inputs = (pair_agent, pair_site, pair_gain, counts, days, allowed, preferred, bonus)
    data = _validated(*inputs, desks, must, limit, kept, keep)
    given = None if hopeful is None else _hopeful_data(hopeful, inputs, (desks, must, limit), keep)
    plan = replace(
        _solve(data, deadline, _reporter(deadline.start, progress), prove, time_limit_s),
        time_cut=tuple(deadline.cut),
    )
    return plan if given is None else with_hopeful(data, *given, plan, SPLIT_DAYS_ARCS)


def _hopeful_data(
    hopeful: Hopeful,
    inputs: tuple[Any, ...],
    rest: tuple[np.ndarray, np.ndarray | None, int | None],
    keep: int,
) -> tuple[_Data, int]:
    """Validate the hopeful pairs as the pairs solved (``inputs``: those pairs and the groups).

    Returns them and how many were given.
    """
    if keep:
        msg = "hopeful pairs cannot be priced with kept weekdays (keep must be 0)."
        raise InputError(msg)
    h_agent, h_site, h_gain = hopeful
    counts, days, allowed, preferred, bonus = inputs[3:]
    desks, must, limit = rest
    groups = (counts, days, allowed, preferred, bonus)
    others = _validated(h_agent, h_site, h_gain, *groups, desks, must, limit)
    return others, int(np.size(h_agent))


def _solve(
    data: _Data, deadline: Deadline, report: Progress, prove: bool, time_limit_s: float
) -> WeeklyPairsPlan:
    """Run the stages of :func:`solve_weekly_pairs` on validated inputs."""
    if data.agent.size == 0:  # no group can go anywhere: the empty plan is the only one
        return _empty_plan(data)
    split, flow_plan, done = _split_days_first(data, report)
    if done is not None:
        return done
    if data.n_groups > LARGE_GROUPS:
        plan = _large_path(data, deadline, report, split, flow_plan)
        if plan is not None:
            return plan
        # the whole model gets what is left of the limit (a share of it at least), not a
        # fresh limit
        deadline = Deadline.after(max(deadline.left(), FALLBACK_SHARE * time_limit_s), deadline.cut)
    return _whole_model(data, deadline, report, (split, flow_plan), prove, time_limit_s)


def _reporter(started: float, progress: Progress | None) -> Progress:
    """Return the stage reporter: a log line, and ``progress`` when given."""

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

    return report


def _empty_plan(data: _Data) -> WeeklyPairsPlan:
    """Return the empty plan, when no group has a pair (infeasible if a group must go)."""
    empty = np.zeros(0, dtype=np.int64)
    if np.any(data.must & (data.counts > 0)):
        msg = "an agent who must be assigned has no telecentre open on enough of its days."
        raise InfeasibleError(msg)
    return WeeklyPairsPlan(empty, empty, empty.astype(np.uint8), empty, 0, 0, "optimal")


def _split_days_first(
    data: _Data, report: Progress
) -> tuple[int | None, _Placement | None, WeeklyPairsPlan | None]:
    """Try the split-days bound first, on problems of :data:`SPLIT_DAYS_FIRST` pairs or more.

    Returns the bound (None when not computed, or no flow), the flow's plan to
    fall back on when it is one (never worse than the column generation's, which
    the deadline may stop before it converges), and the plan when the
    relaxation's optimum is a plan: it is then optimal.
    """
    split: int | None = None
    flow_plan: _Placement | None = None
    if data.agent.size >= SPLIT_DAYS_FIRST and 5 * data.agent.size <= SPLIT_DAYS_ARCS:
        split, as_plan = _split_days(data)
        if split is not None:
            report("split-days bound", 0.0, split)
        if split is not None and as_plan is not None and _placed_all_must(data, as_plan):
            objective = _value(data, *as_plan)
            if objective >= split:  # the relaxation's optimum is a plan: it is optimal
                report("split-days flow, a plan already", objective, split)
                return split, flow_plan, _plan(data, as_plan, objective, float(split), True)
            flow_plan = as_plan
    return split, flow_plan, None


def _large_path(
    data: _Data,
    deadline: Deadline,
    report: Progress,
    split: int | None,
    flow_plan: _Placement | None,
) -> WeeklyPairsPlan | None:
    """Plan many groups from a sample's multipliers (:func:`_large_plan`).

    Returns None when that plan leaves agents who must be assigned out: the
    caller then solves the whole configuration model.
    """
    lam, mu, lagrangian, placed = _large_plan(data, deadline, report)
    prices = WeeklyPrices(lam, mu, lagrangian)
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
        return _plan(data, placed, objective, bound, objective >= bound, prices)
    # the groups fixed at the sample's prices took desks that agents who must be
    # assigned need: that says nothing of the problem, so solve it whole
    logger.warning(
        "weekly pairs: the sampled plan leaves agents who must be assigned out; "
        "solving the whole configuration model"
    )
    return None


def _whole_model(
    data: _Data,
    deadline: Deadline,
    report: Progress,
    first: tuple[int | None, _Placement | None],
    prove: bool,
    time_limit_s: float,
) -> WeeklyPairsPlan:
    """Column generation, the rounded plan, the integer programs and the proof.

    ``first`` is the split-days bound and the flow's plan from
    :func:`_split_days_first`.
    """
    split, flow_plan = first
    lam, mu, x_cols, lagrangian, lp_seconds = _column_generation(data, deadline.share(0.5), report)
    bound = min(_whole_bound(lagrangian), np.inf if split is None else split)
    cols_pair, cols_mask, x = x_cols
    placed = _better(data, _round(data, lam, mu, cols_pair, cols_mask, x), flow_plan)
    objective = _value(data, *placed)
    report("rounded LP plan", objective, bound)
    placed, objective = _restricted_mip(
        data, (cols_pair, cols_mask), (placed, objective), bound, deadline, lp_seconds, report
    )
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
    elif status != "optimal" and (prove or not must_ok):
        deadline.note_cut(PROOF_CUT)
    if split is None and status != "optimal" and 5 * data.agent.size <= SPLIT_DAYS_ARCS:
        split = _split_days_bound(data)
    if split is not None and split < bound:
        bound = float(split)
        report("split-days bound", objective, bound)
        if objective >= bound and _placed_all_must(data, placed):
            status = "optimal"
    _check_must(data, placed, status == "optimal", time_limit_s)
    if status == "optimal" and PROOF_CUT in deadline.cut:  # it looks for better plans only:
        deadline.cut.remove(PROOF_CUT)  # there are none, so cutting it changed nothing
    prices = WeeklyPrices(lam, mu, lagrangian)
    return _plan(data, placed, objective, bound, status == "optimal", prices)


def _restricted_mip(
    data: _Data,
    columns: tuple[np.ndarray, np.ndarray],
    incumbent: tuple[_Placement, int],
    bound: float,
    deadline: Deadline,
    lp_seconds: float,
    report: Progress,
) -> tuple[_Placement, int]:
    """Price and branch: HiGHS's integer program on the LP's columns, for a better plan.

    Returns the better of ``incumbent`` (a plan and its value) and the integer
    program's plan.
    """
    cols_pair, cols_mask = columns
    placed, objective = incumbent
    # HiGHS's integer programs start with an LP at least as large as the column
    # generation's, which HiGHS may not stop on time (it took 17 s of a 2.4 s limit on a
    # loaded machine): one is started only when it has MIP_LP_TIMES that LP's time
    left = deadline.left()
    mip_time = min(left * RESTRICTED_SHARE, left - 1.0)
    wanted = RESTRICTED_SHARE > 0 and objective < bound and cols_pair.size <= MIP_COLUMNS
    if wanted and not (left > 2 and mip_time >= MIP_LP_TIMES * lp_seconds):
        deadline.note_cut("integer program on the LP's columns")
    elif wanted:
        res = _mip(
            data,
            cols_pair,
            cols_mask,
            _column_value(data, cols_pair, cols_mask).astype(np.float64),
            data.must,
            mip_time,
            node_limit=RESTRICTED_NODES,
        )
        if timed_out(res):
            deadline.note_cut("integer program on the LP's columns")
        if res.x is not None and -res.fun > objective + 0.5:
            x_int = np.rint(res.x).astype(np.int64)
            use = x_int > 0
            placed = (cols_pair[use], cols_mask[use], x_int[use])
            objective = _value(data, *placed)
            report("integer program on the LP's columns", objective, bound)
    return placed, objective


def _check_must(data: _Data, placed: _Placement, proven: bool, time_limit_s: float) -> None:
    """Raise when the plan leaves agents who must be assigned out."""
    if _placed_all_must(data, placed):
        return
    if proven:  # the integer program on every column found no such plan
        msg = "the agents who must be assigned cannot all get desks on their days."
        raise InfeasibleError(msg)
    msg = (
        f"no plan placing every agent who must be assigned was found in {time_limit_s:g} s;"
        " allow more time (--time-limit) or fewer must-assign agents."
    )
    raise SolverError(msg)
