r"""The assignment problem: which volunteer goes to which telecentre.

The problem knows nothing of maps. It is built from plain arrays with
:meth:`AssignmentProblem.from_cost_matrix`, or from a travel table with
:meth:`AssignmentProblem.from_travel_times`, and solved exactly by one of two
OR-Tools engines that must agree: min-cost flow (default, fast) and CP-SAT.

Notation: agents :math:`i`, telecentres :math:`j`, :math:`x_{ij} \in \{0,1\}`
agent :math:`i` teleworks at :math:`j`; :math:`d_i` the agent's telework days a
week; :math:`s_{ij}` the round-trip saving of one day at :math:`j` instead of
the head office (seconds; metres for the ``km`` objective); :math:`b` the
preference bonus and :math:`P` the preferred pairs. The problem is

.. math::

    \max \sum_{ij} (d_i s_{ij} + b [ij \in P]) x_{ij}
    \quad\text{s.t.}\quad
    \sum_j x_{ij} \le 1 \;(= 1 \text{ if } i \text{ must be assigned}),\;
    \sum_i x_{ij} \le c_j,\;
    \sum_{ij} x_{ij} \le K,\;
    x_{ij} = 0 \text{ unless } j \text{ is eligible for } i,

where :math:`j` is eligible for :math:`i` when both are reachable, the saving
is positive and at least the minimum saving, the one-way drive to :math:`j`
is within the longest acceptable drive, and the pair is not forbidden.

Min-cost flow: source -> agent (capacity 1) -> telecentre (cost
:math:`-(d_i s_{ij} + b[ij \in P])`) -> hub (capacity :math:`c_j`) -> sink
(capacity :math:`K`), plus agent -> "stays at the head office" -> sink at no
cost (no such arc for an agent who must be assigned). Costs are whole seconds
(or metres), so the optimum is exact. On large problems each agent first gets
arcs to its best few telecentres only; the solution is then checked against
all arcs with a negative-cycle test on the residual network compressed to
the telecentres (an optimality certificate), and the arcs widened until it
holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from ortools.graph.python import max_flow, min_cost_flow
from ortools.sat.python import cp_model
from scipy import sparse
from scipy.sparse.csgraph import NegativeCycleError, floyd_warshall

from optimizer import settings
from optimizer.errors import InfeasibleError, InputError, SolverError

logger = logging.getLogger(__name__)

Objective = Literal["minutes", "km", "travel"]
Engine = Literal["flow", "cp-sat"]
HEAD_OFFICE = "head_office"
OBJECTIVES = ("minutes", "km", "travel")
ENGINES = ("flow", "cp-sat")

REASON_UNREACHABLE = "unreachable: no road route to the head office"
REASON_NO_TELECENTRE_ROUTE = "unreachable: no road route to any telecentre"
REASON_NO_SAVING = "no saving: no telecentre is nearer than the head office"
REASON_BELOW_MIN = "saving too small: below the minimum saving per day"
REASON_TOO_FAR = "too far: every telecentre that saves time is beyond the longest acceptable drive"
REASON_WORSE_OFF = (
    "worse off: the telecentres that save time are further than the head office (one way)"
)
REASON_FORBIDDEN = "forbidden: the telecentres that would save time are excluded for this agent"
REASON_FULL = "capacity full: the telecentres that would save time are full"
REASON_NOT_SELECTED = "not selected: the limit on the number of agents was reached"
REASON_CLOSED_DAYS = (
    "closed on its days: the telecentres that would save time are not open on enough of the "
    "days it can telework"
)
REASON_SHORTER_COMMUTE = (
    "not selected: the limit on the number of agents went to longer commutes (--select-by commute)"
)

_BLOCK = 4096
#: Problems with at most this many agent-telecentre pairs keep their pair matrices in memory.
CACHE_PAIRS = 25_000_000
#: Telecentres per agent in the first min-cost flow solve (pricing adds more where needed).
_FIRST_CANDIDATES = 6


def _pairs(pairs: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    if pairs is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    rows, cols = (np.asarray(p, dtype=np.int64).ravel() for p in pairs)
    return rows, cols


@dataclass(frozen=True)
class AssignmentProblem:
    """Agents, telecentres, travel times and the rules of the assignment.

    All minutes and km are one way; ``*_to`` is from home, ``*_back`` is home
    again. Missing values (NaN) mean unreachable. Kilometres are optional
    (None) unless the objective is ``"km"``.

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
        At most this many agents are assigned (None: no limit).
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
        if self.select is not None and self.select < 0:
            msg = f"--select must be 0 or more, got {self.select}."
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
        return self

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
        """Units of the integer objective per reported unit (60 s a minute, 1000 m a km)."""
        return 1000.0 if self.objective == "km" else 60.0

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
            bonus = round(weight * self.objective_unit)
            gain[rows[inside] - lo, cols[inside]] += np.where(
                ok[rows[inside] - lo, cols[inside]], bonus, 0
            )
        return ok, gain.astype(np.int64)

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
        if engine not in ENGINES:
            msg = f"engine must be one of {', '.join(ENGINES)}, got {engine!r}."
            raise InputError(msg)
        check_feasible(self)
        if engine == "cp-sat":
            return solve_cp_sat(self, time_limit_s=time_limit_s)
        return solve_min_cost_flow(self)


