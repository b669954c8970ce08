"""The ``assign`` command: parse options, call the library, show progress, set exit codes.

Exit codes: 0 success; 2 bad input (a file, a value, an option: one line on
stderr says what and what to do); 1 the problem cannot be solved as asked;
3 another run is writing to the same ``--out`` folder.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

import optimizer.datasets as datasets
import optimizer.settings as settings
from optimizer.calibration import calibrate, is_profile, profile_text
from optimizer.dask_travel import dask_client
from optimizer.errors import (
    BusyError,
    InfeasibleError,
    InputError,
    NetworkError,
    OptimizerError,
    SolverError,
)
from optimizer.geocode import (
    BAD_ANSWER,
    BAN_URL,
    COORDINATES_GIVEN,
    MIN_SCORE,
    geocode_roster,
    is_geocode_output,
)
from optimizer.i18n import LANGS, Lang, fill, localise_table, resolve_lang, translate
from optimizer.inputs import (
    AGENT_ALIASES,
    NUMBER,
    HeadOffice,
    _header_key,
    check_in_area,
    parse_lonlat,
    read_agents,
    read_area,
    read_reference_trips,
    read_speed_factors,
    read_speed_table,
    read_table,
    read_telecentres,
    read_workplaces,
    split_layer,
)
from optimizer.model import Objective, counted
from optimizer.national.cluster import parse_scheduler
from optimizer.national.plan import DEFAULT_BUFFER_KM as NATIONAL_BUFFER_KM
from optimizer.national.travel import DENSE_LIMIT_PAIRS, NetworkFolder, open_network_folder
from optimizer.network import (
    DEFAULT_BUFFER_KM,
    RoadNetwork,
    download_network,
    load_network,
    save_network,
)
from optimizer.options import (
    DEFAULT_DAY_BONUS,
    DEFAULT_DAY_CHANGE_PENALTY,
    DEFAULT_MIN_SAVING,
    DEFAULT_MOVE_PENALTY,
    DEFAULT_PREFERENCE_BONUS,
    DEFAULT_SEED,
    PlanOptions,
)
from optimizer.outfile import check_cache_dir, check_out_file, write_out_file
from optimizer.pipeline import RunResult, plan_frontier, run
from optimizer.places import nearest_commune
from optimizer.publish import OutputFolder
from optimizer.replan import match_previous, read_previous_allocation
from optimizer.report import (
    CSV_STYLES,
    OWN_FILES,
    CsvStyle,
    csv_text,
    made_up,
    off_network_warning,
    plan_notes,
    pseudonym,
    ranking_table,
    replan_summary,
    solver_outcome,
    telecentre_table,
    weekly_savings,
    write_outputs,
)
from optimizer.sharing import check_key_file, write_key_file
from optimizer.speed_model import (
    DEFAULT_SPEED_MODEL,
    GROUPS,
    SPEED_MODELS,
    SpeedModel,
    speed_model,
)
from optimizer.uncertainty import assess

EXIT_INPUT = 2
EXIT_UNSOLVABLE = 1
EXIT_BUSY = 3


class _Steps:
    """Step-by-step progress on stderr, with the time each step took; silent when quiet."""

    def __init__(self, *, quiet: bool, lang: Lang = "en") -> None:
        self.quiet = quiet
        self.lang = lang
        self.started = time.perf_counter()
        self._step_started: float | None = None
        self._message = ""

    def __call__(self, message: str) -> None:
        self.finish()
        self._message = message
        self._step_started = time.perf_counter()
        if not self.quiet:
            click.echo(f"  {translate(message, self.lang)} ...", err=True)

    def finish(self) -> None:
        if self._step_started is not None and not self.quiet:
            took = time.perf_counter() - self._step_started
            if took >= 1.0:
                step = translate(self._message, self.lang)
                click.echo(f"    {translate(f'({step}: {took:.1f} s)', self.lang)}", err=True)
        self._step_started = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _objective(name: str) -> Objective:
    return "km" if name == "km" else "travel" if name == "travel" else "minutes"


def _fail(message: str, code: int, details: Sequence[str] = ()) -> None:
    lang = _console_lang()
    said = translate(_flat(message), lang)
    click.echo(fill("assign: error: {message}", lang, message=said), err=True)  # one line
    for detail in details:  # then one line per item at fault (every bad row of a roster)
        click.echo(f"  {translate(_flat(detail), lang)}", err=True)
    sys.exit(code)


def _console_lang(args: Sequence[str] | None = None) -> Lang:
    """Return the language the console speaks: the command's ``--lang``, else the locale's.

    Read from the command being run, or, before it is parsed (a usage error),
    from its arguments ``args``.
    """
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        given = ctx.params.get("lang")
        if isinstance(given, str) and given.lower() in LANGS:
            return resolve_lang(given)
        ctx = ctx.parent
    words = list(args or ())
    for k, word in enumerate(words):
        value = word.split("=", 1)[1] if word.startswith("--lang=") else None
        if word == "--lang" and k + 1 < len(words):
            value = words[k + 1]
        if value is not None and value.strip().lower() in LANGS:
            return resolve_lang(value)
    return resolve_lang(None)


def _flat(text: str) -> str:
    """Return ``text`` on one line of printable characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _fail_input(exc: InputError | NetworkError) -> None:
    """Say an input error, its first line then its items, and exit with code 2."""
    if isinstance(exc, InputError) and exc.details:
        _fail(exc.summary, EXIT_INPUT, exc.details)
    _fail(str(exc), EXIT_INPUT)


MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY
MAX_COUNT = 10_000_000


