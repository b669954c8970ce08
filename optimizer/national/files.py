"""The grouped national plan from files: ``assign --network FOLDER`` above the dense limit.

The network is a folder holding the département boundaries
(``departements.gpkg`` or ``departements.geojson``, a ``code`` column) and
either one OpenStreetMap file per département (``CODE.osm.pbf``,
``CODE.osm``...) or one large file of the country or a region (any other
``*.osm.pbf``), split once into buffered extracts in ``extracts/`` (reused
while newer than the file and unchanged since the split). Prepared extracts
are cached in ``cache/``.

Agents are read like any roster (:func:`optimizer.inputs.read_agents`): a
home by coordinates, or by commune, INSEE code or postcode (placed at the
town hall, :mod:`optimizer.places`). Each agent's workplace is its
``workplace_lon, workplace_lat`` when the file has them, else the workplace
its ``workplace_id`` names in the workplaces file (``--workplaces``), else
the head office. :func:`roster_resolver` does the placing for
:func:`.plan.plan_national` (its ``resolver`` hook), so a roster given as a
table is read the same way. The results are ``allocation.csv``,
``schedule.csv`` and ``summary.json`` in the output folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.benefits import factors
from optimizer.errors import InputError
from optimizer.i18n import Lang, localise_summary, localise_table
from optimizer.inputs import (
    HeadOffice,
    check_workplace_refs,
    read_agents,
    read_telecentres,
    read_workplaces,
)
from optimizer.national.checks import refuse_unapplied_rules
from optimizer.national.cluster import connect, parse_scheduler
from optimizer.national.groups import Resolver, locate, row_name
from optimizer.national.options import NationalOptions
from optimizer.national.plan import NationalPlan, plan_national
from optimizer.national.results import allocation_file as allocation_file
from optimizer.national.results import site_file as site_file
from optimizer.national.results import totals
from optimizer.national.sources import BOUNDARY_FILES as BOUNDARY_FILES  # re-exported
from optimizer.national.sources import national_sources as national_sources
from optimizer.national.sources import read_departements as read_departements
from optimizer.national.sources import wider_sources as wider_sources
from optimizer.network import Progress
from optimizer.publish import OutputFolder, glob_escape
from optimizer.report import (
    ALLOCATION_FILE,
    OWN_FILES,
    SCHEDULE_FILE,
    SUMMARY_FILE,
    TELECENTRES_FILE,
    CsvStyle,
    csv_text,
)
from optimizer.speed_model import DEFAULT_SPEED_MODEL

logger = logging.getLogger(__name__)


def _check_head_office(office: HeadOffice, areas: gpd.GeoDataFrame, network: Path) -> None:
    """Raise when ``--head-office`` lies outside every département (a typo, swapped axes).

    Every agent working there would otherwise be left out as "workplace outside
    every département", in a run that ends in success.
    """
    inside = locate(np.array([office.lon, office.lat]), np.array([office.lat, office.lon]), areas)
    if inside[0]:
        return
    hint = (
        " Longitude and latitude look swapped: give longitude first."
        if inside[1]
        else " Check the coordinates (longitude first, WGS84 degrees)."
    )
    msg = (
        f"--head-office {office.lon:.5f},{office.lat:.5f} lies outside every département of "
        f"{network}.{hint}"
    )
    raise InputError(msg)


def roster_resolver(
    *, workplaces: pd.DataFrame | None = None, head_office: HeadOffice | None = None
) -> Resolver:
    """Make the resolver that gives a roster's rows their home and workplace points.

    Parameters
    ----------
    workplaces
        ``workplace_id, lon, lat`` (:func:`optimizer.inputs.read_workplaces`),
        the workplaces a ``workplace_id`` column may name.
    head_office
        The workplace of rows naming none (empty ``workplace_id`` or
        ``head_office``).

    Returns
    -------
    Resolver
        Takes the roster and returns a copy where rows without ``lon, lat``
        sit at the town hall of their ``commune`` / ``insee`` /
        ``code_postal`` (with ``departement`` for homonyms), and rows without
        ``workplace_lon, workplace_lat`` at the workplace they name. When it
        places rows at town halls, those get ``location`` ``commune`` and
        their ``location_precision_m`` (as :func:`optimizer.inputs.read_agents`
        gives them); the other rows keep theirs (``coordinates`` and NaN when
        the roster had none).

    Raises
    ------
    InputError
        (When called.) A commune not found or ambiguous, a workplace id not
        in ``workplaces``, or a row naming no workplace without a head office.
    """
    known = (
        workplaces.set_index(workplaces["workplace_id"].astype(str))[["lon", "lat"]]
        if workplaces is not None
        else pd.DataFrame(columns=["lon", "lat"], dtype=float)
    )

    def resolve(agents: pd.DataFrame) -> pd.DataFrame:
        out = agents.copy()
        for column in ("lon", "lat", "workplace_lon", "workplace_lat"):
            if column not in out:
                out[column] = np.nan
        homeless = out[["lon", "lat"]].isna().any(axis=1).to_numpy()
        if homeless.any():
            _place_at_communes(out, homeless)
        lost = out[["workplace_lon", "workplace_lat"]].isna().any(axis=1).to_numpy()
        if lost.any():
            ids = (
                out["workplace_id"].fillna("").astype(str).str.strip()
                if "workplace_id" in out
                else pd.Series("", index=out.index)
            )
            named = ids.to_numpy()[lost]
            at_office = np.isin(named, ["", "head_office"])
            unknown = ~at_office & ~np.isin(named, known.index.to_numpy())
            if unknown.any():
                k = int(np.flatnonzero(lost)[np.flatnonzero(unknown)[0]])
                msg = (
                    f"{row_name(out, k)}: workplace '{ids.iloc[k]}' is not in the workplaces "
                    "file (--workplaces)."
                )
                raise InputError(msg)
            if at_office.any() and head_office is None:
                k = int(np.flatnonzero(lost)[np.flatnonzero(at_office)[0]])
                msg = (
                    f"{row_name(out, k)} names no workplace: give workplace_id (with "
                    "--workplaces), workplace_lon/workplace_lat, or --head-office."
                )
                raise InputError(msg)
            points = known.reindex(named).to_numpy(float).copy()
            if head_office is not None:
                points[at_office] = (head_office.lon, head_office.lat)
            for k, column in enumerate(("workplace_lon", "workplace_lat")):
                values = out[column].to_numpy(float).copy()
                values[lost] = points[:, k]
                out[column] = values
        return out

    return resolve


def _place_at_communes(out: pd.DataFrame, rows: np.ndarray) -> None:
    """Put ``rows`` (without points) at their commune's town hall, in place."""
    from optimizer.places import PlaceError, locate_communes

    def cells(name: str) -> list[str] | None:
        if name not in out:
            return None
        return [str(v) for v in out.loc[rows, name].fillna("").astype(str).str.strip()]

    given = {k: cells(k) for k in ("commune", "insee", "code_postal", "departement")}
    if all(given[k] is None for k in ("commune", "insee", "code_postal")):
        k = int(np.flatnonzero(rows)[0])
        msg = (
            f"{row_name(out, k)}: no coordinates and no commune: "
            "give lon, lat or commune / insee / code_postal."
        )
        raise InputError(msg)
    try:
        found = locate_communes(
            given["commune"],
            insee=given["insee"],
            postcodes=given["code_postal"],
            departements=given["departement"],
        )
    except PlaceError as exc:
        k = int(np.flatnonzero(rows)[exc.row or 0])
        msg = f"{row_name(out, k)}: {exc}"
        raise InputError(msg) from None
    for axis in ("lon", "lat"):
        values = out[axis].to_numpy(float).copy()
        values[rows] = found[axis].to_numpy(float)
        out[axis] = values
    # how each home was placed, as read_agents says it (a plain run's allocation.csv)
    location = (
        out["location"].astype(object).to_numpy().copy()
        if "location" in out
        else np.full(len(out), "coordinates", dtype=object)
    )
    location[rows] = "commune"
    precision = (
        out["location_precision_m"].to_numpy(float).copy()
        if "location_precision_m" in out
        else np.full(len(out), np.nan)
    )
    precision[rows] = found["extent_m"].to_numpy(float)
    out["location"], out["location_precision_m"] = location, precision


