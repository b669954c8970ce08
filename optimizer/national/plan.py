"""A national plan: group agents, route each département as a task, solve once.

:func:`plan_national` chains the stages through their public functions:

1. group interchangeable agents (:mod:`.groups`);
2. one task per département (:mod:`.tasks`), run in this process or on Dask
   workers (:mod:`.cluster`): its buffered extract, its sites and workplaces,
   a Parquet table partitioned by département;
3. gather the tables, apply the rules of the assignment problem to every
   (group, site) pair, and solve the whole country as one min-cost flow
   (:mod:`.solve`);
4. give every agent given in a row: placed (site, weekday) or the reason why not.

It knows nothing of the command line.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from optimizer.errors import ClusterError, InputError, OptimizerError
from optimizer.national.extracts import NetworkSource
from optimizer.national.groups import (
    WEEKDAYS,
    Resolver,
    group_agents,
    locate,
    one_row_per_code,
    within_buffers,
)
from optimizer.national.solve import FlowPrices, GroupPlan, solve_groups, solve_weekly_groups
from optimizer.national.tasks import (
    AWAY,
    EXTENT,
    HORIZONS,
    ORIGINS,
    TRAVEL,
    DepartementTask,
    route_departement,
)
from optimizer.network import Progress
from optimizer.options import DEFAULT_MIN_SAVING, DEFAULT_SEED
from optimizer.settings import ACCESS_SPEED_KMH, INPUT_CRS, WORKING_CRS
from optimizer.ties import TieOrder, tie_order, tie_reason

logger = logging.getLogger(__name__)

#: Default border around each département's network, km.
DEFAULT_BUFFER_KM = 30.0
#: Default longest acceptable one-way drive to a site, minutes.
DEFAULT_MAX_MINUTES = 60.0
#: Default rounds of wider extracts for the pairs the first extracts did not certify.
DEFAULT_WIDEN_ROUNDS = 2

#: Gives extracts of regions: ``{name: polygon (WGS84)} -> {name: source}`` (those it can give).
Widen = Callable[[Mapping[str, shapely.Geometry]], Mapping[str, NetworkSource]]

#: Names of the regions routed again begin with this (``wide30km-000``).
_WIDE = "wide"

#: Weekday names of each 5-bit mask, ``|``-separated (``"mon|thu"``).
_DAY_NAMES = np.array(
    ["|".join(d for k, d in enumerate(WEEKDAYS) if (mask >> k) & 1) for mask in range(32)],
    dtype=object,
)
#: Weekdays in each 5-bit mask.
_DAY_COUNT = np.array([bin(mask).count("1") for mask in range(32)], dtype=np.int64)

REASON_WORKPLACE_OUTSIDE = "workplace outside every département"
REASON_HOME_OUTSIDE = "home outside the buffer of its workplace's département"
REASON_NO_COMMUTE = "unreachable: no road route to the workplace"
REASON_COMMUTE_UNCERTIFIED = (
    "commute not certified: its route may leave the buffered network (widen the buffer)"
)
REASON_NO_SITE = (
    "no site saves time: none within the longest acceptable drive saves at least the "
    "minimum saving on a day it can telework"
)
REASON_FULL = "capacity full: the sites that would save time are full on its days"
REASON_CLOSED = (
    "closed on its days: the sites that would save time are not open on enough of the days "
    "it can telework"
)


@dataclass(frozen=True)
class NationalOptions:
    """Rules of a national plan (the same meaning as in :class:`optimizer.options.PlanOptions`).

    Attributes
    ----------
    max_minutes
        Longest acceptable one-way drive to a site; also bounds what is kept.
    min_saving
        Round-trip minutes a day below which moving is not worth it.
    no_worse_off
        No agent goes to a site further (one way) than its workplace.
    buffer_km
        Border around each département's network (homes within it are routed there).
    time_limit_s
        Time for the weekly model when agents telework more than one day.
    widen_rounds
        Rounds that route the pairs and commutes no extract certified again,
        in extracts of the region around them (both ends and a margin that
        doubles each round: 30 km, then 60 km after a 30 km border); only
        where :func:`plan_national` is given a ``widen``. 0: none.
    seed
        The draw of the tie rule (:mod:`optimizer.ties`): which agents of a
        group (same home, workplace, days and rules) are placed when only
        some can be: the higher ``priority`` first, then the draw.
    """

    max_minutes: float = DEFAULT_MAX_MINUTES
    min_saving: float = DEFAULT_MIN_SAVING
    no_worse_off: bool = True
    buffer_km: float = DEFAULT_BUFFER_KM
    time_limit_s: float = 60.0
    widen_rounds: int = DEFAULT_WIDEN_ROUNDS
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if not self.max_minutes > 0:
            msg = f"max_minutes must be positive, got {self.max_minutes}."
            raise InputError(msg)
        if not self.min_saving >= 0:
            msg = f"min_saving must be 0 or more, got {self.min_saving}."
            raise InputError(msg)
        if not self.buffer_km >= 0:
            msg = f"buffer_km must be 0 or more, got {self.buffer_km}."
            raise InputError(msg)
        if isinstance(self.widen_rounds, bool) or not (
            isinstance(self.widen_rounds, int) and self.widen_rounds >= 0
        ):
            msg = f"widen_rounds must be a whole number 0 or more, got {self.widen_rounds!r}."
            raise InputError(msg)

    def margin_km(self, round_: int) -> float:
        """Return the margin of widening round ``round_`` (1, 2, ...): doubled each round."""
        return max(self.buffer_km, 10.0) * 2.0 ** (round_ - 1)


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
        Objective: round-trip seconds saved a week, whole.
    exact
        True when every pair the plan could use was certified (see
        :mod:`.extracts`) or ruled out: by the bounds of its times (it cannot
        meet the rules), by the plan's prices
        (:meth:`.solve.FlowPrices.cannot_improve`), or by the plan's bound
        (every such pair at its best case cannot raise it); and every
        commute certified (a commute without a route only where the merged
        network surely has none either). The plan is then optimal on the
        merged network if it is ``proven`` (else its bound holds there).
    proven
        True when the solve proved its plan optimal (always for one telework
        day each; the weekly model may stop with a bound, ``summary["gap"]``).
    summary
        Figures: groups, pairs, uncertified pairs, sites whose reach is not
        covered by the buffer, per-département task figures, timings.
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

    @property
    def saving_minutes_week(self) -> float:
        """Round-trip minutes saved a week by the plan."""
        return self.gain_seconds / 60.0

    def schedule_table(self) -> pd.DataFrame:
        """``agent_id, weekday, telecentre_id``: one row per placed agent and weekday."""
        placed = self.allocation[self.allocation["status"] == "assigned"]
        rows = placed[["agent_id", "weekday", "telecentre_id"]].assign(
            weekday=placed["weekday"].str.split("|")
        )
        return rows.explode("weekday").reset_index(drop=True)


#: Per-agent rules of a plain run that the national plan does not apply yet.
UNAPPLIED_RULES = ("must_assign", "forbidden_telecentres", "preferred_telecentre", "preferred_days")


def refuse_unapplied_rules(agents: pd.DataFrame) -> None:
    """Raise when a roster row sets a rule the national plan would silently ignore.

    ``must_assign``, ``forbidden_telecentres``, ``preferred_telecentre`` and
    ``preferred_days`` are rules of a plain run; a national plan that ignored
    them could send an agent to a site it is forbidden, or leave out an agent
    who must be placed. A column left empty (or ``no``) is fine.

    Raises
    ------
    InputError
        Naming the file (when read from one), the row, the column and the value.
    """
    name = agents.attrs.get("name")
    columns: dict[str, str] = agents.attrs.get("columns", {})
    for rule in UNAPPLIED_RULES:
        if rule not in agents:
            continue
        values = agents[rule]
        if values.dtype == bool:
            used = values.to_numpy(bool)
        else:
            text = values.fillna("").astype(str).str.strip().str.lower()
            used = ~text.isin(["", "no", "non", "false", "0"]).to_numpy()
        if used.any():
            k = int(np.flatnonzero(used)[0])
            where = f"{name}: row {k + 2}" if name else f"agents row {k + 1}"
            shown = "yes" if values.dtype == bool else str(values.iloc[k]).strip()
            msg = (
                f"{where}, column '{columns.get(rule, rule)}': '{shown}' is a rule a "
                f"national run does not apply yet ({int(used.sum())} row(s) set it). Empty the "
                "column, or plan without --scheduler for those rules."
            )
            raise InputError(msg)


def site_desks(sites: pd.DataFrame) -> np.ndarray:
    """``(n_sites, 5)`` desks per weekday: ``mon..fri`` (or ``desks_mon..``), else ``capacity``."""
    if all(d in sites for d in WEEKDAYS):
        values = sites[list(WEEKDAYS)].to_numpy(float)
    elif all(f"desks_{d}" in sites for d in WEEKDAYS):
        values = sites[[f"desks_{d}" for d in WEEKDAYS]].to_numpy(float)
    elif "capacity" in sites:
        values = np.repeat(sites["capacity"].to_numpy(float)[:, None], 5, axis=1)
    else:
        msg = "sites need desks per weekday (mon..fri) or a capacity column."
        raise InputError(msg)
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values != np.round(values)):
        msg = "sites: desks must be whole numbers >= 0."
        raise InputError(msg)
    return values.astype(np.int64)


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
        ``agent_id, lon, lat, workplace_lon, workplace_lat`` (WGS84),
        optionally ``telework_days`` (1) and ``impossible_days``.
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
        times (:func:`_wide_tasks`). None: no widening.

    Returns
    -------
    NationalPlan
        Every agent given in, placed or with its reason.

    Raises
    ------
    InputError
        No site, or sites outside every département; a département with sites or
        workplaces but no network; telework days outside 1-5; a roster rule
        (:data:`UNAPPLIED_RULES`) or opening costs, which it does not apply.
    ClusterError
        A task's worker kept dying: no plan is returned.
    """
    opts = options or NationalOptions()
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    refuse_unapplied_rules(agents)
    areas = one_row_per_code(areas)
    if resolver is not None:  # once, so that the allocation says how each home was placed
        agents = resolver(agents)
    groups, membership = group_agents(agents)
    for column in ("telecentre_id", "lon", "lat"):
        if column not in sites:
            msg = f"sites lack column {column!r}."
            raise InputError(msg)
    if len(sites) == 0:
        msg = "sites: no site given. Give at least one candidate site."
        raise InputError(msg)
    desks = site_desks(sites)
    site_ids = sites["telecentre_id"].astype(str).to_numpy()
    if "opening_cost" in sites:
        costly = np.flatnonzero(sites["opening_cost"].fillna(0).to_numpy(float) != 0)
        if costly.size:
            k = int(costly[0])
            name = sites.attrs.get("name")
            where = f"{name}: row {k + 2}" if name else f"sites row {k + 1}"
            msg = (
                f"{where} ({site_ids[k]}), column 'opening_cost': "
                f"{sites['opening_cost'].iloc[k]} chooses which sites open, which a national "
                "run does not do yet (it opens them all). Remove the column, or plan without "
                "--scheduler."
            )
            raise InputError(msg)
    if len(set(site_ids)) != len(site_ids):
        msg = "sites: telecentre_id values must be unique."
        raise InputError(msg)
    site_code = locate(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), areas)
    outside = np.flatnonzero(site_code == "")
    if outside.size:
        k = int(outside[0])
        name = sites.attrs.get("name")
        where = f"{name}: " if name else ""
        row = f", row {k + 2}" if name else ""
        msg = (
            f"{where}{outside.size} site(s) lie outside every département, e.g. {site_ids[k]} "
            f"at ({sites['lon'].iloc[k]}, {sites['lat'].iloc[k]}){row}: check their "
            "coordinates, or add that département (its polygon and its road network)."
        )
        raise InputError(msg)
    homes = groups.drop_duplicates("home_id")[["home_id", "lon", "lat"]].reset_index(drop=True)
    works = groups.drop_duplicates("workplace_id")[
        ["workplace_id", "workplace_lon", "workplace_lat"]
    ].reset_index(drop=True)
    work_code = locate(works["workplace_lon"].to_numpy(), works["workplace_lat"].to_numpy(), areas)
    work_code_of = dict(zip(works["workplace_id"], work_code, strict=True))
    inside = within_buffers(homes["lon"].to_numpy(), homes["lat"].to_numpy(), areas, opts.buffer_km)
    tasks = _tasks(
        groups, homes, works, work_code, sites, site_code, inside, sources, opts, work_dir, areas
    )
    say(f"{len(agents)} agents in {len(groups)} groups; {len(tasks)} départements to route")
    prepared_s = time.perf_counter() - started
    results = _run(tasks, client, say)
    routed_s = time.perf_counter() - started
    labels = [t.code for t in tasks]
    read: dict[Path, pd.DataFrame] = {}  # each partition read once, however many steps

    def evaluate() -> _Evaluation:
        return _Evaluation.of(
            Path(work_dir), labels, groups, work_code_of, inside, sites, site_ids, site_code,
            results, opts, read,
        )  # fmt: skip

    one_day = bool(np.all(groups["days"].to_numpy() == 1))

    def priced(state: _Evaluation) -> tuple[_Evaluation, GroupPlan | None]:
        # one telework day each: the flow on the certified pairs prices the others
        if not one_day or len(state.unknown) == 0:
            return state, None
        plan = _solve(state.pairs, groups, desks, opts)
        return state.priced(plan.prices, groups, desks), plan

    state, plan_now = priced(evaluate())
    read_s = time.perf_counter() - started - routed_s
    widened: list[dict[str, Any]] = []
    # a home in no département's border (in the sea, abroad, a wrong coordinate) has no road
    # any extract could hold: never routed again (its region could span half the country)
    anywhere = np.zeros(len(homes), dtype=bool)
    for rows in inside.values():
        anywhere[rows] = True
    astray = homes["home_id"].to_numpy()[~anywhere]
    if widen is not None and opts.widen_rounds > 0 and astray.size:
        first = homes[~anywhere].iloc[0]
        say(
            f"{astray.size} home(s) lie in no département nor its border, e.g. "
            f"({first['lon']}, {first['lat']}): not routed again (check their coordinates)"
        )
    for round_ in range(1, opts.widen_rounds + 1):
        if widen is None:
            break
        km = opts.margin_km(round_)
        tried = pd.DataFrame({"home_id": [], "site": []})
        # a commute certified in the first step may make pairs eligible: a second step routes them
        for step in (1, 2):
            todo_sites, todo_work = state.unresolved(groups)
            todo_sites = todo_sites[~todo_sites["home_id"].isin(astray)]
            todo_work = todo_work[~todo_work["home_id"].isin(astray)]
            if step == 2:
                todo_work = todo_work.iloc[:0]
                seen = todo_sites.merge(tried, how="left", indicator=True)["_merge"] == "both"
                todo_sites = todo_sites[~seen.to_numpy()]
            if len(todo_sites) == 0 and len(todo_work) == 0:
                break
            priced_before = int(state.priced_out.sum()) if state.priced_out is not None else 0
            wide = _wide_tasks(
                todo_sites, todo_work, homes, works, sites, areas, widen, km, opts, work_dir,
                prefix=f"{_WIDE}{km:g}km{'' if step == 1 else '.2'}-",
            )  # fmt: skip
            if not wide:
                break
            say(
                f"{len(todo_sites)} pair(s) and {len(todo_work)} commute(s) not certified: "
                f"routed again in {len(wide)} extract(s) of their region and {km:g} km around"
            )
            done = _run(wide, client, say)
            results += done
            labels += [t.code for t in wide]
            state, plan_now = priced(evaluate())
            left_sites, left_work = state.unresolved(groups)
            widened.append(
                {
                    "margin_km": km,
                    "extracts": len(wide),
                    "pairs_before": len(todo_sites),
                    "priced_out": priced_before,
                    "commutes_before": len(todo_work),
                    "pairs_after": len(left_sites),
                    "commutes_after": len(left_work),
                    "task_cpu_s": round(sum(float(r.get("cpu_s", 0.0)) for r in done), 3),
                }
            )
            tried = todo_sites
            if len(todo_work) == 0:
                break
        if not widened or widened[-1]["pairs_after"] + widened[-1]["commutes_after"] == 0:
            break
    commute, pairs, counts, unknown = state.commute, state.pairs, state.counts, state.unknown
    site_h = state.horizons[state.horizons["kind"] == "site"].set_index("destination_id")
    reach_open = int((site_h["horizon_to"].reindex(site_ids).fillna(0.0) <= opts.max_minutes).sum())
    top_kmh = state.top_kmh
    widen_s = time.perf_counter() - started - routed_s - read_s
    say(f"solving one plan: {len(groups)} groups, {len(pairs)} eligible pairs")
    plan = plan_now or _solve(pairs, groups, desks, opts)
    order = tie_order(
        agents["agent_id"].astype(str).tolist(),
        priority=agents["priority"].to_numpy(float) if "priority" in agents else None,
        seed=opts.seed,
    )
    allocation = _allocation(
        agents, membership, groups, commute, pairs, plan.placements, site_ids, desks, order
    )
    reasons = commute["reason"].to_numpy()
    commutes_unknown = int(
        groups["size"]
        .to_numpy()[np.isin(reasons, [REASON_COMMUTE_UNCERTIFIED, REASON_HOME_OUTSIDE])]
        .sum()
    )
    # a pair not certified that may still improve the plan; none for the plan to be optimal
    open_pairs = state.needed()
    priced_out = (
        np.zeros(len(unknown), dtype=bool)
        if state.priced_out is None
        else np.asarray(state.priced_out, dtype=bool).copy()
    )
    ruled_out = 0
    if len(open_pairs) and _cannot_improve_together(state, open_pairs, plan, groups, desks, opts):
        ruled_out, open_pairs = len(open_pairs), open_pairs.iloc[:0]
        priced_out[:] = True
    exact = len(open_pairs) == 0 and commutes_unknown == 0
    summary = {
        "agents": len(agents),
        "groups": len(groups),
        "sites": len(sites),
        "departements": len(tasks),
        "eligible_pairs": len(pairs),
        **counts,
        "sites_reach_beyond_buffer": reach_open,
        "unknown_pairs": len(unknown),
        "unknown_pairs_priced_out": int(
            state.priced_out.sum() if state.priced_out is not None else 0
        ),
        "unknown_pairs_ruled_out_by_bound": ruled_out,
        "open_pairs": len(open_pairs),
        "agents_commute_unknown": commutes_unknown,
        "buffer_km": opts.buffer_km,
        "widened": widened,
        "top_speed_kmh": round(top_kmh, 3),
        "exact": exact,
        "placed": int((allocation["status"] == "assigned").sum()),
        "not_assigned_by_reason": {
            str(k): int(v)
            for k, v in allocation.loc[allocation["status"] != "assigned", "reason"]
            .value_counts()
            .items()
        },
        "saving_minutes_week": plan.gain / 60.0,
        "solver": "group min-cost flow" if one_day else "weekly configuration model",
        "status": plan.status,
        "proven": plan.proven,
        "bound_minutes_week": plan.bound / 60.0,
        "gap": round(plan.gap, 6),
        "flow_arcs": plan.arcs,
        "solve_s": round(plan.seconds, 3),
        "prepare_s": round(prepared_s, 3),
        "route_s": round(routed_s - prepared_s, 3),
        "read_s": round(read_s, 3),
        "widen_s": round(widen_s, 3),
        "task_cpu_s": round(sum(float(r.get("cpu_s", 0.0)) for r in results), 3),
        "task_s": round(sum(float(r.get("seconds", 0.0)) for r in results), 3),
        "total_s": round(time.perf_counter() - started, 3),
        "work_dir": str(work_dir),
        "tasks": results,
    }
    logger.info(
        "national plan: %d of %d agents placed, %.1f minutes a week, exact=%s",
        summary["placed"],
        len(agents),
        plan.gain / 60.0,
        exact,
    )
    return NationalPlan(
        allocation=allocation,
        gain_seconds=plan.gain,
        exact=exact,
        proven=plan.proven,
        summary=summary,
        groups=groups,
        unknown=unknown.assign(
            telecentre_id=site_ids[unknown["site"].to_numpy()], priced_out=priced_out
        )[["group", "telecentre_id", "priced_out"]],
    )