class _Finite(click.FloatRange):
    """A number option: a plain finite number within its range (no nan, inf, 1_0)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            if not NUMBER.fullmatch(value.strip()):
                self.fail(f"'{value}' is not a number. Give {self._span()}.", param, ctx)
            if not math.isfinite(float(value)):
                self.fail(f"'{value}' is too large. Give {self._span()}.", param, ctx)
        number = super().convert(value, param, ctx)
        return number

    def _span(self) -> str:
        low = "more than" if self.min_open else "from"
        return f"a number {low} {self.min:g} to {self.max:g}"

    def _describe_range(self) -> str:
        return f"{'>' if self.min_open else ''}{self.min:g}..{self.max:g}"


SPEED_PROFILE_OPTION = click.option(
    "--speed-profile",
    default=settings.DEFAULT_SPEED_PROFILE,
    show_default=True,
    metavar="NAME|CSV",
    help="Speeds of roads without a maxspeed tag: 'lozere' (90 km/h on departmental roads "
    "since 2020), 'lozere80' (the 80 km/h regime), 'france' (legal limits), or a CSV file "
    "of your own with columns highway,kmh.",
)


SPEED_MODEL_OPTION = click.option(
    "--speed-model",
    "speed_model_name",
    type=click.Choice(SPEED_MODELS),
    default=DEFAULT_SPEED_MODEL,
    show_default=True,
    help="How roads are timed: 'realistic' (a car's speed: below the limit, slower in bends, "
    "delays at junctions, signals and stops, town speeds in built-up areas) or 'free-flow' "
    "(every road at its speed limit, no delay).",
)


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one existing file."""
    try:
        return a.is_file() and b.is_file() and a.samefile(b)
    except OSError:
        return False


def _inputs_not_outputs(out: str, inputs: dict[str, str | Path | None]) -> None:
    """Refuse an input kept in ``out`` under the name of a file the run writes there.

    The run would replace it with its own table (and the next run would read
    that table as its input). ``--previous`` may be the run's own
    ``allocation.csv``: it is the tool's file, read before it is replaced.
    """
    folder = Path(out)
    for option, source in inputs.items():
        if source is None:
            continue
        given = Path(split_layer(source)[0])
        for name in sorted(OWN_FILES):
            if _same_file(given, folder / name):
                msg = (
                    f"{option}: '{source}' is the {name} of --out '{out}': this run writes its "
                    f"own {name} there and would replace it. Move the input out of that "
                    "folder, or give another --out."
                )
                raise InputError(msg)


def _speed_profile(value: str) -> str | dict[str, float]:
    """Return the profile name, or the table read from a CSV file."""
    if value in settings.SPEED_PROFILES:
        return value
    if value.lower().endswith((".csv", ".txt")):
        return read_speed_table(value)
    known = ", ".join(sorted(settings.SPEED_PROFILES))
    msg = f"--speed-profile: '{value}' is neither a profile ({known}) nor a .csv file."
    raise InputError(msg)


def _speed_setup(profile: str, model_name: str) -> tuple[str | dict[str, float], SpeedModel]:
    """Return the profile and the speed model: a profile CSV's ``factor`` column calibrates it."""
    speeds = _speed_profile(profile)
    model = speed_model(model_name)
    if model.name == "free-flow":
        return speeds, model
    if isinstance(speeds, dict):
        factors, params = read_speed_factors(profile)
        if factors or params:
            return speeds, model.with_factors(factors, source=f"profile {profile}", **params)
    return speeds, model


