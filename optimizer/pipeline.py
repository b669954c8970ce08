"""The whole job in one call: inputs -> network -> travel -> model.

:func:`run` chains the stages through their public functions and returns a
:class:`RunResult` that :mod:`optimizer.report` turns into tables and files.
The ``assign`` command and the notebooks both use it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.facilities import choose_telecentres
from optimizer.fairness import frontier, solve_minimax, solve_minimax_weekly
from optimizer.inputs import (
    WEEKDAYS,
    HeadOffice,
    check_in_area,
    check_telecentre_refs,
    check_workplace_refs,
    day_mask,
)
from optimizer.model import (
    HEAD_OFFICE,
    REASON_BELOW_MIN,
    REASON_CLOSED_DAYS,
    REASON_FULL,
    REASON_MUST_FIRST,
    REASON_NO_SAVING,
    REASON_NO_TELECENTRE_ROUTE,
    REASON_NOT_SELECTED,
    REASON_SHORTER_COMMUTE,
    REASON_TOO_FAR,
    REASON_WORSE_OFF,
    Assignment,
    AssignmentProblem,
    check_feasible,
    explain,
)
from optimizer.model.explain import (
    REASON_FULL_OR_CLOSED,
    REASON_MINIMAX_COUNT,
    REASON_MINIMAX_FAR,
    REASON_MINIMAX_FULL,
    REASON_NOT_OPENED,
    REASON_SELECTED_FULL,
    REASON_TIME_LIMIT,
)
from optimizer.model.result import gain_of_value
from optimizer.network import Progress, RoadNetwork
from optimizer.options import PlanOptions
from optimizer.replan import incumbent_pairs, previous_days
from optimizer.schedule import WeeklyPlan, dedicated_plan, solve_weekly, usable_pairs
from optimizer.ties import (
    DECIDED_BY,
    TieOrder,
    settle_ties,
    tie_losses,
    tie_objective,
    tie_order,
    tie_reason,
    ties_fit,
)
from optimizer.travel import TravelTable, travel_table

if TYPE_CHECKING:
    from optimizer.national.travel import FolderTravel, NetworkFolder

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
        The road network used (or the national network folder).
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
        The weekly plan: who teleworks where on which weekday (every run has one).
    open_telecentres
        Which telecentres are open, when they were chosen.
    previous
        The previous allocation of a re-plan.
    mode
        ``"assignment"``, ``"minimax"`` or ``"choose"``.
    options
        The plan's options.
    workplaces
        The workplaces other than the head office (``workplace_id, name, lon,
        lat``), or None.
    ties
        How ties between equal agents were settled (:mod:`optimizer.ties`).
    selected
        ``(n_agents,)`` booleans: the agents ``--select-by commute`` chose, or None.
    exactness
        On a national network folder: whether the plan is the merged network's
        optimum, or how far from it at most (:func:`exactness`); None on one
        network file (every pair's time is the network's).
    """

    agents: pd.DataFrame
    telecentres: pd.DataFrame
    head_office: HeadOffice
    network: RoadNetwork | NetworkFolder
    travel: TravelTable
    problem: AssignmentProblem
    assignment: Assignment
    timings: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    plan: WeeklyPlan | None = None
    open_telecentres: np.ndarray | None = None
    previous: pd.DataFrame | None = None
    mode: str = "assignment"
    options: PlanOptions = field(default_factory=PlanOptions)
    workplaces: pd.DataFrame | None = None
    ties: TieReport | None = None
    selected: np.ndarray | None = None
    exactness: dict[str, Any] | None = None


@dataclass(frozen=True)
class TieReport:
    """How a run settled ties between agents the objective cannot tell apart.

    Attributes
    ----------
    order
        The tie order (:func:`optimizer.ties.tie_order`).
    in_objective
        Whether the solvers carried the order in their objective
        (:func:`optimizer.ties.tie_objective`); the exchanges apply in any case.
    exchanges
        Places handed to an equal that comes first by the rule after the solve.
    lost
        Agent index left out -> (index of the equal placed instead, the step
        of the rule that decided: ``priority``, ``commute`` or ``draw``).
    """

    order: TieOrder
    in_objective: bool
    exchanges: int
    lost: dict[int, tuple[int, str]]

    def counts(self) -> dict[str, int]:
        """Ties lost, by the step of the rule that decided them."""
        out = dict.fromkeys(DECIDED_BY, 0)
        for _, rule in self.lost.values():
            out[rule] += 1
        return out


