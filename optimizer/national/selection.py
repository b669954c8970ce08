"""``--select K --select-by commute`` in a national plan: the K longest commutes that gain.

Agents are chosen as a plain run chooses them
(:func:`optimizer.pipeline.by_commute`): among the agents some site would
save time (an eligible pair whose site opens on enough of their days), the K
with the longest one-way drive to their workplace, equal drives by the tie
rule (:mod:`optimizer.ties`). The plan then places as many of them as it
can; the others who gain are "not selected" for longer commutes. Within a
group (one home, workplace, days and rules: one commute) the first by the
tie rule are chosen, which are the agents the allocation hands the group's
places to (:func:`.allocation.allocation`), so the plan is the group plan
with each group's size cut to its chosen agents (:meth:`Selection.view`).

A group that gains only through pairs not certified
(:attr:`.evaluation.Evaluation.unknown`) may or may not gain on the merged
network. When such an agent comes before the K-th choice, the choice depends
on it: its group is *doubtful*, its pairs stay needed (never priced out) so
that widening routes them, and while one is left the plan is not exact and
no bound on the merged network holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.national.groups import pairs_on_enough_days


@dataclass(frozen=True)
class Selection:
    """The agents ``--select-by commute`` chose, group by group.

    Attributes
    ----------
    chosen
        ``(n_groups,)`` agents chosen in each group (its first by the tie rule).
    gains
        ``(n_groups,)`` the group gains on certified pairs.
    doubtful
        ``(n_groups,)`` the group gains only through pairs not certified and
        one of its agents comes before the K-th choice.
    """

    chosen: np.ndarray
    gains: np.ndarray
    doubtful: np.ndarray

    @property
    def certain(self) -> bool:
        """True when the choice depends on no pair not certified."""
        return not bool(self.doubtful.any())

    def view(self, groups: pd.DataFrame) -> pd.DataFrame:
        """Return the groups as the solver sees them: each cut to its chosen agents."""
        return groups.assign(size=self.chosen)

    def priced_out(self, unknown: pd.DataFrame, priced: np.ndarray | None) -> np.ndarray:
        """Per pair not certified: it cannot change the plan, given the choice.

        A pair of a group with no agent chosen cannot be used (``priced`` aside),
        unless the group is doubtful: its pairs decide the choice, so they are
        needed whatever the prices say.
        """
        group = unknown["group"].to_numpy(np.int64)
        out = np.zeros(group.size, dtype=bool) if priced is None else np.asarray(priced, bool)
        return np.asarray((out | (self.chosen[group] == 0)) & ~self.doubtful[group])


def by_commute(
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    pairs: pd.DataFrame,
    unknown: pd.DataFrame,
    desks: np.ndarray,
    membership: np.ndarray,
    rank: np.ndarray,
    select: int,
) -> Selection:
    """Choose the ``select`` agents with the longest commutes among those who gain.

    Parameters
    ----------
    groups
        The groups (``pattern``, ``days``).
    commute
        Per group: ``minutes_to`` its workplace (NaN when not known: last).
    pairs, unknown
        ``group, site``: the eligible certified pairs, and those not certified
        that may be eligible.
    desks
        ``(n_sites, 5)`` desks per weekday.
    membership
        ``(n_agents,)`` each agent's group.
    rank
        ``(n_agents,)`` the tie order (0 first).
    select
        How many agents to choose (K).

    Returns
    -------
    Selection
        The choice, group by group.
    """
    n_groups = len(groups)
    on = np.asarray(desks) > 0
    gains = _groups_with(groups, pairs, on)
    maybe = _groups_with(groups, unknown, on) & ~gains
    minutes = commute["minutes_to"].to_numpy(float)
    drive = np.where(np.isnan(minutes), -np.inf, minutes)[membership]
    order = np.lexsort((np.asarray(rank), -drive))
    group = membership[order]
    picks = np.cumsum(gains[group])
    chosen = gains[group] & (picks <= select)
    # the agents before the K-th choice (all, when fewer than K gain for sure)
    kth = int(np.searchsorted(picks, select)) if select > 0 else 0
    ahead = np.arange(group.size) < kth
    doubtful = np.zeros(n_groups, dtype=bool)
    doubtful[group[ahead & maybe[group]]] = True
    return Selection(
        chosen=np.bincount(group[chosen], minlength=n_groups).astype(np.int64),
        gains=gains,
        doubtful=doubtful,
    )


def _groups_with(groups: pd.DataFrame, pairs: pd.DataFrame, on: np.ndarray) -> np.ndarray:
    """Per group: one of its pairs' sites opens on enough of its days."""
    group = pairs["group"].to_numpy(np.int64)
    usable = pairs_on_enough_days(groups, group, pairs["site"].to_numpy(np.int64), on)
    out = np.zeros(len(groups), dtype=bool)
    out[group[usable]] = True
    return out