def _cannot_improve_together(
    state: _Evaluation,
    open_pairs: pd.DataFrame,
    plan: GroupPlan,
    groups: pd.DataFrame,
    desks: np.ndarray,
    opts: NationalOptions,
) -> bool:
    """Whether the open pairs, all at their best savings, cannot beat the plan's bound.

    The plan is solved again with every open pair added at its best case
    (``best_saving_s``: its saving at the lower bounds of its times, which no
    time of the merged network beats), beside the certified pairs. That
    problem's optimum bounds the merged network's; when its bound is no more
    than the plan's (``plan.bound``, the plan's gain when proven), no time
    the open pairs may have improves on the plan's bound, each pair alone or
    all together.
    """
    best = state.unknown.merge(open_pairs, on=["group", "site"])
    days = groups["days"].to_numpy(np.int64)[best["group"].to_numpy(np.int64)]
    hopeful = pd.DataFrame(
        {
            "group": best["group"].to_numpy(np.int64),
            "site": best["site"].to_numpy(np.int64),
            "gain": best["best_saving_s"].to_numpy(np.int64) * days,
        }
    )
    # the unknown pairs are none of the certified ones: no pair twice
    wider = pd.concat([state.pairs[["group", "site", "gain"]], hopeful], ignore_index=True)
    bound = _solve(wider, groups, desks, opts).bound
    logger.info(
        "%d open pair(s) at their best: bound %d s against the plan's %d s",
        len(hopeful),
        bound,
        plan.bound,
    )
    return bound <= plan.bound


