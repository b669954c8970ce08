"""Small helpers for the words every stage says (counts of things)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """Say ``1 agent``, ``2 agents`` (``plural`` when adding an s is wrong)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"