def run_national_files(
    agents_file: Path,
    telecentres_file: Path,
    network: Path,
    out: Path,
    *,
    scheduler: str | None,
    head_office: HeadOffice | None = None,
    workplaces: Path | None = None,
    options: NationalOptions | None = None,
    crs: str | None = None,
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str = DEFAULT_SPEED_MODEL,
    progress: Progress | None = None,
    log_level: int = logging.WARNING,
    csv_style: CsvStyle = "standard",
    lang: Lang = "en",
) -> NationalPlan:
    """Read the files, plan the country on ``scheduler``, write the results.

    Parameters
    ----------
    agents_file, telecentres_file
        The roster and the candidate sites.
    network
        The national network folder (see the module docstring).
    out
        Output folder.
    scheduler
        ``local[:N]`` or a scheduler address (see :mod:`.cluster`).
    head_office
        The workplace of agents whose file gives none.
    workplaces
        The workplaces file (``workplace_id, lon, lat``) a ``workplace_id``
        column names.
    options
        The rules.
    crs
        CRS of CSV coordinates when not WGS84.
    speed_profile, speed_model
        How every extract's roads are timed (see :func:`national_sources`).
    progress
        Called with one line per step.
    log_level
        Least level of Dask's own log messages (see :func:`.cluster.connect`).
    csv_style
        How the CSV files are written (:func:`optimizer.report.csv_text`).
    lang
        The language of the files' headers, values and sentences
        (:mod:`optimizer.i18n`; ``summary.json``'s keys stay English).

    Returns
    -------
    NationalPlan
        The plan (also written to ``out``).
    """
    opts = options or NationalOptions()
    if scheduler is not None:
        parse_scheduler(scheduler)  # a bad value said before any long work (the split)
    agents, places, sites, areas = _read_inputs(
        agents_file, telecentres_file, network, head_office, workplaces, crs
    )
    asked = _Asked(
        network, out, scheduler, head_office, opts, speed_profile, speed_model, progress,
        log_level, csv_style, lang,
    )  # fmt: skip
    folder = OutputFolder(out, own_names=OWN_FILES)
    folder.acquire()  # one run at a time on a folder, before any long work (the split)
    try:
        plan = _plan_and_write(asked, folder, agents, sites, areas, places)
    finally:
        for stale in _run_tables(out):  # this run's, when it failed
            shutil.rmtree(stale, ignore_errors=True)
        folder.release()
    return plan