def plan_options(options: PlanOptions | None = None, **changes: Any) -> PlanOptions:
    """Return ``options`` (default :class:`PlanOptions`) with some options changed.

    Parameters
    ----------
    options
        The starting options (default: the defaults).
    **changes
        Option names and values (e.g. ``select=8``).

    Returns
    -------
    PlanOptions
        The options.
    """
    unknown = sorted(set(changes) - set(PlanOptions.names()))
    if unknown:
        msg = (
            f"unknown plan option(s) {', '.join(unknown)}; "
            f"the options are {', '.join(PlanOptions.names())}."
        )
        raise TypeError(msg)
    return replace(options or PlanOptions(), **changes)


def desks_per_day(telecentres: pd.DataFrame) -> np.ndarray:
    """``(n_telecentres, 5)`` desks each weekday: ``desks_mon`` .. or ``capacity`` every day.

    Parameters
    ----------
    telecentres
        From :func:`optimizer.inputs.read_telecentres`.

    Returns
    -------
    numpy.ndarray
        Whole numbers >= 0.
    """
    if all(f"desks_{d}" in telecentres for d in WEEKDAYS):
        return telecentres[[f"desks_{d}" for d in WEEKDAYS]].to_numpy(np.int64)
    return np.repeat(telecentres["capacity"].to_numpy(np.int64)[:, None], 5, axis=1)


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
        ``impossible_days`` and ``preferred_days`` columns give per-agent rules.
    head_office
        The head office.
    network
        A prepared road network, or a national network folder
        (:func:`optimizer.national.travel.open_network_folder`): its travel
        stage runs per département (:func:`optimizer.national.travel.folder_travel`,
        on the scheduler's workers when one is given); a pair no extract
        certified is missing with the reason "not certified", and the
        result's :attr:`RunResult.exactness` says whether the plan is the
        merged network's optimum, or its proven gap.
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
    timings: dict[str, float] = dict(network.timings)
    check_telecentre_refs(agents, telecentres)
    check_workplace_refs(agents, workplaces, telecentres)
    choosing = opts.max_open is not None or "opening_cost" in telecentres
    _check_combination(choosing=choosing, options=opts)
    bounds = network.bounds
    check_in_area(agents, bounds, name=_name(sources, "agents"), id_column="agent_id")
    check_in_area(
        telecentres, bounds, name=_name(sources, "telecentres"), id_column="telecentre_id"
    )
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
    timings["travel_s"] = travel.seconds
    unrouted = travel.destinations[~travel.destinations["routed"]]
    if not unrouted.empty:
        first = unrouted.iloc[0]
        kind = "telecentre" if first["id"] in set(telecentres["telecentre_id"]) else "workplace"
        what = "the head office" if first["id"] == HEAD_OFFICE else f"{kind} '{first['id']}'"
        msg = (
            f"{what} is {first['snap_m'] / 1000:.1f} km from the nearest road of the network "
            f"(limit {opts.max_snap_m / 1000:.1f} km). Check its coordinates or the network."
        )
        raise InputError(msg)
    if progress:
        progress("solving the assignment")
    started = time.perf_counter()
    desks, allowed, preferred, opening_cost = _plan_inputs(agents, telecentres)
    days = (
        agents["telework_days"].to_numpy(np.int64)
        if "telework_days" in agents
        else np.ones(len(agents), np.int64)
    )
    usable = usable_pairs(desks, allowed, days)
    rules = agent_rules(agents, telecentres)
    problem = AssignmentProblem.from_travel_times(
        own_workplace_times(travel.table, agents),
        agents,
        telecentres,
        select=opts.select,
        max_minutes=opts.max_minutes,
        min_saving=opts.min_saving,
        objective=opts.objective,
        preference_bonus=opts.preference_bonus,
        no_worse_off=opts.no_worse_off,
        move_penalty=opts.move_penalty if previous is not None else 0.0,
        incumbent=(
            incumbent_pairs(
                previous, agents["agent_id"].tolist(), telecentres["telecentre_id"].tolist()
            )
            if previous is not None
            else None
        ),
        **rules,
    )
    eligible = problem.eligible()  # before the weekdays count
    order = tie_order(
        problem.agent_ids,
        priority=agents["priority"].to_numpy(float) if "priority" in agents else None,
        commute=problem.head_office_minutes_to,
        seed=opts.seed,
    )
    weights, scale = tie_objective(order, most_placed=min(problem.limit, int(desks.sum())))
    if ties_fit(problem, scale, count_first=opts.minimax):
        problem = problem.with_rules(tie_weight=weights, tie_scale=scale)
    if opts.dedicated_desks:
        # a desk held all week: the desks there every open day; only telecentres open on
        # enough of the agent's days
        problem = problem.with_rules(
            capacities=dedicated_capacities(desks),
            forbidden=_with_pairs(rules["forbidden"], np.nonzero(~usable)),
        )
    selected = None
    if opts.select is not None and opts.select_by == "commute":
        left_out = by_commute(problem, opts.select, usable, rank=order.rank)
        problem = problem.with_rules(excluded=left_out)
        selected = ((problem.eligible() & usable).any(axis=1) | problem.must) & ~left_out
    mode = "minimax" if opts.minimax else "choose" if choosing else "assignment"
    kept = None if previous is None else previous_days(previous, agents["agent_id"].tolist())
    if opts.minimax and not opts.dedicated_desks:
        plan = solve_minimax_weekly(
            problem, desks, **_weekly_arguments(opts, allowed, preferred, kept)
        )
    elif opts.minimax:
        check_feasible(problem)
        plan = dedicated_plan(
            solve_minimax(problem),
            desks,
            allowed_days=allowed,
            preferred_days=preferred,
            kept_days=kept,
        )
    else:
        plan = solve_plan(
            problem,
            desks,
            opts,
            allowed_days=allowed,
            preferred_days=preferred,
            max_open=opts.max_open,
            opening_cost=opening_cost,
            kept_days=kept,
        )
    plan, ties = _settled(
        plan, order, allowed, preferred, kept if opts.day_change_penalty > 0 else None
    )
    plan = replace(plan, assignment=_closed_days_reasons(plan.assignment, eligible, usable))
    plan = replace(plan, assignment=_off_network_reasons(plan.assignment, travel, opts.max_snap_m))
    plan = replace(plan, assignment=_must_first_reasons(plan.assignment))
    plan = replace(plan, assignment=_too_few_days_reasons(plan.assignment, allowed, days))
    plan = replace(
        plan,
        assignment=_room_reasons(
            plan,
            eligible & usable,
            allowed,
            opts,
            mode=mode,
            rule=choosing_rule(opts, opening_cost is not None),
        ),
    )
    plan = replace(
        plan, assignment=_minimax_far_reasons(plan.assignment, eligible & usable, mode=mode)
    )
    plan = replace(plan, assignment=_tie_reasons(plan.assignment, ties))
    if folder is not None:
        plan = replace(plan, assignment=_folder_reasons(plan.assignment, folder))
    assignment = plan.assignment
    problem = assignment.problem
    timings["solve_s"] = time.perf_counter() - started
    result = RunResult(
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
        open_telecentres=plan.open_telecentres,
        previous=previous,
        mode=mode,
        options=opts,
        workplaces=workplaces,
        ties=ties,
        selected=selected,
    )
    if folder is None:
        return result
    if progress and len(folder.lower) and not folder.commutes_not_certified:
        progress("bounding the plan: the pairs not certified at their lower bounds")
    started = time.perf_counter()
    out = replace(result, exactness=exactness(result, folder))
    timings["bound_s"] = time.perf_counter() - started
    return out


def _folder_travel(
    network: NetworkFolder,
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    opts: PlanOptions,
    progress: Progress | None,
    scheduler: str | Any | None,
) -> FolderTravel:
    """Compute the travel stage on a national network folder, here or on the workers."""
    from optimizer.dask_travel import dask_client
    from optimizer.national.travel import folder_travel

    n_sites = len(telecentres)
    place = {HEAD_OFFICE: n_sites}
    for k, ident in enumerate(destinations["id"].astype(str).tolist()[n_sites + 1 :]):
        place.setdefault(ident, n_sites + 1 + k)
    named = (
        agents["workplace_id"].fillna("").astype(str).replace("", HEAD_OFFICE)
        if "workplace_id" in agents
        else pd.Series(HEAD_OFFICE, index=agents.index)
    )
    own = named.map(place).fillna(n_sites).to_numpy(np.int64)
    with dask_client(scheduler, progress=progress) as client:
        return folder_travel(
            network,
            origins,
            destinations,
            own,
            n_sites=n_sites,
            max_minutes=opts.max_minutes,
            min_saving=opts.min_saving,
            no_worse_off=opts.no_worse_off,
            max_snap_m=opts.max_snap_m,
            client=client,
            progress=progress,
        )


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
    return run(
        result.agents,
        result.telecentres,
        result.head_office,
        result.network,
        result.options,
        previous=result.previous,
        workplaces=result.workplaces,
        travel=relaxed,
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


def _travel(
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    opts: PlanOptions,
    progress: Progress | None,
    scheduler: str | Any | None,
) -> TravelTable:
    """Compute the travel table here, or on the Dask cluster ``scheduler`` names."""
    if scheduler is None:
        return travel_table(
            network, origins, destinations, max_snap_m=opts.max_snap_m, progress=progress
        )
    from optimizer.dask_travel import dask_client, travel_table_on

    with dask_client(scheduler, progress=progress) as client:
        return travel_table_on(
            client, network, origins, destinations, max_snap_m=opts.max_snap_m, progress=progress
        )


def travel_again(
    result: RunResult, origins: pd.DataFrame, destinations: pd.DataFrame
) -> TravelTable:
    """Compute a travel table on a run's network (a network file, or a folder, in this process).

    Parameters
    ----------
    result
        The run (its network, options and agents' workplaces).
    origins
        ``id, lon, lat``, one row per agent of the run, in its order.
    destinations
        As :func:`destination_table` gives them for the run.

    Returns
    -------
    TravelTable
        The table, with the same meaning as the run's own.
    """
    if isinstance(result.network, RoadNetwork):
        return travel_table(
            result.network, origins, destinations, max_snap_m=result.options.max_snap_m
        )
    return _folder_travel(
        result.network,
        result.agents,
        result.telecentres,
        origins,
        destinations,
        result.options,
        None,
        None,
    ).travel


def _settled(
    plan: WeeklyPlan,
    order: TieOrder,
    allowed: np.ndarray | None,
    preferred: np.ndarray | None,
    kept_days: np.ndarray | None,
) -> tuple[WeeklyPlan, TieReport]:
    """Settle the plan's ties by the rule (:func:`optimizer.ties.settle_ties`) and name them."""
    problem = plan.assignment.problem
    in_objective = problem.tie_scale > 1  # the engines that could carry it kept it
    untied = problem.untied_problem()
    kept = None
    if kept_days is not None and problem.incumbent is not None:
        before = np.full(problem.n_agents, -1, dtype=np.int64)
        before[np.asarray(problem.incumbent[0], np.int64)] = problem.incumbent[1]
        kept = (np.asarray(kept_days, bool) & (before >= 0)[:, None], before)
    days_rules: dict[str, Any] = {"allowed": allowed, "preferred": preferred, "kept": kept}
    telecentre, days, exchanges = settle_ties(
        untied, plan.assignment.telecentre, plan.days, order, **days_rules
    )
    if exchanges:
        assignment = replace(
            plan.assignment, telecentre=telecentre, reasons=explain(problem, telecentre)
        )
        plan = replace(plan, assignment=assignment, days=days)
    lost = tie_losses(untied, telecentre, days, order, **days_rules)
    return plan, TieReport(order=order, in_objective=in_objective, exchanges=exchanges, lost=lost)


def _tie_reasons(assignment: Assignment, ties: TieReport) -> Assignment:
    """Say "tie lost to ..." for agents left out while an equal was placed."""
    reasons = list(assignment.reasons)
    ids = assignment.problem.agent_ids
    for loser, (winner, rule) in ties.lost.items():
        reasons[loser] = tie_reason(ids[winner], rule, ties.order.seed)
    return replace(assignment, reasons=tuple(reasons)) if ties.lost else assignment


def destination_table(
    telecentres: pd.DataFrame, head_office: HeadOffice, workplaces: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the places agents drive to: telecentres, the head office, then other workplaces.

    Parameters
    ----------
    telecentres
        From :func:`optimizer.inputs.read_telecentres`.
    head_office
        The head office (id ``head_office``).
    workplaces
        From :func:`optimizer.inputs.read_workplaces`, or None.

    Returns
    -------
    pandas.DataFrame
        ``id, lon, lat`` for :func:`optimizer.travel.travel_table`.
    """
    parts = [
        telecentres.rename(columns={"telecentre_id": "id"})[["id", "lon", "lat"]],
        pd.DataFrame({"id": [HEAD_OFFICE], "lon": [head_office.lon], "lat": [head_office.lat]}),
    ]
    if workplaces is not None:
        parts.append(workplaces.rename(columns={"workplace_id": "id"})[["id", "lon", "lat"]])
    return pd.concat(parts, ignore_index=True)


def own_workplace_times(table: pd.DataFrame, agents: pd.DataFrame) -> pd.DataFrame:
    """Return the travel table with each agent's own workplace as its ``head_office`` rows.

    Savings are counted against the place each agent drives to when not
    teleworking: the head office, or the workplace its ``workplace_id``
    names. The rows of the other workplaces are dropped.

    Parameters
    ----------
    table
        From :func:`optimizer.travel.travel_table` (``origin_id, destination_id``, ...).
    agents
        ``agent_id`` and optionally ``workplace_id`` (empty: the head office).

    Returns
    -------
    pandas.DataFrame
        The table for :meth:`optimizer.model.AssignmentProblem.from_travel_times`.
    """
    if "workplace_id" not in agents or not (agents["workplace_id"].astype(str) != "").any():
        return table
    work = dict(
        zip(agents["agent_id"].astype(str), agents["workplace_id"].astype(str), strict=True)
    )
    place = table["origin_id"].map(work).replace("", HEAD_OFFICE).fillna(HEAD_OFFICE)
    places = set(place)
    own = table[table["destination_id"] == place].copy()
    own["destination_id"] = HEAD_OFFICE
    kept = table[~table["destination_id"].isin(places | {HEAD_OFFICE})]
    order = {d: k for k, d in enumerate(dict.fromkeys(table["destination_id"]))}
    out = pd.concat([kept, own], ignore_index=True)
    rank = out["origin_id"].map({a: k for k, a in enumerate(work)})
    out = out.assign(_a=rank, _d=out["destination_id"].map(order))
    return (
        out.sort_values(["_a", "_d"], kind="stable")
        .drop(columns=["_a", "_d"])
        .reset_index(drop=True)
    )


def solve_plan(
    problem: AssignmentProblem,
    desks: np.ndarray,
    options: PlanOptions,
    *,
    allowed_days: np.ndarray | None = None,
    preferred_days: np.ndarray | None = None,
    max_open: int | None = None,
    opening_cost: np.ndarray | None = None,
    kept_days: np.ndarray | None = None,
) -> WeeklyPlan:
    """Solve one problem under the options' capacity policy (not minimax).

    Desks shared by weekday: :func:`optimizer.schedule.solve_weekly`.
    Dedicated desks: :meth:`AssignmentProblem.solve` (or
    :func:`optimizer.facilities.choose_telecentres`), then
    :func:`optimizer.schedule.dedicated_plan` for the weekdays.

    Parameters
    ----------
    problem
        The problem (with dedicated desks, its capacities are the desks).
    desks
        ``(n_telecentres, 5)`` desks per weekday.
    options
        The plan's options (policy, engine, day bonus, time limit).
    allowed_days, preferred_days
        ``(n_agents, 5)`` booleans, or None.
    max_open, opening_cost
        Choose telecentres (see :func:`optimizer.schedule.solve_weekly`).
    kept_days
        Re-plans: ``(n_agents, 5)`` previous weekdays, each worth
        ``options.day_change_penalty`` when kept at the previous telecentre.

    Returns
    -------
    WeeklyPlan
        The plan.
    """
    choosing = max_open is not None or opening_cost is not None
    if not options.dedicated_desks:
        return solve_weekly(
            problem,
            desks,
            max_open=max_open,
            opening_cost=opening_cost,
            **_weekly_arguments(options, allowed_days, preferred_days, kept_days),
        )
    opened: np.ndarray | None = None
    if choosing:
        assignment, opened = choose_telecentres(
            problem,
            max_open=max_open,
            opening_cost=opening_cost,
            time_limit_s=options.time_limit_s,
        )
    else:
        assignment = problem.solve(options.engine, time_limit_s=options.time_limit_s)
    return dedicated_plan(
        assignment,
        desks,
        allowed_days=allowed_days,
        preferred_days=preferred_days,
        open_telecentres=opened,
        kept_days=kept_days,
    )


def plan_frontier(result: RunResult, *, points: int = 20) -> pd.DataFrame:
    """Trace the saving / longest-drive frontier of a run, under its capacity policy.

    Parameters
    ----------
    result
        A run's result.
    points
        Number of limits on the longest drive.

    Returns
    -------
    pandas.DataFrame
        See :func:`optimizer.fairness.frontier`.
    """
    opts = result.options
    desks, allowed, preferred, opening_cost = _plan_inputs(result.agents, result.telecentres)

    def solve(limited: AssignmentProblem) -> Assignment:
        return solve_plan(
            limited,
            desks,
            opts,
            allowed_days=allowed,
            preferred_days=preferred,
            max_open=opts.max_open,
            opening_cost=opening_cost,
        ).assignment

    return frontier(result.problem, points=points, solve=solve)


def dedicated_capacities(desks: np.ndarray) -> np.ndarray:
    """Dedicated desks of each telecentre: the desks it has on every day it is open.

    Parameters
    ----------
    desks
        ``(n_telecentres, 5)`` desks per weekday.

    Returns
    -------
    numpy.ndarray
        ``(n_telecentres,)`` agents each can host all week (0 when never open).
    """
    desks = np.asarray(desks, dtype=np.int64)
    open_days = np.where(desks > 0, desks, np.iinfo(np.int64).max)
    return np.asarray(np.where((desks > 0).any(axis=1), open_days.min(axis=1), 0))


def by_commute(
    problem: AssignmentProblem,
    select: int,
    usable: np.ndarray,
    *,
    rank: np.ndarray | None = None,
) -> np.ndarray:
    """Agents left out when the ``select`` longest commutes among those who gain are chosen.

    An agent gains when some telecentre is eligible for it (under the
    problem's rules) and open on enough of its days. Agents who must be
    assigned are chosen first; then the longest one-way drives to the head
    office; equal drives by ``rank`` (the tie rule, :mod:`optimizer.ties`;
    default: input order).

    Parameters
    ----------
    problem
        The problem.
    select
        How many agents to choose.
    usable
        ``(n_agents, n_telecentres)`` booleans: the telecentre is open on
        enough of the agent's days.
    rank
        ``(n_agents,)`` the tie order (0 first), or None.

    Returns
    -------
    numpy.ndarray
        ``(n_agents,)`` True for gainers left out.
    """
    gains = (problem.eligible() & usable).any(axis=1)
    commute = np.nan_to_num(problem.head_office_minutes_to, nan=-np.inf)
    ties = np.arange(problem.n_agents) if rank is None else np.asarray(rank)
    order = np.lexsort((ties, -commute, ~problem.must))
    chosen = np.zeros(problem.n_agents, dtype=bool)
    picked = [i for i in order.tolist() if gains[i] or problem.must[i]][:select]
    chosen[picked] = True
    return np.asarray(gains & ~chosen)


def _closed_days_reasons(
    assignment: Assignment, eligible: np.ndarray, usable: np.ndarray
) -> Assignment:
    """Say "closed on its days" for agents left out because no telecentre opens on enough days."""
    stuck = (assignment.telecentre < 0) & eligible.any(axis=1) & ~(eligible & usable).any(axis=1)
    return _reworded(assignment, stuck, REASON_CLOSED_DAYS)


def _must_first_reasons(assignment: Assignment) -> Assignment:
    """Say "went first to agents who must be assigned" where one of them commutes less.

    With ``--select-by commute``, agents who must be assigned take their places first: an
    agent left out with a longer commute than one of them lost its place to the rule, not
    to longer commutes.
    """
    problem = assignment.problem
    if problem.excluded is None or not problem.must.any():
        return assignment
    commute = np.nan_to_num(problem.head_office_minutes_to, nan=-np.inf)
    shortest = commute[problem.must & (assignment.telecentre >= 0)]
    if shortest.size == 0:
        return assignment
    left = np.asarray(problem.excluded, dtype=bool) & (assignment.telecentre < 0)
    return _reworded(
        assignment, left & (commute > shortest.min()), REASON_MUST_FIRST, was=REASON_SHORTER_COMMUTE
    )


#: Why an agent whose impossible_days leave fewer weekdays than its telework_days is left out.
REASON_TOO_FEW_DAYS = (
    "cannot telework: its impossible_days leave fewer weekdays than its telework_days"
)


def _too_few_days_reasons(
    assignment: Assignment, allowed: np.ndarray | None, days: np.ndarray
) -> Assignment:
    """Say the roster leaves too few weekdays, not "closed on its days", where it does."""
    if allowed is None:
        return assignment
    free = allowed.sum(axis=1)
    too_few = (free < days) & (assignment.telecentre < 0)
    return _reworded(assignment, too_few, REASON_TOO_FEW_DAYS, was=REASON_CLOSED_DAYS)


def _off_network_reasons(
    assignment: Assignment, travel: TravelTable, max_snap_m: float
) -> Assignment:
    """Say that a home too far from every road is off the network, not "no road route"."""
    off = ~travel.origins["routed"].to_numpy(bool) & (assignment.telecentre < 0)
    reason = (
        f"unreachable: home more than {max_snap_m / 1000:g} km from the road network's roads "
        "(outside its area?)"
    )
    return _reworded(assignment, off, reason)


def room_on_days(plan: WeeklyPlan, allowed: np.ndarray | None) -> np.ndarray:
    """``(n_agents, n_telecentres)`` booleans: the agent would fit there as the plan stands.

    With desks shared by weekday, the telecentre has a free desk on at least
    as many of the days the agent can telework as it teleworks; with dedicated
    desks, it hosts fewer agents than its dedicated desks. A telecentre not
    opened has no room.

    Parameters
    ----------
    plan
        The weekly plan.
    allowed
        ``(n_agents, 5)`` booleans: the days each agent can telework (None: all).

    Returns
    -------
    numpy.ndarray
        The mask.
    """
    problem = plan.assignment.problem
    n = problem.n_agents
    if plan.dedicated:
        free = problem.capacities - plan.assignment.load()
        room = np.repeat((free > 0)[None, :], n, axis=0)
    else:
        free_days = (plan.desks - plan.occupancy() > 0).astype(np.int64)  # (m, 5)
        days_ok = np.ones((n, 5), np.int64) if allowed is None else allowed.astype(np.int64)
        room = days_ok @ free_days.T >= problem.days[:, None]
    if plan.open_telecentres is not None:
        room &= np.asarray(plan.open_telecentres, bool)[None, :]
    return np.asarray(room)


def choosing_rule(options: PlanOptions, opening_cost: bool) -> str:
    """Name the rule that chose the telecentres as the user wrote it: ``--max-open 4``.

    Parameters
    ----------
    options
        The plan's options.
    opening_cost
        Whether the telecentres file has an ``opening_cost`` column.

    Returns
    -------
    str
        ``--max-open K``, ``opening costs`` or both.
    """
    rules = [f"--max-open {options.max_open}"] if options.max_open is not None else []
    if opening_cost:
        rules.append("opening costs")
    return " and ".join(rules)


def longest_drive(assignment: Assignment) -> float | None:
    """Return the longest one-way drive to a telecentre of the assigned agents (None: none)."""
    agents = np.flatnonzero(assignment.telecentre >= 0)
    if agents.size == 0:
        return None
    return float(assignment.problem.minutes_to[agents, assignment.telecentre[agents]].max())


def _room_reasons(
    plan: WeeklyPlan,
    options_mask: np.ndarray,
    allowed: np.ndarray | None,
    opts: PlanOptions,
    *,
    mode: str,
    rule: str,
) -> Assignment:
    """Say "capacity full" / "not selected" only where true, day by day; name closed telecentres.

    The model's reason tells full from limited by the agents each telecentre
    hosts; an agent's days decide. For each agent left out as full or not
    selected, ``options_mask`` (the telecentres that would save it time under
    the user's rules, open on enough of its days) is checked against the plan:
    a telecentre where it would fit means the limit (``--select``), the
    ``--minimax`` count or the time limit left it out; otherwise the
    telecentres are full on its days, or not opened when telecentres were
    chosen.
    """
    assignment = plan.assignment
    problem = assignment.problem
    reasons = list(assignment.reasons)
    todo = [
        i
        for i in np.flatnonzero(assignment.telecentre < 0).tolist()
        if reasons[i] in (REASON_FULL, REASON_NOT_SELECTED) and options_mask[i].any()
    ]
    if not todo:
        return assignment
    room = room_on_days(plan, allowed) & options_mask
    opened = (
        np.ones(problem.n_telecentres, bool)
        if plan.open_telecentres is None
        else np.asarray(plan.open_telecentres, bool)
    )
    limit_reached = int((assignment.telecentre >= 0).sum()) >= problem.limit
    count = int((assignment.telecentre >= 0).sum())
    longest = longest_drive(assignment)
    near = (
        problem.minutes_to <= problem.max_minutes
        if mode == "minimax" and problem.max_minutes is not None
        else np.ones(options_mask.shape, bool)
    )
    ids = problem.telecentre_ids
    for i in todo:
        mine = options_mask[i]
        if mode == "minimax":
            if (room[i] & near[i]).any():
                reasons[i] = REASON_MINIMAX_COUNT.format(count=count)
            elif room[i].any() and longest is not None:
                reasons[i] = REASON_MINIMAX_FULL.format(longest=f"{np.round(longest, 1):.1f}")
            else:
                reasons[i] = REASON_FULL
        elif room[i].any():
            if limit_reached and opts.select is not None:
                reasons[i] = REASON_NOT_SELECTED
            elif assignment.status != "optimal":
                reasons[i] = REASON_TIME_LIMIT
        elif not (mine & opened).any():
            closed = np.flatnonzero(mine)
            j = int(closed[np.argmin(problem.minutes_to[i, closed])])
            reasons[i] = REASON_NOT_OPENED.format(rule=rule, nearest=ids[j])
        elif (mine & ~opened).any():
            reasons[i] = REASON_FULL_OR_CLOSED.format(rule=rule)
        elif problem.excluded is not None:
            reasons[i] = REASON_SELECTED_FULL.format(select=opts.select)
        else:
            reasons[i] = REASON_FULL
    return replace(assignment, reasons=tuple(reasons))


def _minimax_far_reasons(
    assignment: Assignment, options_mask: np.ndarray, *, mode: str
) -> Assignment:
    """Say "left out by --minimax" where its limit, not ``--max-minutes``, is what is too far.

    ``options_mask``: the telecentres that would save each agent time under
    the user's rules (``--max-minutes`` included), open on enough of its days.
    """
    longest = longest_drive(assignment)
    if mode != "minimax" or longest is None:
        return assignment
    far = np.array([r == REASON_TOO_FAR for r in assignment.reasons]) & (assignment.telecentre < 0)
    far &= options_mask.any(axis=1)
    return _reworded(
        assignment, far, REASON_MINIMAX_FAR.format(longest=f"{np.round(longest, 1):.1f}")
    )


def _reworded(
    assignment: Assignment, where: np.ndarray, reason: str, *, was: str | None = None
) -> Assignment:
    """Give the agents ``where`` (a mask) ``reason``.

    With ``was``, only those of them whose reason was ``was`` are reworded.
    """
    reasons = list(assignment.reasons)
    changed = False
    for i in np.flatnonzero(where).tolist():
        if was is None or reasons[i] == was:
            reasons[i] = reason
            changed = True
    return replace(assignment, reasons=tuple(reasons)) if changed else assignment


def _plan_inputs(
    agents: pd.DataFrame, telecentres: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Desks per weekday, allowed and preferred days, opening costs: what every plan reads."""
    allowed = ~day_mask(agents["impossible_days"]) if "impossible_days" in agents else None
    preferred = day_mask(agents["preferred_days"]) if "preferred_days" in agents else None
    opening_cost = telecentres["opening_cost"].to_numpy() if "opening_cost" in telecentres else None
    return desks_per_day(telecentres), allowed, preferred, opening_cost


def _weekly_arguments(
    options: PlanOptions,
    allowed: np.ndarray | None,
    preferred: np.ndarray | None,
    kept: np.ndarray | None = None,
) -> dict[str, Any]:
    return {
        "allowed_days": allowed,
        "preferred_days": preferred,
        "day_bonus": options.day_bonus,
        "kept_days": kept,
        "keep_bonus": options.day_change_penalty if kept is not None else 0.0,
        "engine": options.engine,
        "time_limit_s": options.time_limit_s,
    }


def _with_pairs(
    pairs: tuple[np.ndarray, np.ndarray], more: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.concatenate([pairs[0], more[0]]).astype(int),
        np.concatenate([pairs[1], more[1]]).astype(int),
    )


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


def _name(sources: dict[str, str] | None, key: str, default: str | None = None) -> str:
    return (sources or {}).get(key, default or key)