@dataclass(frozen=True)
class Assignment:
    """The solution of an :class:`AssignmentProblem`.

    Attributes
    ----------
    problem
        The problem solved.
    telecentre
        ``(n_agents,)`` index of each agent's telecentre, -1 when not assigned.
    objective_value
        The objective in its unit: round-trip minutes (or km) saved a week, or
        for ``"travel"`` the minutes driven a week by all agents.
    best_bound
        The solver's bound on the objective, in the same unit.
    status
        ``"optimal"``, or ``"feasible"`` when a time limit stopped CP-SAT.
    engine
        The solver used.
    solve_seconds
        Wall time of the solve.
    reasons
        ``(n_agents,)`` why each agent is not assigned ("" when assigned).
    """

    problem: AssignmentProblem
    telecentre: np.ndarray
    objective_value: float
    best_bound: float
    status: str
    engine: str
    solve_seconds: float
    reasons: tuple[str, ...]

    @property
    def assigned(self) -> np.ndarray:
        """Boolean mask of assigned agents."""
        return self.telecentre >= 0

    @property
    def gap(self) -> float:
        """Relative distance between the objective and the bound (0 when optimal)."""
        if self.status == "optimal":
            return 0.0
        return abs(self.best_bound - self.objective_value) / max(1.0, abs(self.best_bound))

    def load(self) -> np.ndarray:
        """Agents hosted by each telecentre."""
        return np.bincount(
            self.telecentre[self.assigned], minlength=self.problem.n_telecentres
        ).astype(np.int64)

    def gain_total(self) -> int:
        """Return the integer objective (seconds or metres a week, bonus included)."""
        return _gain_of(self.problem, self.telecentre)


def _gain_of(problem: AssignmentProblem, telecentre: np.ndarray) -> int:
    total = 0
    for lo, hi, _, gain in problem.blocks():
        chosen = telecentre[lo:hi]
        rows = np.flatnonzero(chosen >= 0)
        total += int(gain[rows, chosen[rows]].sum())
    return total


def _report_value(problem: AssignmentProblem, gain: float) -> float:
    """Objective in its reported unit from the integer gain."""
    value = gain / problem.objective_unit
    if problem.objective == "travel":
        weekly_drive = (problem.head_office_minutes_to + problem.head_office_minutes_back) * 5
        return float(np.nansum(weekly_drive)) - value
    return value


def _result(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    *,
    bound_gain: float,
    status: str,
    engine: str,
    started: float,
) -> Assignment:
    gain = _gain_of(problem, telecentre)
    return Assignment(
        problem=problem,
        telecentre=telecentre,
        objective_value=_report_value(problem, gain),
        best_bound=_report_value(problem, bound_gain),
        status=status,
        engine=engine,
        solve_seconds=time.perf_counter() - started,
        reasons=explain(problem, telecentre),
    )


