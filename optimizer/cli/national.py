"""``assign --network FOLDER`` beyond one table: the grouped national plan and its result line.

A national network folder (département boundaries and their OSM files) goes
through the one pipeline up to :data:`~optimizer.national.travel.DENSE_LIMIT_PAIRS`
agent x destination pairs; beyond, :func:`grouped_plan` runs the grouped
national plan (:func:`optimizer.national.files.run_national_files`), which
takes fewer options: the others are refused, never silently ignored.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

import optimizer.datasets as datasets
import optimizer.settings as settings
from optimizer.cli.assign_options import AssignArgs
from optimizer.cli.common import given
from optimizer.cli.console import EXIT_INPUT, Steps, exit_codes, fail, fail_input
from optimizer.errors import InputError, NetworkError
from optimizer.i18n import Lang, translate
from optimizer.inputs import HeadOffice, parse_lonlat, read_table
from optimizer.model import counted
from optimizer.national.plan import DEFAULT_BUFFER_KM as NATIONAL_BUFFER_KM
from optimizer.national.travel import DENSE_LIMIT_PAIRS

if TYPE_CHECKING:
    from optimizer.national.plan import NationalPlan

#: Options a national run has no use for: refused when given, never silently ignored.
_NOT_NATIONAL = (
    ("--move-penalty", "move_penalty"),
    ("--day-change-penalty", "day_change_penalty"),
    ("--rank", "rank"),
)


def grouped_plan(ctx: click.Context, args: AssignArgs, steps: Steps, lang: Lang) -> bool:
    """Plan a network folder by the grouped national plan when it exceeds one table.

    Returns
    -------
    bool
        Whether it did (False: the folder's table fits one table, for the one pipeline).
    """
    try:
        pairs = _dense_pairs(args.agents, args.telecentres, args.workplaces)
    except (InputError, NetworkError) as exc:
        fail_input(exc)
    if pairs <= DENSE_LIMIT_PAIRS:
        return False
    unsupported = _unsupported(ctx, args)
    if not unsupported and args.speed_profile not in settings.SPEED_PROFILES:
        known = ", ".join(sorted(settings.SPEED_PROFILES))
        fail(f"--speed-profile: '{args.speed_profile}' is not a profile ({known}).", EXIT_INPUT)
    if unsupported:
        fail(
            f"{pairs:,} agent x destination pairs exceed the {DENSE_LIMIT_PAIRS:,} of one "
            f"table: the grouped national plan takes them, without {', '.join(unsupported)}; "
            "plan fewer agents at a time for those.",
            EXIT_INPUT,
        )
    with exit_codes(busy=True):
        plan = _national(args, steps, lang)
        steps.finish()
    if not steps.quiet:
        click.echo(translate(_national_line(plan), lang))
        chosen = plan.summary.get("selection")
        if chosen is not None and chosen["why_fewer"]:
            click.echo(translate(chosen["why_fewer"], lang))
    return True


def _unsupported(ctx: click.Context, args: AssignArgs) -> list[str]:
    """Return the options given that the grouped national plan does not take."""
    return [
        name
        for name, on in (
            # the grouped plan is the flow wherever it is exact, the weekly model elsewhere
            ("--engine cp-sat", args.engine == "cp-sat"),
            ("--minimax", args.minimax),
            ("--frontier", args.write_frontier),
            ("--max-open", args.max_open is not None),
            ("--previous", args.previous is not None),
            ("--pseudonymise", args.salt is not None),
            ("--key-file", args.key_file is not None),
            ("--speed-uncertainty", args.speed_uncertainty is not None),
            *((name, given(ctx, param)) for name, param in _NOT_NATIONAL),
            (
                "--speed-profile CSV",
                args.speed_profile.lower().endswith((".csv", ".txt")),
            ),
        )
        if on
    ]


def _national(args: AssignArgs, steps: Steps, lang: Lang) -> NationalPlan:
    """Run the grouped national plan (a folder whose table exceeds ``DENSE_LIMIT_PAIRS``).

    Dask's own log lines (start-up, shut-down, a failed task's traceback on a
    worker) are shown with ``--verbose`` only: a failure comes back here and
    is said in one line.
    """
    from optimizer.national.files import run_national_files
    from optimizer.national.folder import rounds_to_cover
    from optimizer.national.plan import DEFAULT_MAX_MINUTES, NationalOptions
    from optimizer.national.sources import read_departements

    agents, telecentres, network = args.agents, args.telecentres, args.network_path
    if agents is None or telecentres is None or network is None:
        msg = "--scheduler needs --agents, --telecentres and --network (a national folder)."
        raise InputError(msg)
    border_km = NATIONAL_BUFFER_KM if args.border_km is None else args.border_km
    return run_national_files(
        agents,
        telecentres,
        network,
        Path(args.out),
        scheduler=args.scheduler,
        head_office=HeadOffice(*parse_lonlat(args.head_office), name="head office")
        if args.head_office is not None
        else None,
        workplaces=args.workplaces,
        options=NationalOptions(
            max_minutes=args.max_minutes or DEFAULT_MAX_MINUTES,
            min_saving=args.min_saving,
            no_worse_off=not args.allow_worse_off,
            time_limit_s=args.time_limit,
            buffer_km=border_km,
            # as a dense folder run widens: until a region spans the folder, if pairs are left
            widen_rounds=rounds_to_cover(read_departements(Path(network)), border_km),
            seed=args.seed,
            select=args.select,
            select_by=args.select_by,
            preference_bonus=args.preference_bonus,
            day_bonus=args.day_bonus,
            dedicated_desks=args.dedicated_desks,
            objective=args.objective,
        ),
        crs=args.crs,
        speed_profile=args.speed_profile,
        speed_model=args.speed_model_name,
        progress=steps,
        log_level=logging.INFO if args.verbose else logging.CRITICAL,
        csv_style=args.csv_style,
        lang=lang,
    )


def _national_line(plan: NationalPlan) -> str:
    """Return the result line of a national run, in English ("; "-separated sentences)."""
    summary = plan.summary
    placed = summary["placed"]
    wider = [float(r["margin_km"]) for r in summary.get("widened", [])]
    unsure = (
        f"{summary['open_pairs']:,} (agent, site) pair(s) that may improve the plan and "
        f"{summary['agents_commute_unknown']:,} agent(s)' commutes not certified within the "
        f"{summary['buffer_km']:g} km border buffers"
        + (f" nor in their regions with margins up to {max(wider):g} km" if wider else "")
        + " (a wider --border-km certifies more: see summary.json)."
    )
    # "; "-separated parts, each a sentence of the catalogue (optimizer.i18n)
    return (
        f"{counted(len(plan.allocation), 'agent')} in {summary['groups']} groups: "
        f"{placed} assigned; {plan.saving_minutes_week:,.0f} minutes saved a week; "
        + (
            "optimal (every pair that could improve it certified, or ruled out by its bounds)."
            if plan.exact and plan.proven
            else f"optimal on the certified pairs only: {unsure}"
            if plan.proven
            else f"best plan found, within {summary['gap']:.2%} of the bound (not proven)"
            + ("." if plan.exact else f"; {unsure}")
        )
        + _merged_bound_part(plan)
        + _time_part(plan)
    )


def _time_part(plan: NationalPlan) -> str:
    """Return the part that says the time limit ended the search, when it did."""
    if not plan.summary.get("time_limit_cut"):
        return ""
    return (
        "; the time limit ended the search before it was done "
        "(a longer --time-limit, or another run, may find another plan)."
    )


def _merged_bound_part(plan: NationalPlan) -> str:
    """Return the part that bounds a plan not exact on the merged network, when known."""
    summary = plan.summary
    if plan.exact:
        return ""
    if summary.get("merged_bound_travel_week") is not None:  # the travel objective
        least = summary["merged_bound_travel_week"]
        return f"; every plan on the merged network drives at least {least:,.0f} minutes a week."
    km = "merged_bound_km_week" in summary  # the km objective
    bound = summary.get("merged_bound_km_week" if km else "merged_bound_minutes_week")
    if bound is None:
        return ""
    unit = "km" if km else "minutes"
    return f"; every plan on the merged network saves at most {bound:,.0f} {unit} a week."


def _dense_pairs(agents: Path | None, telecentres: Path | None, workplaces: Path | None) -> int:
    """Agent x destination pairs of a run's travel table, from the files' row counts."""
    n_agents = _rows(agents) if agents is not None else len(datasets.agents())
    n_sites = _rows(telecentres) if telecentres is not None else len(datasets.telecentres())
    n_work = _rows(workplaces) if workplaces is not None else 0
    return n_agents * (n_sites + 1 + n_work)


def _rows(path: Path) -> int:
    """Count the data rows of a table file: lines less the header for text, else rows read."""
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        try:
            with path.open("rb") as handle:
                return max(0, sum(1 for line in handle if line.strip()) - 1)
        except OSError:
            return 0  # the reader says what is wrong with it
    try:
        return len(read_table(path))
    except (InputError, OSError):
        return 0