def _tasks(
    groups: pd.DataFrame,
    homes: pd.DataFrame,
    works: pd.DataFrame,
    work_code: np.ndarray,
    sites: pd.DataFrame,
    site_code: np.ndarray,
    inside: dict[str, np.ndarray],
    sources: Mapping[str, NetworkSource],
    opts: NationalOptions,
    work_dir: str | Path,
    areas: gpd.GeoDataFrame,
) -> list[DepartementTask]:
    """One task per département with sites or workplaces.

    A task routes its own sites and workplaces, and also the other
    départements' ones that lie in its buffer (``own`` False): a pair its own
    task cannot certify (a home far out in the buffer) may be certified in
    the home's extract, where the route stays far from the cut.
    """
    tasks = []
    wanted = sorted(set(site_code.tolist()) | {c for c in work_code.tolist() if c})
    lacking = [code for code in wanted if code not in sources]
    if lacking:
        here = np.flatnonzero(site_code == lacking[0])
        if here.size:
            example = f"site {sites['telecentre_id'].iloc[int(here[0])]}"
        else:
            k = int(np.flatnonzero(work_code == lacking[0])[0])
            point = works[["workplace_lon", "workplace_lat"]].to_numpy()[k]
            example = f"a workplace at ({point[0]}, {point[1]})"
        msg = (
            f"département(s) {', '.join(lacking)} have sites or workplaces but no road network "
            f"(e.g. {example} in {lacking[0]}): give their networks (CODE.osm.pbf, or the PBF "
            "that covers them)."
        )
        raise InputError(msg)
    home_pos = {h: k for k, h in enumerate(homes["home_id"])}
    # every site once, for the tasks to read (not repeated in each task)
    every_site = Path(work_dir) / "sites.parquet"
    every_site.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "id": sites["telecentre_id"].astype(str).to_numpy(),
            "lon": sites["lon"].to_numpy(float),
            "lat": sites["lat"].to_numpy(float),
            "departement": site_code,
        }
    ).to_parquet(every_site, index=False)
    site_near = within_buffers(
        sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), areas, opts.buffer_km
    )
    work_near = within_buffers(
        works["workplace_lon"].to_numpy(float),
        works["workplace_lat"].to_numpy(float),
        areas,
        opts.buffer_km,
    )
    for code in wanted:
        inside_ids = set(homes["home_id"].to_numpy()[inside.get(code, np.empty(0, int))].tolist())
        in_buffer = np.zeros(len(sites), dtype=bool)
        in_buffer[site_near.get(code, np.empty(0, int))] = True
        here_sites = sites[(site_code == code) | in_buffer]
        work_in = np.zeros(len(works), dtype=bool)
        work_in[work_near.get(code, np.empty(0, int))] = True
        here_works = works[(work_code == code) | work_in]
        pairs = groups[groups["workplace_id"].isin(set(here_works["workplace_id"]))]
        pairs = pairs[pairs["home_id"].isin(inside_ids)][["home_id", "workplace_id"]]
        pairs = pairs.drop_duplicates().rename(
            columns={"home_id": "origin_id", "workplace_id": "destination_id"}
        )
        here_works = here_works[here_works["workplace_id"].isin(set(pairs["destination_id"]))]
        needed = inside_ids if len(here_sites) else set(pairs["origin_id"])
        chosen = sorted(needed, key=home_pos.__getitem__)
        origins = homes.set_index("home_id").loc[chosen, ["lon", "lat"]].reset_index()
        tasks.append(
            DepartementTask(
                code=code,
                source=sources[code],
                origins=origins.rename(columns={"home_id": "id"}),
                sites=pd.DataFrame(
                    {
                        "id": here_sites["telecentre_id"].astype(str).to_numpy(),
                        "lon": here_sites["lon"].to_numpy(float),
                        "lat": here_sites["lat"].to_numpy(float),
                        "own": site_code[here_sites.index.to_numpy()] == code,
                    }
                ),
                workplaces=here_works.rename(
                    columns={"workplace_id": "id", "workplace_lon": "lon", "workplace_lat": "lat"}
                )
                .assign(own=work_code[here_works.index.to_numpy()] == code)
                .reset_index(drop=True),
                commutes=pairs.reset_index(drop=True),
                max_minutes=opts.max_minutes,
                out_dir=str(work_dir),
                sites_file=str(every_site),
            )
        )
    return tasks