# ----------------------------------------------------------------------------- feasibility


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """Say ``1 agent``, ``2 agents`` (``plural`` when adding an s is wrong)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {plural or noun + 's'}"


def check_feasible(problem: AssignmentProblem, *, places: str = "desk") -> None:
    """Raise :class:`InfeasibleError`, in words and numbers, if the rules cannot all hold.

    Only agents who must be assigned can make the problem infeasible: too many
    of them for the limit on agents, one with no eligible telecentre, or a
    group whose eligible telecentres hold fewer desks than the group has
    members (found with a max-flow and its minimum cut).

    Parameters
    ----------
    problem
        The problem.
    places
        What a unit of capacity is, for the message (``"desk"``, ``"desk-day"``).
    """
    must = np.flatnonzero(problem.must)
    if must.size == 0:
        return
    ids = problem.agent_ids
    if must.size > problem.limit:
        msg = (
            f"{counted(must.size, 'agent')} must be assigned but --select allows only "
            f"{problem.limit}. "
            "Raise --select or assign fewer agents by force."
        )
        raise InfeasibleError(msg)
    eligible = problem.block(0, problem.n_agents)[0][must]
    stranded = must[~eligible.any(axis=1)]
    if stranded.size:
        reasons = explain(problem, np.full(problem.n_agents, -1, dtype=np.int64))
        first = stranded[0]
        msg = (
            f"agent '{ids[first]}' must be assigned but no telecentre is open to it "
            f"({reasons[first]}); {counted(stranded.size, 'such agent')} in all."
        )
        raise InfeasibleError(msg)
    k, m = must.size, problem.n_telecentres
    flow = bipartite_max_flow(eligible, problem.capacities)
    if flow.optimal_flow() >= k:
        return
    side = set(flow.get_source_side_min_cut())
    group = [int(must[i]) for i in range(k) if i in side]
    centres = [j for j in range(m) if k + j in side]
    desks = int(problem.capacities[centres].sum())
    rules = []
    if problem.max_minutes is not None:
        rules.append(f"within {problem.max_minutes:g} minutes")
    if problem.min_saving > 0:
        rules.append(f"saving at least {problem.min_saving:g} minutes a day")
    rule_text = f" ({', '.join(rules)})" if rules else ""
    names = ", ".join(
        f"{problem.telecentre_ids[j]} ({int(problem.capacities[j])})" for j in centres
    )
    agents = ", ".join(ids[i] for i in group[:10]) + (" ..." if len(group) > 10 else "")
    msg = (
        f"{counted(len(group), 'agent')} must be assigned but the telecentres open to "
        f"them{rule_text} hold {counted(desks, places)}: {names or 'none'}. Agents: {agents}. "
        "Add desks, relax the rules, or assign fewer agents by force."
    )
    raise InfeasibleError(msg)


# ----------------------------------------------------------------------------- min-cost flow


def bipartite_max_flow(
    eligible: np.ndarray, capacities: np.ndarray, *, limit: int | None = None
) -> max_flow.SimpleMaxFlow:
    """Most agents placeable: source -> agent -> eligible telecentre -> (hub ->) sink.

    Node numbering: agents ``0..k-1``, telecentres ``k..k+m-1``, then the
    source, the sink and the hub; with ``limit`` the hub caps the total.

    Parameters
    ----------
    eligible
        ``(k, m)`` booleans.
    capacities
        ``(m,)`` places per telecentre.
    limit
        At most this many agents in all.

    Returns
    -------
    SimpleMaxFlow
        Solved (read ``optimal_flow`` and ``get_source_side_min_cut``).
    """
    k, m = eligible.shape
    source, sink, hub = k + m, k + m + 1, k + m + 2
    rows, cols = np.nonzero(eligible)
    exit_node = sink if limit is None else hub
    tails = [np.full(k, source), rows, k + np.arange(m)]
    heads = [np.arange(k), k + cols, np.full(m, exit_node)]
    caps = [np.ones(k), np.ones(rows.size), capacities]
    if limit is not None:
        tails.append(np.array([hub]))
        heads.append(np.array([sink]))
        caps.append(np.array([limit]))
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
    )
    if flow.solve(source, sink) != flow.OPTIMAL:
        msg = "max-flow failed; please report this."
        raise SolverError(msg)
    return flow


def _candidates(
    problem: AssignmentProblem, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each agent's ``width`` best eligible telecentres: ``(agent, telecentre, gain)``.

    Sorted by agent then telecentre.
    """
    m = problem.n_telecentres
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    for lo, _, ok, gain in problem.blocks():
        score = np.where(ok, gain, -1)
        if width < m:
            top = np.argpartition(-score, width - 1, axis=1)[:, :width]
        else:
            top = np.broadcast_to(np.arange(m), score.shape)
        keep = np.take_along_axis(score, top, axis=1) >= 0
        local_rows = np.broadcast_to(np.arange(score.shape[0])[:, None], top.shape)
        rows_out.append(local_rows[keep] + lo)
        cols_out.append(top[keep])
    if not rows_out:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    keys = np.unique(
        np.concatenate(rows_out).astype(np.int64) * m + np.concatenate(cols_out).astype(np.int64)
    )  # sorted by agent then telecentre: a fixed arc order, so the same input, the same answer
    rows, cols = keys // m, keys % m
    return rows, cols, _pair_gains(problem, rows, cols)


