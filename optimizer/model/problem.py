"""The assignment problem: agents, telecentres, travel times and the rules.

:class:`AssignmentProblem` is built from plain arrays or a travel table,
validated, and gives the eligibility and integer gain of every pair, a block
of agents at a time. Solving is delegated to the engines (:mod:`.flow`,
:mod:`.cpsat`) through :func:`optimizer.model.engines.solve`, which registers
itself here: the problem does not import the engines that import it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.errors import InputError, SolverError

if TYPE_CHECKING:
    from optimizer.model.result import Assignment

logger = logging.getLogger(__name__)

Objective = Literal["minutes", "km", "travel"]
Engine = Literal["flow", "cp-sat"]
HEAD_OFFICE = "head_office"
OBJECTIVES = ("minutes", "km", "travel")
ENGINES = ("flow", "cp-sat")

_BLOCK = 4096
#: Problems with at most this many agent-telecentre pairs keep their pair matrices in memory.
CACHE_PAIRS = 25_000_000
#: Telecentres per agent in the first min-cost flow solve (pricing adds more where needed).


def _pairs(pairs: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    if pairs is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    rows, cols = (np.asarray(p, dtype=np.int64).ravel() for p in pairs)
    return rows, cols


@dataclass(frozen=True)
class AssignmentProblem:
    """Agents, telecentres, travel times and the rules of the assignment.

    All minutes and km are one way; ``*_to`` is from home, ``*_back`` is home
    again. Missing values (NaN) mean unreachable; negative values are refused
    (:class:`~optimizer.errors.InputError`). Kilometres are optional (None)
    unless the objective is ``"km"``.

    Attributes
    ----------
    agent_ids, telecentre_ids
        Labels, in input order.
    minutes_to, minutes_back
        ``(n_agents, n_telecentres)`` drive minutes to each telecentre and back.
    head_office_minutes_to, head_office_minutes_back
        ``(n_agents,)`` drive minutes to the head office and back.
    km_to, km_back, head_office_km_to, head_office_km_back
        The same in kilometres, or None.
    capacities
        ``(n_telecentres,)`` agents each telecentre can host.
    days
        ``(n_agents,)`` telework days a week of each agent: the weight of its saving.
    select
        At most this many agents are assigned (None: no limit); a whole number >= 0.
    max_minutes
        Longest acceptable one-way drive to a telecentre (None: no limit).
    min_saving
        Minutes a day (round trip) below which moving is not worth it; the
        saving must in any case be positive.
    objective
        ``"minutes"``: maximise round-trip minutes saved a week (default);
        ``"km"``: maximise km saved a week (hence CO2); ``"travel"``: minimise
        the total weekly drive of all agents (the same optimum as
        ``"minutes"``, reported as minutes driven).
    must_assign
        ``(n_agents,)`` True for agents who must be assigned.
    forbidden
        ``(agent indices, telecentre indices)`` of pairs that must not be used.
    preferred
        ``(agent indices, telecentre indices)`` of pairs that earn the bonus.
    preference_bonus
        Bonus of a preferred pair, in objective units a week (minutes, or km
        for the ``km`` objective): a preferred telecentre wins over another
        unless the other saves more than this.
    no_worse_off
        No agent is sent to a telecentre further (one way, minutes) than the
        head office (default True).
    incumbent
        ``(agent indices, telecentre indices)`` of a previous plan, for re-plans.
    move_penalty
        Cost of moving an agent away from its incumbent telecentre (or
        dropping it), in objective units a week: a re-plan moves someone only
        when that gains more than this.
    excluded
        ``(n_agents,)`` True for agents left out of the candidates (choosing
        by commute, :class:`optimizer.options.PlanOptions`): they may go to no
        telecentre and are reported "not selected".
    """

    agent_ids: tuple[str, ...]
    telecentre_ids: tuple[str, ...]
    minutes_to: np.ndarray
    minutes_back: np.ndarray
    head_office_minutes_to: np.ndarray
    head_office_minutes_back: np.ndarray
    capacities: np.ndarray
    days: np.ndarray
    km_to: np.ndarray | None = None
    km_back: np.ndarray | None = None
    head_office_km_to: np.ndarray | None = None
    head_office_km_back: np.ndarray | None = None
    select: int | None = None
    max_minutes: float | None = None
    min_saving: float = 0.0
    objective: Objective = "minutes"
    must_assign: np.ndarray | None = None
    forbidden: tuple[np.ndarray, np.ndarray] | None = None
    preferred: tuple[np.ndarray, np.ndarray] | None = None
    preference_bonus: float = 0.0
    no_worse_off: bool = True
    incumbent: tuple[np.ndarray, np.ndarray] | None = None
    move_penalty: float = 0.0
    excluded: np.ndarray | None = None
    tie_weight: np.ndarray | None = None
    tie_scale: int = 1
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_cost_matrix(
        cls,
        minutes: np.ndarray,
        head_office_minutes: np.ndarray,
        capacities: np.ndarray,
        *,
        days: np.ndarray | None = None,
        km: np.ndarray | None = None,
        head_office_km: np.ndarray | None = None,
        agent_ids: list[str] | None = None,
        telecentre_ids: list[str] | None = None,
        **rules: object,
    ) -> AssignmentProblem:
        """Build a problem from one-way minutes, the same both ways.

        Parameters
        ----------
        minutes
            ``(n_agents, n_telecentres)`` one-way minutes (NaN: unreachable).
        head_office_minutes
            ``(n_agents,)`` one-way minutes to the head office.
        capacities
            ``(n_telecentres,)`` whole numbers >= 0.
        days
            Telework days a week per agent (default 1 each).
        km, head_office_km
            Distances, needed for ``objective="km"``.
        agent_ids, telecentre_ids
            Labels (default ``"0", "1", ...``).
        **rules
            ``select``, ``max_minutes``, ``min_saving``, ``objective``,
            ``must_assign``, ``forbidden``, ``preferred``, ``preference_bonus``:
            see the class attributes.

        Returns
        -------
        AssignmentProblem
            The problem.
        """
        minutes = np.asarray(minutes, dtype=float)
        if minutes.ndim != 2:
            msg = f"minutes must be a 2-D array (agents x telecentres), got shape {minutes.shape}."
            raise InputError(msg)
        n, m = minutes.shape
        ho = np.asarray(head_office_minutes, dtype=float)
        km_arr = None if km is None else np.asarray(km, dtype=float)
        ho_km = None if head_office_km is None else np.asarray(head_office_km, dtype=float)
        return cls(
            agent_ids=tuple(agent_ids if agent_ids is not None else (str(i) for i in range(n))),
            telecentre_ids=tuple(
                telecentre_ids if telecentre_ids is not None else (str(j) for j in range(m))
            ),
            minutes_to=minutes,
            minutes_back=minutes,
            head_office_minutes_to=ho,
            head_office_minutes_back=ho,
            capacities=np.asarray(capacities),
            days=np.ones(n, dtype=np.int64) if days is None else np.asarray(days),
            km_to=km_arr,
            km_back=km_arr,
            head_office_km_to=ho_km,
            head_office_km_back=ho_km,
            **rules,  # type: ignore[arg-type]
        ).validated()

    @classmethod
    def from_travel_times(
        cls,
        table: pd.DataFrame,
        agents: pd.DataFrame,
        telecentres: pd.DataFrame,
        **rules: object,
    ) -> AssignmentProblem:
        """Build a problem from the long travel table of :func:`optimizer.travel.travel_table`.

        Parameters
        ----------
        table
            ``origin_id, destination_id, minutes_to, km_to, minutes_back,
            km_back``; the head office's ``destination_id`` is ``"head_office"``.
        agents
            ``agent_id`` and optionally ``telework_days`` (order kept).
        telecentres
            ``telecentre_id, capacity`` (order kept).
        **rules
            See :meth:`from_cost_matrix`.

        Returns
        -------
        AssignmentProblem
            The problem.
        """
        agent_ids = agents["agent_id"].astype(str).tolist()
        tc_ids = telecentres["telecentre_id"].astype(str).tolist()
        wide = {
            col: table.pivot(index="origin_id", columns="destination_id", values=col).reindex(
                index=agent_ids, columns=[*tc_ids, HEAD_OFFICE]
            )
            for col in ("minutes_to", "minutes_back", "km_to", "km_back")
        }
        days = (
            agents["telework_days"].to_numpy()
            if "telework_days" in agents
            else np.ones(len(agent_ids), dtype=np.int64)
        )
        return cls(
            agent_ids=tuple(agent_ids),
            telecentre_ids=tuple(tc_ids),
            minutes_to=wide["minutes_to"][tc_ids].to_numpy(float),
            minutes_back=wide["minutes_back"][tc_ids].to_numpy(float),
            head_office_minutes_to=wide["minutes_to"][HEAD_OFFICE].to_numpy(float),
            head_office_minutes_back=wide["minutes_back"][HEAD_OFFICE].to_numpy(float),
            km_to=wide["km_to"][tc_ids].to_numpy(float),
            km_back=wide["km_back"][tc_ids].to_numpy(float),
            head_office_km_to=wide["km_to"][HEAD_OFFICE].to_numpy(float),
            head_office_km_back=wide["km_back"][HEAD_OFFICE].to_numpy(float),
            capacities=telecentres["capacity"].to_numpy(),
            days=days,
            **rules,  # type: ignore[arg-type]
        ).validated()

    def with_rules(self, **rules: object) -> AssignmentProblem:
        """Return the same agents and telecentres under other rules (e.g. ``select=8``)."""
        return replace(self, _cache={}, **rules).validated()  # type: ignore[arg-type]

    def validated(self) -> AssignmentProblem:
        """Check shapes and values; return ``self`` or raise :class:`InputError`."""
        n, m = len(self.agent_ids), len(self.telecentre_ids)
        for name in ("minutes_to", "minutes_back", "km_to", "km_back"):
            value = getattr(self, name)
            if value is not None and value.shape != (n, m):
                msg = f"{name} has shape {value.shape}, expected ({n}, {m}) (agents x telecentres)."
                raise InputError(msg)
        for name in ("head_office_minutes_to", "head_office_minutes_back", "days"):
            if getattr(self, name).shape != (n,):
                msg = f"{name} has shape {getattr(self, name).shape}, expected ({n},)."
                raise InputError(msg)
        if self.capacities.shape != (m,):
            msg = f"capacities has shape {self.capacities.shape}, expected ({m},)."
            raise InputError(msg)
        caps = self.capacities.astype(float)
        if np.any(caps < 0) or np.any(caps != np.round(caps)):
            msg = f"capacities must be whole numbers >= 0, got {self.capacities.tolist()}."
            raise InputError(msg)
        days = self.days.astype(float)
        if np.any(days < 1) or np.any(days != np.round(days)):
            msg = "telework days must be whole numbers >= 1."
            raise InputError(msg)
        self._check_travel()
        select: object = self.select  # any type may come from a caller
        if select is not None and (
            isinstance(select, bool) or not isinstance(select, int | np.integer) or select < 0
        ):
            msg = (
                f"--select must be a whole number of agents, 0 or more, got {self.select!r}; "
                "give a whole number (such as 10)."
            )
            raise InputError(msg)
        if self.max_minutes is not None and not self.max_minutes > 0:
            msg = f"--max-minutes must be positive, got {self.max_minutes}."
            raise InputError(msg)
        if not self.min_saving >= 0:
            msg = f"--min-saving must be 0 or more, got {self.min_saving}."
            raise InputError(msg)
        if self.objective not in OBJECTIVES:
            msg = f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}."
            raise InputError(msg)
        if self.objective == "km" and (self.km_to is None or self.head_office_km_to is None):
            msg = "objective 'km' needs distances (km and head-office km)."
            raise InputError(msg)
        if self.must_assign is not None and np.asarray(self.must_assign).shape != (n,):
            msg = f"must_assign must have one flag per agent ({n})."
            raise InputError(msg)
        if self.excluded is not None and np.asarray(self.excluded).shape != (n,):
            msg = f"excluded must have one flag per agent ({n})."
            raise InputError(msg)
        for name in ("forbidden", "preferred", "incumbent"):
            rows, cols = _pairs(getattr(self, name))
            if rows.shape != cols.shape or np.any(
                (rows < 0) | (rows >= n) | (cols < 0) | (cols >= m)
            ):
                msg = f"{name} pairs must be (agent index, telecentre index) within the problem."
                raise InputError(msg)
        if not self.preference_bonus >= 0:
            msg = f"the preference bonus must be 0 or more, got {self.preference_bonus}."
            raise InputError(msg)
        if not self.move_penalty >= 0:
            msg = f"the move penalty must be 0 or more, got {self.move_penalty}."
            raise InputError(msg)
        self._check_ties()
        return self

    def _check_ties(self) -> None:
        """Raise :class:`InputError` unless the tie weights keep the objective lexicographic."""
        if isinstance(self.tie_scale, bool) or int(self.tie_scale) != self.tie_scale:
            msg = f"tie_scale must be a whole number >= 1, got {self.tie_scale!r}."
            raise InputError(msg)
        if self.tie_scale < 1:
            msg = f"tie_scale must be a whole number >= 1, got {self.tie_scale!r}."
            raise InputError(msg)
        if self.tie_scale == 1:
            return
        weight = None if self.tie_weight is None else np.asarray(self.tie_weight)
        if weight is None or weight.shape != (self.n_agents,) or np.any(weight < 0):
            msg = f"tie_weight must be {self.n_agents} whole numbers >= 0 when tie_scale > 1."
            raise InputError(msg)
        if int(weight.max(initial=0)) >= self.tie_scale:
            msg = (
                f"tie_scale {self.tie_scale} must exceed every tie weight (largest "
                f"{int(weight.max())}): else a tie weight could outweigh a second saved."
            )
            raise InputError(msg)

    def _check_travel(self) -> None:
        """Raise :class:`InputError` on a negative drive time or distance (NaN is unreachable)."""
        for name in (
            "minutes_to",
            "minutes_back",
            "km_to",
            "km_back",
            "head_office_minutes_to",
            "head_office_minutes_back",
            "head_office_km_to",
            "head_office_km_back",
        ):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                numbers = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                kind = getattr(value, "dtype", type(value).__name__)
                msg = f"{name} must hold numbers (NaN for unreachable), got {kind}."
                raise InputError(msg) from None
            with np.errstate(invalid="ignore"):
                bad = np.argwhere(numbers < 0)
            if bad.size == 0:
                continue
            where = f"agent '{self.agent_ids[bad[0][0]]}'"
            if numbers.ndim == 2:
                where += f" to telecentre '{self.telecentre_ids[bad[0][1]]}'"
            unit = "km" if "km" in name else "minutes"
            msg = (
                f"{name} of {where} is {numbers[tuple(bad[0])]:g} {unit} "
                f"({bad.shape[0]:,} negative value(s) in all): drive times and distances must "
                "be 0 or more (NaN for unreachable); fix the travel table."
            )
            raise InputError(msg)

    # ------------------------------------------------------------------ derived

    @property
    def n_agents(self) -> int:
        """Number of agents."""
        return len(self.agent_ids)

    @property
    def n_telecentres(self) -> int:
        """Number of telecentres."""
        return len(self.telecentre_ids)

    @property
    def limit(self) -> int:
        """Most agents that may be assigned."""
        return self.n_agents if self.select is None else min(self.select, self.n_agents)

    @property
    def must(self) -> np.ndarray:
        """Boolean mask of agents who must be assigned."""
        if self.must_assign is None:
            return np.zeros(self.n_agents, dtype=bool)
        return np.asarray(self.must_assign, dtype=bool)

    @property
    def objective_unit(self) -> float:
        """Units of the integer objective per reported unit (60 s a minute, 1000 m a km).

        Times :attr:`tie_scale` when the tie order is part of the objective.
        """
        return self._base_unit * self.tie_scale

    def whole_units(self, values: np.ndarray | float) -> np.ndarray:
        """Integer objective units of ``values`` given in reported units (minutes or km a week).

        Rounded to whole seconds (or metres) first, then times :attr:`tie_scale`,
        so that bonuses and costs stay multiples of the scale, as savings do.
        """
        base = np.rint(np.asarray(values, dtype=float) * self._base_unit).astype(np.int64)
        return np.asarray(base * np.int64(self.tie_scale))

    @property
    def _base_unit(self) -> float:
        return 1000.0 if self.objective == "km" else 60.0

    def untied_problem(self) -> AssignmentProblem:
        """Return the same problem without the tie order in its objective (or ``self``)."""
        if self.tie_scale == 1:
            return self
        return self.with_rules(tie_scale=1, tie_weight=None)

    def untied(self, gain: float) -> float:
        """Return the integer objective ``gain`` without its tie weights (a multiple of the scale).

        A plan's gain is ``saving * tie_scale + ties`` with ``0 <= ties <
        tie_scale``, so the saving part is the largest multiple of the scale
        not above it; applied to an upper bound, this gives an upper bound of
        the saving.
        """
        if self.tie_scale == 1:
            return gain
        return float(np.floor(gain / self.tie_scale) * self.tie_scale)

    def saving_minutes(self, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Round-trip minutes saved per telework day, ``(agents, telecentres)``."""
        head = (self.head_office_minutes_to + self.head_office_minutes_back)[rows]
        return np.asarray(head[:, None] - (self.minutes_to[rows] + self.minutes_back[rows]))

    def saving_km(self, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Round-trip km saved per telework day (NaN when no distances were given)."""
        if (
            self.km_to is None
            or self.km_back is None
            or self.head_office_km_to is None
            or self.head_office_km_back is None
        ):
            return np.full((len(self.days[rows]), self.n_telecentres), np.nan)
        head = (self.head_office_km_to + self.head_office_km_back)[rows]
        return np.asarray(head[:, None] - (self.km_to[rows] + self.km_back[rows]))

    def block(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Eligibility and integer objective gain of agents ``lo:hi``.

        Returns
        -------
        eligible : numpy.ndarray
            ``(hi - lo, n_telecentres)`` booleans.
        gain : numpy.ndarray
            Integer gain of each pair a week (seconds or metres, bonus
            included), 0 where not eligible.
        """
        saving = np.rint(self.saving_minutes(slice(lo, hi)) * 60.0)
        with np.errstate(invalid="ignore"):
            ok = (saving > 0) & (saving >= np.rint(self.min_saving * 60.0))
            if self.max_minutes is not None:
                ok &= self.minutes_to[lo:hi] <= self.max_minutes
            if self.no_worse_off:
                ok &= self.minutes_to[lo:hi] <= self.head_office_minutes_to[lo:hi, None]
            ok &= np.isfinite(self.head_office_minutes_to[lo:hi, None]) & np.isfinite(
                self.minutes_to[lo:hi]
            )
            if self.objective == "km":
                per_day = np.rint(self.saving_km(slice(lo, hi)) * 1000.0)
                ok &= per_day > 0
            else:
                per_day = saving
        rows, cols = _pairs(self.forbidden)
        inside = (rows >= lo) & (rows < hi)
        ok[rows[inside] - lo, cols[inside]] = False
        if self.excluded is not None:
            ok[np.asarray(self.excluded, dtype=bool)[lo:hi]] = False
        gain = np.where(ok, per_day, 0.0) * self.days[lo:hi, None]
        for pairs, weight in (
            (self.preferred, self.preference_bonus),
            (self.incumbent, self.move_penalty),
        ):
            rows, cols = _pairs(pairs)
            inside = (rows >= lo) & (rows < hi)
            bonus = round(weight * self._base_unit)
            gain[rows[inside] - lo, cols[inside]] += np.where(
                ok[rows[inside] - lo, cols[inside]], bonus, 0
            )
        whole = gain.astype(np.int64)
        if self.tie_scale > 1 and self.tie_weight is not None:
            ties = np.asarray(self.tie_weight, dtype=np.int64)[lo:hi, None]
            whole = whole * np.int64(self.tie_scale) + np.where(ok, ties, 0)
        return ok, whole

    def blocks(self) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """Yield ``(lo, hi, eligible, gain)`` over all agents, a block at a time.

        Up to :data:`CACHE_PAIRS` pairs, the whole matrices are computed once
        and kept; larger problems are recomputed block by block, in bounded
        memory.
        """
        whole = self._cache.get("pairs")
        if whole is None and self.n_agents * self.n_telecentres <= CACHE_PAIRS:
            parts = [self.block(lo, min(lo + _BLOCK, self.n_agents)) for lo in self._starts()]
            whole = (
                np.concatenate([ok for ok, _ in parts]) if parts else np.zeros((0, 0), bool),
                np.concatenate([g for _, g in parts]) if parts else np.zeros((0, 0), np.int64),
            )
            self._cache["pairs"] = whole
        for lo in self._starts():
            hi = min(lo + _BLOCK, self.n_agents)
            if isinstance(whole, tuple):
                yield lo, hi, whole[0][lo:hi], whole[1][lo:hi]
            else:
                ok, gain = self.block(lo, hi)
                yield lo, hi, ok, gain

    def _starts(self) -> range:
        return range(0, self.n_agents, _BLOCK)

    def eligible(self) -> np.ndarray:
        """Boolean ``(n_agents, n_telecentres)``: may agent i go to telecentre j."""
        return np.concatenate([ok for _, _, ok, _ in self.blocks()])

    def weekly_gain(self) -> np.ndarray:
        """Integer objective coefficient of each pair, ``(n_agents, n_telecentres)``."""
        return np.concatenate([gain for _, _, _, gain in self.blocks()])

    def solve(
        self, engine: Engine = "flow", *, time_limit_s: float = settings.SOLVER_TIME_LIMIT_S
    ) -> Assignment:
        """Solve exactly.

        Parameters
        ----------
        engine
            ``"flow"`` (OR-Tools min-cost flow, default) or ``"cp-sat"``.
        time_limit_s
            Time limit of CP-SAT (min-cost flow needs none).

        Returns
        -------
        Assignment
            The assignment, with a reason for every agent left out.

        Raises
        ------
        InfeasibleError
            When agents who must be assigned cannot all be; the message says why.
        """
        solver = _SOLVER.get("solve")  # it checks the engine
        if solver is None:
            msg = "no solver is registered: import optimizer.model, which registers its engines."
            raise SolverError(msg)
        return solver(self, engine, time_limit_s=time_limit_s)


class Solver(Protocol):
    """What :meth:`AssignmentProblem.solve` hands a problem to."""

    def __call__(
        self, problem: AssignmentProblem, engine: Engine, *, time_limit_s: float
    ) -> Assignment:
        """Solve ``problem`` with ``engine``."""


#: The solver (:func:`optimizer.model.engines.solve`, registered when that module is
#: imported, as :mod:`optimizer.model` does): the problem does not import its engines,
#: which import it.
_SOLVER: dict[str, Solver] = {}


def register_solver(solver: Solver) -> None:
    """Make ``solver`` what :meth:`AssignmentProblem.solve` calls."""
    _SOLVER["solve"] = solver
