"""The whole job in one call: inputs -> network -> travel -> model.

:func:`run` chains the stages through their public functions and returns a
:class:`RunResult` that :mod:`optimizer.report` turns into tables and files.
The ``assign`` command and the notebooks both use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from optimizer import settings
from optimizer.errors import InputError
from optimizer.inputs import HeadOffice, check_in_area, check_telecentre_refs
from optimizer.model import HEAD_OFFICE, Assignment, AssignmentProblem, Engine, Objective
from optimizer.network import RoadNetwork
from optimizer.travel import TravelTable, travel_table

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


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
        **agent_rules(agents, telecentres),
    )
    assignment = problem.solve(engine, time_limit_s=time_limit_s)
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
    )


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
