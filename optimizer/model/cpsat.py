"""The CP-SAT engine (OR-Tools), and the settings every CP-SAT model of the project shares."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from ortools.sat.python import cp_model

import optimizer.settings as settings
from optimizer.errors import InfeasibleError, SolverError
from optimizer.model.flow import _candidates
from optimizer.model.problem import AssignmentProblem
from optimizer.model.result import Assignment, _result

#: CP-SAT's deterministic time allowed per second of time limit. On the 2-core machines the
#: project runs on, one search worker did 0.17-0.25 units a second at a load of 3.5 (weekly
#: plans of 400 agents): the deterministic limit binds first, at about half the wall limit.
DETERMINISTIC_PER_SECOND = 0.1
#: CP-SAT models with up to this many variables are searched by one worker.
SMALL_MODEL = 100_000


def cp_workers(n_vars: int) -> int:
    """Search workers for a CP-SAT model: one for small models, else 8 in parallel.

    One worker is reproducible, and the fastest on the weekly plans a
    département builds (a 400-agent plan by commune: 1.8 s, against 13.6 s
    for 8 workers interleaved, 2.4 s for 8 workers racing, which returned
    another optimal plan on each run). Racing workers prove some models far
    faster (``--select 40`` on that roster: 1.4 s against 10.8 s; OR-Library's
    cap103: 0.1 s against 21.7 s), but a plan a planner must defend is the
    same every run (the OR-Library checks, which need any optimum fast, ask
    for racing workers: ``reproducible=False``). Models above
    :data:`SMALL_MODEL` variables get CP-SAT's portfolio of 8 strategies,
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
    reproducible: bool = True,
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
    reproducible
        The same plan every run (default; see :func:`configure`). False lets
        several workers race: fastest to prove an optimum, but which of
        several optimal plans comes back changes between runs (benchmarks of
        exactness only, :mod:`optimizer.orlib`).

    Returns
    -------
    tuple
        The solver (read values from it) and whether the solution is proven optimal.
    """
    solver = cp_model.CpSolver()
    configure(solver, time_limit_s, workers, reproducible=reproducible)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise InfeasibleError(infeasible)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        msg = f"CP-SAT found no {what} within {time_limit_s:g} s; raise the time limit."
        raise SolverError(msg)
    return solver, status == cp_model.OPTIMAL


#: The stage named in a plan's ``time_cut`` when the wall clock, not CP-SAT's work limit,
#: stopped its search: on a slower or busier machine another run may stop elsewhere.
CLOCK_CUT = "CP-SAT search"


def clock_cut(solver: cp_model.CpSolver, proven: bool) -> tuple[str, ...]:
    """Return ``(CLOCK_CUT,)`` when the wall clock stopped an unproven search, else ``()``.

    A search :func:`configure` set up stops at its deterministic (work) limit,
    the same point on every run, unless the wall-clock limit comes first; an
    unproven plan whose search used less than its work limit was stopped by the
    clock, and may differ on another run.

    Parameters
    ----------
    solver
        The solver after :func:`run_cp_sat`.
    proven
        Whether its solution is proven optimal.

    Returns
    -------
    tuple of str
        The stage cut, for the plan's ``time_cut``.
    """
    if proven:
        return ()
    return (
        (CLOCK_CUT,) if solver.deterministic_time < solver.parameters.max_deterministic_time else ()
    )


def configure(
    solver: cp_model.CpSolver, time_limit_s: float, workers: int, *, reproducible: bool = True
) -> None:
    """Set the time limit, the workers (see :func:`cp_workers`) and a fixed seed.

    ``reproducible=False`` (benchmarks only) lets the workers race, stopped by
    the wall clock alone.

    The limit is given twice: as CP-SAT's deterministic time
    (:data:`DETERMINISTIC_PER_SECOND` units a second), which stops a search
    cut short at the same point on every run, and as wall time, a hard limit
    that binds first only on a machine far slower or busier than ours.

    Several workers search interleaved (CP-SAT's ``interleave_search``): the
    same portfolio of strategies, run in a fixed order, so that a model solved
    to optimality gives the same plan on every run. (Run freely in parallel,
    the workers race, and among several optimal plans the one returned
    changed from run to run.) A search stopped by the time limit may still
    stop at another point of that order: such a plan is reported
    ``feasible``, with its gap, and named in its ``time_cut`` when the clock
    stopped it (:func:`clock_cut`).
    """
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 2015
    if not reproducible:
        return
    # stopped by work done, not by the clock, whenever the machine keeps up: the same
    # stopping point, hence the same plan, on every run (the clock stays a hard limit)
    solver.parameters.max_deterministic_time = float(time_limit_s) * DETERMINISTIC_PER_SECOND
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
    result = _result(
        problem,
        telecentre,
        bound_gain=float(solver.best_objective_bound) if x else 0.0,
        status="optimal" if proven else "feasible",
        engine="ortools-cp-sat",
        started=started,
    )
    return replace(result, time_cut=clock_cut(solver, proven))
