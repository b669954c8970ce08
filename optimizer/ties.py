"""Ties: the stated rule that decides between agents the objective cannot tell apart.

Agents of one commune share its town-hall point: their drives, hence their
savings, are equal, and an optimal plan may place any of them. Left to the
solvers, which of them gets the desk would change from run to run. The plan
decides by a rule instead, the same on every run:

1. the higher ``priority`` (a roster column, 0 when not given: seniority, a
   medical reason, the council's own rule);
2. then the longer one-way drive to the head office (or to the agent's own
   workplace);
3. then a reproducible draw: each agent's number is a hash of the seed
   (``--seed``, :data:`optimizer.options.DEFAULT_SEED`) and its id, so it does not depend on the
   roster's row order.

The rule is carried two ways, both exact (the plan's saving is never changed):

- in the objective, where the solvers can carry it exactly
  (:func:`tie_objective`): every saving is scaled and each agent placed adds
  its weight, lower for later in the rule's order, so that among plans saving
  as much the solvers pick the one whose agents come first by the rule (the
  largest sum of weights);
- by exchange, on every plan (:func:`settle_ties`): an agent left out that
  could take the exact place of a placed agent (same telecentre and weekdays,
  the same saving and bonuses, its days allowed) and that comes first by the
  rule takes it, until no such exchange is left.

:func:`tie_losses` then names, for each agent left out while such an equal
was placed, the winner and the step of the rule that decided.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.model import AssignmentProblem
from optimizer.options import DEFAULT_SEED

logger = logging.getLogger(__name__)
#: The rule, as the outputs state it.
TIE_RULE = (
    "among agents the objective cannot tell apart: the higher priority first, then the "
    "longer drive to the head office, then a draw from the seed"
)
#: How the reason of an agent left out for an equal begins (the winner's id follows).
TIE_LOST = "tie lost to "
#: What decided a tie, by step of the rule.
DECIDED_BY = {
    "priority": "higher priority",
    "commute": "longer drive to the head office",
    "draw": "the draw",
}


@dataclass(frozen=True)
class TieOrder:
    """The order in which agents are served when the objective cannot tell them apart.

    Attributes
    ----------
    rank
        ``(n_agents,)`` 0 for the agent served first.
    priority
        ``(n_agents,)`` the priorities (0 when not given).
    commute
        ``(n_agents,)`` one-way minutes to the head office (-inf when unreachable).
    draw
        ``(n_agents,)`` the draw's numbers (lower first).
    seed
        The draw's seed.
    """

    rank: np.ndarray
    priority: np.ndarray
    commute: np.ndarray
    draw: np.ndarray
    seed: int

    def decided_by(self, winner: int, loser: int) -> str:
        """Return the step of the rule that puts ``winner`` first: a key of :data:`DECIDED_BY`."""
        if self.priority[winner] != self.priority[loser]:
            return "priority"
        if self.commute[winner] != self.commute[loser]:
            return "commute"
        return "draw"


def draw_numbers(agent_ids: Sequence[str], seed: int) -> np.ndarray:
    """Each agent's number in the draw: the first 8 bytes of SHA-256(seed, id).

    Parameters
    ----------
    agent_ids
        The ids.
    seed
        The seed.

    Returns
    -------
    numpy.ndarray
        ``(n_agents,)`` unsigned 64-bit numbers.
    """
    numbers = [
        int.from_bytes(hashlib.sha256(f"{seed}\x00{a}".encode()).digest()[:8], "big")
        for a in agent_ids
    ]
    return np.array(numbers, dtype=np.uint64)


def tie_order(
    agent_ids: Sequence[str],
    *,
    priority: np.ndarray | None = None,
    commute: np.ndarray | None = None,
    seed: int = DEFAULT_SEED,
) -> TieOrder:
    """Rank the agents by the tie rule (module docstring).

    Parameters
    ----------
    agent_ids
        The ids, in input order.
    priority
        ``(n_agents,)`` numbers, higher first (default: all 0).
    commute
        ``(n_agents,)`` one-way minutes to the head office, longer first
        (NaN: unreachable, last; default: all equal).
    seed
        The draw's seed.

    Returns
    -------
    TieOrder
        The order.
    """
    n = len(agent_ids)
    prio = np.zeros(n) if priority is None else np.asarray(priority, dtype=float)
    drive = np.zeros(n) if commute is None else np.asarray(commute, dtype=float)
    drive = np.where(np.isnan(drive), -np.inf, drive)
    draw = draw_numbers(list(agent_ids), seed)
    ids = np.arange(n)  # the draw's numbers are distinct in practice; input order if not
    order = np.lexsort((ids, draw, -drive, -prio))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return TieOrder(rank=rank, priority=prio, commute=drive, draw=draw, seed=int(seed))


def tie_objective(order: TieOrder, *, most_placed: int) -> tuple[np.ndarray, int]:
    """Tie weights and the scale that keep the objective lexicographic.

    Parameters
    ----------
    order
        The tie order.
    most_placed
        At most this many agents can be placed (desk-days, ``--select``):
        the scale exceeds the largest sum of that many weights.

    Returns
    -------
    tuple
        ``(weights, scale)`` for :class:`~optimizer.model.AssignmentProblem`'s
        ``tie_weight`` and ``tie_scale``: ``n - rank`` (the first agent
        weighs the most) and one more than the sum of the ``most_placed``
        largest weights.
    """
    n = order.rank.size
    weights = (n - order.rank).astype(np.int64)
    k = max(0, min(int(most_placed), n))
    top = int(np.sort(weights)[::-1][:k].sum())
    return weights, top + 1


def ties_fit(problem: AssignmentProblem, scale: int, *, count_first: bool) -> bool:
    """Whether the scaled objective stays exact in the solvers' numbers.

    Integer engines hold ``gain x scale`` times the weekly flow's 60 per-day
    steps over every agent in 62 bits (``count_first``: times the number of
    agents again, the weight of one more agent placed); the flow's prices are
    floats, exact to 52 bits.

    Parameters
    ----------
    problem
        The problem, without tie weights.
    scale
        The tie scale.
    count_first
        Whether a solve counts agents first (minimax).

    Returns
    -------
    bool
        True when the tie order can be part of the objective.
    """
    n = max(1, problem.n_agents)
    largest = max([1, *(int(np.abs(gain).max(initial=0)) for _, _, _, gain in problem.blocks())])
    total = n * largest * int(scale) * 300
    return total < 2**52 and (not count_first or total * n < 2**62)


@dataclass(frozen=True)
class _Slots:
    """Placed agents that another could replace, by (telecentre, gain, days)."""

    index: dict[tuple[int, int, int], list[tuple[int, int]]]

    def add(self, key: tuple[int, int, int], rank: int, agent: int) -> None:
        bisect.insort(self.index.setdefault(key, []), (-rank, agent))

    def remove(self, key: tuple[int, int, int], rank: int, agent: int) -> None:
        entries = self.index[key]
        entries.pop(bisect.bisect_left(entries, (-rank, agent)))


def _gains_of_pairs(
    problem: AssignmentProblem, telecentre: np.ndarray, agents: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Placed agents' gains, and each of ``agents``' eligible (telecentre, gain) pairs.

    Only the pairs that match some placed agent's (telecentre, gain, days) are
    kept: no other can be an equal's place (at 100,000 x 200, this keeps the
    exchanges to seconds).
    """
    gain_of_placed = np.zeros(problem.n_agents, dtype=np.int64)
    for lo, _, _, gain in problem.blocks():
        chosen = telecentre[lo : lo + gain.shape[0]]
        rows = np.flatnonzero(chosen >= 0)
        gain_of_placed[lo + rows] = gain[rows, chosen[rows]]
    n_days = problem.days.astype(np.int64)
    placed = np.flatnonzero(telecentre >= 0)
    m = problem.n_telecentres
    known = np.unique(_slot_key(telecentre[placed], gain_of_placed[placed], n_days[placed], m))
    wanted = np.zeros(problem.n_agents, dtype=bool)
    wanted[agents] = True
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    options: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for lo, _, ok, gain in problem.blocks():
        rows = np.flatnonzero(wanted[lo : lo + gain.shape[0]])
        r, c = np.nonzero(ok[rows])
        g = gain[rows[r], c]
        hit = np.isin(_slot_key(c, g, n_days[lo + rows[r]], m), known)
        r, c, g = r[hit], c[hit], g[hit]
        if r.size == 0:
            continue
        starts = np.flatnonzero(np.r_[True, np.diff(r) != 0])
        for a, b in zip(starts, np.r_[starts[1:], r.size], strict=True):
            options[lo + int(rows[r[a]])] = (c[a:b].astype(np.int64), g[a:b].astype(np.int64))
    return gain_of_placed, [options.get(int(i), empty) for i in agents]


