r"""The assignment problem: which volunteer goes to which telecentre.

The problem knows nothing of maps. It is built from plain arrays with
:meth:`AssignmentProblem.from_cost_matrix`, or from a travel table with
:meth:`AssignmentProblem.from_travel_times`, and solved exactly with OR-Tools'
min-cost flow.

Notation: agents :math:`i`, telecentres :math:`j`, :math:`x_{ij} \in \{0,1\}`
agent :math:`i` teleworks at :math:`j`; :math:`d_i` the agent's telework days a
week; :math:`s_{ij}` the round-trip saving of one day at :math:`j` instead of
the head office. The default problem is

.. math::

    \max \sum_{ij} d_i s_{ij} x_{ij}
    \quad\text{s.t.}\quad \sum_j x_{ij} \le 1,\;
    \sum_i x_{ij} \le c_j,\;
    \sum_{ij} x_{ij} \le K,\;
    x_{ij} = 0 \text{ unless } j \text{ is eligible for } i,

where :math:`j` is eligible for :math:`i` when both are reachable, the saving
is positive and at least the minimum saving, and the one-way drive to
:math:`j` is within the longest acceptable drive. As a flow: source -> agent
(capacity 1) -> telecentre (cost :math:`-d_i s_{ij}`) -> hub (capacity
:math:`c_j`) -> sink (capacity :math:`K`), plus agent -> "stays at the head
office" -> sink at no cost. Costs are whole seconds, so the optimum is exact.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from optimizer.errors import InputError, SolverError

logger = logging.getLogger(__name__)

Objective = Literal["minutes", "km"]
HEAD_OFFICE = "head_office"

REASON_UNREACHABLE = "unreachable: no road route to the head office"
REASON_NO_TELECENTRE_ROUTE = "unreachable: no road route to any telecentre"
REASON_TOO_FAR = "too far: every telecentre that saves time is beyond the longest acceptable drive"
REASON_NO_SAVING = "no saving: no telecentre is nearer than the head office"
REASON_BELOW_MIN = "saving too small: below the minimum saving per day"
REASON_FULL = "capacity full: the telecentres that would save time are full"
REASON_NOT_SELECTED = "not selected: the limit on the number of agents was reached"


@dataclass(frozen=True)
class AssignmentProblem:
    """Agents, telecentres, travel times and the rules of the assignment.

    All minutes and km are one way; ``*_to`` is from home, ``*_back`` is home
    again. Missing values (NaN) mean unreachable.

    Attributes
    ----------
    agent_ids, telecentre_ids
        Labels, in input order.
    minutes_to, minutes_back
        ``(n_agents, n_telecentres)`` drive minutes to each telecentre and back.
    head_office_minutes_to, head_office_minutes_back
        ``(n_agents,)`` drive minutes to the head office and back.
    km_to, km_back, head_office_km_to, head_office_km_back
        The same in kilometres.
    capacities
        ``(n_telecentres,)`` agents each telecentre can host.
    days
        ``(n_agents,)`` telework days a week of each agent.
    select
        At most this many agents are assigned (None: no limit).
    max_minutes
        Longest acceptable one-way drive to a telecentre (None: no limit).
    min_saving
        Minutes a day (round trip) below which moving is not worth it; the
        saving must in any case be positive.
    objective
        ``"minutes"``: maximise round-trip minutes saved a week (default);
        ``"km"``: maximise round-trip km saved a week (hence CO2).
    """

    agent_ids: tuple[str, ...]
    telecentre_ids: tuple[str, ...]
    minutes_to: np.ndarray
    minutes_back: np.ndarray
    head_office_minutes_to: np.ndarray
    head_office_minutes_back: np.ndarray
    km_to: np.ndarray
    km_back: np.ndarray
    head_office_km_to: np.ndarray
    head_office_km_back: np.ndarray
    capacities: np.ndarray
    days: np.ndarray
    select: int | None = None
    max_minutes: float | None = None
    min_saving: float = 0.0
    objective: Objective = "minutes"

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
        select: int | None = None,
        max_minutes: float | None = None,
        min_saving: float = 0.0,
        objective: Objective = "minutes",
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
            Distances, needed for ``objective="km"`` (default: NaN).
        agent_ids, telecentre_ids
            Labels (default ``"0", "1", ...``).
        select, max_minutes, min_saving, objective
            See the class attributes.

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
        km_arr = np.full((n, m), np.nan) if km is None else np.asarray(km, dtype=float)
        ho_km = np.full(n, np.nan) if head_office_km is None else np.asarray(head_office_km, float)
        return cls(
            agent_ids=tuple(agent_ids if agent_ids is not None else (str(i) for i in range(n))),
            telecentre_ids=tuple(
                telecentre_ids if telecentre_ids is not None else (str(j) for j in range(m))
            ),
            minutes_to=minutes,
            minutes_back=minutes,
            head_office_minutes_to=ho,
            head_office_minutes_back=ho,
            km_to=km_arr,
            km_back=km_arr,
            head_office_km_to=ho_km,
            head_office_km_back=ho_km,
            capacities=np.asarray(capacities),
            days=np.ones(n, dtype=np.int64) if days is None else np.asarray(days),
            select=select,
            max_minutes=max_minutes,
            min_saving=min_saving,
            objective=objective,
        ).validated()

    @classmethod
    def from_travel_times(
        cls,
        table: pd.DataFrame,
        agents: pd.DataFrame,
        telecentres: pd.DataFrame,
        *,
        select: int | None = None,
        max_minutes: float | None = None,
        min_saving: float = 0.0,
        objective: Objective = "minutes",
    ) -> AssignmentProblem:
        """Build a problem from the long travel table of :func:`optimizer.travel.travel_table`.

        Parameters
        ----------
        table
            ``origin_id, destination_id, minutes_to, km_to, minutes_back,
            km_back``; the head office's ``destination_id`` is ``"head_office"``.
        agents
            ``agent_id, telework_days`` (order kept).
        telecentres
            ``telecentre_id, capacity`` (order kept).
        select, max_minutes, min_saving, objective
            See the class attributes.

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
            days=agents["telework_days"].to_numpy()
            if "telework_days" in agents
            else np.ones(len(agent_ids), dtype=np.int64),
            select=select,
            max_minutes=max_minutes,
            min_saving=min_saving,
            objective=objective,
        ).validated()

    def validated(self) -> AssignmentProblem:
        """Check shapes and values; return ``self`` or raise :class:`InputError`."""
        n, m = len(self.agent_ids), len(self.telecentre_ids)
        for name in ("minutes_to", "minutes_back", "km_to", "km_back"):
            shape = getattr(self, name).shape
            if shape != (n, m):
                msg = f"{name} has shape {shape}, expected ({n}, {m}) (agents x telecentres)."
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
        if self.objective not in ("minutes", "km"):
            msg = f"objective must be 'minutes' or 'km', got {self.objective!r}."
            raise InputError(msg)
        if self.objective == "km" and np.isnan(self.head_office_km_to).all() and n:
            msg = "objective 'km' needs distances (km, head_office_km)."
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

    def saving_minutes(self) -> np.ndarray:
        """Round-trip minutes saved per telework day, ``(n_agents, n_telecentres)``."""
        head = self.head_office_minutes_to + self.head_office_minutes_back
        return np.asarray(head[:, None] - (self.minutes_to + self.minutes_back))

    def saving_km(self) -> np.ndarray:
        """Round-trip km saved per telework day, ``(n_agents, n_telecentres)``."""
        head = self.head_office_km_to + self.head_office_km_back
        return np.asarray(head[:, None] - (self.km_to + self.km_back))

    def saving_seconds(self) -> np.ndarray:
        """Round-trip saving per day in whole seconds (0 where unreachable)."""
        return np.nan_to_num(np.round(self.saving_minutes() * 60.0), nan=0.0).astype(np.int64)

    def weekly_gain(self) -> np.ndarray:
        """Integer objective coefficient of each pair (seconds or metres a week)."""
        if self.objective == "km":
            per_day = np.nan_to_num(np.round(self.saving_km() * 1000.0), nan=0.0)
        else:
            per_day = self.saving_seconds().astype(float)
        return np.asarray(per_day * self.days[:, None]).astype(np.int64)

    def eligible(self) -> np.ndarray:
        """Boolean ``(n_agents, n_telecentres)``: may agent i go to telecentre j."""
        reachable = (
            np.isfinite(self.minutes_to)
            & np.isfinite(self.minutes_back)
            & np.isfinite(self.head_office_minutes_to)[:, None]
            & np.isfinite(self.head_office_minutes_back)[:, None]
        )
        saving = self.saving_seconds()
        ok = reachable & (saving > 0) & (saving >= np.round(self.min_saving * 60.0))
        if self.max_minutes is not None:
            ok &= np.nan_to_num(self.minutes_to, nan=np.inf) <= self.max_minutes
        if self.objective == "km":
            ok &= np.nan_to_num(self.saving_km(), nan=0.0) > 0
        return np.asarray(ok, dtype=bool)

    def solve(self) -> Assignment:
        """Solve exactly with OR-Tools min-cost flow.

        Returns
        -------
        Assignment
            The optimal assignment, with a reason for every agent left out.
        """
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
        Total of the objective: minutes (or km) saved a week, round trip.
    status
        ``"optimal"``.
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
    status: str
    engine: str
    solve_seconds: float
    reasons: tuple[str, ...]

    @property
    def assigned(self) -> np.ndarray:
        """Boolean mask of assigned agents."""
        return self.telecentre >= 0

    def load(self) -> np.ndarray:
        """Agents hosted by each telecentre."""
        return np.bincount(
            self.telecentre[self.assigned], minlength=self.problem.n_telecentres
        ).astype(np.int64)