def solve_flow(
    tails: np.ndarray,
    heads: np.ndarray,
    capacities: np.ndarray,
    costs: np.ndarray,
    *,
    n_nodes: int,
    source: int,
    sink: int,
    amount: int,
) -> min_cost_flow.SimpleMinCostFlow | None:
    """Send ``amount`` units from ``source`` to ``sink`` at least cost (OR-Tools).

    Parameters
    ----------
    tails, heads, capacities, costs
        The arcs, integer costs.
    n_nodes
        Number of nodes.
    source, sink
        Where the flow starts and ends.
    amount
        Units to send.

    Returns
    -------
    SimpleMinCostFlow or None
        The solved flow (read ``flows`` and ``optimal_cost``), or None when
        the amount cannot be sent.
    """
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        capacities.astype(np.int64),
        costs.astype(np.int64),
    )
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[source], supplies[sink] = amount, -amount
    flow.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
    status = flow.solve()
    if status == flow.INFEASIBLE:
        return None
    if status != flow.OPTIMAL:
        msg = f"min-cost flow stopped with status {status}; please report this."
        raise SolverError(msg)
    return flow


def _flow_on(
    problem: AssignmentProblem, rows: np.ndarray, cols: np.ndarray, gains: np.ndarray
) -> tuple[np.ndarray, int]:
    """Solve the assignment flow on the given pairs: each agent's telecentre and the gain."""
    n, m = problem.n_agents, problem.n_telecentres
    source, hub, sink, stay = n + m, n + m + 1, n + m + 2, n + m + 3
    agents = np.arange(n)
    free = ~problem.must
    n_free = int(free.sum())
    flow = solve_flow(
        np.concatenate([np.full(n, source), rows, agents[free], n + np.arange(m), [hub, stay]]),
        np.concatenate([agents, n + cols, np.full(n_free, stay), np.full(m, hub), [sink, sink]]),
        np.concatenate(
            [
                np.ones(n),
                np.ones(rows.size),
                np.ones(n_free),
                problem.capacities,
                [problem.limit, n],
            ]
        ),
        np.concatenate([np.zeros(n), -gains, np.zeros(n_free + m + 2)]),
        n_nodes=n + m + 4,
        source=source,
        sink=sink,
        amount=n,
    )
    if flow is None:
        check_feasible(problem)  # says why, in words
        msg = "min-cost flow found the problem infeasible; please report this."
        raise SolverError(msg)
    used = flow.flows(np.arange(n, n + rows.size, dtype=np.int32)) > 0
    telecentre = np.full(n, -1, dtype=np.int64)
    telecentre[rows[used]] = cols[used]
    return telecentre, -int(flow.optimal_cost())


