"""Small helpers for the words every stage says (counts of things)."""

from __future__ import annotations

from collections.abc import Iterable


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """Say ``1 agent``, ``2 agents`` (``plural`` when adding an s is wrong)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"


def fewer_selected(select: int, placed: int, left_out: Iterable[tuple[object, int]]) -> str:
    """Say why ``--select K`` placed fewer than K, from the left-out agents' reasons counted.

    ``left_out`` is ``(reason label, agents)`` pairs, most frequent first (a
    ``value_counts`` of :func:`optimizer.ties.reason_label`).
    """
    counts = list(left_out)
    return (
        f"--select {select}: {placed} placed, not {select}; the "
        f"{counted(sum(n for _, n in counts), 'agent')} left out: "
        + ", ".join(f"{n} {r}" for r, n in counts)
        + " (allocation.csv says why, agent by agent)."
    )
