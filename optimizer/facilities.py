r"""Choosing telecentres and weighted assignment: CP-SAT models.

Where agents weigh differently (e.g. by resource use) or telecentres
must be chosen (at most :math:`p` open, or a cost to open each), the problem is
no longer a flow: it is a generalised assignment problem, or with opening
decisions a single-source capacitated facility location problem, solved here
with OR-Tools CP-SAT. One core model serves all three:

.. math::

    \text{opt} \sum_{ij} v_{ij} x_{ij} - \sum_j f_j y_j
    \quad\text{s.t.}\quad
    \sum_j x_{ij} \le 1 \;(= 1 \text{ where required}),\;
    \sum_i w_{ij} x_{ij} \le c_j y_j,\;
    x_{ij} \le y_j,\;
    \sum_j y_j \le p.

Its correctness is checked against the published optima of OR-Library's GAP
and CFLP sets (``tests/test_facilities.py``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

import optimizer.settings as settings
from optimizer.errors import InfeasibleError, InputError
from optimizer.model import (
    Assignment,
    AssignmentProblem,
    _result,
    check_feasible,
    cp_workers,
    run_cp_sat,
)
from optimizer.model.cpsat import clock_cut
from optimizer.model.flow_network import _eligible_pairs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoreSolution:
    """Result of :func:`solve_core`.

    Attributes
    ----------
    chosen
        ``(pairs,)`` booleans: which pairs are used.
    open
        ``(facilities,)`` booleans: which facilities are open.
    objective, bound
        Objective value and the solver's bound (same sense).
    status
        ``"optimal"`` or ``"feasible"`` (stopped by the time limit).
    seconds
        Wall time.
    time_cut
        ``("CP-SAT search",)`` when the wall clock, not the work limit, stopped
        an unproven search (:func:`~optimizer.model.cpsat.clock_cut`), else empty.
    """

    chosen: np.ndarray
    open: np.ndarray
    objective: float
    bound: float
    status: str
    seconds: float
    time_cut: tuple[str, ...] = ()

    @property
    def gap(self) -> float:
        """Relative gap between objective and bound."""
        return abs(self.bound - self.objective) / max(1.0, abs(self.bound))


def solve_core(
    rows: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    weights: np.ndarray,
    capacities: np.ndarray,
    *,
    n_rows: int,
    required: np.ndarray | None = None,
    fixed_costs: np.ndarray | None = None,
    max_open: int | None = None,
    max_rows: int | None = None,
    maximise: bool = True,
    time_limit_s: float = settings.SOLVER_TIME_LIMIT_S,
    workers: int | None = None,
    reproducible: bool = True,
    infeasible: str = "no solution satisfies all the constraints (capacities, required rows, "
    "open limit).",
) -> CoreSolution:
    """Solve the weighted assignment / facility-location core model with CP-SAT.

    Parameters
    ----------
    rows, cols
        The allowed pairs (row: agent or customer or job; col: telecentre or facility).
    values, weights
        Integer value and resource use of each pair.
    capacities
        Integer capacity of each column.
    n_rows
        Number of rows.
    required
        ``(n_rows,)`` booleans: rows that must be given a column (default none).
    fixed_costs
        Integer cost of opening each column; with it (or ``max_open``) columns
        are opened by decision, otherwise all are open.
    max_open
        At most this many columns open.
    max_rows
        At most this many rows given a column.
    maximise
        Maximise (True) or minimise the objective.
    time_limit_s
        CP-SAT's time limit.
    workers
        Search workers (default: :func:`optimizer.model.cp_workers`).
    reproducible
        The same solution every run (default); False lets the workers race
        (see :func:`optimizer.model.run_cp_sat`).
    infeasible
        The message of the :class:`~optimizer.errors.InfeasibleError` raised when no
        solution exists.

    Returns
    -------
    CoreSolution
        The solution.

    Raises
    ------
    InfeasibleError
        When no solution exists.
    """
    started = time.perf_counter()
    deciding = fixed_costs is not None or max_open is not None
    must = np.zeros(n_rows, bool) if required is None else np.asarray(required, bool)
    model, x, y = _core_model(
        (rows, cols, values, weights, capacities), must, deciding, (fixed_costs, max_open, max_rows)
    )
    _core_objective(model, (x, y), values, fixed_costs, maximise)
    run = (time_limit_s, workers if workers is not None else cp_workers(rows.size), reproducible)
    return _core_solution(model, (x, y), capacities.size, run, infeasible, started)


def _core_model(
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    must: np.ndarray,
    deciding: bool,
    limits: tuple[np.ndarray | None, int | None, int | None],
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], list[cp_model.IntVar]]:
    """Build the core model's variables and constraints: ``(model, x, y)``.

    ``pairs`` is ``(rows, cols, values, weights, capacities)``, ``limits``
    ``(fixed_costs, max_open, max_rows)``; ``x`` says a pair is chosen, ``y`` a
    column open (only when ``deciding``).
    """
    rows, cols, _, weights, capacities = pairs
    _, max_open, max_rows = limits
    m = capacities.size
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(rows.size)]
    y = [model.new_bool_var(f"open{j}") for j in range(m)] if deciding else []
    by_row: list[list[int]] = [[] for _ in range(must.size)]
    by_col: list[list[int]] = [[] for _ in range(m)]
    for k, (i, j) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        by_row[i].append(k)
        by_col[j].append(k)
    for i, chosen in enumerate(by_row):
        if must[i]:
            if not chosen:
                msg = f"row {i} must be assigned but has no allowed column."
                raise InfeasibleError(msg)
            model.add_exactly_one(x[k] for k in chosen)
        elif len(chosen) > 1:
            model.add_at_most_one(x[k] for k in chosen)
    for j, chosen in enumerate(by_col):
        if not chosen:
            continue
        load = sum(int(weights[k]) * x[k] for k in chosen)
        if deciding:
            model.add(load <= int(capacities[j]) * y[j])
            for k in chosen:
                model.add_implication(x[k], y[j])
        else:
            model.add(load <= int(capacities[j]))
    if max_open is not None:
        model.add(sum(y) <= max_open)
    if max_rows is not None:
        model.add(sum(x) <= max_rows)
    return model, x, y


def _core_objective(
    model: cp_model.CpModel,
    variables: tuple[list[cp_model.IntVar], list[cp_model.IntVar]],
    values: np.ndarray,
    fixed_costs: np.ndarray | None,
    maximise: bool,
) -> None:
    """Set the objective: the chosen pairs' values, less (or plus) the opening costs."""
    x, y = variables
    terms = list(x)
    coefficients = [int(v) for v in values.tolist()]
    if fixed_costs is not None:
        sign = -1 if maximise else 1
        terms += y
        coefficients += [sign * int(f) for f in fixed_costs.tolist()]
    objective = cp_model.LinearExpr.weighted_sum(terms, coefficients)
    if maximise:
        model.maximize(objective)
    else:
        model.minimize(objective)