def _compressed_residual(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray] | None = None,
) -> sparse.csr_array:
    """Build the residual network of an assignment, compressed to telecentres and 3 nodes.

    Nodes: the telecentres ``0..m-1``, "stays" ``m``, the hub ``m+1`` and the
    sink ``m+2``. Moving an agent from X to Y costs ``gain[i, X] - gain[i, Y]``
    (the cheapest such agent gives the arc); a free desk, room under the limit
    on agents, and agents assigned or staying give zero-cost arcs. With
    ``candidates`` (agent, telecentre pairs sorted by agent), only those pairs
    count as moves: the residual network of the pruned problem.
    """
    m = problem.n_telecentres
    stay, hub, sink = m, m + 1, m + 2
    best = np.full((m + 1, m + 1), np.inf)
    must = problem.must
    for lo, hi, ok, gain in problem.blocks():
        allowed = ok if candidates is None else ok & _candidate_mask(candidates, lo, hi, m)
        where = telecentre[lo:hi]
        position = np.where(where >= 0, where, stay)
        own = np.where(where >= 0, gain[np.arange(hi - lo), np.maximum(where, 0)], 0)
        moves = np.full((hi - lo, m + 1), np.inf)
        moves[:, :m] = np.where(allowed, own[:, None] - gain, np.inf)
        moves[:, stay] = np.where(must[lo:hi], np.inf, own)
        order = np.argsort(position, kind="stable")
        groups, starts = np.unique(position[order], return_index=True)
        np.minimum.at(best, groups, np.minimum.reduceat(moves[order], starts, axis=0))
    np.fill_diagonal(best, np.inf)
    load = np.bincount(telecentre[telecentre >= 0], minlength=m)
    assigned = int(load.sum())
    x, y = np.nonzero(np.isfinite(best))
    arcs: list[tuple[int, int, float]] = list(
        zip(x.tolist(), y.tolist(), best[x, y].tolist(), strict=True)
    )
    for j in range(m):
        if load[j] < problem.capacities[j]:
            arcs.append((j, hub, 0.0))  # a free desk at j
        if load[j] > 0:
            arcs.append((hub, j, 0.0))
    if assigned < problem.limit:
        arcs.append((hub, sink, 0.0))  # room under the limit on agents
    if assigned > 0:
        arcs += [(sink, hub, 0.0), (stay, sink, 0.0)]
    if assigned < problem.n_agents:
        arcs.append((sink, stay, 0.0))
    tails, heads, costs = (list(column) for column in zip(*arcs, strict=True))
    return sparse.csr_array((costs, (tails, heads)), shape=(m + 3, m + 3))


def _candidate_mask(
    candidates: tuple[np.ndarray, np.ndarray], lo: int, hi: int, m: int
) -> np.ndarray:
    rows, cols = candidates
    first, last = np.searchsorted(rows, [lo, hi])
    mask = np.zeros((hi - lo, m), dtype=bool)
    mask[rows[first:last] - lo, cols[first:last]] = True
    return mask


def is_optimal(problem: AssignmentProblem, telecentre: np.ndarray) -> bool:
    """Certify that a feasible assignment is optimal over all eligible pairs.

    Looks for a negative cycle (an improving exchange of agents) in the
    compressed residual network with Floyd-Warshall: none means optimal.

    Parameters
    ----------
    problem
        The problem.
    telecentre
        A feasible assignment (index per agent, -1 for none).

    Returns
    -------
    bool
        True when optimal.
    """
    try:
        floyd_warshall(_compressed_residual(problem, telecentre), directed=True)
    except NegativeCycleError:
        return False
    return True


