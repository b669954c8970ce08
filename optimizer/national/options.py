"""The rules of a national plan and the words of its commute reasons.

:class:`NationalOptions` (the limits, the border, the widening rounds, the
tie draw), their defaults, :data:`Widen` (what gives extracts of wider
regions) and the reasons a group's commute is not usable: shared by the
grouped plan (:mod:`.plan`) and a network folder's travel stage
(:mod:`.travel`), and by what both use (:mod:`.routing`, :mod:`.evaluation`,
:mod:`.bounds`, :mod:`.widen`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import shapely

from optimizer.errors import InputError
from optimizer.national.extracts import NetworkSource
from optimizer.options import (
    DEFAULT_DAY_BONUS,
    DEFAULT_MIN_SAVING,
    DEFAULT_PREFERENCE_BONUS,
    DEFAULT_SEED,
)

#: Default border around each département's network, km.
DEFAULT_BUFFER_KM = 30.0
#: Default longest acceptable one-way drive to a site, minutes.
DEFAULT_MAX_MINUTES = 60.0
#: Default rounds of wider extracts for the pairs the first extracts did not certify.
DEFAULT_WIDEN_ROUNDS = 2

#: Gives extracts of regions: ``{name: polygon (WGS84)} -> {name: source}`` (those it can give).
Widen = Callable[[Mapping[str, shapely.Geometry]], Mapping[str, NetworkSource]]

REASON_WORKPLACE_OUTSIDE = "workplace outside every département"
REASON_HOME_OUTSIDE = "home outside the buffer of its workplace's département"
REASON_NO_COMMUTE = "unreachable: no road route to the workplace"
REASON_COMMUTE_UNCERTIFIED = (
    "commute not certified: its route may leave the buffered network (widen the buffer)"
)


@dataclass(frozen=True)
class NationalOptions:
    """Rules of a national plan (the same meaning as in :class:`optimizer.options.PlanOptions`).

    Attributes
    ----------
    max_minutes
        Longest acceptable one-way drive to a site; also bounds what is kept.
    min_saving
        Round-trip minutes a day below which moving is not worth it.
    no_worse_off
        No agent goes to a site further (one way) than its workplace.
    buffer_km
        Border around each département's network (homes within it are routed there).
    time_limit_s
        Time for the weekly model when agents telework more than one day.
    widen_rounds
        Rounds that route the pairs and commutes no extract certified again,
        in extracts of the region around them (both ends and a margin that
        doubles each round: 30 km, then 60 km after a 30 km border); only
        where :func:`.plan.plan_national` is given a ``widen``. 0: none.
    seed
        The draw of the tie rule (:mod:`optimizer.ties`): which agents of a
        group (same home, workplace, days and rules) are placed when only
        some can be: the higher ``priority`` first, then the draw.
    select
        At most this many agents placed (``--select K``); None: no limit.
    select_by
        How the K are chosen: ``"saving"``, the plan that saves the most with
        K agents; ``"commute"``, the K longest commutes among the agents some
        site saves time, then the best plan for them (:mod:`.selection`).
    preference_bonus
        Minutes a week an agent's ``preferred_telecentre`` is worth in the
        objective, where that site is eligible (``--preference-bonus``).
    day_bonus
        Minutes a week each of an agent's ``preferred_days`` granted is worth
        in the objective (``--day-bonus``); with dedicated desks it only
        chooses an agent's days, as in a plain run.
    dedicated_desks
        One desk per agent all week (``--dedicated-desks``): a site hosts at
        most its dedicated desks (:mod:`.dedicated`), whatever the agents'
        telework days.
    objective
        ``"minutes"``: maximise the round-trip minutes saved a week;
        ``"km"``: the km (hence CO2), among the pairs the same rules in
        minutes allow and that save km, as in a plain run; ``"travel"``:
        minimise the minutes all agents drive a week (the same plan as
        ``"minutes"``, its value said as minutes driven). Gains are whole
        seconds or whole metres (:attr:`unit`), bonuses too.
    """

    max_minutes: float = DEFAULT_MAX_MINUTES
    min_saving: float = DEFAULT_MIN_SAVING
    no_worse_off: bool = True
    buffer_km: float = DEFAULT_BUFFER_KM
    time_limit_s: float = 60.0
    widen_rounds: int = DEFAULT_WIDEN_ROUNDS
    seed: int = DEFAULT_SEED
    select: int | None = None
    select_by: str = "saving"
    preference_bonus: float = DEFAULT_PREFERENCE_BONUS
    day_bonus: float = DEFAULT_DAY_BONUS
    dedicated_desks: bool = False
    objective: str = "minutes"

    def __post_init__(self) -> None:
        if not self.max_minutes > 0:
            msg = f"max_minutes must be positive, got {self.max_minutes}."
            raise InputError(msg)
        if not self.min_saving >= 0:
            msg = f"min_saving must be 0 or more, got {self.min_saving}."
            raise InputError(msg)
        if not self.buffer_km >= 0:
            msg = f"buffer_km must be 0 or more, got {self.buffer_km}."
            raise InputError(msg)
        if isinstance(self.widen_rounds, bool) or not (
            isinstance(self.widen_rounds, int) and self.widen_rounds >= 0
        ):
            msg = f"widen_rounds must be a whole number 0 or more, got {self.widen_rounds!r}."
            raise InputError(msg)
        for name, bonus in (
            ("preference_bonus", self.preference_bonus),
            ("day_bonus", self.day_bonus),
        ):
            if not bonus >= 0:
                msg = f"{name} must be 0 or more, got {bonus}."
                raise InputError(msg)
        if self.select_by not in ("saving", "commute"):
            msg = f"select_by must be 'saving' or 'commute', got {self.select_by!r}."
            raise InputError(msg)
        if self.objective not in ("minutes", "km", "travel"):
            msg = f"objective must be 'minutes', 'km' or 'travel', got {self.objective!r}."
            raise InputError(msg)
        if self.select is not None and (
            isinstance(self.select, bool) or not isinstance(self.select, int) or self.select < 0
        ):
            msg = f"select must be a whole number of agents, 0 or more, got {self.select!r}."
            raise InputError(msg)

    @property
    def unit(self) -> float:
        """Whole units of gain per unit of the objective: 60 (seconds a minute) or 1000 (m a km)."""
        return 1000.0 if self.objective == "km" else 60.0

    def margin_km(self, round_: int) -> float:
        """Return the margin of widening round ``round_`` (1, 2, ...): doubled each round."""
        return max(self.buffer_km, 10.0) * 2.0 ** (round_ - 1)