def _options_of(
    problem: AssignmentProblem, agent: int, slots: _Slots
) -> tuple[np.ndarray, np.ndarray]:
    """One agent's eligible (telecentre, gain) pairs that match a place in ``slots``."""
    ok, gain = problem.block(agent, agent + 1)
    cols = np.flatnonzero(ok[0])
    days = int(problem.days[agent])
    keep = np.array(
        [(int(j), int(g), days) in slots.index for j, g in zip(cols, gain[0, cols], strict=True)],
        dtype=bool,
    )
    return cols[keep].astype(np.int64), gain[0, cols[keep]].astype(np.int64)


def _slot_key(site: np.ndarray, gain: np.ndarray, days: np.ndarray, m: int) -> np.ndarray:
    """One number per (telecentre of ``m``, gain, days): the key of a place equals can trade."""
    site, gain, days = (np.asarray(x, dtype=np.int64) for x in (site, gain, days))
    return np.asarray((gain * (m + 1) + site) * 8 + days, dtype=np.int64)


Kept = tuple[np.ndarray, np.ndarray]
"""A re-plan's kept weekdays: ``(kept, before)``, the ``(n_agents, 5)`` previous weekdays
and the ``(n_agents,)`` previous telecentre (-1: none); a weekday is worth its bonus when
kept at that telecentre."""


