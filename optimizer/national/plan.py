"""A national plan: group agents, route each département as a task, solve once.

:func:`plan_national` chains the stages through their public functions:

1. group interchangeable agents (:mod:`.groups`);
2. one task per département (:mod:`.routing`, :mod:`.tasks`), run in this
   process or on Dask workers (:mod:`.cluster`): its buffered extract, its
   sites and workplaces, a Parquet table partitioned by département;
3. gather the tables, apply the rules of the assignment problem to every
   (group, site) pair (:mod:`.evaluation`, the pairs not certified bounded by
   :mod:`.bounds`), route those that may still improve the plan again in
   wider regions (:mod:`.widen`), and solve the whole country as one min-cost
   flow (:mod:`.solve`);
4. give every agent given in a row: placed (site, weekday) or the reason why
   not (:mod:`.allocation`).

This module owns the call, its checks of the sites and rosters, what makes
the plan exact, and the figures of its summary. It knows nothing of the
command line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from optimizer.inputs import check_telecentre_refs
from optimizer.national.allocation import REASON_CLOSED as REASON_CLOSED
from optimizer.national.allocation import REASON_FULL as REASON_FULL
from optimizer.national.allocation import REASON_NO_SITE as REASON_NO_SITE
from optimizer.national.allocation import (
    allocation,
    as_minutes_driven,
    drive_minutes,
    saving_seconds,
    solve_figures,
)
from optimizer.national.checks import UNAPPLIED_RULES as UNAPPLIED_RULES
from optimizer.national.checks import checked_sites
from optimizer.national.checks import refuse_unapplied_rules as refuse_unapplied_rules
from optimizer.national.checks import site_desks as site_desks
from optimizer.national.dedicated import priced_out as dedicated_priced_out
from optimizer.national.evaluation import Evaluation
from optimizer.national.extracts import NetworkSource
from optimizer.national.groups import (
    Resolver,
    group_agents,
    one_row_per_code,
)
from optimizer.national.options import DEFAULT_BUFFER_KM as DEFAULT_BUFFER_KM
from optimizer.national.options import DEFAULT_MAX_MINUTES as DEFAULT_MAX_MINUTES
from optimizer.national.options import DEFAULT_WIDEN_ROUNDS as DEFAULT_WIDEN_ROUNDS
from optimizer.national.options import REASON_COMMUTE_UNCERTIFIED as REASON_COMMUTE_UNCERTIFIED
from optimizer.national.options import REASON_HOME_OUTSIDE as REASON_HOME_OUTSIDE
from optimizer.national.options import REASON_NO_COMMUTE as REASON_NO_COMMUTE
from optimizer.national.options import REASON_WORKPLACE_OUTSIDE as REASON_WORKPLACE_OUTSIDE
from optimizer.national.options import NationalOptions as NationalOptions
from optimizer.national.options import Widen as Widen
from optimizer.national.routing import Places, Routing, departement_tasks
from optimizer.national.selection import Selection, by_commute
from optimizer.national.solve import GroupPlan
from optimizer.national.solving import best_case, solve_pairs, wider_bound
from optimizer.national.widen import WidenPolicy, widen_unresolved
from optimizer.network import Progress
from optimizer.ties import TieOrder, tie_order

logger = logging.getLogger(__name__)

#: How a national plan widens: a second step for the pairs a certified commute made eligible,
#: every round tried, the pairs its prices rule out counted.
PLAN_WIDENING = WidenPolicy(second_step=True, past_empty=True, priced=True)


@dataclass(frozen=True)
class NationalPlan:
    """A national plan.

    Attributes
    ----------
    allocation
        One row per agent (input order): ``agent_id, group, telecentre_id,
        weekday`` (``|``-separated when several), ``minutes_to_site,
        minutes_to_work, saving_minutes_week, status ("assigned" /
        "not_assigned", as a plain run writes it), reason``; with
        ``location, location_precision_m`` before ``reason`` when the roster
        (or its resolver) says how each home was placed.
    gain_seconds
        Objective: round-trip seconds saved a week, whole, the preference and
        weekday bonuses included (``saving_seconds`` without them); whole
        metres with the ``km`` objective.
    exact
        True when every pair the plan could use was certified (see
        :mod:`.extracts`) or ruled out: by the bounds of its times (it cannot
        meet the rules), by the plan's prices
        (:meth:`.solve.FlowPrices.cannot_improve` for one day each, the
        weekly model's multipliers for more: :mod:`optimizer.model.weekly_hopeful`),
        or by the plan's bound (every such pair at its best case cannot
        raise it); and every
        commute certified (a commute without a route only where the merged
        network surely has none either). The plan is then optimal on the
        merged network if it is ``proven`` (else its bound holds there).
    proven
        True when the solve proved its plan optimal (always for one telework
        day each; the weekly model may stop with a bound, ``summary["gap"]``).
    summary
        Figures: groups, pairs, uncertified pairs, sites whose reach is not
        covered by the buffer, per-département task figures, timings;
        ``merged_bound_minutes_week`` (``merged_bound_km_week`` with the
        ``km`` objective) bounds every plan on the merged network (the plan's
        bound when exact; with every pair not certified at its best case when
        not; None when a commute is not certified).
    groups
        The groups (see :func:`.groups.group_agents`).
    unknown
        ``group, telecentre_id, priced_out``: the pairs counted in
        ``unknown_pairs`` (not certified or not routed, and possibly
        eligible by the bounds of their times); ``priced_out`` where the
        plan's prices or its bound show that the pair cannot improve it,
        whatever its time (the others, ``open_pairs``, are where to widen).
    """

    allocation: pd.DataFrame
    gain_seconds: int
    exact: bool
    proven: bool = True
    summary: dict[str, Any] = field(default_factory=dict)
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    unknown: pd.DataFrame = field(default_factory=pd.DataFrame)
    saving_seconds: int | None = None

    @property
    def saving_minutes_week(self) -> float:
        """Round-trip minutes saved a week by the plan (no bonus counted)."""
        return (self.gain_seconds if self.saving_seconds is None else self.saving_seconds) / 60.0

    def schedule_table(self) -> pd.DataFrame:
        """``agent_id, weekday, telecentre_id``: one row per placed agent and weekday."""
        placed = self.allocation[self.allocation["status"] == "assigned"]
        rows = placed[["agent_id", "weekday", "telecentre_id"]].assign(
            weekday=placed["weekday"].str.split("|")
        )
        return rows.explode("weekday").reset_index(drop=True)


def plan_national(
    agents: pd.DataFrame,
    sites: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    sources: Mapping[str, NetworkSource],
    *,
    work_dir: str | Path,
    options: NationalOptions | None = None,
    client: Any = None,
    resolver: Resolver | None = None,
    progress: Progress | None = None,
    widen: Widen | None = None,
) -> NationalPlan:
    """Plan every département's agents in one exact plan.

    Parameters
    ----------
    agents
        ``agent_id, lon, lat, workplace_lon, workplace_lat`` (WGS84); optionally
        ``telework_days`` (1), the rules of :func:`.groups.group_agents`.
    sites
        ``telecentre_id, lon, lat`` and desks per weekday (``mon..fri``) or ``capacity``.
    areas
        Département polygons with a ``code`` column.
    sources
        The network of each département (``code -> source``; see :mod:`.extracts`).
    work_dir
        Folder of the Parquet tables (shared by the workers and this process).
    options
        The rules (defaults: 60 minutes, 10 minutes' saving, 30 km buffer).
    client
        A ``dask.distributed.Client`` (see :func:`.cluster.connect`), or None
        to run every task in this process.
    resolver
        Turns roster rows without points into points (see :mod:`.groups`).
    progress
        Called with one line per step and per département done.
    widen
        Gives extracts of the regions asked (see :data:`Widen`): the pairs
        and commutes no extract certified are routed again, only them, in an
        extract of the region around them, up to ``options.widen_rounds``
        times (:func:`.widen.widen_unresolved`). None: no widening.

    Returns
    -------
    NationalPlan
        Every agent given in, placed or with its reason.

    Raises
    ------
    InputError
        No site, or sites outside every département; a département with sites or
        workplaces but no network; telework days outside 1-5; a forbidden site
        that is none; a roster rule (:data:`UNAPPLIED_RULES`) or opening costs,
        which it does not apply.
    ClusterError
        A task's worker kept dying: no plan is returned.
    """
    opts = options or NationalOptions()
    run = _Run(time.perf_counter(), opts, work_dir, progress or (lambda _msg: None))
    agents, membership, desks, places = _prepare(agents, sites, areas, resolver, opts)
    groups, ties = places.groups, _ties(agents, opts)
    choose = partial(_choice, groups=groups, desks=desks, membership=membership, ties=ties)
    state, widened, routing, n_tasks = _route(
        run, places, sources, desks, client, widen, n_agents=len(agents), choose=choose
    )
    run.say(f"solving one plan: {len(groups)} groups, {len(state.pairs)} eligible pairs")
    plan, placed, exactness = _solved(agents, membership, places, state, desks, opts, ties, choose)
    summary = {
        **_plan_figures(places, state, exactness, len(agents), n_tasks, opts),
        "widened": widened,
        "top_speed_kmh": round(state.top_kmh, 3),
        "exact": exactness.exact,
        **solve_figures(placed, plan, groups, opts),
        **run.timings(plan, routing.results),
    }
    if opts.objective == "travel":  # the minutes plan, said as minutes driven
        drive = None if exactness.commutes_unknown else drive_minutes(state.commute, groups)
        summary = as_minutes_driven(summary, drive)
    return _national_plan(placed, plan, exactness, summary, groups, state, places)


def _prepare(
    agents: pd.DataFrame,
    sites: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    resolver: Resolver | None,
    opts: NationalOptions,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, Places]:
    """Check the roster and sites, group the agents, locate everything.

    Returns the agents (resolved), each agent's group, the sites' desks per
    weekday and the places (:class:`.routing.Places`).
    """
    refuse_unapplied_rules(agents)
    named = [c for c in ("forbidden_telecentres", "preferred_telecentre") if c in agents]
    check_telecentre_refs(agents.fillna(dict.fromkeys(named, "")), sites)
    areas = one_row_per_code(areas)
    if resolver is not None:  # once, so that the allocation says how each home was placed
        agents = resolver(agents)
    groups, membership = group_agents(agents)
    desks, site_code = checked_sites(sites, areas)
    places = Places.of(groups, sites, site_code, areas, opts.buffer_km)
    return agents, membership, desks, places


def _route(
    run: _Run,
    places: Places,
    sources: Mapping[str, NetworkSource],
    desks: np.ndarray,
    client: Any,
    widen: Widen | None,
    *,
    n_agents: int,
    choose: Callable[[Evaluation, NationalOptions], Selection | None],
) -> tuple[Evaluation, list[dict[str, Any]], Routing, int]:
    """Route every département, evaluate, widen where not certified.

    Returns the last evaluation, the widening figures, the routing (its
    tasks' results) and how many départements were routed.
    """
    opts, say = run.opts, run.say
    tasks = departement_tasks(places, sources, opts, run.work_dir)
    groups = places.groups
    say(f"{n_agents} agents in {len(groups)} groups; {len(tasks)} départements to route")
    run.mark("prepared")
    routing = Routing(Path(run.work_dir), client, say)
    routing.run(tasks)
    run.mark("routed")
    evaluate = partial(_evaluate, routing, places, opts, desks, choose)
    state = evaluate()
    run.mark("read")
    astray = places.astray()
    if widen is not None and opts.widen_rounds > 0 and astray.size:
        first = places.homes[places.homes["home_id"].isin(astray)].iloc[0]
        say(
            f"{astray.size} home(s) lie in no département nor its border, e.g. "
            f"({first['lon']}, {first['lat']}): not routed again (check their coordinates)"
        )
    state, widened = widen_unresolved(state, evaluate, places, routing, widen, opts, PLAN_WIDENING)
    run.mark("widened")
    return state, widened, routing, len(tasks)


def _solved(
    agents: pd.DataFrame,
    membership: np.ndarray,
    places: Places,
    state: Evaluation,
    desks: np.ndarray,
    opts: NationalOptions,
    ties: TieOrder,
    choose: Callable[[Evaluation, NationalOptions], Selection | None],
) -> tuple[GroupPlan, pd.DataFrame, _Exactness]:
    """Solve on the last evaluation (its groups cut to the agents chosen), allocate, judge."""
    chosen = choose(state, opts)
    groups = places.groups
    view = groups if chosen is None else chosen.view(groups)
    plan = state.plan or solve_pairs(state.pairs, view, desks, opts)
    placed = _allocate(agents, membership, places, state, plan, desks, opts, ties, chosen)
    return plan, placed, _Exactness.of(state, plan, groups, desks, opts, chosen)


def _allocate(
    agents: pd.DataFrame,
    membership: np.ndarray,
    places: Places,
    state: Evaluation,
    plan: GroupPlan,
    desks: np.ndarray,
    opts: NationalOptions,
    ties: TieOrder,
    chosen: Selection | None,
) -> pd.DataFrame:
    """Hand the plan's placements to the agents, with reasons (:func:`.allocation.allocation`)."""
    return allocation(
        agents, membership, places.groups, state.commute, state.pairs, plan.placements,
        places.site_ids, desks, ties, limit=opts.select, proven=plan.proven,
        forbidden_only=state.forbidden_only, dedicated=opts.dedicated_desks,
        chosen=None if chosen is None else chosen.chosen,
    )  # fmt: skip


def _ties(agents: pd.DataFrame, opts: NationalOptions) -> TieOrder:
    """Order the agents by the tie rule: the higher priority, then the draw."""
    return tie_order(
        agents["agent_id"].astype(str).tolist(),
        priority=agents["priority"].to_numpy(float) if "priority" in agents else None,
        seed=opts.seed,
    )


@dataclass
class _Run:
    """One call of :func:`plan_national`: its start, its steps' times, its rules and output."""

    started: float
    opts: NationalOptions
    work_dir: str | Path
    say: Progress
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, step: str) -> None:
        """Note the end of ``step`` (seconds since the start)."""
        self.marks[step] = time.perf_counter() - self.started

    def timings(self, plan: GroupPlan, results: list[dict[str, Any]]) -> dict[str, Any]:
        """Return the figures of time: each step's, the solve's, the tasks' (and the tasks)."""
        marks = self.marks
        return {
            "solve_s": round(plan.seconds, 3),
            "prepare_s": round(marks["prepared"], 3),
            "route_s": round(marks["routed"] - marks["prepared"], 3),
            "read_s": round(marks["read"] - marks["routed"], 3),
            "widen_s": round(marks["widened"] - marks["read"], 3),
            "task_cpu_s": round(sum(float(r.get("cpu_s", 0.0)) for r in results), 3),
            "task_s": round(sum(float(r.get("seconds", 0.0)) for r in results), 3),
            "total_s": round(time.perf_counter() - self.started, 3),
            "work_dir": str(self.work_dir),
            "tasks": results,
        }


def _evaluate(
    routing: Routing,
    places: Places,
    opts: NationalOptions,
    desks: np.ndarray,
    choose: Callable[[Evaluation, NationalOptions], Selection | None],
) -> Evaluation:
    """Evaluate the tables written so far; price the unknown pairs with the plan on the others.

    One telework day each: the flow on the certified pairs prices the others
    (:meth:`.evaluation.Evaluation.priced`). More days: the weekly model on
    the certified pairs is given the others at their best gains, and says
    which cannot raise its bound (:mod:`optimizer.model.weekly_hopeful`).
    Dedicated desks, any days: the flow's prices on its view
    (:func:`.dedicated.priced_out`). That plan is kept with the evaluation.
    With ``--select-by commute`` (``choose``), the groups are cut to their
    chosen agents first (:mod:`.selection`).
    """
    state = Evaluation.of(routing, places, opts)
    chosen = choose(state, opts)
    groups = places.groups if chosen is None else chosen.view(places.groups)
    if len(state.unknown) == 0:
        return state
    if opts.dedicated_desks:  # a flow, whatever the days: its prices, on its view
        plan = solve_pairs(state.pairs, groups, desks, opts)
        out = None
        if plan.prices is not None:
            unknown = state.unknown
            group, site = unknown["group"].to_numpy(np.int64), unknown["site"].to_numpy(np.int64)
            gain = state.best_gain(groups)
            out = dedicated_priced_out(plan.prices, groups, desks, group, site, gain)
        state = replace(state, priced_out=out, plan=plan)
    elif bool(np.all(groups["days"].to_numpy() == 1)):
        plan = solve_pairs(state.pairs, groups, desks, opts)
        state = replace(state.priced(plan.prices, groups, desks), plan=plan)
    else:
        plan = solve_pairs(state.pairs, groups, desks, opts, hopeful=best_case(state, groups))
        state = replace(state, priced_out=plan.hopeful_out, plan=plan)
    if chosen is not None:
        state = replace(state, priced_out=chosen.priced_out(state.unknown, state.priced_out))
    return state


def _choice(
    state: Evaluation,
    opts: NationalOptions,
    *,
    groups: pd.DataFrame,
    desks: np.ndarray,
    membership: np.ndarray,
    ties: TieOrder,
) -> Selection | None:
    """Choose the agents of ``--select-by commute`` on what ``state`` certifies (None without)."""
    if opts.select is None or opts.select_by != "commute":
        return None
    return by_commute(
        groups, state.commute, state.pairs, state.unknown, desks, membership, ties.rank, opts.select
    )


@dataclass(frozen=True)
class _Exactness:
    """What makes the plan exact: no open pair, no commute unknown; the merged network's bound."""

    open_pairs: pd.DataFrame  # not certified, may still improve the plan
    priced_out: np.ndarray  # per unknown pair: cannot improve the plan
    ruled_out: int  # open pairs the plan's bound rules out together
    commutes_unknown: int  # agents whose commute is not certified
    exact: bool
    merged_bound: int | None  # bounds every plan on the merged network (None: not known)

    @classmethod
    def of(
        cls,
        state: Evaluation,
        plan: GroupPlan,
        groups: pd.DataFrame,
        desks: np.ndarray,
        opts: NationalOptions,
        chosen: Selection | None = None,
    ) -> _Exactness:
        """Judge ``plan`` against what ``state`` leaves not certified.

        With ``--select-by commute`` (``chosen``), the bound is the chosen
        agents' (the groups cut to them); while the choice depends on pairs
        not certified, the plan is not exact and no bound holds.
        """
        reasons = state.commute["reason"].to_numpy()
        commutes_unknown = int(
            groups["size"]
            .to_numpy()[np.isin(reasons, [REASON_COMMUTE_UNCERTIFIED, REASON_HOME_OUTSIDE])]
            .sum()
        )
        # a pair not certified that may still improve the plan; none for the plan to be optimal
        open_pairs = state.needed()
        priced_out = (
            np.zeros(len(state.unknown), dtype=bool)
            if state.priced_out is None
            else np.asarray(state.priced_out, dtype=bool).copy()
        )
        ruled_out = 0
        merged: int | None = int(plan.bound)
        certain = chosen is None or chosen.certain
        view = groups if chosen is None else chosen.view(groups)
        if len(open_pairs) and certain:
            merged = wider_bound(state, plan, view, desks, opts)
            if merged <= plan.bound:
                ruled_out, open_pairs = len(open_pairs), open_pairs.iloc[:0]
                priced_out[:] = True
        exact = len(open_pairs) == 0 and commutes_unknown == 0 and certain
        merged = merged if commutes_unknown == 0 and certain else None
        return cls(open_pairs, priced_out, ruled_out, commutes_unknown, exact, merged)


def _plan_figures(
    places: Places,
    state: Evaluation,
    exactness: _Exactness,
    n_agents: int,
    n_tasks: int,
    opts: NationalOptions,
) -> dict[str, Any]:
    """Count the pairs: eligible, routed, not certified, priced or ruled out."""
    site_h = state.horizons[state.horizons["kind"] == "site"].set_index("destination_id")
    reach_open = int(
        (site_h["horizon_to"].reindex(places.site_ids).fillna(0.0) <= opts.max_minutes).sum()
    )
    return {
        "agents": n_agents,
        "groups": len(places.groups),
        "sites": len(places.sites),
        "departements": n_tasks,
        "eligible_pairs": len(state.pairs),
        **state.counts,
        "sites_reach_beyond_buffer": reach_open,
        "unknown_pairs": len(state.unknown),
        "unknown_pairs_priced_out": int(
            state.priced_out.sum() if state.priced_out is not None else 0
        ),
        "unknown_pairs_ruled_out_by_bound": exactness.ruled_out,
        "open_pairs": len(exactness.open_pairs),
        "agents_commute_unknown": exactness.commutes_unknown,
        # every plan on the merged network is worth at most this (None: a commute not known)
        f"merged_bound_{opts.objective}_week": (
            None if exactness.merged_bound is None else exactness.merged_bound / opts.unit
        ),
        "buffer_km": opts.buffer_km,
    }


def _national_plan(
    placed: pd.DataFrame,
    plan: GroupPlan,
    exactness: _Exactness,
    summary: dict[str, Any],
    groups: pd.DataFrame,
    state: Evaluation,
    places: Places,
) -> NationalPlan:
    """Log the plan's outcome and return it."""
    logger.info(
        "national plan: %d of %d agents placed, %.1f minutes a week saved, exact=%s",
        summary["placed"],
        len(placed),
        summary["saving_minutes_week"],
        exactness.exact,
    )
    unknown = state.unknown
    return NationalPlan(
        allocation=placed,
        gain_seconds=plan.gain,
        saving_seconds=saving_seconds(placed),
        exact=exactness.exact,
        proven=plan.proven,
        summary=summary,
        groups=groups,
        unknown=unknown.assign(
            telecentre_id=places.site_ids[unknown["site"].to_numpy()],
            priced_out=exactness.priced_out,
        )[["group", "telecentre_id", "priced_out"]],
    )
