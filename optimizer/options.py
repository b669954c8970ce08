"""A plan's options: one typed, documented object shared by :func:`optimizer.run` and ``assign``.

:class:`PlanOptions` holds every rule of a plan with its default. The
``assign`` command builds one from its options and the library's
:func:`optimizer.pipeline.run` takes it, so the command and the library cannot
disagree on a default.

Capacity has one meaning everywhere: a telecentre's ``capacity`` is the number
of desks it offers **each weekday** (columns ``mon`` .. ``fri`` override it per
day). A desk used by one agent on Monday is free for another on Tuesday:
every agent does its telework days at one telecentre, on days with a free
desk. ``dedicated_desks=True`` keeps the policy of schemes that rent desks
full time: one desk per agent for the whole week.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.model import ENGINES, OBJECTIVES, Engine, Objective

SelectBy = Literal["saving", "commute"]
SELECT_BY = ("saving", "commute")

#: Default minimum saving, round-trip minutes a day: below this, moving to a telecentre
#: is not worth it (the threshold used by the French tiers-lieux studies, 10 minutes a day).
DEFAULT_MIN_SAVING = 10.0
#: Default bonus of an agent's preferred telecentre, minutes a week.
DEFAULT_PREFERENCE_BONUS = 30.0
#: Default bonus of each preferred weekday granted, minutes a week.
DEFAULT_DAY_BONUS = 5.0
#: Default penalty of moving an agent in a re-plan, minutes a week.
DEFAULT_MOVE_PENALTY = 60.0
#: Default seed of the draw that settles the last ties (:mod:`optimizer.ties`).
DEFAULT_SEED = 2015
#: Default penalty of each weekday an agent staying at its telecentre loses in a re-plan,
#: minutes a week (a quarter of the move penalty: a changed weekday disturbs less than a move).
DEFAULT_DAY_CHANGE_PENALTY = 15.0


@dataclass(frozen=True)
class PlanOptions:
    """The rules of a plan, with their defaults (the same as the ``assign`` command's).

    Attributes
    ----------
    select
        Assign at most this many agents (None: no limit).
    select_by
        How the ``select`` agents are chosen: ``"saving"`` (default: the plan
        that saves the most with at most ``select`` agents) or ``"commute"``
        (the ``select`` agents with the longest commute to the head office
        among those a telecentre saves time, as the 2015 scheme chose them).
    max_minutes
        Longest acceptable one-way drive to a telecentre, minutes (None: no limit).
    min_saving
        Round-trip minutes a day below which moving is not worth it (default
        :data:`DEFAULT_MIN_SAVING`).
    objective
        ``"minutes"`` (default), ``"km"`` or ``"travel"``
        (see :class:`optimizer.model.AssignmentProblem`).
    preference_bonus
        Minutes a week an agent's ``preferred_telecentre`` is worth.
    no_worse_off
        Never send an agent to a telecentre further (one way) than the head office.
    minimax
        Fairness first: the shortest possible longest drive, then the most saving.
    max_open
        Choose which telecentres to open: at most this many (an
        ``opening_cost`` column also chooses).
    day_bonus
        Minutes a week each granted preferred weekday is worth.
    move_penalty
        Re-plans: minutes a week a move must gain to be made.
    day_change_penalty
        Re-plans: minutes a week each previous weekday an agent keeps at its
        previous telecentre is worth, so a change of weekday must gain that much.
    dedicated_desks
        One desk per agent for the whole week (schemes that rent desks full
        time) instead of desks shared by weekday (default).
    engine
        ``"flow"`` (min-cost flow wherever it is exact, default) or ``"cp-sat"``.
    time_limit_s
        Seconds CP-SAT may search.
    max_snap_m
        Homes further than this from any road are reported unreachable.
    seed
        Seed of the draw that settles ties left by priority and by the drive
        to the head office (:mod:`optimizer.ties`): the same seed gives the
        same plan; another seed changes only tie decisions.
    """

    select: int | None = None
    select_by: SelectBy = "saving"
    max_minutes: float | None = None
    min_saving: float = DEFAULT_MIN_SAVING
    objective: Objective = "minutes"
    preference_bonus: float = DEFAULT_PREFERENCE_BONUS
    no_worse_off: bool = True
    minimax: bool = False
    max_open: int | None = None
    day_bonus: float = DEFAULT_DAY_BONUS
    move_penalty: float = DEFAULT_MOVE_PENALTY
    day_change_penalty: float = DEFAULT_DAY_CHANGE_PENALTY
    dedicated_desks: bool = False
    engine: Engine = "flow"
    time_limit_s: float = settings.SOLVER_TIME_LIMIT_S
    max_snap_m: float = settings.MAX_SNAP_M
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        checks = [
            (self.select is None or self.select >= 0, "select must be 0 or more"),
            (self.select_by in SELECT_BY, f"select_by must be one of {', '.join(SELECT_BY)}"),
            (
                self.select_by == "saving" or self.select is not None,
                "--select-by commute chooses the --select K longest commutes: give --select K "
                "too (select_by='commute' needs select)",
            ),
            (self.max_minutes is None or self.max_minutes > 0, "max_minutes must be positive"),
            (self.min_saving >= 0, "min_saving must be 0 or more"),
            (self.objective in OBJECTIVES, f"objective must be one of {', '.join(OBJECTIVES)}"),
            (self.preference_bonus >= 0, "preference_bonus must be 0 or more"),
            (self.max_open is None or self.max_open >= 0, "max_open must be 0 or more"),
            (self.day_bonus >= 0, "day_bonus must be 0 or more"),
            (self.move_penalty >= 0, "move_penalty must be 0 or more"),
            (self.day_change_penalty >= 0, "day_change_penalty must be 0 or more"),
            (self.engine in ENGINES, f"engine must be one of {', '.join(ENGINES)}"),
            (self.time_limit_s > 0, "time_limit_s must be positive"),
            (self.max_snap_m > 0, "max_snap_m must be positive"),
            (
                isinstance(self.seed, int | np.integer)
                and not isinstance(self.seed, bool)
                and 0 <= self.seed < 2**63,
                "seed must be a whole number from 0 to 2**63 - 1",
            ),
        ]
        for ok, text in checks:
            if not ok:
                msg = f"{text}."
                raise InputError(msg)

    @property
    def capacity_policy(self) -> str:
        """``"shared desks by weekday"`` or ``"dedicated desks"``, for reports."""
        return "dedicated desks" if self.dedicated_desks else "shared desks by weekday"

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Return the option names, in order."""
        return tuple(f.name for f in fields(cls))
