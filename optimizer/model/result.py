"""The result of a solve: :class:`Assignment`, and how engines build it."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optimizer.model.explain import explain
from optimizer.model.problem import AssignmentProblem


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
    time_cut
        The weekly configuration model's stages that the time limit ended
        before their work was done (see
        :attr:`optimizer.model.weekly_data.WeeklyPairsPlan.time_cut`): empty
        when the plan does not depend on the machine's speed.
    """

    problem: AssignmentProblem
    telecentre: np.ndarray
    objective_value: float
    best_bound: float
    status: str
    engine: str
    solve_seconds: float
    reasons: tuple[str, ...]
    time_cut: tuple[str, ...] = ()

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


def gain_of_value(problem: AssignmentProblem, value: float) -> float:
    """Return the integer gain of an objective ``value`` in its reported unit (its inverse).

    Used to carry a solver's reported bound into another result (untied: no tie weights).
    """
    if problem.objective == "travel":
        weekly_drive = (problem.head_office_minutes_to + problem.head_office_minutes_back) * 5
        value = float(np.nansum(weekly_drive)) - value
    return value * problem.objective_unit


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
        objective_value=_report_value(problem, problem.untied(gain)),
        best_bound=_report_value(problem, problem.untied(bound_gain)),
        status=status,
        engine=engine,
        solve_seconds=time.perf_counter() - started,
        reasons=explain(problem, telecentre),
    )
