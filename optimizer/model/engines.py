"""Solving a problem: the check that it can be solved, then the engine asked for.

The dispatch lives beside the engines rather than in the problem, which they
import: :meth:`AssignmentProblem.solve` calls :func:`solve`, registered with
:func:`optimizer.model.problem.register_solver` when this module is imported
(:mod:`optimizer.model` imports it).
"""

from __future__ import annotations

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.model.cpsat import solve_cp_sat
from optimizer.model.feasibility import check_feasible
from optimizer.model.flow import solve_min_cost_flow
from optimizer.model.problem import ENGINES, AssignmentProblem, Engine, register_solver
from optimizer.model.result import Assignment


def solve(
    problem: AssignmentProblem,
    engine: Engine = "flow",
    *,
    time_limit_s: float = settings.SOLVER_TIME_LIMIT_S,
) -> Assignment:
    """Solve ``problem`` exactly with ``engine``.

    Parameters
    ----------
    problem
        The assignment problem.
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
    check_feasible(problem)
    if engine == "cp-sat":
        return solve_cp_sat(problem, time_limit_s=time_limit_s)
    return solve_min_cost_flow(problem)


register_solver(solve)