def _run(tasks: list[DepartementTask], client: Any, say: Progress) -> list[dict[str, Any]]:
    """Run the tasks here or on the cluster; any failure stops the run (no partial plan)."""
    results: list[dict[str, Any]] = []
    if client is None:
        for k, task in enumerate(tasks, 1):
            results.append(route_departement(task))
            say(f"{_named(task.code)} routed ({k}/{len(tasks)})")
        return results
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    token = uuid.uuid4().hex[:8]
    # the largest first (homes in the buffer stand for the extract's size): a shorter tail
    tasks = sorted(tasks, key=lambda t: -len(t.origins))
    futures = client.map(
        route_departement,
        tasks,
        key=[f"route-{task.code}-{token}" for task in tasks],
        pure=False,
    )
    code_of = {future.key: task.code for future, task in zip(futures, tasks, strict=True)}
    killed: list[str] = []
    try:
        for done, future in enumerate(as_completed(futures), 1):
            try:
                result = future.result()
            except KilledWorker:
                # every task running on a dying worker is blamed with the one that killed it:
                # let the others finish, then name them all
                killed.append(code_of[future.key])
                continue
            except (FutureCancelledError, OSError) as exc:
                code = code_of[future.key]
                msg = f"{_named(code)}: the cluster lost its task ({exc}); no plan was made."
                raise ClusterError(msg) from None
            results.append(result)
            say(f"{_named(str(result['code']))} routed ({done}/{len(tasks)})")
        if killed:
            codes = ", ".join(sorted(killed))
            msg = (
                f"{'départements' if len(killed) > 1 else 'département'} {codes}: the workers "
                f"running {'their tasks' if len(killed) > 1 else 'its task'} died repeatedly "
                "(out of memory? a task that kills its worker also fails the tasks beside it); "
                "no plan was made."
            )
            raise ClusterError(msg)
    except OptimizerError:
        client.cancel(futures)
        raise
    return sorted(results, key=lambda r: str(r["code"]))


def _solve(
    pairs: pd.DataFrame, groups: pd.DataFrame, desks: np.ndarray, opts: NationalOptions
) -> GroupPlan:
    """Solve the plan on ``pairs``: the group flow (one day each), else the weekly model."""
    arrays = (
        pairs["group"].to_numpy(np.int64),
        pairs["site"].to_numpy(np.int64),
        pairs["gain"].to_numpy(np.int64),
        desks,
    )
    sizes, patterns = groups["size"].to_numpy(np.int64), groups["pattern"].to_numpy(np.int64)
    days = groups["days"].to_numpy(np.int64)
    if bool(np.all(days == 1)):
        return solve_groups(sizes, patterns, *arrays)
    return solve_weekly_groups(sizes, days, patterns, *arrays, time_limit_s=opts.time_limit_s)


def _wide_tasks(
    todo_sites: pd.DataFrame,
    todo_work: pd.DataFrame,
    homes: pd.DataFrame,
    works: pd.DataFrame,
    sites: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    widen: Widen,
    km: float,
    opts: NationalOptions,
    work_dir: str | Path,
    *,
    prefix: str,
) -> list[DepartementTask]:
    """Tasks that route the unresolved pairs again, each in an extract of their region.

    ``todo_sites`` holds ``home_id, site`` (site index), ``todo_work``
    ``home_id, workplace_id``. Each pair's region is the box around its two
    ends grown by ``km`` on every side: there, both ends lie at least ``km``
    from the cut. Boxes are packed into fewer, larger ones where that adds
    little area (:func:`_pack_boxes`); each box gets one task (named ``prefix`` +
    number) routing its homes to its destinations. Its rows are no
    département's own (``own`` False): a row it cannot certify is dropped,
    the first extract's row stays.
    """
    dest = pd.concat(
        [
            pd.DataFrame(
                {
                    "kind": "site",
                    "key": todo_sites["site"].astype(str).to_numpy(),
                    "home_id": todo_sites["home_id"].to_numpy(),
                    "lon": sites["lon"].to_numpy(float)[todo_sites["site"].to_numpy(np.int64)],
                    "lat": sites["lat"].to_numpy(float)[todo_sites["site"].to_numpy(np.int64)],
                }
            ),
            pd.DataFrame(
                {
                    "kind": "workplace",
                    "key": todo_work["workplace_id"].astype(str).to_numpy(),
                    "home_id": todo_work["home_id"].to_numpy(),
                }
            ).merge(
                works.rename(
                    columns={"workplace_id": "key", "workplace_lon": "lon", "workplace_lat": "lat"}
                )[["key", "lon", "lat"]],
                on="key",
                how="left",
            ),
        ],
        ignore_index=True,
    )
    if len(dest) == 0:
        return []
    at = homes.set_index("home_id").reindex(dest["home_id"].to_numpy())
    to_metric = Transformer.from_crs(INPUT_CRS, WORKING_CRS, always_xy=True)
    hx, hy = to_metric.transform(at["lon"].to_numpy(float), at["lat"].to_numpy(float))
    dx, dy = to_metric.transform(dest["lon"].to_numpy(float), dest["lat"].to_numpy(float))
    grow = km * 1000.0
    boxes = np.column_stack(
        [
            np.minimum(hx, dx) - grow,
            np.minimum(hy, dy) - grow,
            np.maximum(hx, dx) + grow,
            np.maximum(hy, dy) + grow,
        ]
    )
    # no packed box larger than the largest département's with this margin (or a pair's own)
    x0, y0, x1, y1 = areas.to_crs(WORKING_CRS).bounds.to_numpy().T
    cap = float(
        max(
            np.max((x1 - x0 + 2 * grow) * (y1 - y0 + 2 * grow)),
            np.max(np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)),
        )
    )
    # a task costs about as much as the roads of a square of twice the margin: worth a merge
    region = _pack_boxes(boxes, cap, slack=(2 * grow) ** 2)
    to_wgs = Transformer.from_crs(WORKING_CRS, INPUT_CRS, always_xy=True)
    shapes: dict[str, shapely.Geometry] = {}
    for k, (x0, y0, x1, y1) in enumerate(region["box"]):
        metric = shapely.segmentize(shapely.box(x0, y0, x1, y1), 1000.0)
        shapes[f"{prefix}{k:03d}"] = shapely.transform(
            metric, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))
        )
    sources = widen(shapes)
    dest["region"] = region["of"]
    homes_at = homes.set_index("home_id")
    tasks = []
    for k, name in enumerate(shapes):
        if name not in sources:
            continue
        mine = dest[dest["region"].to_numpy() == k]
        on_site = mine[mine["kind"] == "site"]
        on_work = mine[mine["kind"] == "workplace"]
        here = sites.iloc[np.unique(on_site["key"].to_numpy(np.int64))]
        places = on_work.drop_duplicates("key")
        tasks.append(
            DepartementTask(
                code=name,
                source=sources[name],
                origins=homes_at.loc[sorted(set(mine["home_id"])), ["lon", "lat"]]
                .rename_axis("id")
                .reset_index(),
                sites=pd.DataFrame(
                    {
                        "id": here["telecentre_id"].astype(str).to_numpy(),
                        "lon": here["lon"].to_numpy(float),
                        "lat": here["lat"].to_numpy(float),
                        "own": np.zeros(len(here), dtype=bool),
                    }
                ),
                workplaces=pd.DataFrame(
                    {
                        "id": places["key"].to_numpy(object),
                        "lon": places["lon"].to_numpy(float),
                        "lat": places["lat"].to_numpy(float),
                        "own": np.zeros(len(places), dtype=bool),
                    }
                ),
                commutes=pd.DataFrame(
                    {
                        "origin_id": on_work["home_id"].to_numpy(),
                        "destination_id": on_work["key"].to_numpy(object),
                    }
                ),
                max_minutes=opts.max_minutes,
                out_dir=str(work_dir),
                sites_file=str(Path(work_dir) / "sites.parquet"),
            )
        )
    return tasks