def _can_take(
    b: int,
    a: int,
    where: int,
    days: np.ndarray,
    rules: tuple[np.ndarray, np.ndarray, Kept | None],
) -> bool:
    """Whether ``b`` can take ``a``'s weekdays at telecentre ``where`` for the same bonuses."""
    allowed, preferred, kept = rules
    taken = days[a]
    if not allowed[b][taken].all():
        return False
    if preferred[b][taken].sum() != preferred[a][taken].sum():
        return False
    if kept is None:
        return True
    previous, before = kept
    worth_b = previous[b][taken].sum() if before[b] == where else 0
    worth_a = previous[a][taken].sum() if before[a] == where else 0
    return bool(worth_b == worth_a)


def _winner(
    b: int,
    options: tuple[np.ndarray, np.ndarray],
    slots: _Slots,
    n_days: np.ndarray,
    can_take: Callable[[int, int], bool],
) -> int | None:
    """Return the placed agent, last by the rule, whose place ``b`` could take, or None."""
    best: tuple[int, int] | None = None
    for j, g in zip(options[0].tolist(), options[1].tolist(), strict=True):
        for neg_rank, a in slots.index.get((j, g, int(n_days[b])), ()):
            if can_take(b, a):
                if best is None or -neg_rank > best[0]:
                    best = (-neg_rank, a)
                break  # the entries are sorted last-first: the first that fits is the last
    return None if best is None else best[1]


def _places(
    problem: AssignmentProblem, telecentre: np.ndarray, gain_of: np.ndarray, order: TieOrder
) -> _Slots:
    """Return the places of the placed agents an equal could take (not those who must be placed)."""
    n_days = problem.days.astype(np.int64)
    slots = _Slots({})
    for a in np.flatnonzero((telecentre >= 0) & ~problem.must).tolist():
        slots.add((int(telecentre[a]), int(gain_of[a]), int(n_days[a])), int(order.rank[a]), a)
    return slots


