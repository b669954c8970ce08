"""The options of ``assign`` (the plan command): their declarations, and the plan they make.

Every option that sets a field of :class:`optimizer.options.PlanOptions` is
declared with :func:`plan_option`, which takes its default from the dataclass
(so that a default lives in one place), and :func:`plan_options` builds the
one ``PlanOptions`` of a run from the parsed values. :class:`AssignArgs`
holds every parsed value, typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

import optimizer.settings as settings
from optimizer.cli.common import (
    MAX_COUNT,
    MINUTES_A_DAY,
    MINUTES_A_WEEK,
    SPEED_MODEL_OPTION,
    SPEED_PROFILE_OPTION,
    Finite,
    with_options,
)
from optimizer.i18n import LANGS
from optimizer.options import PlanOptions
from optimizer.report import CSV_STYLES, CsvStyle

F = TypeVar("F", bound=Callable[..., Any])

#: The options of ``assign`` that set a field of :class:`~optimizer.options.PlanOptions`:
#: the option's parameter name -> the field. ``--allow-worse-off`` is ``no_worse_off`` negated.
PLAN_FIELDS: dict[str, str] = {
    "select": "select",
    "select_by": "select_by",
    "max_minutes": "max_minutes",
    "min_saving": "min_saving",
    "objective": "objective",
    "preference_bonus": "preference_bonus",
    "allow_worse_off": "no_worse_off",
    "minimax": "minimax",
    "max_open": "max_open",
    "day_bonus": "day_bonus",
    "move_penalty": "move_penalty",
    "day_change_penalty": "day_change_penalty",
    "dedicated_desks": "dedicated_desks",
    "engine": "engine",
    "time_limit": "time_limit_s",
    "seed": "seed",
}
#: Options whose value is the negation of their field.
NEGATED = frozenset({"allow_worse_off"})


def plan_value(param: str, value: Any) -> Any:
    """Return the ``PlanOptions`` field value of the option ``param`` given ``value``."""
    return (not value) if param in NEGATED else value


def plan_default(param: str) -> Any:
    """Return the default of the option ``param``: its field's default in ``PlanOptions``."""
    return plan_value(param, getattr(PlanOptions(), PLAN_FIELDS[param]))


def plan_option(flag: str, param: str, **attrs: Any) -> Callable[[F], F]:
    """Declare the option ``flag`` of the ``PlanOptions`` field of ``param``, with its default."""
    return click.option(flag, param, default=plan_default(param), **attrs)


def plan_options(values: Mapping[str, Any]) -> PlanOptions:
    """Build the run's ``PlanOptions`` from the parsed options (by parameter name)."""
    fields = {PLAN_FIELDS[p]: plan_value(p, v) for p, v in values.items() if p in PLAN_FIELDS}
    return PlanOptions(**fields)


