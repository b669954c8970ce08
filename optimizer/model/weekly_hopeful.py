r"""Pairs not known yet: how far they could raise the bound of a weekly plan.

Owns :func:`with_hopeful`. A *hopeful* pair :math:`p` of group :math:`g` may
exist with a weekly gain of at most :math:`\bar w_p` (its time is not known
yet; at best it is :math:`\bar w_p`). The plan (value :math:`z`, bound
:math:`B`) was solved without them; :math:`B` bounds the plans on the pairs
solved. Its multipliers :math:`\lambda, \mu` (:class:`~.weekly_data.WeeklyPrices`)
give :math:`L = L(\lambda, \mu)` on those pairs and each group's best column
:math:`\beta_g` (see :mod:`optimizer.model.weekly`); let
:math:`t_g = \max(0, \beta_g)` (:math:`\beta_g` for a group that must be placed)
and the hopeful pair's reduced cost

.. math::  r_p = t_g - \Big(\bar w_p - \min_{|S| = d_g} \sum_{d \in S} \lambda_{td} - \mu\Big),

its best column at its best gain (no bonus: hopeful pairs have none).

* When every :math:`r_p \ge 0`, the hopeful pairs leave :math:`L` as it is,
  and the proof's inequality
  :math:`\text{value}(x) \le L - \sum x_{pS} r_{pS}` (all :math:`r \ge 0`)
  says that a plan with an agent on hopeful pair :math:`p` is worth at most
  :math:`L - r_p`. Every plan, with or without them, is therefore worth at
  most :math:`\max(B, L - \min_p r_p)`; a pair with :math:`L - r_p \le B`
  cannot raise the bound (``hopeful_out``), whatever its gain up to
  :math:`\bar w_p`, and whatever the other hopeful pairs' gains.
* Otherwise the pairs with :math:`r_p < 0` raise :math:`\beta_g`: :math:`L`
  priced on every pair at the same :math:`\lambda, \mu` bounds every plan.
  A pair with :math:`r_p \ge 0` and :math:`L - r_p \le B` still cannot
  raise the bound on its own (``hopeful_out``: what need not be routed
  again); not all of them are then, so the wider bound says what they may do
  together.
* The split-days relaxation (:mod:`optimizer.model.weekly_split`) on every
  pair, the hopeful ones at their best gains, bounds every plan too; when it
  is no more than :math:`B`, no hopeful pair can raise the bound, all of them
  together.

The wider bound is the smallest of the valid ones, never below :math:`B`.
With it, a plan solved on the pairs whose times are certified is judged
against every plan of the network those times come from.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from optimizer.model.weekly_data import (
    WeeklyPairsPlan,
    _Data,
    _group_best,
    _lagrangian,
    _price,
    _whole_bound,
    _whole_bounds,
)
from optimizer.model.weekly_split import _split_days_bound

logger = logging.getLogger(__name__)

#: ``(group, site, gain)`` of pairs that may exist with at most that gain.
Hopeful = tuple[np.ndarray, np.ndarray, np.ndarray]


def with_hopeful(
    data: _Data, others: _Data, n_given: int, plan: WeeklyPairsPlan, max_arcs: int
) -> WeeklyPairsPlan:
    """Return ``plan`` with its wider bound and which hopeful pairs cannot raise it.

    ``data`` are the pairs solved, ``others`` the hopeful pairs (validated the
    same way: those without enough usable days dropped, ``others.index`` their
    positions among the ``n_given``), ``max_arcs`` the size above which the
    split-days flow is not built (five arcs a pair).
    """
    bound = int(plan.bound)
    out = np.ones(n_given, dtype=bool)  # a pair without enough usable days is never used
    if others.agent.size == 0:
        return replace(plan, wider_bound=bound, hopeful_out=out)
    candidates: list[int] = []
    each = np.zeros(others.agent.size, dtype=bool)
    if plan.prices is not None:
        wider, each = _priced(data, others, plan)
        candidates.append(wider)
    if not candidates or min(candidates) > bound:
        both = _joined(data, others)
        if 5 * both.agent.size <= max_arcs:
            split = _split_days_bound(both)
            if split is not None:
                candidates.append(split)  # at most the bound: none can raise it, together
        if plan.prices is None:  # L at zero multipliers: valid, if weak
            zero = np.zeros(data.desks.shape, dtype=np.float64)
            candidates.append(int(_whole_bound(_lagrangian(both, zero, 0.0)[0])))
    wider = max(bound, min(candidates))
    if wider <= bound:
        each[:] = True
    assert others.index is not None
    out[others.index] = each
    logger.info(
        "weekly pairs: %d hopeful pair(s), %d cannot raise the bound %d; wider bound %d",
        n_given,
        int(out.sum()),
        bound,
        wider,
    )
    return replace(plan, wider_bound=int(wider), hopeful_out=out)


def _priced(data: _Data, others: _Data, plan: WeeklyPairsPlan) -> tuple[int, np.ndarray]:
    """Return the bound at the plan's multipliers and which hopeful pairs cannot raise it."""
    assert plan.prices is not None
    lam, mu, lagrangian = plan.prices.day, plan.prices.mu, plan.prices.lagrangian
    best = _group_best(data, _price(data, lam)[1]) - mu  # -inf for a group with no pair
    take = np.maximum(best, 0.0)
    must = data.must & np.isfinite(best)
    take[must] = best[must]
    value = _price(others, lam)[1] - mu
    reduced = take[others.agent] - value
    tol = 1e-6 * max(1.0, abs(lagrangian))
    keeps_l = reduced >= -tol  # the pair leaves L as it is
    # a plan using the pair (alone) is worth at most L - r
    each = keeps_l & (_whole_bounds(lagrangian - reduced) <= plan.bound)
    if bool(keeps_l.all()):
        return int(_whole_bound(lagrangian - max(0.0, float(reduced.min())))), each
    # some hopeful pairs raise their group's best column: L on every pair at the same prices
    # (each of the others still cannot raise the bound on its own)
    raised = np.maximum(_group_best(others, value), take) - take
    wider = lagrangian + float((data.counts * raised).sum())
    return int(_whole_bound(wider)), each


def _joined(data: _Data, others: _Data) -> _Data:
    """Return the pairs solved and the hopeful ones as one problem (sorted by group)."""
    agent = np.concatenate([data.agent, others.agent])
    order = np.argsort(agent, kind="stable")

    def both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[order]

    return replace(
        data,
        agent=agent[order],
        site=both(data.site, others.site),
        gain=both(data.gain, others.gain),
        usable=both(data.usable, others.usable),
        kept=both(data.kept, others.kept),
        index=None,
    )