def _day_rules(
    n: int, allowed: np.ndarray | None, preferred: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 5)`` allowed and preferred weekdays (default: every day allowed, none preferred)."""
    return (
        np.ones((n, 5), bool) if allowed is None else np.asarray(allowed, bool),
        np.zeros((n, 5), bool) if preferred is None else np.asarray(preferred, bool),
    )


def settle_ties(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    days: np.ndarray,
    order: TieOrder,
    *,
    allowed: np.ndarray | None = None,
    preferred: np.ndarray | None = None,
    kept: Kept | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Give each place held by an agent to an equal that comes first by the rule.

    An agent ``b`` left out takes the place of a placed agent ``a`` (its
    telecentre and weekdays) when ``b`` may go there with the same gain
    (saving, preference and re-plan bonuses), the same number of telework
    days, ``a``'s weekdays allowed and worth as much to it, ``a`` need not be
    placed (not ``must_assign``), and ``b`` comes before ``a`` by the rule.
    The plan's objective, desks used and every rule are unchanged; exchanges
    go on until none is left (each puts an agent earlier by the rule in place
    of a later one, so they end).

    Parameters
    ----------
    problem
        The problem, without tie weights (gains in whole seconds or metres).
    telecentre
        ``(n_agents,)`` each agent's telecentre, -1 when left out.
    days
        ``(n_agents, 5)`` weekdays of each agent.
    order
        The tie order.
    allowed, preferred
        ``(n_agents, 5)`` booleans (default: every day allowed, none preferred).
    kept
        A re-plan's kept weekdays (:data:`Kept`), or None.

    Returns
    -------
    tuple
        The new ``telecentre`` and ``days``, and the number of exchanges made.
    """
    telecentre = np.asarray(telecentre, dtype=np.int64).copy()
    days = np.asarray(days, dtype=bool).copy()
    allowed, preferred = _day_rules(problem.n_agents, allowed, preferred)
    changed = 0
    while True:  # each exchange puts an earlier agent in place of a later one: this ends
        changed += _order_places(problem, telecentre, days, order, (allowed, preferred, kept))
        swaps = _exchange(problem, telecentre, days, order, (allowed, preferred, kept))
        changed += swaps
        if not swaps:
            break
    if changed:
        logger.info("ties: %d agent(s) changed places with equals, by the rule", changed)
    return telecentre, days, changed


def _exchange(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    days: np.ndarray,
    order: TieOrder,
    rules: tuple[np.ndarray, np.ndarray, Kept | None],
) -> int:
    """Agents left out take the places of later equals (in place); returns the exchanges."""
    left = np.flatnonzero(telecentre < 0)
    if left.size == 0 or not (telecentre >= 0).any():
        return 0
    gain_of, options = _gains_of_pairs(problem, telecentre, left)
    by_agent = dict(zip(left.tolist(), options, strict=True))
    n_days = problem.days.astype(np.int64)
    slots = _places(problem, telecentre, gain_of, order)
    queue = [(int(order.rank[b]), b) for b in left.tolist() if by_agent[b][0].size]
    heapq.heapify(queue)
    swaps = 0
    while queue:
        rank_b, b = heapq.heappop(queue)

        def later(b: int, a: int, rank_b: int = rank_b) -> bool:
            return int(order.rank[a]) > rank_b and _can_take(b, a, int(telecentre[a]), days, rules)

        found = _winner(b, by_agent[b], slots, n_days, later)
        if found is None:
            continue
        key = (int(telecentre[found]), int(gain_of[found]), int(n_days[found]))
        slots.remove(key, int(order.rank[found]), found)
        slots.add(key, rank_b, b)
        telecentre[b], days[b], gain_of[b] = telecentre[found], days[found], gain_of[found]
        telecentre[found], days[found] = -1, False
        swaps += 1
        if found not in by_agent:  # its own options, now that it is left out
            by_agent[found] = _options_of(problem, found, slots)
        heapq.heappush(queue, (int(order.rank[found]), found))
    return swaps


def _order_places(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    days: np.ndarray,
    order: TieOrder,
    rules: tuple[np.ndarray, np.ndarray, Kept | None],
) -> int:
    """Among placed agents with the same options, give the best places first by the rule.

    Agents with the same gains everywhere, days, allowed and preferred
    weekdays (and kept weekdays at the same previous telecentre) and
    must-assign flag can trade places
    without changing anything else; within each such group, the places are
    sorted by the member's gain (then its preferred days granted, the
    telecentre and the weekdays) and handed out in the rule's order. Changes
    ``telecentre`` and ``days`` in place; returns the agents that changed places.
    """
    placed = np.flatnonzero(telecentre >= 0)
    if placed.size < 2:
        return 0
    groups: dict[bytes, list[int]] = {}
    rows: dict[int, np.ndarray] = {}
    keep = np.zeros(problem.n_agents, dtype=bool)
    keep[placed] = True
    allowed, preferred, kept = rules
    extra = [problem.days.astype(np.int64)[:, None], allowed, preferred, problem.must[:, None]]
    if kept is not None:
        extra += [np.asarray(kept[0], bool), np.asarray(kept[1], np.int64)[:, None]]
    for lo, hi, _, gain in problem.blocks():
        for r in np.flatnonzero(keep[lo:hi]).tolist():
            i = lo + r
            key = gain[r].tobytes() + b"".join(np.ascontiguousarray(e[i]).tobytes() for e in extra)
            groups.setdefault(hashlib.sha256(key).digest(), []).append(i)
            rows[i] = gain[r]
    changed = 0
    for members in groups.values():
        if len(members) < 2:
            continue
        places = sorted(
            ((int(telecentre[i]), days[i].copy()) for i in members),
            key=lambda p: (
                -int(rows[members[0]][p[0]]),
                -int((preferred[members[0]] & p[1]).sum()),
                p[0],
                tuple((~p[1]).tolist()),
            ),
        )
        for i, (j, taken) in zip(
            sorted(members, key=lambda i: int(order.rank[i])), places, strict=True
        ):
            if telecentre[i] != j or not np.array_equal(days[i], taken):
                changed += 1
            telecentre[i], days[i] = j, taken
    return changed