def _read_inputs(
    agents_file: Path,
    telecentres_file: Path,
    network: Path,
    head_office: HeadOffice | None,
    workplaces: Path | None,
    crs: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame, gpd.GeoDataFrame]:
    """Read and check the roster, the workplaces, the sites and the départements.

    Returns the agents (with the file's workplace coordinates, if any), the
    workplaces (None when not given), the sites and the département polygons.
    """
    agents = read_agents(agents_file, crs=crs)
    refuse_unapplied_rules(agents)  # before any long work
    places = read_workplaces(workplaces, crs=crs) if workplaces is not None else None
    # read_agents keeps the rows' own workplace points, when the file gives them
    pointed = "workplace_lon" in agents
    if not pointed and head_office is None and places is None:
        msg = (
            f"{agents_file}: give workplace_lon, workplace_lat columns, workplace_id with "
            "--workplaces, or --head-office."
        )
        raise InputError(msg)
    sites = read_telecentres(telecentres_file, crs=crs)
    # a workplace id that is a site's is refused in every case; the ids the rows name are
    # checked here only when no row gives coordinates (else the resolver checks the rows
    # that give none, since the others need no id of the workplaces file)
    check_workplace_refs(agents.iloc[:0] if pointed else agents, places, sites)
    areas = read_departements(network)
    if head_office is not None:
        _check_head_office(head_office, areas, network)
    return agents, places, sites, areas


@dataclass(frozen=True)
class _Asked:
    """What a call of :func:`run_national_files` asks, beside the files it reads."""

    network: Path
    out: Path
    scheduler: str | None
    head_office: HeadOffice | None
    opts: NationalOptions
    speed_profile: str
    speed_model: str
    progress: Progress | None
    log_level: int
    csv_style: CsvStyle
    lang: Lang


