"""The whole job in one call: inputs -> network -> travel -> model.

:func:`run` chains the stages through their public functions and returns a
:class:`RunResult` that :mod:`optimizer.report` turns into tables and files.
The ``assign`` command and the notebooks both use it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimizer import settings
from optimizer.errors import InputError
from optimizer.facilities import choose_telecentres
from optimizer.fairness import solve_minimax
from optimizer.inputs import WEEKDAYS, HeadOffice, check_in_area, check_telecentre_refs, day_mask
from optimizer.model import (
    HEAD_OFFICE,
    Assignment,
    AssignmentProblem,
    Engine,
    Objective,
    check_feasible,
)
from optimizer.network import Progress, RoadNetwork
from optimizer.replan import incumbent_pairs
from optimizer.schedule import WeeklyPlan, solve_weekly
from optimizer.travel import TravelTable, travel_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """Everything a run computed, for reports.

    Attributes
    ----------
    agents, telecentres
        The validated inputs (see :mod:`optimizer.inputs`).
    head_office
        The head office.
    network
        The road network used.
    travel
        Times and distances from every agent to every telecentre and the head office.
    problem
        The assignment problem solved.
    assignment
        Its solution.
    timings
        Seconds per stage.
    sources
        Where the inputs came from, for the summary.
    plan
        The weekly desk plan, when telecentres give desks per weekday.
    open_telecentres
        Which telecentres are open, when they were chosen.
    previous
        The previous allocation of a re-plan.
    mode
        ``"assignment"``, ``"weekly"``, ``"minimax"`` or ``"choose"``.
    """

    agents: pd.DataFrame
    telecentres: pd.DataFrame
    head_office: HeadOffice
    network: RoadNetwork
    travel: TravelTable
    problem: AssignmentProblem
    assignment: Assignment
    timings: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    plan: WeeklyPlan | None = None
    open_telecentres: np.ndarray | None = None
    previous: pd.DataFrame | None = None
    mode: str = "assignment"


def run(
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    head_office: HeadOffice,
    network: RoadNetwork,
    *,
    select: int | None = None,
    max_minutes: float | None = None,
    min_saving: float = 0.0,
    objective: Objective = "minutes",
    preference_bonus: float = 0.0,
    no_worse_off: bool = True,
    minimax: bool = False,
    max_open: int | None = None,
    day_bonus: float = 0.0,
    previous: pd.DataFrame | None = None,
    move_penalty: float = 60.0,
    engine: Engine = "flow",
    time_limit_s: float = settings.SOLVER_TIME_LIMIT_S,
    max_snap_m: float = settings.MAX_SNAP_M,
    sources: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Compute travel times and the optimal assignment.

    Parameters
    ----------
    agents, telecentres
        Validated tables from :func:`optimizer.inputs.read_agents` and
        :func:`optimizer.inputs.read_telecentres`.
    head_office
        The head office.
    network
        A prepared road network.
    select, max_minutes, min_saving, objective, preference_bonus
        Rules of the assignment (see :class:`optimizer.model.AssignmentProblem`);
        the agents table's ``must_assign``, ``preferred_telecentre`` and
        ``forbidden_telecentres`` columns give the per-agent rules.
    no_worse_off
        Never send an agent to a telecentre further than the head office.
    minimax
        Shortest longest drive first (:func:`optimizer.fairness.solve_minimax`).
    max_open
        Choose at most this many telecentres (with the telecentres'
        ``opening_cost`` column, if any: :func:`optimizer.facilities.choose_telecentres`).
    day_bonus
        Weekly plans: bonus per preferred weekday granted (minutes a week).
    previous, move_penalty
        Re-plan: the previous allocation (:func:`optimizer.replan.read_previous_allocation`)
        and what keeping an agent where it was is worth (minutes a week).
    engine, time_limit_s
        Solver (``"flow"`` or ``"cp-sat"``) and CP-SAT's time limit.
    max_snap_m
        Homes further than this from any road are reported unreachable.
    sources
        Descriptions of where the inputs came from, copied into the result.
    progress
        Called with a short message before each step.

    Returns
    -------
    RunResult
        The inputs, travel table, problem and solution.
    """
    timings: dict[str, float] = dict(network.timings)
    check_telecentre_refs(agents, telecentres)
    weekly = all(f"desks_{d}" in telecentres for d in WEEKDAYS)
    choosing = max_open is not None or "opening_cost" in telecentres
    _check_combination(weekly=weekly, choosing=choosing, minimax=minimax, engine=engine)
    bounds = network.bounds
    check_in_area(agents, bounds, name=_name(sources, "agents"), id_column="agent_id")
    check_in_area(
        telecentres, bounds, name=_name(sources, "telecentres"), id_column="telecentre_id"
    )
    check_in_area(
        pd.DataFrame({"id": [HEAD_OFFICE], "lon": [head_office.lon], "lat": [head_office.lat]}),
        bounds,
        name="--head-office",
        id_column="id",
    )
    destinations = pd.concat(
        [
            telecentres.rename(columns={"telecentre_id": "id"})[["id", "lon", "lat"]],
            pd.DataFrame({"id": [HEAD_OFFICE], "lon": [head_office.lon], "lat": [head_office.lat]}),
        ],
        ignore_index=True,
    )
    origins = agents.rename(columns={"agent_id": "id"})[["id", "lon", "lat"]]
    travel = travel_table(network, origins, destinations, max_snap_m=max_snap_m, progress=progress)
    timings["travel_s"] = travel.seconds
    unrouted = travel.destinations[~travel.destinations["routed"]]
    if not unrouted.empty:
        first = unrouted.iloc[0]
        what = "the head office" if first["id"] == HEAD_OFFICE else f"telecentre '{first['id']}'"
        msg = (
            f"{what} is {first['snap_m'] / 1000:.1f} km from the nearest road of the network "
            f"(limit {max_snap_m / 1000:.1f} km). Check its coordinates or the network."
        )
        raise InputError(msg)
    if progress:
        progress("solving the assignment")
    started = time.perf_counter()
    problem = AssignmentProblem.from_travel_times(
        travel.table,
        agents,
        telecentres,
        select=select,
        max_minutes=max_minutes,
        min_saving=min_saving,
        objective=objective,
        preference_bonus=preference_bonus,
        no_worse_off=no_worse_off,
        move_penalty=move_penalty if previous is not None else 0.0,
        incumbent=(
            incumbent_pairs(
                previous, agents["agent_id"].tolist(), telecentres["telecentre_id"].tolist()
            )
            if previous is not None
            else None
        ),
        **agent_rules(agents, telecentres),
    )
    plan: WeeklyPlan | None = None
    opened: np.ndarray | None = None
    if weekly:
        mode = "weekly"
        plan = solve_weekly(
            problem,
            telecentres[[f"desks_{d}" for d in WEEKDAYS]].to_numpy(),
            allowed_days=~day_mask(agents["impossible_days"])
            if "impossible_days" in agents
            else None,
            preferred_days=day_mask(agents["preferred_days"])
            if "preferred_days" in agents
            else None,
            day_bonus=day_bonus,
            time_limit_s=time_limit_s,
        )
        assignment = plan.assignment
    elif choosing:
        mode = "choose"
        assignment, opened = choose_telecentres(
            problem,
            max_open=max_open,
            opening_cost=telecentres["opening_cost"].to_numpy()
            if "opening_cost" in telecentres
            else None,
            time_limit_s=time_limit_s,
        )
    elif minimax:
        mode = "minimax"
        check_feasible(problem)
        assignment = solve_minimax(problem)
    else:
        mode = "assignment"
        assignment = problem.solve(engine, time_limit_s=time_limit_s)
    problem = assignment.problem
    timings["solve_s"] = time.perf_counter() - started
    return RunResult(
        agents=agents,
        telecentres=telecentres,
        head_office=head_office,
        network=network,
        travel=travel,
        problem=problem,
        assignment=assignment,
        timings=timings,
        sources=dict(sources or {}),
        plan=plan,
        open_telecentres=opened,
        previous=previous,
        mode=mode,
    )


