"""The whole job in one call: inputs -> network -> travel -> model.

:func:`run` chains the stages through their public functions and returns a
:class:`RunResult` that :mod:`optimizer.report` turns into tables and files.
The ``assign`` command and the notebooks both use it.

On a national network folder (:func:`optimizer.national.travel.open_network_folder`)
the travel stage runs per département (:func:`optimizer.national.travel.folder_travel`,
on the scheduler's workers when one is given); a pair no extract certified is
missing with the reason "not certified", and the result's
:attr:`RunResult.exactness` says whether the plan is the merged network's
optimum, or its proven gap.

The package, one stage a module, :func:`run` and its checks here:

- :mod:`optimizer.pipeline.result`: :class:`RunResult`, :class:`TieReport`, :func:`plan_options`.
- :mod:`optimizer.pipeline.travel_stage`: where agents drive to, the travel table.
- :mod:`optimizer.pipeline.planning`: the problem, the solve, the ties (:func:`make_plan`).
- :mod:`optimizer.pipeline.reasons`: why each agent left out is left out.
- :mod:`optimizer.pipeline.folder_bounds`: a network folder's plan, its bound
  (:func:`exactness`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from optimizer.errors import InputError
from optimizer.inputs import (
    HeadOffice,
    check_in_area,
    check_telecentre_refs,
    check_workplace_refs,
    coordinate_workplaces,
)
from optimizer.model import HEAD_OFFICE
from optimizer.network import Progress, RoadNetwork
from optimizer.options import PlanOptions
from optimizer.pipeline.folder_bounds import (
    REASON_GAP,
    REASON_MAYBE_NOT_CERTIFIED,
    REASON_MINIMAX_GAP,
    REASON_NO_BOUND_MODE,
    REASON_RULED_OUT,
    REASON_SOLVER_GAP,
    REASON_UNBOUNDED,
    _folder_reasons,
    exactness,
)
from optimizer.pipeline.planning import (
    agent_rules,
    by_commute,
    desks_per_day,
    make_plan,
    plan_frontier,
    solve_plan,
)
from optimizer.pipeline.reasons import (
    REASON_TOO_FEW_DAYS,
    choosing_rule,
    longest_drive,
    room_on_days,
)
from optimizer.pipeline.result import RunResult, TieReport, drives_to_head_office, plan_options
from optimizer.pipeline.travel_stage import (
    _folder_travel,
    _travel,
    destination_table,
    own_workplace_times,
    travel_again,
)
from optimizer.schedule import dedicated_capacities
from optimizer.travel import TravelTable

if TYPE_CHECKING:
    from optimizer.national.travel import FolderTravel, NetworkFolder

__all__ = [
    "REASON_GAP",
    "REASON_MAYBE_NOT_CERTIFIED",
    "REASON_MINIMAX_GAP",
    "REASON_NO_BOUND_MODE",
    "REASON_RULED_OUT",
    "REASON_SOLVER_GAP",
    "REASON_TOO_FEW_DAYS",
    "REASON_UNBOUNDED",
    "RunResult",
    "TieReport",
    "agent_rules",
    "by_commute",
    "choosing_rule",
    "dedicated_capacities",
    "desks_per_day",
    "destination_table",
    "exactness",
    "longest_drive",
    "make_plan",
    "own_workplace_times",
    "plan_frontier",
    "plan_options",
    "room_on_days",
    "run",
    "solve_plan",
    "travel_again",
]


def run(
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    head_office: HeadOffice,
    network: RoadNetwork | NetworkFolder,
    options: PlanOptions | None = None,
    *,
    previous: pd.DataFrame | None = None,
    sources: dict[str, str] | None = None,
    progress: Progress | None = None,
    workplaces: pd.DataFrame | None = None,
    scheduler: str | Any | None = None,
    travel: TravelTable | None = None,
    **changes: Any,
) -> RunResult:
    """Compute travel times and the optimal plan.

    Capacity means desks each weekday: every agent does its telework days at
    one telecentre, on days with a free desk (``options.dedicated_desks``:
    one desk per agent all week instead). Every mode gives a weekly plan.

    Parameters
    ----------
    agents, telecentres
        Validated tables from :func:`optimizer.inputs.read_agents` and
        :func:`optimizer.inputs.read_telecentres`; the agents table's
        ``must_assign``, ``preferred_telecentre``, ``forbidden_telecentres``,
        ``impossible_days`` and ``preferred_days`` columns give per-agent rules;
        ``workplace_lon, workplace_lat`` a row's own workplace (each point
        becomes a workplace, :func:`optimizer.inputs.coordinate_workplaces`).
    head_office
        The head office.
    network
        A prepared road network, or a national network folder
        (:func:`optimizer.national.travel.open_network_folder`, see above).
    options
        The plan's options (default :class:`PlanOptions`, the same defaults as
        the ``assign`` command).
    previous
        Re-plan: the previous allocation (:func:`optimizer.replan.read_previous_allocation`);
        keeping an agent where it was is worth ``options.move_penalty``, and each
        of its previous weekdays kept there ``options.day_change_penalty``.
    sources
        Descriptions of where the inputs came from, copied into the result.
    progress
        Called with a short message before each step.
    workplaces
        Workplaces other than the head office (:func:`optimizer.inputs.read_workplaces`):
        an agent whose ``workplace_id`` names one drives there when not
        teleworking, and its savings are counted against it (the problem's
        "head office" times are each agent's own workplace's).
    scheduler
        Where the travel stage runs: None (this process), a ``--scheduler``
        string (``"local:2"``, ``"tcp://HOST:8786"``) or a
        ``dask.distributed.Client``. The plan and every file are the same
        wherever it runs (:mod:`optimizer.dask_travel`).
    travel
        A travel table already computed for these agents and destinations
        (:func:`destination_table`): the travel stage is skipped.
    **changes
        Options to change from ``options`` by name (e.g. ``select=8``).

    Returns
    -------
    RunResult
        The inputs, travel table, problem and solution.
    """
    opts = plan_options(options, **changes)
    agents, workplaces = _own_workplaces(agents, workplaces)
    _check_inputs(agents, telecentres, head_office, network, opts, sources, workplaces)
    travel, folder = _travel_stage(
        network, agents, telecentres, head_office, workplaces, opts, travel, progress, scheduler
    )
    result = make_plan(
        agents, telecentres, head_office, network, travel, opts, previous, workplaces, progress
    )
    timings = {**network.timings, "travel_s": travel.seconds, **result.timings}
    result = replace(result, timings=timings, sources=dict(sources or {}))
    return result if folder is None else _bounded(result, folder, progress)


def _own_workplaces(
    agents: pd.DataFrame, workplaces: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Make the rows' own workplace points (``workplace_lon, workplace_lat``) workplaces."""
    if not {"workplace_lon", "workplace_lat"} <= set(agents.columns):
        return agents, workplaces
    lon = agents["workplace_lon"].to_numpy(float)
    lat = agents["workplace_lat"].to_numpy(float)
    rest = agents.drop(columns=["workplace_lon", "workplace_lat"])
    return coordinate_workplaces(rest, workplaces, lon, lat)