ASSIGN_OPTIONS = (
    click.option(
        "--agents",
        type=click.Path(path_type=Path),
        default=None,
        help="Volunteers: CSV (agent_id, lon, lat, telework_days[, commune]), GeoPackage or "
        "GeoJSON. Default: the embedded synthetic Lozère roster.",
    ),
    click.option(
        "--telecentres",
        type=click.Path(path_type=Path),
        default=None,
        help="Telecentres: CSV (telecentre_id, name, lon, lat, capacity: desks each weekday; or "
        "desks per day in columns mon..fri / lundi..vendredi) or a point layer. "
        "Default: the 7 SoLozère telecentres with ILLUSTRATIVE capacities.",
    ),
    click.option(
        "--workplaces",
        type=click.Path(path_type=Path),
        default=None,
        help="Workplaces other than the head office: CSV (workplace_id, name, lon, lat) or a point "
        "layer. An agent's workplace_id column names its own (empty: the head office); its "
        "savings are counted against it.",
    ),
    click.option(
        "--head-office",
        "head_office",
        metavar="LON,LAT",
        default=None,
        help="Head office, WGS84 degrees, longitude first. Default: Hôtel du Département, Mende.",
    ),
    click.option(
        "--network",
        "network_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Road network: an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2, .osm.gz) or a "
        "GraphML file (from 'assign network'). Default: the embedded offline APPROXIMATION of "
        "Lozère's roads.",
    ),
    click.option(
        "--no-network-cache",
        is_flag=True,
        help=f"Prepare --network again rather than read it prepared from the cache "
        f"({settings.CACHE_DIR}/networks), and do not cache it.",
    ),
    click.option(
        "--out",
        type=click.Path(file_okay=False),  # a str: '' must not become '.'
        default="assignment",
        show_default=True,
        help="Folder for the results: allocation.csv, telecentres.csv, travel_times.csv, "
        "ranking.csv, schedule.csv, summary.json, map.png, map.html (and changes.csv, "
        "frontier.csv).",
    ),
    plan_option(
        "--select",
        "select",
        type=click.IntRange(min=0, max=MAX_COUNT),
        metavar="K",
        help="Assign at most K agents, chosen as --select-by says (default: the plan that saves "
        "the most with K agents).",
    ),
    plan_option(
        "--select-by",
        "select_by",
        type=click.Choice(["saving", "commute"]),
        show_default=True,
        help="How --select chooses: 'saving' (the K who make the plan save the most) or 'commute' "
        "(the K longest commutes to the head office among those a telecentre saves time, as the "
        "2015 scheme chose).",
    ),
    plan_option(
        "--max-minutes",
        "max_minutes",
        type=Finite(min=0, max=MINUTES_A_DAY, min_open=True),
        metavar="M",
        help="Longest acceptable one-way drive from home to a telecentre, minutes.",
    ),
    plan_option(
        "--min-saving",
        "min_saving",
        type=Finite(min=0, max=MINUTES_A_DAY),
        show_default=True,
        metavar="M",
        help="Round-trip minutes a day below which moving to a telecentre is not worth it "
        "(default: 10, the French tiers-lieux studies' threshold).",
    ),
    plan_option(
        "--objective",
        "objective",
        type=click.Choice(["minutes", "km", "travel"]),
        show_default=True,
        help="Maximise round-trip minutes saved a week, or km saved a week (CO2), or minimise "
        "the minutes all agents drive a week (same plan as 'minutes').",
    ),
    SPEED_PROFILE_OPTION,
    SPEED_MODEL_OPTION,
    click.option(
        "--crs",
        default=None,
        metavar="CRS",
        help="CRS of the coordinates in the CSV files you give (--agents, --telecentres) when "
        "they are not WGS84 lon/lat, e.g. EPSG:2154 for Lambert-93.",
    ),
    plan_option(
        "--preference-bonus",
        "preference_bonus",
        type=Finite(min=0, max=MINUTES_A_WEEK),
        show_default=True,
        metavar="M",
        help="Bonus, in minutes a week, for sending an agent to the telecentre named in its "
        "preferred_telecentre column: a preferred telecentre wins unless another saves more.",
    ),
    plan_option(
        "--engine",
        "engine",
        type=click.Choice(["flow", "cp-sat"]),
        show_default=True,
        help="Solver: 'flow' uses OR-Tools min-cost flow wherever it is exact (one telework day "
        "each, or --dedicated-desks) and CP-SAT otherwise; 'cp-sat' uses CP-SAT always "
        "(exact within --time-limit).",
    ),
    click.option(
        "--speed-uncertainty",
        type=Finite(min=0, max=50, min_open=True),
        default=None,
        metavar="P",
        help="Drive times may be P %% off: solve again under slower and faster drive-time "
        "scenarios and report, per agent, whether the plan holds in every one and the range of its "
        "saving.",
    ),
    plan_option(
        "--time-limit",
        "time_limit",
        type=Finite(min=0, max=7 * 86400, min_open=True),
        show_default=True,
        metavar="S",
        help="Seconds the weekly solver (CP-SAT, or HiGHS on large multi-day plans) may search; "
        "the best plan found by then is written with its gap. CP-SAT stops on the work done "
        "(about half the limit here), so that a plan cut short is the same every run.",
    ),
    click.option(
        "--rank",
        type=click.IntRange(min=0, max=MAX_COUNT),
        default=0,
        metavar="N",
        help="Also print the N volunteers with the longest commute (all are in ranking.csv).",
    ),
    plan_option(
        "--minimax",
        "minimax",
        is_flag=True,
        help="Fairness first: as many agents as the best plan, the shortest possible longest drive "
        "to a telecentre, then the most saving.",
    ),
    plan_option(
        "--allow-worse-off",
        "allow_worse_off",
        is_flag=True,
        help="Allow sending an agent to a telecentre further (one way) than the head office "
        "(refused by default).",
    ),
    click.option(
        "--frontier",
        "write_frontier",
        is_flag=True,
        help="Also write frontier.csv: the best saving for each limit on the longest drive.",
    ),
    plan_option(
        "--max-open",
        "max_open",
        type=click.IntRange(min=0, max=MAX_COUNT),
        metavar="P",
        help="Choose which telecentres to open: at most P (an opening_cost column in the "
        "telecentres file, minutes a week, also chooses).",
    ),
    plan_option(
        "--dedicated-desks",
        "dedicated_desks",
        is_flag=True,
        help="One desk per agent for the whole week (schemes that rent desks full time) instead "
        "of desks shared by weekday: each agent holds one of the telecentre's desks every day, so "
        "it hosts at most capacity agents.",
    ),
    plan_option(
        "--day-bonus",
        "day_bonus",
        type=Finite(min=0, max=MINUTES_A_WEEK),
        show_default=True,
        metavar="M",
        help="Minutes a week each granted preferred weekday (agents' preferred_days column) is "
        "worth.",
    ),
    click.option(
        "--previous",
        type=click.Path(path_type=Path),
        default=None,
        help="Re-plan from this earlier allocation.csv (and the schedule.csv and telecentres.csv "
        "next to it, when there), moving as few agents and changing as few weekdays as is worth "
        "it; writes changes.csv.",
    ),
    plan_option(
        "--move-penalty",
        "move_penalty",
        type=Finite(min=0, max=MINUTES_A_WEEK),
        show_default=True,
        metavar="M",
        help="With --previous: minutes a week a move must gain to be made.",
    ),
    plan_option(
        "--day-change-penalty",
        "day_change_penalty",
        type=Finite(min=0, max=MINUTES_A_WEEK),
        show_default=True,
        metavar="M",
        help="With --previous: minutes a week each previous weekday an agent keeps at its "
        "telecentre is worth (read from the schedule.csv next to the previous allocation), so a "
        "change of weekday must gain that much.",
    ),
    plan_option(
        "--seed",
        "seed",
        type=click.IntRange(min=0, max=2**63 - 1),
        show_default=True,
        help="Seed of the draw that settles the last ties: among agents the objective cannot tell "
        "apart (same saving, weekdays and rules), the plan serves the higher 'priority' column "
        "first, then the longer drive to the head office, then this draw. The same seed gives the "
        "same plan; another seed changes only tie decisions.",
    ),
    click.option("--no-maps", is_flag=True, help="Do not draw map.png and map.html."),
    click.option(
        "--csv-style",
        type=click.Choice(CSV_STYLES),
        default="standard",
        show_default=True,
        help="How the CSV files are written: standard (',' separated, decimal points, UTF-8) or "
        "excel-fr (';' separated, decimal commas, UTF-8 with a BOM: French Excel opens them by a "
        "double click). Both are read back by --previous.",
    ),
    click.option(
        "--lang",
        type=click.Choice(LANGS, case_sensitive=False),
        default=None,
        help="Language of the files, maps and result lines: fr or en. Default: from the locale "
        "(LC_ALL, LC_MESSAGES, LANG starting with fr: fr; en otherwise). Both are read back by "
        "--previous.",
    ),
    click.option(
        "--pseudonymise",
        "salt",
        default=None,
        metavar="SALT",
        help="Make the outputs fit to share: agent ids replaced by stable pseudonyms (salted "
        "SHA-256; the same SALT gives the same pseudonyms, keep it secret), rows sorted by "
        "pseudonym, per-agent times and km from a point 0.8-1.6 km from the home (whole minutes "
        "and km), no commune of fewer than 3 agents shown on its own.",
    ),
    click.option(
        "--key-file",
        "key_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="With --pseudonymise: write the table of ids and pseudonyms (agent_id, pseudonym) to "
        "this file, which may not be in --out (never written otherwise).",
    ),
    click.option(
        "--scheduler",
        default=None,
        metavar="local[:N]|tcp://HOST:8786",
        help="Where the travel stage runs: local:N starts N Dask worker processes here; "
        "tcp://HOST:8786 uses a running cluster. The plan and files are the same. With a network "
        "folder (département boundaries and OSM files), one task per département.",
    ),
    click.option(
        "--border-km",
        "border_km",
        type=Finite(min=0, max=500),
        default=None,
        help="With a network folder: the border of each département's network, in km (default "
        "30). Wider certifies more drive times across borders, at more work per département; "
        "files given one per département must cover it.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors."),
    click.option("--verbose", "-v", is_flag=True, help="Also print the library's log messages."),
)


def assign_options(command: F) -> F:
    """Attach the options of ``assign`` to ``command``, in the order ``--help`` lists them."""
    return with_options(ASSIGN_OPTIONS)(command)


@dataclass(frozen=True)
class AssignArgs:
    """Every option of ``assign`` as parsed, by its parameter name."""

    agents: Path | None
    telecentres: Path | None
    workplaces: Path | None
    head_office: str | None
    network_path: Path | None
    no_network_cache: bool
    out: str
    select: int | None
    select_by: str
    max_minutes: float | None
    min_saving: float
    objective: str
    speed_profile: str
    speed_model_name: str
    speed_uncertainty: float | None
    crs: str | None
    preference_bonus: float
    engine: str
    time_limit: float
    rank: int
    minimax: bool
    allow_worse_off: bool
    write_frontier: bool
    max_open: int | None
    dedicated_desks: bool
    day_bonus: float
    previous: Path | None
    move_penalty: float
    seed: int
    day_change_penalty: float
    no_maps: bool
    csv_style: CsvStyle
    lang: str | None
    salt: str | None
    key_file: Path | None
    scheduler: str | None
    border_km: float | None
    quiet: bool
    verbose: bool
