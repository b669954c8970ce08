"""A plan made on a national network folder: its reasons where pairs are not certified, its bound.

The folder's travel stage certifies most pairs' times; a pair not certified
has lower bounds only. :func:`exactness` solves the same plan once more with
those pairs at their bounds, and says whether the plan is the merged
network's optimum, or how far from it at most.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.model import (
    REASON_BELOW_MIN,
    REASON_NO_SAVING,
    REASON_NO_TELECENTRE_ROUTE,
    REASON_TOO_FAR,
    REASON_WORSE_OFF,
    Assignment,
)
from optimizer.model.result import gain_of_value
from optimizer.pipeline.planning import make_plan
from optimizer.pipeline.reasons import longest_drive
from optimizer.pipeline.result import RunResult

if TYPE_CHECKING:
    from optimizer.national.travel import FolderTravel


def exactness(result: RunResult, folder: FolderTravel) -> dict[str, Any]:
    """Say whether a plan made on a network folder is the merged network's optimum.

    The plan is made on the certified pairs only, so it is feasible on the
    merged network (every time it uses is the merged network's). Its bound:
    the same mode solved once more with every pair not certified that may be
    eligible at the lower bounds of its times and km
    (:attr:`FolderTravel.lower`). That problem's feasible set holds the
    merged network's and its savings are no smaller, so its optimum (or the
    solver's bound on it) bounds the merged network's optimum. The plan is
    ``exact`` when its value equals that bound (the same objective, in whole
    seconds or metres). An agent whose commute is not certified has an
    unknown saving: then no bound holds, and none is given.

    Parameters
    ----------
    result
        The plan made on the folder's travel table.
    folder
        That travel table's bounds and figures.

    Returns
    -------
    dict
        ``exact``, ``objective``, ``value``, ``bound`` (None when none holds),
        ``gap`` (``absolute``, ``relative``; None without bound),
        ``pairs_not_certified_maybe_eligible``, ``commutes_not_certified``,
        ``why`` (when not exact) and the travel stage's figures.
    """
    problem = result.assignment.problem.untied_problem()
    unit = "km a week" if problem.objective == "km" else "minutes a week"
    base = 1000.0 if problem.objective == "km" else 60.0
    value = round(gain_of_value(problem, result.assignment.objective_value))
    out: dict[str, Any] = {
        "exact": False,
        "objective": problem.objective,
        "unit": unit,
        "value": value / base,
        "bound": None,
        "gap": None,
        "pairs_not_certified_maybe_eligible": len(folder.lower),
        "commutes_not_certified": folder.commutes_not_certified,
        "why": "",
        "travel": {k: v for k, v in folder.summary.items() if k != "tasks"},
    }
    if folder.commutes_not_certified:
        out["why"] = REASON_UNBOUNDED.format(count=folder.commutes_not_certified)
        return out
    if len(folder.lower) == 0:  # the merged network's problem itself: the solver's word
        optimal = result.assignment.status == "optimal"
        bound = value if optimal else round(gain_of_value(problem, result.assignment.best_bound))
    elif result.options.select is not None and result.options.select_by == "commute":
        out["why"] = REASON_NO_BOUND_MODE.format(rule="--select-by commute")
        return out
    elif "opening_cost" in result.telecentres:
        out["why"] = REASON_NO_BOUND_MODE.format(rule="opening costs")
        return out
    else:
        relaxed = _relaxed_run(result, folder)
        if result.mode == "minimax":
            return _minimax_exactness(result, relaxed, out, base)
        rp = relaxed.assignment.problem.untied_problem()
        # proven optimal: its value is the relaxation's optimum; else the solver's bound on it
        done = relaxed.assignment
        bound = round(
            gain_of_value(rp, done.objective_value if done.status == "optimal" else done.best_bound)
        )
    if problem.objective == "travel":  # the bound is on the minutes driven: a least value
        out["bound"] = result.assignment.objective_value - (bound - value) / base
    else:
        out["bound"] = bound / base
    gap = max(0, bound - value)
    out["gap"] = {"absolute": gap / base, "relative": gap / max(1.0, abs(bound))}
    out["exact"] = gap == 0
    if gap:
        out["why"] = REASON_GAP if len(folder.lower) else REASON_SOLVER_GAP
    return out


#: Why a plan on a network folder has no bound.
REASON_UNBOUNDED = (
    "{count} agent(s)' commutes are not certified: their savings are unknown, so no bound "
    "holds (a wider --border-km certifies more)"
)
REASON_NO_BOUND_MODE = (
    "pairs not certified may be eligible, and {rule} gives no bound from their lower bounds"
)
REASON_GAP = (
    "pairs not certified may improve the plan by up to the gap (a wider --border-km certifies more)"
)
REASON_SOLVER_GAP = "the solver stopped at its time limit before proving the plan optimal"
REASON_MINIMAX_GAP = (
    "pairs not certified may place more agents or shorten the longest drive (a wider "
    "--border-km certifies more)"
)


#: Why an agent is left out when drive times that may save it time are not certified.
REASON_MAYBE_NOT_CERTIFIED = (
    "not placed on the certified drive times: drive times to telecentres that may save it "
    "time are not certified within the border buffers (a wider --border-km certifies more)"
)
#: Why an agent is left out when its only telecentres are not certified and ruled out.
REASON_RULED_OUT = (
    "no telecentre saves time under the rules: those whose drive times are not certified are "
    "ruled out by the lower bounds of their times"
)
#: Reasons that say no telecentre would do: not proven where drive times are not certified.
_NO_OPTION = (
    REASON_NO_TELECENTRE_ROUTE,
    REASON_NO_SAVING,
    REASON_BELOW_MIN,
    REASON_TOO_FAR,
    REASON_WORSE_OFF,
)


def _folder_reasons(assignment: Assignment, folder: FolderTravel) -> Assignment:
    """Say "not certified" where a network folder left a pair or a commute unknown.

    An agent whose commute is not certified is not "unreachable"; an agent
    left out for want of a telecentre, while one not certified may save it
    time (its lower bounds pass the rules), is left out on the certified
    times only; one whose telecentres not certified are all ruled out by
    their bounds has, proven, no telecentre that saves time.
    """
    from optimizer.national.travel import REASON_COMMUTE_NOT_CERTIFIED

    n = assignment.problem.n_agents
    maybe = np.zeros(n, dtype=bool)
    maybe[folder.lower["origin"].to_numpy(np.int64)] = True
    reasons = list(assignment.reasons)
    for i in np.flatnonzero(assignment.telecentre < 0).tolist():
        if folder.commute_open[i]:
            reasons[i] = REASON_COMMUTE_NOT_CERTIFIED
        elif reasons[i] in _NO_OPTION and maybe[i]:
            reasons[i] = REASON_MAYBE_NOT_CERTIFIED
        elif reasons[i] == REASON_NO_TELECENTRE_ROUTE and folder.uncertified[i]:
            reasons[i] = REASON_RULED_OUT
    return replace(assignment, reasons=tuple(reasons))


def _relaxed_run(result: RunResult, folder: FolderTravel) -> RunResult:
    """Solve the same plan with every pair not certified at the lower bounds of its times."""
    table = result.travel.table.copy()
    n_dest = len(result.travel.destinations)
    at = folder.lower["origin"].to_numpy(np.int64) * n_dest + folder.lower["destination"].to_numpy(
        np.int64
    )
    for column in ("minutes_to", "minutes_back", "km_to", "km_back"):
        values = table[column].to_numpy(float).copy()
        values[at] = folder.lower[column].to_numpy(float)
        table[column] = values
    reasons = table["reason"].to_numpy(object).copy()
    reasons[at] = ""
    table["reason"] = reasons
    relaxed = replace(result.travel, table=table)
    return make_plan(
        result.agents,
        result.telecentres,
        result.head_office,
        result.network,
        relaxed,
        result.options,
        previous=result.previous,
        workplaces=result.workplaces,
    )


def _minimax_exactness(
    result: RunResult, relaxed: RunResult, out: dict[str, Any], base: float
) -> dict[str, Any]:
    """Minimax: most agents placed, then the shortest longest drive, then the most saved.

    The relaxation's (count, longest drive, saving) is lexicographically at
    least as good as the merged network's optimum; the plan is exact when
    they are equal.
    """

    def key(run_: RunResult) -> tuple[int, int, int]:
        assignment = run_.assignment
        longest = longest_drive(assignment)
        problem = assignment.problem.untied_problem()
        return (
            int(assignment.assigned.sum()),
            -round((longest or 0.0) * 60_000),
            round(gain_of_value(problem, assignment.objective_value)),
        )

    mine, best = key(result), key(relaxed)
    if mine[:2] == best[:2]:
        gap = max(0, best[2] - mine[2])
        out["bound"] = best[2] / base
        out["gap"] = {"absolute": gap / base, "relative": gap / max(1.0, abs(best[2]))}
        out["exact"] = gap == 0 and relaxed.assignment.status == "optimal"
        out["why"] = "" if out["exact"] else REASON_GAP
    else:
        out["why"] = REASON_MINIMAX_GAP
    return out