def _price_out(
    problem: AssignmentProblem,
    telecentre: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs left out of ``candidates`` that could improve the pruned optimum.

    Node potentials of the pruned problem's residual network (shortest
    distances from a virtual root) give every pair a reduced cost; left-out
    pairs with a negative one are returned. None left: the reduced costs of
    all pairs are non-negative, which proves the assignment optimal for the
    whole problem (LP duality).
    """
    m = problem.n_telecentres
    dist = floyd_warshall(_compressed_residual(problem, telecentre, candidates), directed=True)
    potential = np.minimum(dist.min(axis=0), 0.0)
    stay = m
    found_rows, found_cols = [], []
    for lo, hi, ok, gain in problem.blocks():
        where = telecentre[lo:hi]
        position = np.where(where >= 0, where, stay)
        own = np.where(where >= 0, gain[np.arange(hi - lo), np.maximum(where, 0)], 0)
        reduced = own[:, None] - gain + potential[position][:, None] - potential[None, :m]
        better = ok & (reduced < 0) & ~_candidate_mask(candidates, lo, hi, m)
        r, c = np.nonzero(better)
        found_rows.append(r + lo)
        found_cols.append(c)
    return np.concatenate(found_rows), np.concatenate(found_cols)


def solve_min_cost_flow(problem: AssignmentProblem) -> Assignment:
    """Solve ``problem`` exactly as a min-cost flow (see the module docstring).

    Each agent first gets arcs to its few best telecentres; after each solve,
    pairs whose reduced cost shows they could improve the result are added,
    until none is left, which proves the result optimal for all pairs.

    Parameters
    ----------
    problem
        The problem (assumed feasible: see :func:`check_feasible`).

    Returns
    -------
    Assignment
        An optimal assignment, proven so.
    """
    started = time.perf_counter()
    rows, cols, gains = _candidates(problem, min(_FIRST_CANDIDATES, problem.n_telecentres))
    rounds = 0
    while True:
        rounds += 1
        telecentre, gain = _flow_on(problem, rows, cols, gains)
        more_rows, more_cols = _price_out(problem, telecentre, (rows, cols))
        if more_rows.size == 0:
            break
        logger.info("pricing added %d pairs; solving again", more_rows.size)
        rows = np.concatenate([rows, more_rows])
        cols = np.concatenate([cols, more_cols])
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        gains = _pair_gains(problem, rows, cols)
    result = _result(
        problem,
        telecentre,
        bound_gain=gain,
        status="optimal",
        engine="ortools-min-cost-flow",
        started=started,
    )
    logger.info(
        "min-cost flow: %d agents x %d telecentres, %d arcs, %d round(s), %d assigned, "
        "objective %.1f, %.3f s",
        problem.n_agents,
        problem.n_telecentres,
        rows.size,
        rounds,
        int(result.assigned.sum()),
        result.objective_value,
        result.solve_seconds,
    )
    return result


def _pair_gains(problem: AssignmentProblem, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.empty(rows.size, dtype=np.int64)
    for lo, hi, _, gain in problem.blocks():
        first, last = np.searchsorted(rows, [lo, hi])
        out[first:last] = gain[rows[first:last] - lo, cols[first:last]]
    return out


# ----------------------------------------------------------------------------- CP-SAT

#: CP-SAT models with up to this many variables are searched by one worker.
SMALL_MODEL = 2_000


def cp_workers(n_vars: int) -> int:
    """Search workers for a CP-SAT model: one for small models, else 8 in parallel.

    One worker is the fastest on small models and fully reproducible. Larger
    models get CP-SAT's parallel portfolio, which finds far better plans
    within a time limit (on a 2,000 x 30 x 5 weekly plan: 0.6 % from the
    bound in 60 s, against 5.5 % for the same workers run interleaved) but
    may, between runs, return another of several equally good plans, or
    another best-found plan when stopped by the time limit.
    """
    return 1 if n_vars <= SMALL_MODEL else 8


def run_cp_sat(
    model: cp_model.CpModel,
    *,
    time_limit_s: float,
    workers: int,
    what: str,
    infeasible: str,
) -> tuple[cp_model.CpSolver, bool]:
    """Solve a CP-SAT model with the project's settings; failures become our errors.

    Parameters
    ----------
    model
        The model.
    time_limit_s, workers
        See :func:`configure`.
    what
        What is sought, for the message when nothing is found in time.
    infeasible
        The message when the model has no solution.

    Returns
    -------
    tuple
        The solver (read values from it) and whether the solution is proven optimal.
    """
    solver = cp_model.CpSolver()
    configure(solver, time_limit_s, workers)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise InfeasibleError(infeasible)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        msg = f"CP-SAT found no {what} within {time_limit_s:g} s; raise the time limit."
        raise SolverError(msg)
    return solver, status == cp_model.OPTIMAL


def configure(solver: cp_model.CpSolver, time_limit_s: float, workers: int) -> None:
    """Set the time limit, the workers (see :func:`cp_workers`) and a fixed seed."""
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 2015


def solve_cp_sat(
    problem: AssignmentProblem,
    *,
    time_limit_s: float = settings.SOLVER_TIME_LIMIT_S,
    workers: int | None = None,
) -> Assignment:
    """Solve ``problem`` with OR-Tools CP-SAT over all eligible pairs.

    Parameters
    ----------
    problem
        The problem.
    time_limit_s
        Wall-clock limit; the best solution found by then is returned with
        status ``"feasible"`` and its gap.
    workers
        Search workers (default: :func:`cp_workers`).

    Returns
    -------
    Assignment
        The assignment.
    """
    started = time.perf_counter()
    rows, cols, gains = _candidates(problem, problem.n_telecentres)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}_{j}") for i, j in zip(rows.tolist(), cols.tolist(), strict=True)]
    by_agent: dict[int, list[int]] = {}
    by_centre: dict[int, list[int]] = {}
    for k, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        by_agent.setdefault(i, []).append(k)
        by_centre.setdefault(j, []).append(k)
    must = problem.must
    for i, arcs in by_agent.items():
        if must[i]:
            model.add_exactly_one(x[k] for k in arcs)
        else:
            model.add_at_most_one(x[k] for k in arcs)
    for j, arcs in by_centre.items():
        model.add(sum(x[k] for k in arcs) <= int(problem.capacities[j]))
    if problem.limit < problem.n_agents:
        model.add(sum(x) <= problem.limit)
    model.maximize(sum(int(g) * v for g, v in zip(gains.tolist(), x, strict=True)))
    solver, proven = run_cp_sat(
        model,
        time_limit_s=time_limit_s,
        workers=workers if workers is not None else cp_workers(len(x)),
        what="assignment",
        infeasible="CP-SAT found the problem infeasible after the feasibility check passed; "
        "please report this.",
    )
    values = np.array([solver.value(v) for v in x], dtype=bool) if x else np.zeros(0, bool)
    telecentre = np.full(problem.n_agents, -1, dtype=np.int64)
    telecentre[rows[values]] = cols[values]
    return _result(
        problem,
        telecentre,
        bound_gain=float(solver.best_objective_bound) if x else 0.0,
        status="optimal" if proven else "feasible",
        engine="ortools-cp-sat",
        started=started,
    )


# ----------------------------------------------------------------------------- explaining


def explain(problem: AssignmentProblem, telecentre: np.ndarray) -> tuple[str, ...]:
    """Say why each agent left out is left out ("" for assigned agents).

    The first reason that applies, in this order: unreachable; no telecentre
    saves time; the saving is below the minimum; those left are forbidden;
    those left are further than the head office (the no-one-worse-off rule);
    every telecentre that saves enough is beyond the longest acceptable drive;
    the agent could go to a telecentre with a free place but the limit on
    agents was reached; the telecentres that would save time are full.

    Parameters
    ----------
    problem
        The problem.
    telecentre
        Each agent's telecentre index, -1 when not assigned.

    Returns
    -------
    tuple of str
        One reason per agent.
    """
    free = problem.capacities - np.bincount(
        telecentre[telecentre >= 0], minlength=problem.n_telecentres
    )
    labels = np.array(
        [
            "",
            REASON_UNREACHABLE,
            REASON_NO_TELECENTRE_ROUTE,
            REASON_NO_SAVING,
            REASON_BELOW_MIN,
            REASON_FORBIDDEN,
            REASON_TOO_FAR,
            REASON_NOT_SELECTED,
            REASON_FULL,
            REASON_WORSE_OFF,
            REASON_SHORTER_COMMUTE,
        ],
        dtype=object,
    )
    codes = np.empty(problem.n_agents, dtype=np.int64)
    for lo, hi, ok, _ in problem.blocks():
        rows = slice(lo, hi)
        saving = np.rint(problem.saving_minutes(rows) * 60.0)
        with np.errstate(invalid="ignore"):
            reachable = np.isfinite(saving).any(axis=1)
            positive = saving > 0
            enough = positive & (saving >= np.rint(problem.min_saving * 60.0))
            within = enough
            if problem.max_minutes is not None:
                within = enough & (problem.minutes_to[rows] <= problem.max_minutes)
            fair = within
            if problem.no_worse_off:
                fair = within & (
                    problem.minutes_to[rows] <= problem.head_office_minutes_to[rows, None]
                )
        ho_ok = np.isfinite(problem.head_office_minutes_to[rows]) & np.isfinite(
            problem.head_office_minutes_back[rows]
        )
        codes[rows] = np.select(
            [
                telecentre[rows] >= 0,
                ~ho_ok,
                ~reachable,
                ~positive.any(axis=1),
                ~enough.any(axis=1),
                ~ok.any(axis=1) & fair.any(axis=1),
                ~ok.any(axis=1) & within.any(axis=1),
                ~ok.any(axis=1),
                (ok & (free > 0)[None, :]).any(axis=1),
            ],
            [0, 1, 2, 3, 4, 5, 9, 6, 7],
            default=8,
        )
    if problem.excluded is not None:
        codes[np.asarray(problem.excluded, dtype=bool) & (telecentre < 0)] = 10
    reasons = labels[codes].tolist()
    return tuple(reasons)


# ----------------------------------------------------------------------------- ranking


def candidate_ranking(problem: AssignmentProblem) -> pd.DataFrame:
    """Volunteers ranked by their commute to the head office, longest first.

    For each agent: one-way minutes and km to the head office, the best
    reachable telecentre (largest saving, capacities ignored, the longest
    acceptable drive respected) with its one-way minutes and the round-trip
    saving per day. This is the table the scheme's planners used to pick
    candidates by distance.

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    pandas.DataFrame
        ``rank, agent_id, minutes_to_head_office, km_to_head_office,
        best_telecentre_id, minutes_to_best_telecentre, minutes_saved_per_day,
        km_saved_per_day, telework_days``.
    """
    saving = problem.saving_minutes()
    if problem.max_minutes is not None:
        saving = np.where(problem.minutes_to <= problem.max_minutes, saving, np.nan)
    has = ~np.isnan(saving).all(axis=1)
    best = np.where(has, np.argmax(np.nan_to_num(saving, nan=-np.inf), axis=1), -1)
    rows = np.arange(problem.n_agents)
    col = np.maximum(best, 0)
    pick_saving = np.where(has, saving[rows, col], np.nan)
    km_saving = problem.saving_km()
    table = pd.DataFrame(
        {
            "agent_id": list(problem.agent_ids),
            "minutes_to_head_office": problem.head_office_minutes_to.round(1),
            "km_to_head_office": (
                problem.head_office_km_to.round(2)
                if problem.head_office_km_to is not None
                else np.nan
            ),
            "best_telecentre_id": [
                problem.telecentre_ids[j] if j >= 0 else "" for j in best.tolist()
            ],
            "minutes_to_best_telecentre": np.where(
                has, problem.minutes_to[rows, col], np.nan
            ).round(1),
            "minutes_saved_per_day": pick_saving.round(1),
            "km_saved_per_day": np.where(has, km_saving[rows, col], np.nan).round(2),
            "telework_days": problem.days,
        }
    )
    order = np.lexsort((rows, -np.nan_to_num(problem.head_office_minutes_to, nan=-np.inf)))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