def _plan_and_write(
    asked: _Asked,
    folder: OutputFolder,
    agents: pd.DataFrame,
    sites: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    places: pd.DataFrame | None,
) -> NationalPlan:
    """Prepare the extracts, plan on the cluster, publish the files and keep the tables."""
    network, opts, progress = asked.network, asked.opts, asked.progress
    speed = {"speed_profile": asked.speed_profile, "speed_model": asked.speed_model}
    sources = national_sources(network, areas, buffer_km=opts.buffer_km, **speed, progress=progress)
    tables = asked.out.parent / f"{asked.out.name}.tables"
    work = _fresh_tables(asked.out)
    with connect(asked.scheduler, progress=progress, log_level=asked.log_level) as client:
        plan = plan_national(
            agents,
            sites,
            areas,
            sources,
            work_dir=work,
            options=opts,
            client=client,
            resolver=roster_resolver(workplaces=places, head_office=asked.head_office),
            progress=progress,
            widen=wider_sources(network, areas, **speed, progress=progress),
        )
    tables_out = {
        ALLOCATION_FILE: allocation_file(plan.allocation, agents, workplaces=places is not None),
        TELECENTRES_FILE: site_file(plan.allocation, sites, dedicated=opts.dedicated_desks),
        SCHEDULE_FILE: plan.schedule_table(),
    }
    summary = _summary(plan, asked, tables)
    summary["totals"] = totals(
        plan.allocation, tables_out[ALLOCATION_FILE], tables_out[TELECENTRES_FILE]
    )
    summary["factors"] = factors()
    lang = asked.lang
    folder.publish(
        {
            **{
                name: csv_text(localise_table(table, lang), asked.csv_style)
                for name, table in tables_out.items()
            },
            SUMMARY_FILE: json.dumps(localise_summary(summary, lang), indent=1, default=str) + "\n",
        }
    )
    _install_tables(work, tables)
    return plan


def _summary(plan: NationalPlan, asked: _Asked, tables: Path) -> dict[str, Any]:
    """Return ``summary.json``: the plan's figures, the options, the files written."""
    opts = asked.opts
    summary = {k: v for k, v in plan.summary.items() if k != "tasks"}
    summary["options"] = {
        "max_minutes": opts.max_minutes,
        "min_saving": opts.min_saving,
        "no_worse_off": opts.no_worse_off,
        "buffer_km": opts.buffer_km,
        "widen_rounds": opts.widen_rounds,
        "time_limit_s": opts.time_limit_s,
        "speed_profile": asked.speed_profile,
        "speed_model": asked.speed_model,
        "objective": opts.objective,
        "select": opts.select,
        "preference_bonus": opts.preference_bonus,
        "day_bonus": opts.day_bonus,
        "dedicated_desks": opts.dedicated_desks,
        "seed": opts.seed,
    }
    summary["departements_routed"] = plan.summary["tasks"]
    summary["files"] = [ALLOCATION_FILE, TELECENTRES_FILE, SCHEDULE_FILE, SUMMARY_FILE]
    summary["parquet_tables"] = summary["work_dir"] = str(tables)
    summary["language"] = asked.lang
    return summary


def _run_tables(out: Path) -> list[Path]:
    """List the hidden table folders of runs on ``out`` (this one's, or killed runs')."""
    return sorted(out.parent.glob(f".{glob_escape(out.name)}.tables.run-*"))


def _fresh_tables(out: Path) -> Path:
    """Return a new, empty folder for this run's Parquet tables, beside ``out``.

    Called under the lock of ``out``: the hidden folders of earlier runs
    (killed before they installed theirs) are removed first. A run writes its
    tables there and installs them as ``<out>.tables`` only once its results
    are published (:func:`_install_tables`), so that ``<out>.tables`` always
    belongs to the run ``<out>`` holds: never a mix of two runs' partitions
    after a run that failed half-way.
    """
    for stale in _run_tables(out):
        shutil.rmtree(stale, ignore_errors=True)
    work = out.parent / f".{out.name}.tables.run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    return work


def _install_tables(work: Path, tables: Path) -> None:
    """Put this run's tables at ``tables``, replacing the previous run's."""
    if tables.exists():
        old = work.with_name(f"{work.name}.old")  # found by _run_tables if we die here
        tables.rename(old)
        work.rename(tables)
        shutil.rmtree(old, ignore_errors=True)
    else:
        work.rename(tables)