def solve_min_cost_flow(problem: AssignmentProblem) -> Assignment:
    """Solve ``problem`` exactly as a min-cost flow (see the module docstring).

    Parameters
    ----------
    problem
        The problem.

    Returns
    -------
    Assignment
        An optimal assignment.
    """
    started = time.perf_counter()
    n, m = problem.n_agents, problem.n_telecentres
    eligible = problem.eligible()
    gain = problem.weekly_gain()
    source, hub, sink, stay = n + m, n + m + 1, n + m + 2, n + m + 3
    agent_nodes = np.arange(n)
    pair_i, pair_j = np.nonzero(eligible)
    limit = n if problem.select is None else min(problem.select, n)
    tails = np.concatenate(
        [np.full(n, source), pair_i, agent_nodes, n + np.arange(m), [hub, stay]]
    ).astype(np.int32)
    heads = np.concatenate(
        [agent_nodes, n + pair_j, np.full(n, stay), np.full(m, hub), [sink, sink]]
    ).astype(np.int32)
    caps = np.concatenate(
        [np.ones(n), np.ones(pair_i.size), np.ones(n), problem.capacities, [limit, n]]
    ).astype(np.int64)
    costs = np.concatenate(
        [np.zeros(n), -gain[pair_i, pair_j], np.zeros(n), np.zeros(m), [0, 0]]
    ).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + m + 4, dtype=np.int64)
    supplies[source], supplies[sink] = n, -n
    flow.set_nodes_supplies(np.arange(n + m + 4, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        msg = f"min-cost flow did not find an optimum (status {status}); please report this."
        raise SolverError(msg)
    pair_flow = flow.flows(np.arange(n, n + pair_i.size, dtype=np.int32))
    telecentre = np.full(n, -1, dtype=np.int64)
    used = pair_flow > 0
    telecentre[pair_i[used]] = pair_j[used]
    scale = 1000.0 if problem.objective == "km" else 60.0
    elapsed = time.perf_counter() - started
    result = Assignment(
        problem=problem,
        telecentre=telecentre,
        objective_value=-flow.optimal_cost() / scale,
        status="optimal",
        engine="ortools-min-cost-flow",
        solve_seconds=elapsed,
        reasons=explain(problem, telecentre),
    )
    logger.info(
        "min-cost flow: %d agents x %d telecentres, %d arcs, %d assigned, objective %.1f, %.3f s",
        n,
        m,
        pair_i.size,
        int(used.sum()),
        result.objective_value,
        elapsed,
    )
    return result


def explain(problem: AssignmentProblem, telecentre: np.ndarray) -> tuple[str, ...]:
    """Say why each agent left out is left out ("" for assigned agents).

    The first reason that applies, in this order: unreachable; no telecentre
    saves time; the saving is below the minimum; every telecentre that saves
    enough is beyond the longest acceptable drive; the agent could go to a
    telecentre with a free place but the limit on agents was reached; the
    telecentres that would save time are full.

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
    eligible = problem.eligible()
    free = problem.capacities - np.bincount(
        telecentre[telecentre >= 0], minlength=problem.n_telecentres
    )
    saving = problem.saving_seconds()
    reachable = np.isfinite(problem.minutes_to) & np.isfinite(problem.minutes_back)
    positive = reachable & (saving > 0)
    enough = positive & (saving >= np.round(problem.min_saving * 60.0))
    ho_ok = np.isfinite(problem.head_office_minutes_to) & np.isfinite(
        problem.head_office_minutes_back
    )
    reasons: list[str] = []
    for i, j in enumerate(telecentre):
        if j >= 0:
            reasons.append("")
        elif not ho_ok[i]:
            reasons.append(REASON_UNREACHABLE)
        elif not reachable[i].any():
            reasons.append(REASON_NO_TELECENTRE_ROUTE)
        elif not positive[i].any():
            reasons.append(REASON_NO_SAVING)
        elif not enough[i].any():
            reasons.append(REASON_BELOW_MIN)
        elif not eligible[i].any():
            reasons.append(REASON_TOO_FAR)
        elif (free[eligible[i]] > 0).any():
            reasons.append(REASON_NOT_SELECTED)
        else:
            reasons.append(REASON_FULL)
    return tuple(reasons)