def _core_solution(
    model: cp_model.CpModel,
    variables: tuple[list[cp_model.IntVar], list[cp_model.IntVar]],
    m: int,
    run: tuple[float, int, bool],
    infeasible: str,
    started: float,
) -> CoreSolution:
    """Solve the core model (``run``: time limit, workers, reproducible) and read it."""
    x, y = variables
    time_limit_s, workers, reproducible = run
    solver, proven = run_cp_sat(
        model,
        time_limit_s=time_limit_s,
        workers=workers,
        reproducible=reproducible,
        what="solution",
        infeasible=infeasible,
    )
    chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    opened = (
        np.array([solver.boolean_value(v) for v in y], dtype=bool)
        if y  # the columns are opened by decision
        else np.ones(m, dtype=bool)
    )
    return CoreSolution(
        chosen=chosen,
        open=opened,
        objective=float(solver.objective_value),
        bound=float(solver.best_objective_bound),
        status="optimal" if proven else "feasible",
        seconds=time.perf_counter() - started,
        time_cut=clock_cut(solver, proven),
    )


def choose_telecentres(
    problem: AssignmentProblem,
    *,
    max_open: int | None = None,
    opening_cost: np.ndarray | None = None,
    time_limit_s: float = settings.SOLVER_TIME_LIMIT_S,
) -> tuple[Assignment, np.ndarray]:
    """Decide which telecentres to open, and who goes where, with dedicated desks.

    Each agent holds one desk for the whole week (a telecentre of capacity
    :math:`c` hosts at most :math:`c` agents), as in
    :meth:`AssignmentProblem.solve`; with desks shared by weekday,
    :func:`optimizer.schedule.solve_weekly` chooses telecentres instead. All
    the problem's rules hold (eligibility, must-assign, limit on agents,
    preferences).

    Parameters
    ----------
    problem
        The assignment problem.
    max_open
        At most this many telecentres open.
    opening_cost
        ``(n_telecentres,)`` cost of opening each telecentre (rent, contract),
        in the objective's unit a week (minutes saved, or km for ``km``).
    time_limit_s
        CP-SAT's time limit.

    Returns
    -------
    tuple
        The assignment (status and gap included) and the open telecentres (booleans).
    """
    if max_open is None and opening_cost is None:
        msg = "give max_open or opening_cost (or both) to choose telecentres."
        raise InputError(msg)
    if max_open is not None and max_open < 0:
        msg = f"max_open must be 0 or more, got {max_open}."
        raise InputError(msg)
    problem = problem.untied_problem()  # CP-SAT: ties are settled by exchange (optimizer.ties)
    check_feasible(problem)  # says why, in words, before CP-SAT would say "row i"
    started = time.perf_counter()
    rows, cols, values = _eligible_pairs(problem)
    fixed = None if opening_cost is None else problem.whole_units(opening_cost)
    solution = solve_core(
        rows,
        cols,
        values,
        np.ones(rows.size, dtype=np.int64),
        problem.capacities.astype(np.int64),
        n_rows=problem.n_agents,
        required=problem.must,
        fixed_costs=fixed,
        max_open=max_open,
        max_rows=problem.limit if problem.limit < problem.n_agents else None,
        time_limit_s=time_limit_s,
        infeasible="the agents who must be assigned cannot all get desks"
        + (
            f" with at most {max_open} telecentre(s) open (--max-open)."
            if max_open is not None
            else "."
        ),
    )
    telecentre = np.full(problem.n_agents, -1, dtype=np.int64)
    telecentre[rows[solution.chosen]] = cols[solution.chosen]
    opening = 0.0 if fixed is None else float(fixed[solution.open].sum())
    result = _result(
        problem,
        telecentre,
        bound_gain=solution.bound + opening,
        status=solution.status,
        engine="ortools-cp-sat (facility location)",
        started=started,
    )
    return replace(result, time_cut=solution.time_cut), solution.open