def _check_combination(*, weekly: bool, choosing: bool, minimax: bool, engine: str) -> None:
    """Refuse combinations of modes that the solvers do not handle together."""
    clash = None
    if weekly and choosing:
        clash = (
            "a weekly desk plan (desks per weekday) and choosing telecentres "
            "(--max-open, opening_cost)"
        )
    elif weekly and minimax:
        clash = "a weekly desk plan (desks per weekday) and --minimax"
    elif choosing and minimax:
        clash = "choosing telecentres (--max-open, opening_cost) and --minimax"
    elif minimax and engine == "cp-sat":
        clash = "--minimax (solved by flows) and --engine cp-sat"
    if clash:
        msg = f"cannot combine {clash}. Run them one at a time."
        raise InputError(msg)


def agent_rules(agents: pd.DataFrame, telecentres: pd.DataFrame) -> dict[str, Any]:
    """Turn the agents' rule columns into :class:`AssignmentProblem` arguments.

    Parameters
    ----------
    agents
        From :func:`optimizer.inputs.read_agents` (``must_assign``,
        ``preferred_telecentre``, ``forbidden_telecentres``).
    telecentres
        From :func:`optimizer.inputs.read_telecentres`.

    Returns
    -------
    dict
        ``must_assign``, ``preferred`` and ``forbidden``.
    """
    index = {tc: j for j, tc in enumerate(telecentres["telecentre_id"])}
    preferred: tuple[list[int], list[int]] = ([], [])
    forbidden: tuple[list[int], list[int]] = ([], [])
    for i, value in enumerate(agents.get("preferred_telecentre", pd.Series(dtype=str))):
        if value:
            preferred[0].append(i)
            preferred[1].append(index[value])
    for i, value in enumerate(agents.get("forbidden_telecentres", pd.Series(dtype=str))):
        for ref in str(value).split("|"):
            if ref:
                forbidden[0].append(i)
                forbidden[1].append(index[ref])
    must = agents["must_assign"].to_numpy(bool) if "must_assign" in agents else None
    return {
        "must_assign": must,
        "preferred": (np.array(preferred[0], int), np.array(preferred[1], int)),
        "forbidden": (np.array(forbidden[0], int), np.array(forbidden[1], int)),
    }


def _name(sources: dict[str, str] | None, key: str) -> str:
    return (sources or {}).get(key, key)