def tie_losses(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    days: np.ndarray,
    order: TieOrder,
    *,
    allowed: np.ndarray | None = None,
    preferred: np.ndarray | None = None,
    kept: Kept | None = None,
) -> dict[int, tuple[int, str]]:
    """Agents left out while an equal was placed: who won, and by which step of the rule.

    ``b`` lost a tie to ``a`` when ``b`` could take ``a``'s place as in
    :func:`settle_ties` and ``a`` comes first by the rule; of several such
    ``a``, the one last by the rule (the closest contest) is named.

    Parameters
    ----------
    problem, telecentre, days, order, allowed, preferred, kept
        As for :func:`settle_ties`, on a settled plan.

    Returns
    -------
    dict
        Agent index left out -> (winner's index, a key of :data:`DECIDED_BY`).
    """
    allowed, preferred = _day_rules(problem.n_agents, allowed, preferred)
    telecentre, days = np.asarray(telecentre), np.asarray(days, bool)
    left = np.flatnonzero(telecentre < 0)
    if left.size == 0 or not (telecentre >= 0).any():
        return {}
    gain_of, options = _gains_of_pairs(problem, telecentre, left)
    n_days = problem.days.astype(np.int64)
    slots = _places(problem, telecentre, gain_of, order)
    out: dict[int, tuple[int, str]] = {}
    for b, opts in zip(left.tolist(), options, strict=True):

        def earlier(b: int, a: int) -> bool:
            return int(order.rank[a]) < int(order.rank[b]) and _can_take(
                b, a, int(telecentre[a]), days, (allowed, preferred, kept)
            )

        found = _winner(b, opts, slots, n_days, earlier)
        if found is not None:
            out[b] = (found, order.decided_by(found, b))
    return out


def reason_kind(reason: str) -> str:
    """Return a reason without the agent it names, for counts (ties lost read alike).

    Parameters
    ----------
    reason
        A ``reason`` of ``allocation.csv``.

    Returns
    -------
    str
        The reason, or for a tie lost, the same words for every winner.
    """
    if not reason.startswith(TIE_LOST):
        return reason
    return f"{TIE_LOST}an equal; decided by {reason.rsplit('decided by ', 1)[-1]}"


def reason_label(reason: str) -> str:
    """Return a reason's first words, for counts in a sentence (a tie names no one).

    Parameters
    ----------
    reason
        A ``reason`` of ``allocation.csv``.

    Returns
    -------
    str
        ``"tie lost to an equal"`` for a tie lost, else the words before the first colon.
    """
    return "tie lost to an equal" if reason.startswith(TIE_LOST) else reason.split(":")[0]


def tie_reason(winner: str, rule: str, seed: int) -> str:
    """Return the reason of an agent left out while an equal was placed.

    Parameters
    ----------
    winner
        The id of the agent placed instead.
    rule
        The step of the rule that decided (a key of :data:`optimizer.ties.DECIDED_BY`).
    seed
        The draw's seed.

    Returns
    -------
    str
        ``"tie lost to <winner>: ..."``.
    """
    by = DECIDED_BY[rule] + (f" (seed {seed})" if rule == "draw" else "")
    return (
        f"{TIE_LOST}{winner}: an equal (it could take the same desks on the same weekdays "
        f"for the same saving); decided by {by}"
    )
