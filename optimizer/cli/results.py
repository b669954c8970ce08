"""The result lines ``assign`` prints after a plan: the plan, ties, notes, re-plan, risks.

Each line is written in English and said through
:func:`optimizer.i18n.translate`, in the run's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd

from optimizer.cli.assign_options import AssignArgs
from optimizer.cli.console import Steps
from optimizer.i18n import Lang, localise_table, translate
from optimizer.model import counted
from optimizer.pipeline import RunResult, TieReport
from optimizer.report import (
    made_up,
    off_network_warning,
    plan_notes,
    pseudonym,
    ranking_table,
    replan_summary,
    solver_outcome,
    telecentre_table,
    weekly_savings,
)
from optimizer.uncertainty import Robustness


@dataclass(frozen=True)
class Done:
    """What a run of ``assign`` leaves for its result lines."""

    result: RunResult
    #: the roster as read (its ``attrs["warnings"]`` are said at the end)
    agents: pd.DataFrame
    robust: Robustness | None
    written: dict[str, Path]


def print_result(done: Done, args: AssignArgs, steps: Steps, lang: Lang) -> None:
    """Print the result lines of a run, in ``lang``."""
    result, salt = done.result, args.salt

    def say(line: str) -> None:
        click.echo(translate(line, lang))

    say(_plan_line(result, args.time_limit))
    if result.ties is not None and result.ties.lost:
        say(_ties_line(result.ties))
    for line in plan_notes(result, whole_minutes=salt is not None)["lines"]:
        say(line)
    if result.exactness is not None:
        say(exactness_line(result.exactness))
    replan = replan_summary(result)
    if replan is not None:
        say(replan_line(replan))
        if replan["warning"]:
            say(f"WARNING: {replan['warning']}")
    if args.rank:
        table = ranking_table(result).head(args.rank)
        if salt is not None:
            table["agent_id"] = [pseudonym(a, salt) for a in table["agent_id"]]
        say(f"Longest commutes to the head office (top {len(table)}):")
        click.echo(localise_table(table, lang).to_string(index=False))
    if done.robust is not None and args.speed_uncertainty is not None:
        for line in _robust_lines(done.robust, args.speed_uncertainty):
            say(line)
    for warning in [*done.agents.attrs.get("warnings", []), *made_up(result)]:
        say(f"WARNING: {warning}")
    off_network = off_network_warning(
        result, rename=None if salt is None else lambda a: pseudonym(a, salt)
    )
    if off_network:
        say(f"WARNING: {off_network}")
    say(f"Wrote {', '.join(str(p) for p in done.written.values())} in {steps.elapsed:.1f} s.")


def _plan_line(result: RunResult, time_limit: float) -> str:
    """Return the plan in one line: agents assigned, desk-days used, savings, how good it is."""
    assignment = result.assignment
    assigned = int(assignment.assigned.sum())
    minutes, km = weekly_savings(result)
    outcome = solver_outcome(
        assignment.status,
        assignment.objective_value,
        assignment.best_bound,
        minimise=result.problem.objective == "travel",
    )  # the same words as summary.json
    quality = (
        "optimal"
        if outcome["status"] == "optimal"
        else f"best found within the {time_limit:g} s limit"
        + (f", at most {outcome['gap']:.2%} from the best possible" if outcome["gap"] else "")
    )
    centres = telecentre_table(result)
    used, offered = int(centres["desk_days_used"].sum()), int(centres["desk_days_offered"].sum())
    policy = "dedicated desks" if result.options.dedicated_desks else "desks shared by weekday"
    return (
        f"{counted(result.problem.n_agents, 'agent')}: {assigned} assigned, "
        f"{result.problem.n_agents - assigned} not assigned; {used} of {offered} desk-days "
        f"used ({policy}); {minutes:,.0f} minutes and {km:,.0f} km saved a week "
        f"(round trips); {quality}."
    )


def _ties_line(ties: TieReport) -> str:
    """How the ties left agents out: by priority, by the drive, by the draw."""
    by = ties.counts()
    return (
        f"Ties: {counted(len(ties.lost), 'agent')} left out for an equal placed "
        f"(same saving, weekdays and rules), decided by priority for {by['priority']}, by "
        f"the longer drive to the head office for {by['commute']}, by the draw (seed "
        f"{ties.order.seed}) for {by['draw']}: see 'reason' in allocation.csv."
    )


def _robust_lines(robust: Robustness, percent: float) -> list[str]:
    """Whether the plan holds when drive times are ``percent`` % off, and its saving's range."""
    info = robust.summary
    holding = counted(info["assigned_agents"], "assigned agent")
    lines = [
        f"Drive times {percent:g} % off ({info['scenarios']} scenarios): "
        f"{info['assigned_agents_holding']} of {holding} "
        f"keep their telecentre in every scenario ({info['assigned_agents_holding_exactly']} "
        f"themselves, {info['assigned_agents_twin_swap']} by a tie: an identical twin, same "
        f"home, days and rules, takes their place), {info['assigned_agents_flipping']} "
        f"change it as drive times change; the plan saves "
        f"{info['plan_saving_week_low']:,.0f} to {info['plan_saving_week_high']:,.0f} minutes "
        "a week."
    ]
    if info["scenarios_without_must_assign"]:
        lines.append(
            "WARNING: in "
            f"{counted(len(info['scenarios_without_must_assign']), 'drive-time scenario')} "
            f"({'; '.join(info['scenarios_without_must_assign'])}), the agents who must be "
            "assigned cannot all be: those scenarios were solved without must-assign."
        )
    return lines


def replan_line(replan: dict[str, Any]) -> str:
    """Say in one console line what a re-plan changed (:func:`optimizer.report.replan_summary`).

    Parameters
    ----------
    replan
        The summary's ``replan`` section.

    Returns
    -------
    str
        Who kept their telecentre and weekdays, changed weekdays, moved, joined, left.
    """
    if replan["stayed_other_weekdays"] is None:
        stayed = (
            f"{replan['stayed']} kept their telecentre (weekdays not compared: no schedule.csv "
            "next to the previous allocation)"
        )
    else:
        stayed = (
            f"{replan['stayed_same_weekdays']} kept their telecentre and weekdays, "
            f"{replan['stayed_other_weekdays']} kept their telecentre on other weekdays"
        )
    return (
        f"Re-plan from {replan['previous_file']}: {stayed}, {replan['moved']} moved, "
        f"{replan['added']} newly placed, {replan['removed']} no longer placed, "
        f"{replan['joined']} joined, {replan['left']} left (move penalty "
        f"{replan['move_penalty']:g} min a week, day-change penalty "
        f"{replan['day_change_penalty']:g} min a week a weekday)."
    )


def exactness_line(exactness: dict[str, Any]) -> str:
    """Say in one console line whether a plan on a network folder is the merged network's optimum.

    Parameters
    ----------
    exactness
        :attr:`optimizer.pipeline.RunResult.exactness`.

    Returns
    -------
    str
        The line (the words of the catalogue, :mod:`optimizer.i18n`).
    """
    if exactness["exact"]:
        return (
            "Exact on the merged network: every pair that could improve the plan is certified, "
            "or bounded without improving it."
        )
    if exactness["gap"] is None:
        return f"Not proven exact on the merged network: {exactness['why']}."
    gap = exactness["gap"]
    return (
        f"Not proven exact on the merged network: at most {gap['absolute']:,.1f} "
        f"{exactness['unit']} more ({gap['relative']:.2%}) by the bound; {exactness['why']}."
    )