class _OneLineErrors(click.Group):
    """A group whose usage errors are one line (``assign: error: ...``) and exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        given = kwargs.get("args", args[0] if args else None)
        words = [str(w) for w in (sys.argv[1:] if given is None else given)]
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # pragma: no cover - not configured
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except click.ClickException as exc:
            hint = " (see assign --help)" if isinstance(exc, click.UsageError) else ""
            lang = _console_lang(words)
            said = translate(_flat(f"{exc.format_message()}{hint}"), lang)
            click.echo(fill("assign: error: {message}", lang, message=said), err=True)
            sys.exit(EXIT_INPUT)
        except click.Abort:
            click.echo(translate("assign: interrupted", _console_lang(words)), err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(
    cls=_OneLineErrors,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--agents",
    type=click.Path(path_type=Path),
    default=None,
    help="Volunteers: CSV (agent_id, lon, lat, telework_days[, commune]), GeoPackage or "
    "GeoJSON. Default: the embedded synthetic Lozère roster.",
)
@click.option(
    "--telecentres",
    type=click.Path(path_type=Path),
    default=None,
    help="Telecentres: CSV (telecentre_id, name, lon, lat, capacity: desks each weekday; or "
    "desks per day in columns mon..fri / lundi..vendredi) or a point layer. "
    "Default: the 7 SoLozère telecentres with ILLUSTRATIVE capacities.",
)
@click.option(
    "--workplaces",
    type=click.Path(path_type=Path),
    default=None,
    help="Workplaces other than the head office: CSV (workplace_id, name, lon, lat) or a point "
    "layer. An agent's workplace_id column names its own (empty: the head office); its "
    "savings are counted against it.",
)
@click.option(
    "--head-office",
    "head_office",
    metavar="LON,LAT",
    default=None,
    help="Head office, WGS84 degrees, longitude first. Default: Hôtel du Département, Mende.",
)
@click.option(
    "--network",
    "network_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Road network: an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2, .osm.gz) or a GraphML "
    "file (from 'assign network'). Default: the embedded offline APPROXIMATION of Lozère's roads.",
)
@click.option(
    "--no-network-cache",
    is_flag=True,
    help=f"Prepare --network again rather than read it prepared from the cache "
    f"({settings.CACHE_DIR}/networks), and do not cache it.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),  # a str: '' must not become '.'
    default="assignment",
    show_default=True,
    help="Folder for the results: allocation.csv, telecentres.csv, travel_times.csv, "
    "ranking.csv, schedule.csv, summary.json, map.png, map.html (and changes.csv, frontier.csv).",
)
@click.option(
    "--select",
    type=click.IntRange(min=0, max=MAX_COUNT),
    default=None,
    metavar="K",
    help="Assign at most K agents, chosen as --select-by says (default: the plan that saves "
    "the most with K agents).",
)
@click.option(
    "--select-by",
    type=click.Choice(["saving", "commute"]),
    default="saving",
    show_default=True,
    help="How --select chooses: 'saving' (the K who make the plan save the most) or 'commute' "
    "(the K longest commutes to the head office among those a telecentre saves time, as the "
    "2015 scheme chose).",
)
@click.option(
    "--max-minutes",
    type=_Finite(min=0, max=MINUTES_A_DAY, min_open=True),
    default=None,
    metavar="M",
    help="Longest acceptable one-way drive from home to a telecentre, minutes.",
)
@click.option(
    "--min-saving",
    type=_Finite(min=0, max=MINUTES_A_DAY),
    default=DEFAULT_MIN_SAVING,
    show_default=True,
    metavar="M",
    help="Round-trip minutes a day below which moving to a telecentre is not worth it "
    "(default: 10, the French tiers-lieux studies' threshold).",
)
@click.option(
    "--objective",
    type=click.Choice(["minutes", "km", "travel"]),
    default="minutes",
    show_default=True,
    help="Maximise round-trip minutes saved a week, or km saved a week (CO2), or minimise "
    "the minutes all agents drive a week (same plan as 'minutes').",
)
@SPEED_PROFILE_OPTION
@SPEED_MODEL_OPTION
@click.option(
    "--crs",
    default=None,
    metavar="CRS",
    help="CRS of the coordinates in the CSV files you give (--agents, --telecentres) when "
    "they are not WGS84 lon/lat, e.g. EPSG:2154 for Lambert-93.",
)
@click.option(
    "--preference-bonus",
    type=_Finite(min=0, max=MINUTES_A_WEEK),
    default=DEFAULT_PREFERENCE_BONUS,
    show_default=True,
    metavar="M",
    help="Bonus, in minutes a week, for sending an agent to the telecentre named in its "
    "preferred_telecentre column: a preferred telecentre wins unless another saves more.",
)
@click.option(
    "--engine",
    type=click.Choice(["flow", "cp-sat"]),
    default="flow",
    show_default=True,
    help="Solver: 'flow' uses OR-Tools min-cost flow wherever it is exact (one telework day "
    "each, or --dedicated-desks) and CP-SAT otherwise; 'cp-sat' uses CP-SAT always "
    "(exact within --time-limit).",
)
@click.option(
    "--speed-uncertainty",
    type=_Finite(min=0, max=50, min_open=True),
    default=None,
    metavar="P",
    help="Drive times may be P %% off: solve again under slower and faster drive-time scenarios "
    "and report, per agent, whether the plan holds in every one and the range of its saving.",
)
@click.option(
    "--time-limit",
    type=_Finite(min=0, max=7 * 86400, min_open=True),
    default=settings.SOLVER_TIME_LIMIT_S,
    show_default=True,
    metavar="S",
    help="Seconds the weekly solver (CP-SAT, or HiGHS on large multi-day plans) may search; "
    "the best plan found by then is written with its gap. CP-SAT stops on the work done "
    "(about half the limit here), so that a plan cut short is the same every run.",
)
@click.option(
    "--rank",
    type=click.IntRange(min=0, max=MAX_COUNT),
    default=0,
    metavar="N",
    help="Also print the N volunteers with the longest commute (all are in ranking.csv).",
)
@click.option(
    "--minimax",
    is_flag=True,
    help="Fairness first: as many agents as the best plan, the shortest possible longest drive "
    "to a telecentre, then the most saving.",
)
@click.option(
    "--allow-worse-off",
    is_flag=True,
    help="Allow sending an agent to a telecentre further (one way) than the head office "
    "(refused by default).",
)
@click.option(
    "--frontier",
    "write_frontier",
    is_flag=True,
    help="Also write frontier.csv: the best saving for each limit on the longest drive.",
)
@click.option(
    "--max-open",
    type=click.IntRange(min=0, max=MAX_COUNT),
    default=None,
    metavar="P",
    help="Choose which telecentres to open: at most P (an opening_cost column in the "
    "telecentres file, minutes a week, also chooses).",
)
@click.option(
    "--dedicated-desks",
    is_flag=True,
    help="One desk per agent for the whole week (schemes that rent desks full time) instead "
    "of desks shared by weekday: each agent holds one of the telecentre's desks every day, so "
    "it hosts at most capacity agents.",
)
@click.option(
    "--day-bonus",
    type=_Finite(min=0, max=MINUTES_A_WEEK),
    default=DEFAULT_DAY_BONUS,
    show_default=True,
    metavar="M",
    help="Minutes a week each granted preferred weekday (agents' preferred_days column) is worth.",
)
@click.option(
    "--previous",
    type=click.Path(path_type=Path),
    default=None,
    help="Re-plan from this earlier allocation.csv (and the schedule.csv and telecentres.csv "
    "next to it, when there), moving as few agents and changing as few weekdays as is worth "
    "it; writes changes.csv.",
)
@click.option(
    "--move-penalty",
    type=_Finite(min=0, max=MINUTES_A_WEEK),
    default=DEFAULT_MOVE_PENALTY,
    show_default=True,
    metavar="M",
    help="With --previous: minutes a week a move must gain to be made.",
)
@click.option(
    "--day-change-penalty",
    type=_Finite(min=0, max=MINUTES_A_WEEK),
    default=DEFAULT_DAY_CHANGE_PENALTY,
    show_default=True,
    metavar="M",
    help="With --previous: minutes a week each previous weekday an agent keeps at its "
    "telecentre is worth (read from the schedule.csv next to the previous allocation), so a "
    "change of weekday must gain that much.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=2**63 - 1),
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed of the draw that settles the last ties: among agents the objective cannot tell "
    "apart (same saving, weekdays and rules), the plan serves the higher 'priority' column "
    "first, then the longer drive to the head office, then this draw. The same seed gives the "
    "same plan; another seed changes only tie decisions.",
)
@click.option("--no-maps", is_flag=True, help="Do not draw map.png and map.html.")
@click.option(
    "--csv-style",
    type=click.Choice(CSV_STYLES),
    default="standard",
    show_default=True,
    help="How the CSV files are written: standard (',' separated, decimal points, UTF-8) or "
    "excel-fr (';' separated, decimal commas, UTF-8 with a BOM: French Excel opens them by a "
    "double click). Both are read back by --previous.",
)
@click.option(
    "--lang",
    type=click.Choice(LANGS, case_sensitive=False),
    default=None,
    help="Language of the files, maps and result lines: fr or en. Default: from the locale "
    "(LC_ALL, LC_MESSAGES, LANG starting with fr: fr; en otherwise). Both are read back by "
    "--previous.",
)
@click.option(
    "--pseudonymise",
    "salt",
    default=None,
    metavar="SALT",
    help="Make the outputs fit to share: agent ids replaced by stable pseudonyms (salted "
    "SHA-256; the same SALT gives the same pseudonyms, keep it secret), rows sorted by "
    "pseudonym, per-agent times and km from a point 0.8-1.6 km from the home (whole minutes and "
    "km), no commune of fewer than 3 agents shown on its own.",
)
@click.option(
    "--key-file",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="With --pseudonymise: write the table of ids and pseudonyms (agent_id, pseudonym) to "
    "this file, which may not be in --out (never written otherwise).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="local[:N]|tcp://HOST:8786",
    help="Where the travel stage runs: local:N starts N Dask worker processes here; "
    "tcp://HOST:8786 uses a running cluster. The plan and files are the same. With a network "
    "folder (département boundaries and OSM files), one task per département.",
)
@click.option(
    "--border-km",
    "border_km",
    type=_Finite(min=0, max=500),
    default=None,
    help="With a network folder: the border of each département's network, in km (default "
    "30). Wider certifies more drive times across borders, at more work per département; "
    "files given one per département must cover it.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--verbose", "-v", is_flag=True, help="Also print the library's log messages.")
@click.pass_context
def main(
    ctx: click.Context,
    agents: Path | None,
    telecentres: Path | None,
    workplaces: Path | None,
    head_office: str | None,
    network_path: Path | None,
    no_network_cache: bool,
    out: str,
    select: int | None,
    select_by: str,
    max_minutes: float | None,
    min_saving: float,
    objective: str,
    speed_profile: str,
    speed_model_name: str,
    speed_uncertainty: float | None,
    crs: str | None,
    preference_bonus: float,
    engine: str,
    time_limit: float,
    rank: int,
    minimax: bool,
    allow_worse_off: bool,
    write_frontier: bool,
    max_open: int | None,
    dedicated_desks: bool,
    day_bonus: float,
    previous: Path | None,
    move_penalty: float,
    seed: int,
    day_change_penalty: float,
    no_maps: bool,
    csv_style: CsvStyle,
    lang: str | None,
    salt: str | None,
    key_file: Path | None,
    scheduler: str | None,
    border_km: float | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Assign telework volunteers to telecentres, optimally, on a road network.

    With no option, runs on the embedded Lozère default (a synthetic roster, the
    SoLozère telecentres, an approximate offline road network) and writes
    ./assignment/.
    """
    if ctx.invoked_subcommand is not None:
        return
    language = resolve_lang(lang)
    _logging(quiet=quiet, verbose=verbose, lang=language)
    steps = _Steps(quiet=quiet, lang=language)

    def say(line: str) -> None:
        click.echo(translate(line, language))

    national = network_path is not None and network_path.is_dir()
    if border_km is not None and not national:
        _fail(
            "--border-km is for national runs: give a national network folder (département "
            "boundaries and their OSM files) as --network.",
            EXIT_INPUT,
        )
        return
    pairs = 0  # agent x destination pairs of a network folder's travel table
    if national and network_path is not None:
        try:
            pairs = _dense_pairs(agents, telecentres, workplaces)
        except (InputError, NetworkError) as exc:
            _fail_input(exc)
            return
    if national and network_path is not None and pairs > DENSE_LIMIT_PAIRS:
        # too many pairs for one dense table: the grouped national solver
        unsupported = [
            name
            for name, given in (
                ("--select", select is not None),
                ("--minimax", minimax),
                ("--frontier", write_frontier),
                ("--max-open", max_open is not None),
                ("--dedicated-desks", dedicated_desks),
                ("--previous", previous is not None),
                ("--pseudonymise", salt is not None),
                ("--key-file", key_file is not None),
                ("--speed-uncertainty", speed_uncertainty is not None),
                ("--objective", objective != "minutes"),
                *((name, _given(ctx, param)) for name, param in _NOT_NATIONAL),
                (
                    "--speed-profile CSV",
                    speed_profile.lower().endswith((".csv", ".txt")),
                ),
            )
            if given
        ]
        if not unsupported and speed_profile not in settings.SPEED_PROFILES:
            known = ", ".join(sorted(settings.SPEED_PROFILES))
            _fail(f"--speed-profile: '{speed_profile}' is not a profile ({known}).", EXIT_INPUT)
            return
        if unsupported:
            _fail(
                f"{pairs:,} agent x destination pairs exceed the {DENSE_LIMIT_PAIRS:,} of one "
                f"table: the grouped national plan takes them, without {', '.join(unsupported)}; "
                "plan fewer agents at a time for those.",
                EXIT_INPUT,
            )
            return
        _national(
            scheduler,
            agents,
            telecentres,
            workplaces,
            head_office,
            network_path,
            out,
            crs,
            steps,
            max_minutes=max_minutes,
            min_saving=min_saving,
            worse_off=allow_worse_off,
            time_limit=time_limit,
            speed_profile=speed_profile,
            speed_model=speed_model_name,
            verbose=verbose,
            border_km=border_km,
            csv_style=csv_style,
            seed=seed,
            lang=language,
        )
        return
    folder: OutputFolder | None = None
    cluster = ExitStack()
    try:
        agents_src = agents if agents is not None else datasets.path(datasets.AGENTS_FILE)
        tc_src = (
            telecentres if telecentres is not None else datasets.path(datasets.TELECENTRES_FILE)
        )
        net_src = network_path if network_path is not None else datasets.path(datasets.NETWORK_FILE)
        ho = (
            HeadOffice(*parse_lonlat(head_office), name="head office (--head-office)")
            if head_office is not None
            else datasets.head_office()
        )
        if salt is not None and not salt.strip():
            msg = "--pseudonymise needs a non-empty salt (a secret phrase of your own)."
            raise InputError(msg)
        if salt is not None and not _utf8(salt):
            msg = (
                "--pseudonymise: the salt is not valid text (bytes that are not UTF-8); "
                "type it again, in letters, digits and punctuation."
            )
            raise InputError(msg)
        if key_file is not None and salt is None:
            msg = "--key-file holds the ids behind the pseudonyms: give --pseudonymise SALT too."
            raise InputError(msg)
        _inputs_not_outputs(
            out,
            {
                "--agents": agents_src,
                "--telecentres": tc_src,
                "--workplaces": workplaces,
                "--network": net_src,
                "--speed-profile": speed_profile,
            },
        )
        if key_file is not None:
            given = {
                "--agents": agents_src,
                "--telecentres": tc_src,
                "--workplaces": workplaces,
                "--previous": previous,
                "--network": net_src,
                "--speed-profile": speed_profile,
            }
            for option, source in given.items():
                if source is not None and _same_file(key_file, split_layer(source)[0]):
                    msg = (
                        f"--key-file: '{key_file}' is the {option} file: the key would replace "
                        "it. Give another file, e.g. --key-file key.csv."
                    )
                    raise InputError(msg)
            check_key_file(key_file, out_dir=out)  # after: an input is named as such
        if (
            previous is None
            and ctx.get_parameter_source("move_penalty") is click.core.ParameterSource.COMMANDLINE
        ):
            msg = "--move-penalty weighs moves from a previous plan: give --previous FILE too."
            raise InputError(msg)
        if previous is None and _given(ctx, "day_change_penalty"):
            msg = (
                "--day-change-penalty weighs weekday changes from a previous plan: give "
                "--previous FILE too."
            )
            raise InputError(msg)
        options = PlanOptions(
            select=select,
            select_by="commute" if select_by == "commute" else "saving",
            max_minutes=max_minutes,
            min_saving=min_saving,
            objective=_objective(objective),
            preference_bonus=preference_bonus,
            no_worse_off=not allow_worse_off,
            minimax=minimax,
            max_open=max_open,
            day_bonus=day_bonus,
            move_penalty=move_penalty,
            day_change_penalty=day_change_penalty,
            dedicated_desks=dedicated_desks,
            engine="cp-sat" if engine == "cp-sat" else "flow",
            time_limit_s=time_limit,
            seed=seed,
        )
        if scheduler is not None:
            parse_scheduler(scheduler)  # a bad value is said before anything is written
        folder = OutputFolder(out, own_names=OWN_FILES)
        folder.acquire()  # fail now, not after the solve, if another run holds --out
        steps("reading agents and telecentres")
        # a commune name other départements share is the one in the head office's
        area = {nearest_commune(ho.lon, ho.lat).departement}
        agent_table = read_agents(agents_src, crs=crs, area_departements=area)
        tc_table = read_telecentres(
            tc_src, crs=crs if telecentres is not None else None, area_departements=area
        )
        work_table = (
            read_workplaces(workplaces, crs=crs, area_departements=area)
            if workplaces is not None
            else None
        )
        speeds, model = _speed_setup(speed_profile, speed_model_name)
        # --scheduler: the travel stages run on the cluster (reached after the inputs
        # are read, before the long work: an address that does not answer is said at once);
        # the plan is the same
        if scheduler is not None:
            steps(f"starting or reaching the Dask cluster (--scheduler {scheduler})")
        client = cluster.enter_context(
            dask_client(
                scheduler, progress=steps, log_level=logging.INFO if verbose else logging.CRITICAL
            )
        )
        if national:
            if speed_uncertainty is not None:
                msg = (
                    "--speed-uncertainty retimes one road network; a national network folder "
                    "is timed département by département: give one network file for it."
                )
                raise InputError(msg)
            network: RoadNetwork | NetworkFolder = open_network_folder(
                Path(net_src),
                buffer_km=NATIONAL_BUFFER_KM if border_km is None else border_km,
                speed_profile=speed_profile,
                speed_model_name=speed_model_name,
                progress=steps,
            )
        else:
            network = load_network(
                net_src,
                speed_profile=speeds,
                speed_model=model,
                progress=steps,
                cache_dir=None if no_network_cache else settings.CACHE_DIR,
            )
        earlier = (
            match_previous(
                read_previous_allocation(previous),
                agent_table["agent_id"].tolist(),
                pseudonymise=(lambda a: pseudonym(a, salt)) if salt is not None else None,
            )
            if previous is not None
            else None
        )
        result = run(
            agent_table,
            tc_table,
            ho,
            network,
            options,
            scheduler=client,
            previous=earlier,
            sources={
                "agents_file": str(agents_src),
                "telecentres_file": str(tc_src),
                "network_file": str(net_src),
                **({"previous_file": str(previous)} if previous is not None else {}),
                **({"workplaces": str(workplaces)} if workplaces is not None else {}),
                "agents": str(agents) if agents is not None else f"embedded roster {agents_src}",
                "telecentres": str(telecentres)
                if telecentres is not None
                else f"embedded telecentres {tc_src}",
                "head_office": "--head-office"
                if head_office is not None
                else f"embedded head office {datasets.path(datasets.HEAD_OFFICE_FILE)}",
            },
            progress=steps,
            workplaces=work_table,
        )
        robust = None
        if speed_uncertainty is not None:

            def rerun(other: RoadNetwork, roster: pd.DataFrame = agent_table) -> RunResult:
                return run(
                    roster,
                    tc_table,
                    ho,
                    other,
                    options,
                    previous=earlier,
                    workplaces=work_table,
                    scheduler=client,
                )

            robust = assess(
                result,
                rerun,
                speed_uncertainty / 100.0,
                progress=steps,
                relaxed=lambda other: rerun(other, agent_table.assign(must_assign=False)),
            )
        curve = None
        if write_frontier:
            steps("tracing the saving / longest-drive frontier")
            curve = plan_frontier(result)
        steps(f"writing results to {out}")
        written = write_outputs(
            result,
            folder,
            extra_timings={"total_s": steps.elapsed},
            pseudonymise_salt=salt,
            frontier=curve,
            maps=not no_maps,
            robustness=robust,
            csv_style=csv_style,
            lang=language,
        )
        if key_file is not None and salt is not None:
            ids = agent_table["agent_id"].astype(str)
            write_key_file(
                pd.DataFrame({"agent_id": ids, "pseudonym": [pseudonym(a, salt) for a in ids]}),
                key_file,
                out_dir=out,
            )
        steps.finish()
    except (InputError, NetworkError) as exc:
        _fail_input(exc)
        return
    except BusyError as exc:
        _fail(str(exc), EXIT_BUSY)
        return
    except (InfeasibleError, SolverError, OptimizerError) as exc:
        _fail(str(exc), EXIT_UNSOLVABLE)
        return
    finally:
        cluster.close()
        if folder is not None:
            folder.release()
    if quiet:
        return
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
        else f"best found in {time_limit:g} s"
        + (f", at most {outcome['gap']:.2%} from the best possible" if outcome["gap"] else "")
    )
    centres = telecentre_table(result)
    used, offered = int(centres["desk_days_used"].sum()), int(centres["desk_days_offered"].sum())
    policy = "dedicated desks" if result.options.dedicated_desks else "desks shared by weekday"
    say(
        f"{counted(result.problem.n_agents, 'agent')}: {assigned} assigned, "
        f"{result.problem.n_agents - assigned} not assigned; {used} of {offered} desk-days "
        f"used ({policy}); {minutes:,.0f} minutes and {km:,.0f} km saved a week "
        f"(round trips); {quality}."
    )
    if result.ties is not None and result.ties.lost:
        by = result.ties.counts()
        say(
            f"Ties: {counted(len(result.ties.lost), 'agent')} left out for an equal placed "
            f"(same saving, weekdays and rules), decided by priority for {by['priority']}, by "
            f"the longer drive to the head office for {by['commute']}, by the draw (seed "
            f"{result.ties.order.seed}) for {by['draw']}: see 'reason' in allocation.csv."
        )
    for line in plan_notes(result, whole_minutes=salt is not None)["lines"]:
        say(line)
    if result.exactness is not None:
        say(exactness_line(result.exactness))
    replan = replan_summary(result)
    if replan is not None:
        say(replan_line(replan))
        if replan["warning"]:
            say(f"WARNING: {replan['warning']}")
    if rank:
        table = ranking_table(result).head(rank)
        if salt is not None:
            table["agent_id"] = [pseudonym(a, salt) for a in table["agent_id"]]
        say(f"Longest commutes to the head office (top {len(table)}):")
        click.echo(localise_table(table, language).to_string(index=False))
    if robust is not None:
        info = robust.summary
        holding = counted(info["assigned_agents"], "assigned agent")
        say(
            f"Drive times {speed_uncertainty:g} % off ({info['scenarios']} scenarios): "
            f"{info['assigned_agents_holding']} of {holding} "
            f"keep their telecentre in every scenario ({info['assigned_agents_holding_exactly']} "
            f"themselves, {info['assigned_agents_twin_swap']} by a tie: an identical twin, same "
            f"home, days and rules, takes their place), {info['assigned_agents_flipping']} "
            f"change it as drive times change; the plan saves "
            f"{info['plan_saving_week_low']:,.0f} to {info['plan_saving_week_high']:,.0f} minutes "
            "a week."
        )
        if info["scenarios_without_must_assign"]:
            say(
                "WARNING: in "
                f"{counted(len(info['scenarios_without_must_assign']), 'drive-time scenario')} "
                f"({'; '.join(info['scenarios_without_must_assign'])}), the agents who must be "
                "assigned cannot all be: those scenarios were solved without must-assign."
            )
    for warning in [*agent_table.attrs.get("warnings", []), *made_up(result)]:
        say(f"WARNING: {warning}")
    off_network = off_network_warning(
        result, rename=None if salt is None else lambda a: pseudonym(a, salt)
    )
    if off_network:
        say(f"WARNING: {off_network}")
    say(f"Wrote {', '.join(str(p) for p in written.values())} in {steps.elapsed:.1f} s.")


