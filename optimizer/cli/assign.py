"""The ``assign`` command: with no subcommand, plan: check, read, solve, write, print.

:func:`main` is the click group of every subcommand (``network``,
``geocode``, ``calibrate``, registered in :mod:`optimizer.cli`); run alone,
it parses its options (:mod:`optimizer.cli.assign_options`) into one
:class:`~optimizer.options.PlanOptions`, calls :func:`optimizer.pipeline.run`
(or the grouped national plan, :mod:`optimizer.cli.national`), writes the
files and prints the result lines (:mod:`optimizer.cli.results`).
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd

from optimizer.cli.assign_inputs import (
    check_request,
    previous_plan,
    read_tables,
    road_network,
    run_sources,
    sources,
)
from optimizer.cli.assign_options import AssignArgs, assign_options, plan_options
from optimizer.cli.common import speed_setup
from optimizer.cli.console import (
    EXIT_INPUT,
    OneLineErrors,
    Steps,
    exit_codes,
    fail,
    show_log,
)
from optimizer.cli.national import grouped_plan
from optimizer.cli.results import Done, print_result
from optimizer.dask_travel import dask_client
from optimizer.i18n import Lang, resolve_lang
from optimizer.inputs import HeadOffice
from optimizer.national.cluster import parse_scheduler
from optimizer.network import RoadNetwork
from optimizer.options import PlanOptions
from optimizer.pipeline import RunResult, plan_frontier, run
from optimizer.publish import OutputFolder
from optimizer.report import OWN_FILES, pseudonym, write_outputs
from optimizer.sharing import write_key_file
from optimizer.uncertainty import Robustness, assess


@click.group(
    cls=OneLineErrors,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@assign_options
@click.pass_context
def main(ctx: click.Context, /, **params: Any) -> None:
    """Assign telework volunteers to telecentres, optimally, on a road network.

    With no option, runs on the embedded Lozère default (a synthetic roster, the
    SoLozère telecentres, an approximate offline road network) and writes
    ./assignment/.
    """
    if ctx.invoked_subcommand is not None:
        return
    args = AssignArgs(**params)
    language = resolve_lang(args.lang)
    show_log(quiet=args.quiet, verbose=args.verbose, lang=language)
    steps = Steps(quiet=args.quiet, lang=language)
    national = args.network_path is not None and args.network_path.is_dir()
    if args.border_km is not None and not national:
        fail(
            "--border-km is for national runs: give a national network folder (département "
            "boundaries and their OSM files) as --network.",
            EXIT_INPUT,
        )
    if national and grouped_plan(ctx, args, steps, language):
        return
    done = _plan(ctx, args, steps, language, national=national)
    if not args.quiet:
        print_result(done, args, steps, language)


def _plan(
    ctx: click.Context, args: AssignArgs, steps: Steps, lang: Lang, *, national: bool
) -> Done:
    """Check, read, solve and write one plan; an error is one line and an exit code.

    The ``--out`` folder is held from before the inputs are read to after the
    files are written; a Dask cluster (``--scheduler``) is closed before it is
    released.
    """
    with ExitStack() as stack, exit_codes(busy=True):
        src = sources(args)
        check_request(ctx, args, src)
        options = plan_options(asdict(args))
        if args.scheduler is not None:
            parse_scheduler(args.scheduler)  # a bad value is said before anything is written
        folder = OutputFolder(args.out, own_names=OWN_FILES)
        stack.callback(folder.release)
        folder.acquire()  # fail now, not after the solve, if another run holds --out
        steps("reading agents and telecentres")
        agents, sites, work = read_tables(args, src)
        speeds, model = speed_setup(args.speed_profile, args.speed_model_name)
        # --scheduler: the travel stages run on the cluster (reached after the inputs
        # are read, before the long work: an address that does not answer is said at once);
        # the plan is the same
        if args.scheduler is not None:
            steps(f"starting or reaching the Dask cluster (--scheduler {args.scheduler})")
        client = stack.enter_context(
            dask_client(
                args.scheduler,
                progress=steps,
                log_level=logging.INFO if args.verbose else logging.CRITICAL,
            )
        )
        network = road_network(args, src, speeds, model, steps, national=national)
        problem = _Problem(
            agents=agents,
            sites=sites,
            head_office=src.head_office,
            options=options,
            previous=previous_plan(args, agents),
            workplaces=work,
            scheduler=client,
        )
        result = run(
            agents,
            sites,
            src.head_office,
            network,
            options,
            scheduler=client,
            previous=problem.previous,
            sources=run_sources(args, src),
            progress=steps,
            workplaces=work,
        )
        robust = _robustness(args, problem, result, steps)
        written = _write(args, result, robust, folder, steps, lang, agents=agents)
        steps.finish()
    return Done(result=result, agents=agents, robust=robust, written=written)


@dataclass(frozen=True)
class _Problem:
    """What :func:`optimizer.pipeline.run` is given besides the network, as read."""

    agents: pd.DataFrame
    sites: pd.DataFrame
    head_office: HeadOffice
    options: PlanOptions
    previous: pd.DataFrame | None
    workplaces: pd.DataFrame | None
    scheduler: Any


def _robustness(
    args: AssignArgs, problem: _Problem, result: RunResult, steps: Steps
) -> Robustness | None:
    """Solve again under slower and faster drive times (``--speed-uncertainty``), else None."""
    if args.speed_uncertainty is None:
        return None
    agents = problem.agents

    def rerun(other: RoadNetwork, roster: pd.DataFrame = agents) -> RunResult:
        return run(
            roster,
            problem.sites,
            problem.head_office,
            other,
            problem.options,
            previous=problem.previous,
            workplaces=problem.workplaces,
            scheduler=problem.scheduler,
        )

    return assess(
        result,
        rerun,
        args.speed_uncertainty / 100.0,
        progress=steps,
        relaxed=lambda other: rerun(other, agents.assign(must_assign=False)),
    )


def _write(
    args: AssignArgs,
    result: RunResult,
    robust: Robustness | None,
    folder: OutputFolder,
    steps: Steps,
    lang: Lang,
    *,
    agents: pd.DataFrame,
) -> dict[str, Path]:
    """Write the run's files (and the frontier, the key file when asked); return them by name."""
    curve = None
    if args.write_frontier:
        steps("tracing the saving / longest-drive frontier")
        curve = plan_frontier(result)
    steps(f"writing results to {args.out}")
    written = write_outputs(
        result,
        folder,
        extra_timings={"total_s": steps.elapsed},
        pseudonymise_salt=args.salt,
        frontier=curve,
        maps=not args.no_maps,
        robustness=robust,
        csv_style=args.csv_style,
        lang=lang,
    )
    if args.key_file is not None and args.salt is not None:
        salt = args.salt
        ids = agents["agent_id"].astype(str)
        write_key_file(
            pd.DataFrame({"agent_id": ids, "pseudonym": [pseudonym(a, salt) for a in ids]}),
            args.key_file,
            out_dir=args.out,
        )
    return written