def _pack_boxes(boxes: np.ndarray, cap: float, slack: float = 0.0) -> dict[str, np.ndarray]:
    """Pack boxes (``x0, y0, x1, y1`` rows) into fewer: two overlapping boxes become one.

    Two boxes are merged when their bounding box is at most ``slack`` larger
    than the two together and at most ``cap``: an extract's work grows with
    its area, plus a cost per extract (``slack`` stands for it), and no box
    grows past ``cap``. Greedy, largest saving first, until no merge passes.

    Returns ``box``: the packed boxes, and ``of``: each input box's packed box.
    """
    of = np.arange(len(boxes))
    current = np.asarray(boxes, dtype=float)
    for _ in range(64):  # each pass at least halves the merges left; 64 is never reached
        shapes = shapely.box(current[:, 0], current[:, 1], current[:, 2], current[:, 3])
        left, right = shapely.STRtree(shapes).query(shapes, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        lo = np.minimum(current[left, :2], current[right, :2])
        hi = np.maximum(current[left, 2:], current[right, 2:])
        area = np.prod(current[:, 2:] - current[:, :2], axis=1)
        joint = np.prod(hi - lo, axis=1)
        saving = area[left] + area[right] - joint
        ok = np.flatnonzero((saving >= -slack) & (joint <= cap))
        if ok.size == 0:
            break
        used = np.zeros(len(current), dtype=bool)
        target = np.arange(len(current))
        for k in ok[np.argsort(-saving[ok], kind="stable")].tolist():
            a, b = int(left[k]), int(right[k])
            if not (used[a] or used[b]):
                used[a] = used[b] = True
                target[b] = a
                current[a] = np.concatenate([lo[k], hi[k]])
        kept, target = np.unique(target, return_inverse=True)
        current = current[kept]
        of = target[of]
    return {"box": current, "of": of}


@dataclass(frozen=True)
class _Evaluation:
    """What the tables written so far say: the pairs, commutes and what is not certified."""

    raw: pd.DataFrame  # every task's rows (``departement``: the task's name)
    travel: pd.DataFrame  # one row per pair (:func:`_best_rows`)
    horizons: pd.DataFrame  # the own extract's destinations
    commute: pd.DataFrame
    pairs: pd.DataFrame
    counts: dict[str, int]
    doubtful: pd.DataFrame  # routed, not certified, eligible at the time found
    unknown: pd.DataFrame  # not routed or not certified, possibly eligible
    top_kmh: float
    priced_out: np.ndarray | None = None  # per unknown pair: cannot improve the plan

    def priced(
        self, prices: FlowPrices | None, groups: pd.DataFrame, desks: np.ndarray
    ) -> _Evaluation:
        """Return this evaluation with the unknown pairs the plan's ``prices`` rule out.

        A pair's best case is its saving at the lower bounds of its times
        (``best_saving_s``, times the telework days): when even that cannot
        beat the prices (:meth:`.solve.FlowPrices.cannot_improve`), the plan on
        the certified pairs stays optimal whatever its time (LP duality; for
        every such pair at once).
        """
        if prices is None or len(self.unknown) == 0:
            return replace(self, priced_out=None)
        group = self.unknown["group"].to_numpy(np.int64)
        gain = self.unknown["best_saving_s"].to_numpy(np.int64)
        gain = gain * groups["days"].to_numpy(np.int64)[group]
        patterns = groups["pattern"].to_numpy(np.int64)
        site = self.unknown["site"].to_numpy(np.int64)
        out = prices.cannot_improve(group, site, gain, patterns, desks)
        return replace(self, priced_out=out)

    def needed(self) -> pd.DataFrame:
        """``group, site``: the pairs not certified that may still improve the plan.

        The pairs whose bounds pass the rules (:attr:`unknown`), less those
        the plan's prices rule out. A pair an extract routed without
        certifying it (:attr:`doubtful`) is among them unless its bounds rule
        it out: a time not certified bounds nothing (its points may join
        other roads in the merged network).
        """
        keep = (
            np.ones(len(self.unknown), dtype=bool)
            if self.priced_out is None
            else ~np.asarray(self.priced_out, dtype=bool)
        )
        return self.unknown.loc[keep, ["group", "site"]].reset_index(drop=True)

    @classmethod
    def of(
        cls,
        folder: Path,
        labels: list[str],
        groups: pd.DataFrame,
        work_code_of: dict[str, str],
        inside: dict[str, np.ndarray],
        sites: pd.DataFrame,
        site_ids: np.ndarray,
        site_code: np.ndarray,
        results: list[dict[str, Any]],
        opts: NationalOptions,
        done: dict[Path, pd.DataFrame] | None = None,
    ) -> _Evaluation:
        """Read the tables of the tasks ``labels`` and evaluate every pair.

        ``done``: the partitions read by an earlier evaluation (see :func:`_read`).
        """
        raw = _read(folder / TRAVEL, labels, done)
        travel = _best_rows(raw)
        every_horizon = _read(folder / HORIZONS, labels, done)
        reach = _Reach(
            origins=_read(folder / ORIGINS, labels, done),
            away=_read(folder / AWAY, labels, done),
            extent=_read(folder / EXTENT, labels, done),
        )
        commute = _commutes(groups, travel, work_code_of, inside)
        pairs, counts, doubtful = _pairs(groups, commute, travel, site_ids, opts)
        top_kmh = max([float(r.get("top_speed_kmh", 0.0)) for r in results] + [ACCESS_SPEED_KMH])
        unknown = _unknown_pairs(
            groups,
            commute,
            travel,
            raw,
            sites,
            site_ids,
            site_code,
            every_horizon,
            reach,
            top_kmh,
            opts,
        )
        return cls(
            raw=raw,
            travel=travel,
            horizons=every_horizon[every_horizon["own"].to_numpy(bool)],
            commute=commute,
            pairs=pairs,
            counts=counts,
            doubtful=doubtful,
            unknown=unknown,
            top_kmh=top_kmh,
        )

    def unresolved(self, groups: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``home_id, site`` and ``home_id, workplace_id`` that no extract has certified.

        The site pairs that may be eligible and improve the plan
        (:meth:`needed`) and the commutes not certified or not routed (the
        home outside its workplace's buffer), each once.
        """
        both = self.needed()
        home = groups["home_id"].to_numpy()
        todo_sites = pd.DataFrame(
            {
                "home_id": home[both["group"].to_numpy(np.int64)],
                "site": both["site"].to_numpy(np.int64),
            }
        ).drop_duplicates(ignore_index=True)
        reasons = self.commute["reason"].to_numpy()
        open_ = np.isin(reasons, [REASON_COMMUTE_UNCERTIFIED, REASON_HOME_OUTSIDE])
        todo_work = groups.loc[open_, ["home_id", "workplace_id"]].drop_duplicates(
            ignore_index=True
        )
        return todo_sites, todo_work


def _named(code: str) -> str:
    """Name a task for the console: a département, or a region routed again."""
    return f"region {code}" if code.startswith(_WIDE) else f"département {code}"


def _read(
    folder: Path, codes: list[str], done: dict[Path, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """Concatenate the département partitions written by the tasks (only these codes).

    ``done`` keeps the partitions already read (a widening step reads only its own).
    """
    frames = []
    for code in codes:
        file = folder / f"departement={code}" / "part.parquet"
        if done is not None and file in done:
            frames.append(done[file])
            continue
        if not file.exists():
            msg = f"{_named(code)}: its table is missing from {folder}; no plan was made."
            raise ClusterError(msg)
        frames.append(pd.read_parquet(file).assign(departement=code))
        if done is not None:
            done[file] = frames[-1]
    return pd.concat(frames, ignore_index=True)


def _best_rows(travel: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per (origin, destination): a certified one, else the own task's.

    A pair routed in several extracts has the merged network's time in every
    one that certifies it; an uncertified row of another département's
    extract is dropped (the bounds of :func:`_unknown_pairs` are the own
    extract's). Rows keep their order.
    """
    origin = pd.factorize(travel["origin_id"])[0].astype(np.int64)
    destination = pd.factorize(travel["destination_id"])[0].astype(np.int64)
    key = (origin * (int(destination.max(initial=0)) + 1) + destination) * 2 + (
        travel["kind"].to_numpy() == "site"
    )
    certified, own = travel["certified"].to_numpy(bool), travel["own"].to_numpy(bool)
    order = np.lexsort((~own, ~certified))  # certified first, then the own task's
    _, first = np.unique(key[order], return_index=True)
    best = np.sort(order[first])
    best = best[certified[best] | own[best]]
    return pd.DataFrame(travel.iloc[best].reset_index(drop=True))


def _commutes(
    groups: pd.DataFrame,
    travel: pd.DataFrame,
    work_code_of: dict[str, str],
    inside: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Per group: minutes to the workplace and back, and the reason when not usable."""
    work = travel[travel["kind"] == "workplace"].set_index(["origin_id", "destination_id"])
    key = pd.MultiIndex.from_frame(groups[["home_id", "workplace_id"]])
    found = work.reindex(key)
    out = pd.DataFrame(
        {
            "minutes_to": found["minutes_to"].to_numpy(float),
            "minutes_back": found["minutes_back"].to_numpy(float),
            "certified": found["certified"].fillna(False).to_numpy(bool),
        }
    )
    reason = np.full(len(groups), "", dtype=object)
    code = groups["workplace_id"].map(work_code_of).to_numpy()
    routed = found["minutes_to"].notna().to_numpy() | found.index.isin(work.index)
    reason[~routed] = REASON_HOME_OUTSIDE
    reason[code == ""] = REASON_WORKPLACE_OUTSIDE
    no_route = routed & ~(np.isfinite(out["minutes_to"]) & np.isfinite(out["minutes_back"]))
    certified = out["certified"].to_numpy(bool)
    # unreachable only where proven (a point beyond the snapping limit of the merged network
    # too, see .tasks); an extract that found no route proves nothing: the commute is unknown
    reason[no_route & certified & (reason == "")] = REASON_NO_COMMUTE
    reason[routed & ~certified & (reason == "")] = REASON_COMMUTE_UNCERTIFIED
    out["reason"] = reason
    return out


def _pairs(
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    travel: pd.DataFrame,
    site_ids: np.ndarray,
    opts: NationalOptions,
) -> tuple[pd.DataFrame, dict[str, int], pd.DataFrame]:
    """Eligible (group, site) pairs and their whole weekly gain (the rules of the model stage).

    Also returns ``group, site``: the pairs a task routed without certifying
    them that would be eligible at the time found.
    """
    site_rows = travel[travel["kind"] == "site"]
    site_pos = pd.Series(np.arange(site_ids.size), index=site_ids)
    usable = groups[commute["reason"].to_numpy() == ""]
    merged = usable[["group", "home_id", "days"]].merge(
        site_rows, left_on="home_id", right_on="origin_id", how="inner"
    )
    wp_to = commute["minutes_to"].to_numpy()[merged["group"].to_numpy()]
    wp_back = commute["minutes_back"].to_numpy()[merged["group"].to_numpy()]
    s_to, s_back = merged["minutes_to"].to_numpy(), merged["minutes_back"].to_numpy()
    saving = np.rint((wp_to + wp_back - (s_to + s_back)) * 60.0)
    with np.errstate(invalid="ignore"):
        ok = (saving > 0) & (saving >= np.rint(opts.min_saving * 60.0))
        ok &= s_to <= opts.max_minutes
        if opts.no_worse_off:
            ok &= s_to <= wp_to
        ok &= np.isfinite(s_to) & np.isfinite(s_back)
    certified = merged["certified"].to_numpy(bool)
    counts = {
        "routed_site_pairs": len(merged),
        "uncertified_pairs": int((ok & ~certified).sum()),
    }
    doubt = ok & ~certified
    doubtful = pd.DataFrame(
        {
            "group": merged["group"].to_numpy()[doubt],
            "site": site_pos.reindex(merged["destination_id"].to_numpy()[doubt]).to_numpy(np.int64),
        }
    )
    ok &= certified
    pairs = pd.DataFrame(
        {
            "group": merged["group"].to_numpy()[ok],
            "site": site_pos.reindex(merged["destination_id"].to_numpy()[ok]).to_numpy(np.int64),
            "gain": (saving[ok] * merged["days"].to_numpy()[ok]).astype(np.int64),
            "minutes_to": s_to[ok],
        }
    )
    return pairs, counts, doubtful


def _unknown_pairs(
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    travel: pd.DataFrame,
    raw: pd.DataFrame,
    sites: pd.DataFrame,
    site_ids: np.ndarray,
    site_code: np.ndarray,
    horizons: pd.DataFrame,
    reach: _Reach,
    top_kmh: float,
    opts: NationalOptions,
) -> pd.DataFrame:
    """Find the (group, site) pairs whose time is not known exactly and that may be eligible.

    A pair is known when a task certified it (``travel``, one row per pair).
    Any other pair's merged-network time is at least each of these lower
    bounds, each way, given by every extract ``B`` (``out``, ``in``: the
    home's minutes to and from the nearest cut node of ``B``; ``h``: the
    site's horizon in ``B``, :mod:`.extracts`):

    - the home a clear origin of ``B`` (its road there is its merged-network
      road, routed, away from the cut) and the site searched there: ``min(t, out + h)``
      where ``B`` found ``t`` within the limit, else ``min(limit, out + h)`` to
      the site (nothing on the way back): a route that leaves ``B`` drives to
      its cut, then from its cut;
    - the home surely off ``B``'s roads (:func:`_far_homes`) and the site
      searched there: ``h`` (the route enters ``B``);
    - the home a clear origin of ``B`` and the site's road surely not in ``B``
      (:func:`_outside`): ``out`` (``in`` back): the route leaves ``B``;
    - the straight distance at the fastest speed of any extract or access leg.

    The pair may be eligible when those bounds pass the rules of
    :func:`_pairs`; none may, for the plan to be optimal on the merged network.
    ``raw`` holds every task's rows (``departement`` the task), ``horizons``
    every task's destinations.

    Returns ``group, site`` (indices), one row per such pair,
    ``best_saving_s``: its round-trip saving a day at those bounds, whole
    seconds (no time the merged network may give saves more), and
    ``lower_to, lower_back``: those bounds, minutes.
    """
    usable = np.flatnonzero(commute["reason"].to_numpy() == "")
    if usable.size == 0 or len(site_ids) == 0:
        empty = np.zeros(0, np.int64)
        return pd.DataFrame(
            {
                "group": empty,
                "site": empty,
                "best_saving_s": empty,
                "lower_to": np.zeros(0),
                "lower_back": np.zeros(0),
            }
        )
    home_ids, first, home_of = np.unique(
        groups["home_id"].to_numpy()[usable], return_index=True, return_inverse=True
    )
    n_homes, n_sites = home_ids.size, site_ids.size
    to_metric = Transformer.from_crs(INPUT_CRS, WORKING_CRS, always_xy=True)
    hx, hy = (
        np.asarray(a)
        for a in to_metric.transform(
            groups["lon"].to_numpy(float)[usable][first],
            groups["lat"].to_numpy(float)[usable][first],
        )
    )
    sx, sy = (
        np.asarray(a)
        for a in to_metric.transform(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    )
    # minutes per metre at the top speed; 1 % for the projection's scale error
    per_m = 60.0 / (top_kmh * 1000.0) / 1.01
    wp_to = commute["minutes_to"].to_numpy(float)[usable]
    wp_sum = wp_to + commute["minutes_back"].to_numpy(float)[usable]
    floor_s = max(1.0, float(np.rint(opts.min_saving * 60.0)))
    beyond = float(np.nextafter(opts.max_minutes, np.inf))  # searched to the limit there
    home_pos = pd.Series(np.arange(n_homes), index=home_ids)
    site_pos = pd.Series(np.arange(n_sites), index=site_ids)
    extracts = _extract_bounds(reach, raw, horizons, home_pos, site_pos, hx, hy)
    away_all = np.array([e.outside for e in extracts]).reshape(len(extracts), n_sites)
    member_ext = np.concatenate(
        [np.full(e.origins.size, k, dtype=np.int64) for k, e in enumerate(extracts)] + [[]]
    ).astype(np.int64)
    member_home = np.concatenate([e.origins for e in extracts] + [[]]).astype(np.int64)
    member_out = np.concatenate([e.out for e in extracts] + [[]])
    member_in = np.concatenate([e.back for e in extracts] + [[]])
    # the certified pairs, as home x site keys
    sure = travel[(travel["kind"] == "site") & travel["certified"].to_numpy(bool)]
    sure_h = home_pos.reindex(sure["origin_id"].to_numpy()).to_numpy()
    sure_j = site_pos.reindex(sure["destination_id"].to_numpy()).to_numpy()
    known = ~(np.isnan(sure_h) | np.isnan(sure_j))
    certified = np.unique(sure_h[known].astype(np.int64) * n_sites + sure_j[known].astype(np.int64))

    found_g: list[np.ndarray] = [np.zeros(0, np.int64)]
    found_j: list[np.ndarray] = [np.zeros(0, np.int64)]
    found_w: list[np.ndarray] = [np.zeros(0, np.int64)]
    found_lt: list[np.ndarray] = [np.zeros(0)]
    found_lb: list[np.ndarray] = [np.zeros(0)]
    step = max(1, 2_000_000 // max(usable.size, n_homes))
    # sites a block at a time, a département's together: few extracts searched a block's sites
    order = np.argsort(site_code, kind="stable")
    for lo in range(0, n_sites, step):
        j = np.sort(order[lo : lo + step])
        line = np.hypot(hx[:, None] - sx[None, j], hy[:, None] - sy[None, j]) * per_m
        lb_to, lb_back = line, line.copy()
        for ext in extracts:
            ext.bound_searched(j, lb_to, lb_back, beyond)
        # an extract that lacks every site of the block raises its origins' rows whole
        lacks = away_all[:, j]
        every = np.asarray(lacks.all(axis=1), dtype=bool)
        some = np.asarray(lacks.any(axis=1), dtype=bool)
        chosen = every[member_ext]
        if chosen.any():
            for bound, value in ((lb_to, member_out), (lb_back, member_in)):
                most = np.zeros(n_homes)
                np.maximum.at(most, member_home[chosen], value[chosen])
                np.maximum(bound, most[:, None], out=bound)
        for k in np.flatnonzero(some & ~every):
            extracts[k].bound_outside(j, lb_to, lb_back)
        ok = lb_to[home_of] <= opts.max_minutes
        if opts.no_worse_off:
            ok &= lb_to[home_of] <= wp_to[:, None]
        ok &= np.rint((wp_sum[:, None] - lb_to[home_of] - lb_back[home_of]) * 60.0) >= floor_s
        g_idx, j_idx = np.nonzero(ok)
        if g_idx.size:
            key = home_of[g_idx] * n_sites + j[j_idx]
            at = np.minimum(np.searchsorted(certified, key), max(certified.size - 1, 0))
            new = certified[at] != key if certified.size else np.ones(key.size, dtype=bool)
            found_g.append(usable[g_idx[new]])
            found_j.append(j[j_idx[new]])
            rows, cols = home_of[g_idx[new]], j_idx[new]
            best = np.rint((wp_sum[g_idx[new]] - lb_to[rows, cols] - lb_back[rows, cols]) * 60.0)
            found_w.append(best.astype(np.int64))
            found_lt.append(lb_to[rows, cols])
            found_lb.append(lb_back[rows, cols])
    return pd.DataFrame(
        {
            "group": np.concatenate(found_g),
            "site": np.concatenate(found_j),
            "best_saving_s": np.concatenate(found_w),
            "lower_to": np.concatenate(found_lt),
            "lower_back": np.concatenate(found_lb),
        }
    )


@dataclass(frozen=True)
class _ExtractBound:
    """One extract's lower bounds on the pairs' times (see :func:`_unknown_pairs`)."""

    origins: np.ndarray  # homes that are clear origins of the extract
    out: np.ndarray  # their minutes to the nearest cut node (0 where unsure)
    back: np.ndarray  # their minutes from it
    far: np.ndarray  # homes surely off the extract's roads
    searched: np.ndarray  # (n_sites,) bool: sites searched in the extract
    h_to: np.ndarray  # (n_sites,) their horizons there (0 elsewhere)
    h_back: np.ndarray
    outside: np.ndarray  # (n_sites,) bool: sites whose road the extract surely lacks
    # the site pairs found within the limit, sorted by site: site, origin row, minutes each way
    found_site: np.ndarray
    found_row: np.ndarray
    found_to: np.ndarray
    found_back: np.ndarray

    def bound_searched(
        self, j: np.ndarray, lb_to: np.ndarray, lb_back: np.ndarray, beyond: float
    ) -> None:
        """Raise ``lb_to``, ``lb_back`` (homes x sites ``j``) where the extract searched."""
        here = np.flatnonzero(self.searched[j])
        if here.size:
            cols = j[here]
            where = np.ix_(self.far, here)
            lb_to[where] = np.maximum(lb_to[where], self.h_to[cols][None, :])
            lb_back[where] = np.maximum(lb_back[where], self.h_back[cols][None, :])
            # origins: at least min(t, out + h), t beyond the limit where not found
            via_to = self.out[:, None] + self.h_to[cols][None, :]
            via_back = self.back[:, None] + self.h_back[cols][None, :]
            t_to = np.full(via_to.shape, beyond)
            t_back = np.zeros(via_to.shape)  # not found: nothing known on the way back
            sites = self.found_site
            first, last = np.searchsorted(sites, [cols[0], cols[-1] + 1])
            at = np.searchsorted(cols, sites[first:last])
            inside = cols[np.minimum(at, cols.size - 1)] == sites[first:last]
            if inside.any():
                r = self.found_row[first:last][inside]
                c = at[inside]
                t_to[r, c] = self.found_to[first:last][inside]
                t_back[r, c] = np.minimum(self.found_back[first:last][inside], via_back[r, c])
            where = np.ix_(self.origins, here)
            lb_to[where] = np.maximum(lb_to[where], np.minimum(t_to, via_to))
            lb_back[where] = np.maximum(lb_back[where], t_back)

    def bound_outside(self, j: np.ndarray, lb_to: np.ndarray, lb_back: np.ndarray) -> None:
        """Raise the bounds of this extract's origins to the sites of ``j`` it lacks."""
        away = np.flatnonzero(self.outside[j])
        if away.size and self.origins.size:
            where = np.ix_(self.origins, away)
            lb_to[where] = np.maximum(lb_to[where], self.out[:, None])
            lb_back[where] = np.maximum(lb_back[where], self.back[:, None])


def _extract_bounds(
    reach: _Reach,
    raw: pd.DataFrame,
    horizons: pd.DataFrame,
    home_pos: pd.Series,
    site_pos: pd.Series,
    hx: np.ndarray,
    hy: np.ndarray,
) -> list[_ExtractBound]:
    """Gather each extract's bounds from the tables its task wrote.

    Homes are ``home_pos``'s index, at ``hx, hy`` (metres). Each table's ids
    are looked up once (the tables hold millions of rows at national size),
    then split by extract.
    """
    n_sites = site_pos.size
    far = _far_homes(reach, home_pos.index.to_numpy(), hx, hy)
    outside = _outside(reach, site_pos.index.to_numpy(), horizons)
    homes_index, sites_index = pd.Index(home_pos.index), pd.Index(site_pos.index)

    def by_code(frame: pd.DataFrame) -> dict[str, np.ndarray]:
        codes, names = pd.factorize(frame["departement"].astype(str))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        return {str(n): order[bounds[k] : bounds[k + 1]] for k, n in enumerate(names)}

    origins = reach.origins[reach.origins["clear"].to_numpy(bool)]  # the search is the truth
    o_home = homes_index.get_indexer(origins["origin_id"])
    o_out, o_in = origins["out"].to_numpy(float), origins["in"].to_numpy(float)
    o_rows = by_code(origins)
    site_h = horizons[horizons["kind"] == "site"]
    # only where the site's road is surely its own and away from the cut (``clear``)
    site_h = site_h[site_h["clear"].to_numpy(bool)]
    h_site = sites_index.get_indexer(site_h["destination_id"])
    h_to_all = site_h["horizon_to"].to_numpy(float)
    h_back_all = site_h["horizon_back"].to_numpy(float)
    h_rows = by_code(site_h)
    found = raw[raw["kind"] == "site"]
    # a time found to a site not clear there is no bound (its road there may not be its own)
    clear = pd.MultiIndex.from_frame(site_h[["departement", "destination_id"]])
    found = found[pd.MultiIndex.from_frame(found[["departement", "destination_id"]]).isin(clear)]
    f_home = homes_index.get_indexer(found["origin_id"])
    f_site = sites_index.get_indexer(found["destination_id"])
    f_to, f_back = found["minutes_to"].to_numpy(float), found["minutes_back"].to_numpy(float)
    f_rows = by_code(found)
    empty = np.zeros(0, dtype=np.int64)
    out = []
    for code in sorted(set(o_rows) | set(h_rows)):
        rows = o_rows.get(code, empty)
        rows = rows[o_home[rows] >= 0]
        homes = o_home[rows]
        row_of = np.full(home_pos.size, -1, dtype=np.int64)
        row_of[homes] = np.arange(homes.size)
        searched = np.zeros(n_sites, dtype=bool)
        h_to, h_back = np.zeros(n_sites), np.zeros(n_sites)
        dest = h_rows.get(code, empty)
        dest = dest[h_site[dest] >= 0]
        searched[h_site[dest]] = True
        h_to[h_site[dest]] = h_to_all[dest]
        h_back[h_site[dest]] = h_back_all[dest]
        pairs = f_rows.get(code, empty)
        pairs = pairs[(f_home[pairs] >= 0) & (f_site[pairs] >= 0)]
        pairs = pairs[row_of[f_home[pairs]] >= 0]
        pairs = pairs[np.argsort(f_site[pairs], kind="stable")]
        out.append(
            _ExtractBound(
                origins=homes,
                out=o_out[rows],
                back=o_in[rows],
                far=np.flatnonzero(far.get(code, np.zeros(home_pos.size, dtype=bool))),
                searched=searched,
                h_to=h_to,
                h_back=h_back,
                outside=outside.get(code, np.zeros(n_sites, dtype=bool)),
                found_site=f_site[pairs].astype(np.int64),
                found_row=row_of[f_home[pairs]],
                found_to=f_to[pairs],
                found_back=f_back[pairs],
            )
        )
    return out


def _far_homes(
    reach: _Reach, home_ids: np.ndarray, hx: np.ndarray, hy: np.ndarray
) -> dict[str, np.ndarray]:
    """Per extract: which homes surely join none of its roads (``code -> (n_homes,) bool``).

    A home's road in the merged network is known from any task where the
    home joins its road alike (``snap_m``); a home farther than that from the
    convex hull of an extract's roads joins none of them, so a route from it
    to a site of that extract enters the extract through its cut. Homes are
    ``home_ids`` at ``hx, hy`` (metres).
    """
    alike = reach.origins[reach.origins["alike"].to_numpy(bool)]
    snap = (
        alike.groupby("origin_id")["snap_m"].min().reindex(home_ids).to_numpy(float)
    )  # nan: no task knows it
    points = shapely.points(hx, hy)
    out: dict[str, np.ndarray] = {}
    for code, hull in zip(reach.extent["departement"], reach.extent["hull"], strict=True):
        distance = shapely.distance(shapely.from_wkt(hull), points)
        with np.errstate(invalid="ignore"):
            out[str(code)] = np.asarray(distance > snap + 0.01)
    return out


@dataclass(frozen=True)
class _Reach:
    """What the tasks wrote to bound the pairs they did not certify (see :mod:`.tasks`)."""

    origins: pd.DataFrame  # departement, origin_id, out, in, snap_m, alike
    away: pd.DataFrame  # departement, destination_id, near_m
    extent: pd.DataFrame  # departement, hull (WKT, working CRS)


def _outside(reach: _Reach, site_ids: np.ndarray, horizons: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per extract: which sites' roads surely lie outside it (``code -> (n_sites,) bool``).

    A site's road in the merged network is the one its own task found, when
    that task says it is surely the same (``alike``); that road is not in
    another extract when the extract's nearest road is farther from the site.
    """
    own = horizons[(horizons["kind"] == "site") & horizons["own"].to_numpy(bool)]
    mine = own.set_index("destination_id").reindex(site_ids)
    snap = mine["snap_m"].to_numpy(float)
    alike = mine["alike"].fillna(False).to_numpy(bool)
    position = pd.Series(np.arange(site_ids.size), index=site_ids)
    out: dict[str, np.ndarray] = {}
    for code, rows in reach.away.groupby("departement"):
        j = position.reindex(rows["destination_id"].astype(str).to_numpy()).to_numpy()
        known = ~np.isnan(j)
        j = j[known].astype(np.int64)
        flags = np.zeros(site_ids.size, dtype=bool)
        # a centimetre's margin: a tie may be the same road
        flags[j] = alike[j] & (rows["near_m"].to_numpy(float)[known] > snap[j] + 0.01)
        out[str(code)] = flags
    return out


def _allocation(
    agents: pd.DataFrame,
    membership: np.ndarray,
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    pairs: pd.DataFrame,
    placements: pd.DataFrame,
    site_ids: np.ndarray,
    desks: np.ndarray,
    ties: TieOrder,
) -> pd.DataFrame:
    """Hand each group's placements to its agents (by the tie rule) and give reasons.

    The agents of a group are equals (same home, workplace, days and rules):
    when only some are placed, they are the first by the tie rule of a plain
    run (:mod:`optimizer.ties`: the higher priority, then the draw), and each
    one left out is told which equal took its place and what decided. An
    agent left out whose eligible sites all open (desks > 0) on fewer of its
    allowed weekdays than its telework days is "closed on its days", not
    "capacity full": no desk was ever there for it.
    """
    n = len(agents)
    site = np.full(n, -1, dtype=np.int64)
    weekday = np.zeros(n, dtype=np.int64)  # 5-bit masks
    order = np.lexsort((ties.rank, membership))
    starts = np.searchsorted(membership[order], np.arange(len(groups)))
    taken = np.zeros(len(groups), dtype=np.int64)
    for g, j, d, count in placements[["group", "site", "days", "agents"]].itertuples(index=False):
        lo = starts[g] + taken[g]
        members = order[lo : lo + count]
        site[members], weekday[members] = j, d
        taken[g] += count
    gain_of = pairs.set_index(["group", "site"])
    placed = site >= 0
    key = pd.MultiIndex.from_arrays([membership[placed], site[placed]])
    saving = np.full(n, np.nan)
    to_site = np.full(n, np.nan)
    saving[placed] = gain_of["gain"].reindex(key).to_numpy(float) / 60.0
    to_site[placed] = gain_of["minutes_to"].reindex(key).to_numpy(float)
    reason = commute["reason"].to_numpy()[membership].copy()
    has_pair = np.zeros(len(groups), dtype=bool)
    has_pair[pairs["group"].to_numpy()] = True
    open_mask = (np.asarray(desks) > 0) @ (1 << np.arange(5, dtype=np.int64))
    pair_group = pairs["group"].to_numpy(np.int64)
    common = (
        groups["pattern"].to_numpy(np.int64)[pair_group]
        & open_mask[pairs["site"].to_numpy(np.int64)]
    )
    enough = _DAY_COUNT[common] >= groups["days"].to_numpy(np.int64)[pair_group]
    has_usable = np.zeros(len(groups), dtype=bool)
    has_usable[pair_group[enough]] = True
    reason[(reason == "") & ~has_pair[membership]] = REASON_NO_SITE
    reason[(reason == "") & ~has_usable[membership]] = REASON_CLOSED
    reason[(reason == "") & ~placed] = REASON_FULL
    reason[placed] = ""
    ids = agents["agent_id"].astype(str).to_numpy()
    sizes = groups["size"].to_numpy(np.int64)
    for g in np.flatnonzero((taken > 0) & (taken < sizes)):
        winner = int(order[starts[g] + taken[g] - 1])  # the last of its equals placed
        for loser in order[starts[g] + taken[g] : starts[g] + sizes[g]]:
            if reason[loser] == REASON_FULL:
                rule = ties.decided_by(winner, int(loser))
                reason[loser] = tie_reason(ids[winner], rule, ties.seed)
    located = {c: agents[c].to_numpy() for c in ("location", "location_precision_m") if c in agents}
    return pd.DataFrame(
        {
            "agent_id": agents["agent_id"].astype(str).to_numpy(),
            "group": membership,
            "telecentre_id": np.where(placed, site_ids[np.maximum(site, 0)], ""),
            "weekday": np.where(placed, _DAY_NAMES[weekday], ""),
            "minutes_to_site": to_site,
            "minutes_to_work": commute["minutes_to"].to_numpy()[membership],
            "saving_minutes_week": saving,
            "status": np.where(placed, "assigned", "not_assigned"),
            **located,
            "reason": reason,
        }
    )