@main.command("network")
@click.option(
    "--place", default=None, help="Download the roads of this place, e.g. 'Lozère, France'."
)
@click.option(
    "--polygon",
    type=click.Path(path_type=Path),
    default=None,
    help="Download the roads inside the area of this GeoPackage / GeoJSON file.",
)
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Build from a local OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2) instead.",
)
@click.option(
    "--buffer-km",
    type=_Finite(min=0, max=500),
    default=DEFAULT_BUFFER_KM,
    show_default=True,
    help="Border added around --place or --polygon, so that routes leaving the area are kept.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="GraphML file to write; give it to 'assign --network'.",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"Where downloads are cached (default {settings.CACHE_DIR}).",
)
@SPEED_PROFILE_OPTION
@SPEED_MODEL_OPTION
@click.option(
    "--force",
    is_flag=True,
    help="Replace --out even if it is an existing file this tool did not write.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def network_command(
    place: str | None,
    polygon: Path | None,
    from_file: Path | None,
    buffer_km: float,
    out: Path,
    cache_dir: Path | None,
    speed_profile: str,
    speed_model_name: str,
    force: bool,
    quiet: bool,
) -> None:
    """Build a road network from OpenStreetMap and save it as GraphML.

    Either download it (--place or --polygon; needs internet, cached) or read a
    local extract (--from-file; works offline). Only drivable roads are kept,
    and only the largest part in which every road can reach every other.
    """
    steps = _Steps(quiet=quiet)
    try:
        if sum(x is not None for x in (place, polygon, from_file)) != 1:
            msg = "give --place or --from-file (or --polygon): exactly one source."
            raise InputError(msg)
        if out.suffix.lower() != ".graphml":
            msg = f"--out must end in .graphml, got '{out}'."
            raise InputError(msg)
        target = check_out_file(
            out,
            inputs=[
                ("--from-file", from_file),
                ("--polygon", polygon),
                ("--speed-profile", Path(speed_profile)),
            ],
            ours=_is_network_file,
            force=force,
        )
        if cache_dir is not None or from_file is None:
            cache_dir = check_cache_dir(cache_dir, default=Path(settings.CACHE_DIR))
        profile, model = _speed_setup(speed_profile, speed_model_name)
        if from_file is not None:
            net = load_network(from_file, speed_profile=profile, speed_model=model, progress=steps)
        else:
            area = read_area(polygon) if polygon is not None else None
            net = download_network(
                place,
                polygon=area,
                buffer_km=buffer_km,
                cache_dir=cache_dir,
                speed_profile=profile,
                speed_model=model,
                progress=steps,
            )
        steps(f"saving {out}")
        write_out_file(target, lambda path: save_network(net, path))
        steps.finish()
    except (InputError, NetworkError) as exc:
        _fail_input(exc)
        return
    except OptimizerError as exc:
        _fail(str(exc), EXIT_UNSOLVABLE)
        return
    if not quiet:
        g = net.graph
        click.echo(
            f"{net.source}: {g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges "
            f"({net.dropped_nodes:,} nodes dropped: not reachable both ways); "
            f"saved {out} in {steps.elapsed:.1f} s."
        )


