"""The CP-SAT model of weekly plans: telecentres, weekdays and, when asked, which to open.

Owns :func:`_cp_sat_plan` (the model of :mod:`optimizer.schedule`'s docstring,
on the agents and telecentres the split-days bound points to), its first plan
(:func:`_greedy_plan`, given to CP-SAT as a hint) and how many telecentres each
agent keeps (:data:`CANDIDATES`, :data:`FOCUS_PAIRS`, :data:`FOCUS_CANDIDATES`).
"""

from __future__ import annotations

import logging

import numpy as np
from ortools.sat.python import cp_model

from optimizer.errors import InfeasibleError
from optimizer.model import AssignmentProblem, cp_workers, run_cp_sat
from optimizer.model.cpsat import clock_cut

logger = logging.getLogger(__name__)

#: The model's variables: ``y[i, j]`` agent at telecentre, ``z[i, j, day]`` there that day.
_Y = dict[tuple[int, int], cp_model.IntVar]
_Z = dict[tuple[int, int, int], cp_model.IntVar]


#: Telecentres per agent kept in the CP-SAT model (besides those the bound's flow uses).
CANDIDATES = 8
#: Above this many agent-telecentre pairs, CP-SAT only sees the agents the bound's flow uses.
FOCUS_PAIRS = 20_000
#: Telecentres per agent (besides those the flow uses) when the model is focused.
FOCUS_CANDIDATES = 3


def _cp_sat_plan(
    problem: AssignmentProblem,
    eligible: np.ndarray,
    gain: np.ndarray,
    usable: np.ndarray,
    preferred: np.ndarray,
    desks: np.ndarray,
    bonus: int,
    time_limit_s: float,
    units: np.ndarray,
    keeping: tuple[int, np.ndarray, np.ndarray],
    *,
    max_open: int | None = None,
    fixed: np.ndarray | None = None,
    deciding: bool = False,
) -> tuple[np.ndarray, np.ndarray, float, bool, np.ndarray | None, tuple[str, ...]]:
    """CP-SAT on the agents and telecentres the split-days bound points to.

    An agent gets variables for its best telecentres and those where the
    bound's flow put some of its days (an agent who must be assigned, for
    every eligible telecentre); on problems larger than
    :data:`FOCUS_PAIRS` pairs, agents to whom that flow gave no day are left
    out of the model (they would displace better agents). The returned flag
    says whether the optimum of the model is an optimum of the whole problem.
    When ``deciding``, telecentres are opened by decision (at most
    ``max_open``, each at its ``fixed`` cost) and the open ones are returned.
    Last comes the plan's ``time_cut`` (:func:`~optimizer.model.cpsat.clock_cut`).
    """
    n, m = problem.n_agents, problem.n_telecentres
    focus = n * m > FOCUS_PAIRS
    eligible, top, width = _candidates(problem, eligible, gain, units, focus)
    model = cp_model.CpModel()
    y, z = _variables(model, problem, eligible, top, usable, desks)
    is_open = _objective(
        model, (y, z), gain, (preferred, bonus, keeping), (max_open, fixed, deciding), m
    )
    hint_centre, hint_days = _greedy_plan(
        problem, gain, top, eligible, usable, preferred, desks, max_open=max_open, keeping=keeping
    )
    _hint(model, (y, z, is_open), hint_centre, hint_days)
    solver, proven = run_cp_sat(
        model,
        time_limit_s=time_limit_s,
        workers=cp_workers(len(y) + len(z)),
        what="weekly plan",
        infeasible="the agents who must be assigned cannot all get desks on their days"
        + (
            f" with at most {max_open} telecentre(s) open (--max-open)."
            if deciding and max_open is not None
            else "."
        ),
    )
    logger.info(
        "weekly CP-SAT: %d + %d variables, objective %.0f, its bound %.0f",
        len(y),
        len(z),
        solver.objective_value,
        solver.best_objective_bound,
    )
    telecentre, days = _read(solver, (y, z), n)
    opened = np.array([solver.boolean_value(v) for v in is_open], dtype=bool) if deciding else None
    return (
        telecentre,
        days,
        float(solver.objective_value),
        proven and width >= m and not focus,
        opened,
        clock_cut(solver, proven),
    )


