"""Plans that survive the error in drive times.

Modelled drive times are never exact. :func:`assess` takes a plan solved on
the network's times and asks two questions under other plausible times
(:func:`scenarios`: every road slower or faster by ``P``, main roads and
small roads in opposite directions, and random draws per road-class group):

- does each agent keep its telecentre when the plan is solved again under
  those times? (the plan *holds* for that agent when it does in every
  scenario). Agents with an identical twin (same home point, telework days
  and rules, as agents placed at their commune's town hall often are) are
  interchangeable: when a scenario's plan gives an agent's telecentre to its
  twin and the twin's to it, that is a tie broken another way, not a
  drive-time flip, and it is counted apart (:func:`twin_groups`);
- what does the plan as decided save a week under those times? (the range,
  per agent and in total).

A scenario scales the part of every road's time driven on each road-class
group (:data:`optimizer.speed_model.GROUPS`) and the delays at nodes, so the
roads and routes stay those of the network; routes may change where a
scenario makes another way faster.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.errors import InfeasibleError, InputError
from optimizer.model import AssignmentProblem
from optimizer.network import Progress, RoadNetwork, retime
from optimizer.speed_model import GROUPS

if TYPE_CHECKING:
    from optimizer.pipeline import RunResult

logger = logging.getLogger(__name__)

#: Groups counted as main roads in the opposite-direction scenarios.
MAIN_GROUPS = ("motorway", "primary", "secondary")
#: Random scenarios drawn besides the four structured ones.
SAMPLED_SCENARIOS = 8
#: Largest uncertainty accepted, as a fraction.
MAX_UNCERTAINTY = 0.5


@dataclass(frozen=True)
class Scenario:
    """Multipliers of drive time per road-class group and for delays.

    Attributes
    ----------
    name
        A short description.
    multipliers
        ``len(GROUPS) + 1`` factors on time: one per group, then the delays.
    """

    name: str
    multipliers: np.ndarray


def scenarios(
    uncertainty: float, *, sampled: int = SAMPLED_SCENARIOS, seed: int = 0
) -> list[Scenario]:
    """Return the drive-time scenarios for an uncertainty of ``uncertainty`` (a fraction).

    Parameters
    ----------
    uncertainty
        How far times may be off, e.g. ``0.15`` for 15 %.
    sampled
        Random scenarios added (each group's factor drawn uniformly in
        ``[1 - P, 1 + P]``, seeded: the same every run).
    seed
        Seed of the draws.

    Returns
    -------
    list of Scenario
        Every road slower, every road faster, main roads slower and small roads
        faster, the reverse, then the random draws.
    """
    p = float(uncertainty)
    if not 0 < p <= MAX_UNCERTAINTY:
        msg = (
            f"--speed-uncertainty must be a percentage above 0 and at most "
            f"{MAX_UNCERTAINTY:.0%}, got {p:.0%}."
        )
        raise InputError(msg)
    width = len(GROUPS) + 1
    main = np.array([g in MAIN_GROUPS for g in GROUPS] + [False])
    out = [
        Scenario(f"every road {p:.0%} slower", np.full(width, 1 + p)),
        Scenario(f"every road {p:.0%} faster", np.full(width, 1 - p)),
        Scenario(f"main roads {p:.0%} slower, small roads faster", np.where(main, 1 + p, 1 - p)),
        Scenario(f"main roads {p:.0%} faster, small roads slower", np.where(main, 1 - p, 1 + p)),
    ]
    rng = np.random.default_rng(seed)
    out += [
        Scenario(f"random draw {k + 1}", rng.uniform(1 - p, 1 + p, width)) for k in range(sampled)
    ]
    return out


def scenario_network(network: RoadNetwork, scenario: Scenario) -> RoadNetwork:
    """Return ``network`` with its edge times scaled as ``scenario`` says.

    Parameters
    ----------
    network
        A prepared network (with its edge times split by group).
    scenario
        The multipliers.

    Returns
    -------
    RoadNetwork
        The network re-timed.
    """
    if network.edge_times is None:
        msg = "drive-time scenarios need a network prepared by this package (load_network)."
        raise InputError(msg)
    seconds = network.edge_times.by_group @ scenario.multipliers
    return retime(network, seconds, source=f"{network.source} ({scenario.name})")


@dataclass(frozen=True)
class Robustness:
    """Result of :func:`assess`.

    Attributes
    ----------
    agents
        One row per agent, in input order: ``agent_id``, ``holds`` (the agent
        gets the same telecentre, or stays at the head office, in every
        scenario, or an identical twin of it does), ``scenarios_same`` (in how
        many it does itself), ``scenarios_twin_swap`` (in how many its twin
        takes its telecentre and it its twin's: a tie, not a flip),
        ``saving_week_low`` and
        ``saving_week_high`` (minutes a week the plan as decided saves for the
        agent, lowest and highest over the scenarios and the plan's own times).
    scenarios
        One row per scenario: ``scenario, assigned, agents_same,
        agents_twin_swap, plan_saving_week, best_saving_week`` (what the plan as decided saves,
        and what the plan solved again for those times would save).
    uncertainty
        The fraction used.
    """

    agents: pd.DataFrame
    scenarios: pd.DataFrame
    uncertainty: float
    summary: dict[str, Any] = field(default_factory=dict)


def _plan_saving(problem: AssignmentProblem, telecentre: np.ndarray) -> np.ndarray:
    """Round-trip minutes a week each agent saves with ``telecentre`` (index, -1: none)."""
    saving = np.zeros(telecentre.size)
    chosen = np.flatnonzero(telecentre >= 0)
    day = problem.saving_minutes(chosen)[np.arange(chosen.size), telecentre[chosen]]
    saving[chosen] = np.nan_to_num(day) * problem.days[chosen]
    return saving


#: Columns of the agents table that never change a plan (names of the home, not the home).
_NOT_PLAN_INPUTS = ("agent_id",)


def twin_groups(agents: pd.DataFrame, previous: pd.DataFrame | None = None) -> np.ndarray:
    """Label identical agents alike: same home point, telework days, rules and previous plan.

    Two agents are twins when every column of the agents table but the id is
    the same (home ``lon, lat``, ``telework_days``, ``must_assign``,
    preferred and forbidden telecentres, impossible and preferred days,
    workplace...) and, in a re-plan, their previous telecentre and weekdays
    too: any plan stays a plan, worth the same, when they trade places.

    Parameters
    ----------
    agents
        The agents table of the run.
    previous
        The previous allocation of a re-plan (``agent_id, telecentre_id`` and
        ``weekdays``), or None.

    Returns
    -------
    numpy.ndarray
        ``(n_agents,)`` group labels (twins share one).
    """
    columns = [c for c in agents.columns if c not in _NOT_PLAN_INPUTS]
    # str of each cell (str(nan) is 'nan': astype(str) may keep missing values missing)
    key = pd.Series([""] * len(agents), index=agents.index, dtype=object)
    for column in columns:
        key = key + "\x1f" + agents[column].map(str).astype(object)
    if previous is not None:
        where = previous.drop_duplicates("agent_id").set_index("agent_id")
        ids = agents["agent_id"].astype(str)
        for column in ("telecentre_id", "weekdays"):
            if column in where:
                earlier = ids.map(where[column]).fillna("\x00none").map(str).astype(object)
                key = key + "\x1f" + earlier.to_numpy()
    return np.asarray(pd.factorize(key.to_numpy())[0], dtype=np.int64)


def twin_swaps(groups: np.ndarray, base: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Which agents' change of telecentre is only a trade with identical twins.

    Within each group of twins, the agents of the base plan at telecentre
    ``t`` (-1: none) are matched to the twins at ``t`` in the other plan;
    an agent that changed is a *twin swap* when a twin took its place, that
    is when the group has at ``t`` in the other plan more agents than those
    that stayed there.

    Parameters
    ----------
    groups
        From :func:`twin_groups`.
    base, other
        ``(n_agents,)`` telecentre of each agent in the two plans (-1: none).

    Returns
    -------
    numpy.ndarray
        ``(n_agents,)`` booleans: changed, and a twin took its place.
    """
    out = np.zeros(base.size, dtype=bool)
    changed = base != other
    sizes = np.bincount(groups)
    for g in np.unique(groups[changed & (sizes[groups] > 1)]).tolist():
        members = np.flatnonzero(groups == g)
        b, o = base[members], other[members]
        for t in np.unique(b[b != o]).tolist():
            kept = int(((b == t) & (o == t)).sum())
            taken = min(int((b == t).sum()), int((o == t).sum())) - kept
            out[members[(b == t) & (o != t)][:taken]] = True
    return out


def assess(
    result: RunResult,
    solve: Callable[[RoadNetwork], RunResult],
    uncertainty: float,
    *,
    progress: Progress | None = None,
    relaxed: Callable[[RoadNetwork], RunResult] | None = None,
) -> Robustness:
    """Solve the plan again under drive-time scenarios and measure what holds.

    Parameters
    ----------
    result
        The run to assess (a :class:`optimizer.pipeline.RunResult`).
    solve
        Runs the same plan on another network and returns its result (the
        command passes :func:`optimizer.pipeline.run` with the same options).
    uncertainty
        How far drive times may be off, a fraction (``0.15``).
    progress
        Called with a short message before each scenario.
    relaxed
        Runs the plan without the must-assign rule: used for a scenario in
        whose times the agents who must be assigned cannot all be (their
        telecentre no longer saves time, say), which is then listed in the
        summary (``scenarios_without_must_assign``). None: such a scenario
        raises :class:`optimizer.errors.InfeasibleError`.

    Returns
    -------
    Robustness
        Per agent and per scenario.
    """
    base = result.assignment.telecentre
    ids = list(result.problem.agent_ids)
    groups = twin_groups(result.agents, result.previous)
    tally = _Tally(base, _plan_saving(result.problem, base))
    if not isinstance(result.network, RoadNetwork):
        msg = (
            "--speed-uncertainty retimes one road network; a national network folder is timed "
            "département by département: give one network file for it."
        )
        raise InputError(msg)
    cases = scenarios(uncertainty)
    for k, case in enumerate(cases):
        if progress:
            progress(f"drive-time scenario {k + 1} of {len(cases)}: {case.name}")
        other = _scenario_run(result.network, case, solve, relaxed, tally.broken)
        if list(other.problem.agent_ids) != ids:  # pragma: no cover - same inputs, same order
            msg = "a scenario's plan lists other agents; this is a bug."
            raise RuntimeError(msg)
        tally.add(case.name, other, groups)
    agents = pd.DataFrame(
        {
            "agent_id": ids,
            "holds": tally.same + tally.swapped == len(cases),
            "scenarios_same": tally.same,
            "scenarios_twin_swap": tally.swapped,
            "saving_week_low": tally.low.round(1),
            "saving_week_high": tally.high.round(1),
        }
    )
    table = pd.DataFrame(tally.rows)
    summary = tally.summary(uncertainty, len(cases), agents, table)
    logger.info(
        "drive-time uncertainty %.0f%%: %d of %d agents keep their plan in all %d scenarios",
        uncertainty * 100,
        summary["agents_holding"],
        base.size,
        len(cases),
    )
    return Robustness(agents=agents, scenarios=table, uncertainty=uncertainty, summary=summary)


def _scenario_run(
    network: RoadNetwork,
    case: Scenario,
    solve: Callable[[RoadNetwork], RunResult],
    relaxed: Callable[[RoadNetwork], RunResult] | None,
    broken: list[str],
) -> RunResult:
    """Solve the plan in one scenario's times; without must-assign (``broken``) if it must."""
    retimed = scenario_network(network, case)
    try:
        return solve(retimed)
    except InfeasibleError as exc:
        if relaxed is None:
            raise
        logger.warning("scenario %r: %s Solved without must-assign.", case.name, exc)
        broken.append(case.name)
        return relaxed(retimed)


class _Tally:
    """What holds of a plan over the scenarios: per agent, and one row per scenario."""

    def __init__(self, base: np.ndarray, own: np.ndarray) -> None:
        self.base = base  # each agent's telecentre in the plan assessed (-1: none)
        self.own = own  # each agent's saving in that plan
        self.same = np.zeros(base.size, dtype=int)
        self.swapped = np.zeros(base.size, dtype=int)
        self.low, self.high = own.copy(), own.copy()
        self.rows: list[dict[str, Any]] = []
        self.broken: list[str] = []  # scenarios solved without must-assign

    def add(self, name: str, other: RunResult, groups: np.ndarray) -> None:
        """Count one scenario's plan ``other`` against the plan assessed."""
        base = self.base
        kept = other.assignment.telecentre == base
        swap = twin_swaps(groups, base, other.assignment.telecentre)
        self.same += kept
        self.swapped += swap
        saving = _plan_saving(other.problem, base)
        self.low, self.high = np.minimum(self.low, saving), np.maximum(self.high, saving)
        self.rows.append(
            {
                "scenario": name,
                "assigned": int((other.assignment.telecentre >= 0).sum()),
                "agents_same": int(kept.sum()),
                "agents_twin_swap": int(swap.sum()),
                "plan_saving_week": round(float(saving.sum()), 1),
                "best_saving_week": round(
                    float(_plan_saving(other.problem, other.assignment.telecentre).sum()), 1
                ),
            }
        )

    def summary(
        self, uncertainty: float, n_cases: int, agents: pd.DataFrame, table: pd.DataFrame
    ) -> dict[str, Any]:
        """Return the summary of :class:`Robustness`."""
        same, swapped = self.same, self.swapped
        assigned = self.base >= 0
        return {
            "uncertainty": uncertainty,
            "scenarios": n_cases,
            "agents_holding": int(agents["holds"].sum()),
            "assigned_agents_holding": int((agents["holds"] & assigned).sum()),
            "assigned_agents_holding_exactly": int(((same == n_cases) & assigned).sum()),
            "assigned_agents_twin_swap": int((agents["holds"] & (swapped > 0) & assigned).sum()),
            "assigned_agents_flipping": int((~agents["holds"] & assigned).sum()),
            "assigned_agents": int(assigned.sum()),
            "plan_saving_week": round(float(self.own.sum()), 1),
            "plan_saving_week_low": round(float(table["plan_saving_week"].min()), 1),
            "plan_saving_week_high": round(float(table["plan_saving_week"].max()), 1),
            "scenarios_without_must_assign": self.broken,
            "per_scenario": self.rows,
        }