def _is_network_file(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a network saved by ``assign network``."""
    return b"<graphml" in head and all(
        f'attr.name="{key}"'.encode() in head for key in ("speed_model", "speed_profile")
    )


@main.command("geocode")
@click.argument("roster", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Roster CSV to write: the roster with lon, lat and the match of each row; give it "
    "to 'assign --agents'.",
)
@click.option(
    "--min-score",
    type=_Finite(min=0, max=1),
    default=MIN_SCORE,
    show_default=True,
    help="Matches scoring below this get no coordinates and are flagged 'low score'.",
)
@click.option(
    "--url",
    default=BAN_URL,
    show_default=True,
    help="The address service (France's national address base, BAN).",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"Where answers are cached (default {settings.CACHE_DIR}/ban).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace --out even if it is an existing file this tool did not write.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def geocode_command(
    roster: Path,
    out: Path,
    min_score: float,
    url: str,
    cache_dir: Path | None,
    force: bool,
    quiet: bool,
) -> None:
    """Geocode the roster's adresse column with the BAN (needs a connection; cached).

    Only the addresses (and postcodes) are sent. Rows the service cannot place
    well are flagged; offline, give communes instead (columns commune, insee or
    code_postal), which need no connection.
    """
    steps = _Steps(quiet=quiet)
    try:
        if out.suffix.lower() != ".csv":
            msg = f"--out must end in .csv, got '{out}'."
            raise InputError(msg)
        target = check_out_file(
            out, inputs=[("ROSTER", roster)], ours=is_geocode_output, force=force
        )
        cache = check_cache_dir(cache_dir, default=Path(settings.CACHE_DIR) / "ban")
        table, name = read_table(roster)
        steps(f"geocoding {len(table)} rows with {url}")
        coded = geocode_roster(table, name=name, min_score=min_score, base_url=url, cache_dir=cache)
        write_out_file(target, csv_text(coded).encode("utf-8"))
        steps.finish()
    except (InputError, NetworkError) as exc:
        _fail_input(exc)
        return
    except OptimizerError as exc:
        _fail(str(exc), EXIT_UNSOLVABLE)
        return
    if quiet:
        return
    counts = coded["geocode_status"].value_counts()
    bad = f"{counts.get(BAD_ANSWER, 0)} bad answers, " if counts.get(BAD_ANSWER, 0) else ""
    kept = counts.get(COORDINATES_GIVEN, 0)
    click.echo(
        f"{counts.get('ok', 0)} of {len(coded)} rows placed at their address; "
        f"{counts.get('low score', 0)} low score, {counts.get('not found', 0)} not found, "
        f"{bad}{counts.get('no address', 0)} without address."
        + (f" {kept} rows kept the coordinates they had (not sent)." if kept else "")
    )
    flagged = coded[coded["geocode_status"].isin(["low score", "not found", BAD_ANSWER])]
    for i, row in zip(
        flagged.index.tolist()[:10], flagged.head(10).to_dict("records"), strict=True
    ):
        score = row["geocode_score"]
        matched = (
            f" ({score:g}: {row['geocode_label'] or 'nothing'})"
            if isinstance(score, (int, float)) and math.isfinite(score)
            else ""
        )
        click.echo(
            f"  row {i + 2}: {row['geocode_status']}{matched}; check it, or give its commune."
        )
    stranded = _stranded_rows(coded)
    if stranded:
        shown = ", ".join(str(i + 2) for i in stranded[:10])
        more = f" and {len(stranded) - 10} more" if len(stranded) > 10 else ""
        click.echo(
            f"WARNING: {len(stranded)} rows have neither coordinates nor a commune "
            f"(rows {shown}{more}); assign refuses them until you give their commune "
            "(column commune, insee or code_postal) or lon, lat."
        )
    click.echo(f"Wrote {out}; use it with: assign --agents {out}")


def _stranded_rows(coded: pd.DataFrame) -> list[int]:
    """Rows of a geocoded roster that assign cannot place: no coordinates, no commune."""
    keys = {_header_key(str(c)): c for c in coded.columns}
    places = [
        keys[a]
        for field in ("commune", "insee", "code_postal")
        for a in AGENT_ALIASES[field]
        if a in keys
    ]
    placed = coded["geocode_status"].isin(["ok", COORDINATES_GIVEN]).to_numpy()
    named = np.zeros(len(coded), dtype=bool)
    for column in places:
        named |= coded[column].fillna("").astype(str).str.strip().ne("").to_numpy()
    return np.flatnonzero(~placed & ~named).tolist()


@main.command("calibrate")
@click.option(
    "--reference",
    type=click.Path(path_type=Path),
    required=True,
    help="Reference trips: CSV with from_lon, from_lat, to_lon, to_lat, minutes[, km, label] "
    "(mileage claims, times read off a route planner).",
)
@click.option(
    "--network",
    "network_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Road network (default: the embedded approximate Lozère network).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Profile CSV to write (highway, kmh, factor); give it to 'assign --speed-profile'.",
)
@click.option(
    "--fit-junction-delay",
    is_flag=True,
    help="Also fit the delay at junctions (on a coarse network of towns: crossing a village).",
)
@SPEED_PROFILE_OPTION
@click.option(
    "--force",
    is_flag=True,
    help="Replace --out even if it is an existing file this tool did not write.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def calibrate_command(
    reference: Path,
    network_path: Path | None,
    out: Path,
    fit_junction_delay: bool,
    speed_profile: str,
    force: bool,
    quiet: bool,
) -> None:
    """Fit the realistic speed model's factors to reference trips, and write a profile.

    Prints the error on the reference trips before and after (median and worst,
    in % and minutes). Use the profile with: assign --speed-profile PROFILE.csv
    """
    steps = _Steps(quiet=quiet)
    try:
        if out.suffix.lower() != ".csv":
            msg = f"--out must end in .csv, got '{out}'."
            raise InputError(msg)
        target = check_out_file(
            out,
            inputs=[
                ("--reference", reference),
                ("--network", network_path),
                ("--speed-profile", Path(speed_profile)),
            ],
            ours=is_profile,
            force=force,
        )
        trips = read_reference_trips(reference)
        speeds = _speed_profile(speed_profile)
        src = network_path if network_path is not None else datasets.path(datasets.NETWORK_FILE)
        net = load_network(src, speed_profile=speeds, speed_model="realistic", progress=steps)
        check_in_area(
            pd.DataFrame(
                {"id": trips["label"], "lon": trips["from_lon"], "lat": trips["from_lat"]}
            ),
            net.bounds,
            name=f"{reference} (from_lon, from_lat)",
            id_column="id",
        )
        check_in_area(
            pd.DataFrame({"id": trips["label"], "lon": trips["to_lon"], "lat": trips["to_lat"]}),
            net.bounds,
            name=f"{reference} (to_lon, to_lat)",
            id_column="id",
        )
        table = speeds if isinstance(speeds, dict) else dict(settings.SPEED_PROFILES[speeds])
        result = calibrate(
            net, trips, speeds=table, fit_junction_delay=fit_junction_delay, progress=steps
        )
        steps(f"writing {out}")
        write_out_file(target, profile_text(result).encode("utf-8"))
        steps.finish()
    except (InputError, NetworkError) as exc:
        _fail_input(exc)
        return
    except OptimizerError as exc:
        _fail(str(exc), EXIT_UNSOLVABLE)
        return
    if quiet:
        return
    for which in ("before", "after"):
        e = result.errors(which)
        click.echo(
            f"{which:>6}: median error {e['median_pct']:.1f} % ({e['median_min']:.1f} min), "
            f"worst {e['worst_pct']:.1f} % ({e['worst_min']:.1f} min) on {len(trips)} trips"
        )
    fitted = (
        ", ".join(f"{g} {v:.3f}" for g, v in result.factors.items() if g in GROUPS or g == "all")
        or "none"
    )
    click.echo(f"Fitted factors (fraction of the speed limit): {fitted}.")
    if fit_junction_delay:
        click.echo(f"Fitted junction delay: {result.model.junction_delay_s:.1f} s.")
    click.echo(f"Wrote {out}; use it with: assign --speed-profile {out}")


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


#: Options a national run has no use for: refused when given, never silently ignored.
_NOT_NATIONAL = (
    ("--engine", "engine"),
    ("--preference-bonus", "preference_bonus"),
    ("--day-bonus", "day_bonus"),
    ("--move-penalty", "move_penalty"),
    ("--day-change-penalty", "day_change_penalty"),
    ("--select-by", "select_by"),
    ("--rank", "rank"),
)


def _logging(*, quiet: bool, verbose: bool, lang: Lang = "en") -> None:
    """Show the library's log: warnings (errors only with --quiet; all with --verbose).

    Warnings the command prints itself at the end of the run (those a reader
    also keeps in a table's ``attrs["warnings"]``) are not shown twice. The
    records are said in ``lang`` (the library logs in English).
    """
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(
        level=min(level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s"
    )
    if verbose:
        logging.getLogger().setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        # the console's own stream only (type, not isinstance: a test's capture is left
        # alone), which --quiet turns down to errors
        if type(handler) is logging.StreamHandler:
            handler.setLevel(level)
            if not any(isinstance(f, _PrintedLater) for f in handler.filters):
                handler.addFilter(_PrintedLater())
            handler.setFormatter(_Said(lang))


class _Said(logging.Formatter):
    """A log record as the console shows it, in the run's language (``ATTENTION ...``)."""

    def __init__(self, lang: Lang) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.lang = lang

    def format(self, record: logging.LogRecord) -> str:
        if self.lang == "en":
            return super().format(record)
        said = logging.makeLogRecord(record.__dict__)
        said.msg, said.args = translate(record.getMessage(), self.lang), None
        said.levelname = translate(record.levelname, self.lang)
        return super().format(said).replace(f"{said.name}: ", f"{said.name} : ", 1)


class _PrintedLater(logging.Filter):
    """Drop log records that the command prints itself (``extra={"in_attrs": True}``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "in_attrs", False)


def _utf8(text: str) -> bool:
    """Whether ``text`` (an argument) is valid UTF-8 (undecodable bytes arrive as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _given(ctx: click.Context, param: str) -> bool:
    """Whether the option ``param`` was given (command line or environment), not defaulted."""
    source = ctx.get_parameter_source(param)
    return source in (
        click.core.ParameterSource.COMMANDLINE,
        click.core.ParameterSource.ENVIRONMENT,
    )


def _national(
    scheduler: str | None,
    agents: Path | None,
    telecentres: Path | None,
    workplaces: Path | None,
    head_office: str | None,
    network: Path | None,
    out: str,
    crs: str | None,
    steps: _Steps,
    *,
    max_minutes: float | None,
    min_saving: float,
    worse_off: bool,
    time_limit: float,
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str = DEFAULT_SPEED_MODEL,
    verbose: bool = False,
    border_km: float | None = None,
    csv_style: CsvStyle = "standard",
    seed: int = DEFAULT_SEED,
    lang: Lang = "en",
) -> None:
    """Run the grouped national plan (a folder whose table exceeds ``DENSE_LIMIT_PAIRS``).

    Errors come back as one line.

    Dask's own log lines (start-up, shut-down, a failed task's traceback on a
    worker) are shown with ``--verbose`` only: a failure comes back here and
    is said in one line. ``--quiet`` prints nothing but errors.
    """
    from optimizer.national.files import run_national_files
    from optimizer.national.plan import DEFAULT_MAX_MINUTES, NationalOptions

    try:
        if agents is None or telecentres is None or network is None:
            msg = "--scheduler needs --agents, --telecentres and --network (a national folder)."
            raise InputError(msg)
        plan = run_national_files(
            agents,
            telecentres,
            network,
            Path(out),
            scheduler=scheduler,
            head_office=HeadOffice(*parse_lonlat(head_office), name="head office")
            if head_office is not None
            else None,
            workplaces=workplaces,
            options=NationalOptions(
                max_minutes=max_minutes or DEFAULT_MAX_MINUTES,
                min_saving=min_saving,
                no_worse_off=not worse_off,
                time_limit_s=time_limit,
                buffer_km=NATIONAL_BUFFER_KM if border_km is None else border_km,
                seed=seed,
            ),
            crs=crs,
            speed_profile=speed_profile,
            speed_model=speed_model,
            progress=steps,
            log_level=logging.INFO if verbose else logging.CRITICAL,
            csv_style=csv_style,
            lang=lang,
        )
        steps.finish()
    except (InputError, NetworkError) as exc:
        _fail_input(exc)
        return
    except BusyError as exc:
        _fail(str(exc), EXIT_BUSY)
        return
    except OptimizerError as exc:
        _fail(str(exc), EXIT_UNSOLVABLE)
        return
    if steps.quiet:
        return
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
    line = (
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
    )
    click.echo(translate(line, lang))


if __name__ == "__main__":  # pragma: no cover
    main()