def _candidates(
    problem: AssignmentProblem,
    eligible: np.ndarray,
    gain: np.ndarray,
    units: np.ndarray,
    focus: bool,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Choose the pairs the model keeps, each agent's best :data:`CANDIDATES` among them.

    Returns the eligible pairs kept, ``(n, width)`` each agent's best telecentres
    among them, and ``width``.
    """
    n, m = problem.n_agents, problem.n_telecentres
    must = problem.must
    eligible = eligible & ~(focus & (units.sum(axis=1) == 0) & ~must)[:, None]
    # an agent who must be assigned keeps every telecentre: else the model may have no
    # plan while the problem has one (the flow engine places them)
    eligible = eligible & (
        (units > 0)
        | _top_mask(np.where(eligible, gain, -1), FOCUS_CANDIDATES if focus else CANDIDATES)
        | must[:, None]
    )
    score = np.where(eligible, gain, -1)
    width = min(CANDIDATES, m)
    top = (
        np.argpartition(-score, width - 1, axis=1)[:, :width]
        if width < m
        else np.tile(np.arange(m), (n, 1))
    )
    return eligible, top, width


def _variables(
    model: cp_model.CpModel,
    problem: AssignmentProblem,
    eligible: np.ndarray,
    top: np.ndarray,
    usable: np.ndarray,
    desks: np.ndarray,
) -> tuple[_Y, _Z]:
    """Add ``y`` (agent at telecentre), ``z`` (there on a weekday) and their constraints."""
    n = problem.n_agents
    must = problem.must
    y: _Y = {}
    z: _Z = {}
    for i in range(n):
        for j in (np.flatnonzero(eligible[i]) if must[i] else top[i]).tolist():
            if not eligible[i, j]:
                continue
            y[i, j] = model.new_bool_var("")
            for day in np.flatnonzero(usable[i, j]).tolist():
                z[i, j, day] = model.new_bool_var("")
    by_agent: dict[int, list[cp_model.IntVar]] = {}
    for (i, j), var in y.items():
        by_agent.setdefault(i, []).append(var)
        model.add(
            sum(z[i, j, day] for day in range(5) if (i, j, day) in z) == int(problem.days[i]) * var
        )
    for i, vars_ in by_agent.items():
        if must[i]:
            model.add_exactly_one(vars_)
        else:
            model.add_at_most_one(vars_)
    if any(must[i] and i not in by_agent for i in range(n)):
        msg = "an agent who must be assigned has no telecentre open on enough of its days."
        raise InfeasibleError(msg)
    per_slot: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (_, j, day), var in z.items():
        per_slot.setdefault((j, day), []).append(var)
    for (j, day), vars_ in per_slot.items():
        model.add(sum(vars_) <= int(desks[j, day]))
    if problem.limit < n:
        model.add(sum(y.values()) <= problem.limit)
    return y, z


def _objective(
    model: cp_model.CpModel,
    variables: tuple[_Y, _Z],
    gain: np.ndarray,
    days_worth: tuple[np.ndarray, int, tuple[int, np.ndarray, np.ndarray]],
    opening: tuple[int | None, np.ndarray | None, bool],
    m: int,
) -> list[cp_model.IntVar]:
    """Maximize gains and day bonuses (less opening costs); return the "open" variables.

    ``days_worth`` is ``(preferred, bonus, keeping)``, ``opening`` is
    ``(max_open, fixed, deciding)``: when deciding, telecentres are opened by
    decision (at most ``max_open``, each at its ``fixed`` cost).
    """
    y, z = variables
    preferred, bonus, (keep, kept, before) = days_worth
    max_open, fixed, deciding = opening

    def day_worth(i: int, j: int, day: int) -> int:
        return bonus * int(preferred[i, day]) + keep * int(kept[i, day] and before[i] == j)

    worth = {key: day_worth(*key) for key in z}
    terms = list(y.values()) + [v for key, v in z.items() if worth[key]]
    coefficients = [int(gain[i, j]) for (i, j) in y] + [w for w in worth.values() if w]
    is_open = [model.new_bool_var(f"open{j}") for j in range(m)] if deciding else []
    if deciding:
        for (_, j), var in y.items():
            model.add_implication(var, is_open[j])
        if max_open is not None:
            model.add(sum(is_open) <= max_open)
        if fixed is not None:
            terms += is_open
            coefficients += [-int(f) for f in fixed.tolist()]
    model.maximize(cp_model.LinearExpr.weighted_sum(terms, coefficients))
    return is_open


def _hint(
    model: cp_model.CpModel,
    variables: tuple[_Y, _Z, list[cp_model.IntVar]],
    hint_centre: np.ndarray,
    hint_days: np.ndarray,
) -> None:
    """Give CP-SAT the greedy plan as a hint: ``y``, ``z`` and the "open" variables."""
    y, z, is_open = variables
    for (i, j), var in y.items():
        model.add_hint(var, int(hint_centre[i] == j))
    for (i, j, day), var in z.items():
        model.add_hint(var, int(hint_centre[i] == j and hint_days[i, day]))
    for j, var in enumerate(is_open):
        model.add_hint(var, int((hint_centre == j).any()))


def _read(
    solver: cp_model.CpSolver, variables: tuple[_Y, _Z], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read each agent's telecentre (-1: none) and weekdays from the solved model."""
    y, z = variables
    telecentre = np.full(n, -1, dtype=np.int64)
    days = np.zeros((n, 5), dtype=bool)
    for (i, j), var in y.items():
        if solver.boolean_value(var):
            telecentre[i] = j
    for (i, _, day), var in z.items():
        if solver.boolean_value(var):
            days[i, day] = True
    return telecentre, days


def _top_mask(score: np.ndarray, width: int) -> np.ndarray:
    """Booleans marking each row's ``width`` largest scores."""
    if width >= score.shape[1]:
        return np.ones(score.shape, dtype=bool)
    top = np.argpartition(-score, width - 1, axis=1)[:, :width]
    mask = np.zeros(score.shape, dtype=bool)
    np.put_along_axis(mask, top, values=True, axis=1)
    return mask


def _greedy_plan(
    problem: AssignmentProblem,
    gain: np.ndarray,
    top: np.ndarray,
    eligible: np.ndarray,
    usable: np.ndarray,
    preferred: np.ndarray,
    desks: np.ndarray,
    *,
    max_open: int | None = None,
    keeping: tuple[int, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Build a first plan for CP-SAT: agents by saving per desk-day, each to its best room.

    Must-assign agents go first. Each agent takes its best candidate
    telecentre with enough free desks on its allowed days, preferring its
    kept weekdays there (``keeping``, from :func:`_kept`), then its preferred
    weekdays, then the emptiest days; no more than ``max_open`` telecentres
    are used.
    """
    n = problem.n_agents
    free = desks.copy()
    centre = np.full(n, -1, dtype=np.int64)
    days = np.zeros((n, 5), dtype=bool)
    per_day = np.where(eligible, gain, -1) / problem.days[:, None]
    best = per_day.max(axis=1, initial=-1.0)
    order = np.lexsort((-best, ~problem.must))
    used = np.zeros(desks.shape[0], dtype=bool)
    placed = 0
    for i in order.tolist():
        if placed >= problem.limit or best[i] < 0:
            break
        need = int(problem.days[i])
        for j in sorted(top[i].tolist(), key=lambda c: -gain[i, c]):
            if not eligible[i, j]:
                continue
            if max_open is not None and not used[j] and used.sum() >= max_open:
                continue
            open_days = np.flatnonzero(usable[i, j] & (free[j] > 0))
            if open_days.size < need:
                continue
            keeps = (
                keeping[1][i, open_days] & (keeping[2][i] == j)
                if keeping is not None
                else np.zeros(open_days.size, dtype=bool)
            )
            rank = np.lexsort((-free[j, open_days], ~preferred[i, open_days], ~keeps))
            chosen = open_days[rank[:need]]
            centre[i] = j
            used[j] = True
            days[i, chosen] = True
            free[j, chosen] -= 1
            placed += 1
            break
    return centre, days
