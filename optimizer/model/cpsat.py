"""The CP-SAT engine (OR-Tools), and the settings every CP-SAT model of the project shares."""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from optimizer import settings
from optimizer.errors import InfeasibleError, SolverError
from optimizer.model.flow import _candidates
from optimizer.model.problem import AssignmentProblem
from optimizer.model.result import Assignment, _result

#: CP-SAT models with up to this many variables are searched by one worker.
SMALL_MODEL = 100_000


def cp_workers(n_vars: int) -> int:
    """Search workers for a CP-SAT model: one for small models, else 8 in parallel.

    One worker is reproducible and the fastest on the models the plans build
    (a 400-agent weekly plan by commune: 1.8 s, against 13.6 s for 8 workers
    interleaved, 2.4 s for 8 workers racing, which returned another optimal
    plan on each run). Larger models get CP-SAT's portfolio of 8 strategies,
    searched interleaved so that the plan is still the same on every run (see
    :func:`configure`).
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
    """Set the time limit, the workers (see :func:`cp_workers`) and a fixed seed.

    Several workers search interleaved (CP-SAT's ``interleave_search``): the
    same portfolio of strategies, run in a fixed order, so that a model solved
    to optimality gives the same plan on every run. (Run freely in parallel,
    the workers race, and among several optimal plans the one returned
    changed from run to run.) A search stopped by the time limit may still
    stop at another point of that order: such a plan is reported
    ``feasible``, with its gap.
    """
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 2015
    if workers > 1:
        solver.parameters.interleave_search = True


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
    problem = problem.untied_problem()  # CP-SAT: ties are settled by exchange (optimizer.ties)
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