def _check_inputs(
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    head_office: HeadOffice,
    network: RoadNetwork | NetworkFolder,
    opts: PlanOptions,
    sources: dict[str, str] | None,
    workplaces: pd.DataFrame | None,
) -> None:
    """Refuse references to unknown ids, clashing modes and points outside the network."""
    check_telecentre_refs(agents, telecentres)
    check_workplace_refs(agents, workplaces, telecentres)
    choosing = opts.max_open is not None or "opening_cost" in telecentres
    _check_combination(choosing=choosing, options=opts)
    bounds = network.bounds
    check_in_area(agents, bounds, name=_name(sources, "agents"), id_column="agent_id")
    check_in_area(
        telecentres, bounds, name=_name(sources, "telecentres"), id_column="telecentre_id"
    )
    if drives_to_head_office(agents):  # else it is nobody's commute: not needed on the roads
        check_in_area(
            pd.DataFrame({"id": [HEAD_OFFICE], "lon": [head_office.lon], "lat": [head_office.lat]}),
            bounds,
            name=_name(sources, "head_office", "--head-office"),
            id_column="id",
            one_point=True,
        )
    if workplaces is not None:
        check_in_area(
            workplaces, bounds, name=_name(sources, "workplaces"), id_column="workplace_id"
        )


def _travel_stage(
    network: RoadNetwork | NetworkFolder,
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    head_office: HeadOffice,
    workplaces: pd.DataFrame | None,
    opts: PlanOptions,
    travel: TravelTable | None,
    progress: Progress | None,
    scheduler: str | Any | None,
) -> tuple[TravelTable, FolderTravel | None]:
    """Compute the travel table (unless given) and refuse a destination off the network.

    Returns the table, and on a network folder its bounds and figures (else None).
    """
    destinations = destination_table(telecentres, head_office, workplaces)
    origins = agents.rename(columns={"agent_id": "id"})[["id", "lon", "lat"]]
    folder = None
    if travel is not None:
        pass
    elif isinstance(network, RoadNetwork):
        travel = _travel(network, origins, destinations, opts, progress, scheduler)
    else:
        folder = _folder_travel(
            network, agents, telecentres, origins, destinations, opts, progress, scheduler
        )
        travel = folder.travel
    unrouted = travel.destinations[~travel.destinations["routed"]]
    if not drives_to_head_office(agents):  # nobody's commute: its rows say it is off the roads
        unrouted = unrouted[unrouted["id"] != HEAD_OFFICE]
    if not unrouted.empty:
        first = unrouted.iloc[0]
        kind = "telecentre" if first["id"] in set(telecentres["telecentre_id"]) else "workplace"
        what = "the head office" if first["id"] == HEAD_OFFICE else f"{kind} '{first['id']}'"
        msg = (
            f"{what} is {first['snap_m'] / 1000:.1f} km from the nearest road of the network "
            f"(limit {opts.max_snap_m / 1000:.1f} km). Check its coordinates or the network."
        )
        raise InputError(msg)
    return travel, folder


def _bounded(result: RunResult, folder: FolderTravel, progress: Progress | None) -> RunResult:
    """Say "not certified" where the folder left pairs unknown, and bound the plan."""
    assignment = _folder_reasons(result.assignment, folder)
    plan = None if result.plan is None else replace(result.plan, assignment=assignment)
    result = replace(result, plan=plan, assignment=assignment)
    if progress and len(folder.lower) and not folder.commutes_not_certified:
        progress("bounding the plan: the pairs not certified at their lower bounds")
    started = time.perf_counter()
    out = replace(result, exactness=exactness(result, folder))
    result.timings["bound_s"] = time.perf_counter() - started
    return out


def _check_combination(*, choosing: bool, options: PlanOptions) -> None:
    """Refuse combinations of modes that the solvers do not handle together."""
    clash = None
    if choosing and options.minimax:
        clash = "choosing telecentres (--max-open, opening_cost) and --minimax"
    elif options.minimax and options.dedicated_desks and options.engine == "cp-sat":
        clash = "--minimax with --dedicated-desks (solved by flows) and --engine cp-sat"
    if clash:
        msg = f"cannot combine {clash}. Run them one at a time."
        raise InputError(msg)


def _name(sources: dict[str, str] | None, key: str, default: str | None = None) -> str:
    return (sources or {}).get(key, default or key)
