"""Writing a run's files: every table computed first, then published as one whole run.

:func:`write_outputs` writes the allocation, telecentres, travel times,
ranking, schedule, changes and frontier tables, ``summary.json``, and the maps
and the GeoPackage, in the run's language and CSV style, through
:class:`optimizer.publish.OutputFolder`: the folder holds the previous run or
this one, never a mix.

A run fit to share (a pseudonymisation salt, :mod:`optimizer.sharing`): agent
ids are replaced by :func:`optimizer.report.shared.pseudonym` of the id with the
salt in every file, rows sorted by pseudonym; per-agent figures come from a
point 800 to 1,600 m from the home, rounded (whole minutes, whole km, access
legs to 100 m); communes with fewer than 3 agents are grouped as ``other
communes`` in ``telecentres.csv`` and the maps. Of the drive-time scenarios, it
counts twin swaps in ``scenarios_same`` and keeps neither that column nor the
savings' range.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.csvout import CsvStyle, csv_text
from optimizer.i18n import Lang, localise_summary, localise_table
from optimizer.pipeline import RunResult
from optimizer.publish import OutputFolder
from optimizer.report.agents import (
    allocation_table,
    ranking_table,
    replan_changes,
    travel_times_table,
    with_robustness,
)
from optimizer.report.run_summary import _r, summary
from optimizer.report.shared import _pseudonymised_winners, _step, pseudonym, shared_reason
from optimizer.sharing import (
    MIN_CELL,
    SHARED_EXTENT_STEP_M,
    SNAP_STEP_M,
    precision_note,
    shared_result,
    sort_by_pseudonym,
)
from optimizer.tables import (
    ALLOCATION_FILE,
    CHANGES_FILE,
    FRONTIER_FILE,
    GPKG_FILE,
    MAP_HTML,
    MAP_PNG,
    OWN_FILES,
    RANKING_FILE,
    SCHEDULE_FILE,
    SUMMARY_FILE,
    TELECENTRES_FILE,
    TRAVEL_FILE,
    telecentre_table,
)
from optimizer.uncertainty import Robustness

logger = logging.getLogger(__name__)


def write_outputs(
    result: RunResult,
    out_dir: str | Path | OutputFolder,
    *,
    extra_timings: Mapping[str, float] | None = None,
    pseudonymise_salt: str | None = None,
    frontier: pd.DataFrame | None = None,
    maps: bool = True,
    robustness: Robustness | None = None,
    csv_style: CsvStyle = "standard",
    lang: Lang = "en",
) -> dict[str, Path]:
    """Write the result files: allocation, telecentres, travel times, ranking, summary.

    Every table is computed first; then the files are published as one whole
    run (:class:`optimizer.publish.OutputFolder`): the folder holds the
    previous run or this one, never a mix, and files of the tool's own names
    (:data:`OWN_FILES`) that this run does not write are gone. Files the user
    put in the folder stay.

    Parameters
    ----------
    result
        A run's result.
    out_dir
        Folder to write into (created if needed), or an
        :class:`~optimizer.publish.OutputFolder` whose lock the caller holds.
    extra_timings
        More timings for the summary (e.g. the command's wall time so far).
    pseudonymise_salt
        When given, the files are fit to share (see the module's description).
    frontier
        A saving/fairness frontier (:func:`optimizer.fairness.frontier`) to write
        as ``frontier.csv``.
    maps
        Also draw ``map.png`` and ``map.html`` (:mod:`optimizer.maps`) and write
        ``assignment.gpkg`` (:mod:`optimizer.gpkg`).
    robustness
        Drive-time scenarios (:func:`optimizer.uncertainty.assess`): adds
        ``plan_holds``, ``scenarios_same``, ``scenarios_twin_swap``,
        ``saving_week_low`` and ``saving_week_high`` to ``allocation.csv`` (a
        shared run: see the module's description) and a
        ``drive_time_uncertainty`` section to ``summary.json``.
    csv_style
        How the CSV files are written (:func:`csv_text`).
    lang
        The files' language (:mod:`optimizer.i18n`): ``en``, or ``fr`` for French
        column names, values, reasons, the summary's sentences and the maps' labels
        (the summary's keys stay English).

    Returns
    -------
    dict
        File name to path written.
    """
    folder = (
        out_dir if isinstance(out_dir, OutputFolder) else OutputFolder(out_dir, own_names=OWN_FILES)
    )
    salt = pseudonymise_salt
    allocation, info, shown = _allocation_and_summary(result, robustness, salt)
    tables = _tables(result, shown, allocation, frontier, salt)
    _more_summary(info, maps=maps, salt=salt, robustness=robustness, extra_timings=extra_timings)
    if salt is not None:
        tables = _pseudonymised(tables, salt)
    names = [*tables, SUMMARY_FILE, *((MAP_PNG, MAP_HTML, GPKG_FILE) if maps else ())]
    info["files"] = names
    info["language"] = lang
    files = _contents(tables, info, csv_style=csv_style, lang=lang)
    if maps:
        files.update(_maps(shown, tables, shared=salt is not None, lang=lang))
    written = folder.publish({name: files[name] for name in names})
    logger.info("wrote %d files to %s", len(written), folder.path)
    return {path.name: path for path in written}


def _allocation_and_summary(
    result: RunResult, robustness: Robustness | None, salt: str | None
) -> tuple[pd.DataFrame, dict[str, Any], RunResult]:
    """Compute the allocation table and the summary, as shared when ``salt`` is given.

    Returns the allocation table, the summary, and the run whose per-agent
    figures the files show (a shared run's are of displaced points).
    """
    allocation = allocation_table(result)
    if robustness is not None:
        allocation = with_robustness(allocation, robustness)
    info = summary(  # the plan's totals, from the true homes
        result,
        allocation,
        rename=None if salt is None else lambda a: pseudonym(a, salt),
    )
    if salt is None:
        return allocation, info, result
    # a shared run publishes per-agent figures of displaced points (optimizer.sharing)
    shown = shared_result(result, salt)
    allocation = allocation_table(shown)
    if robustness is not None:  # the scenarios' savings are the true homes': not shared
        allocation = with_robustness(allocation, robustness)
        # nor the twin swaps: they would say which agents share a home point (counted in
        # scenarios_same instead: the agent or a twin of it kept the place)
        allocation["scenarios_same"] += allocation["scenarios_twin_swap"]
        allocation = allocation.drop(
            columns=["saving_week_low", "saving_week_high", "scenarios_twin_swap"]
        )
    # a commune's exact extent would name it: whole 5 km only
    allocation["location_precision_m"] = (
        np.ceil(allocation["location_precision_m"] / SHARED_EXTENT_STEP_M) * SHARED_EXTENT_STEP_M
    )
    limit = info["options"]["max_minutes"]
    if result.mode == "minimax" and limit is not None:  # one agent's drive: whole minutes
        info["options"]["max_minutes"] = float(np.ceil(limit))
    # the reasons --minimax gives name one agent's drive to 0.1 min: not shared
    allocation["reason"] = allocation["reason"].map(shared_reason)
    info["totals"]["not_assigned_by_reason"] = {
        shared_reason(k): v for k, v in info["totals"]["not_assigned_by_reason"].items()
    }
    snaps = shown.travel.origins["snap_m"]
    info["network"]["access_leg_m"] = {
        "median": _r(_step(snaps.median(), SNAP_STEP_M)),
        "max": _r(_step(snaps.max(), SNAP_STEP_M)),
    }
    return allocation, info, shown


def _tables(
    result: RunResult,
    shown: RunResult,
    allocation: pd.DataFrame,
    frontier: pd.DataFrame | None,
    salt: str | None,
) -> dict[str, pd.DataFrame]:
    """Return the CSV tables of the run, by file name."""
    min_cell = 1 if salt is None else MIN_CELL
    tables = {
        ALLOCATION_FILE: allocation,
        TELECENTRES_FILE: telecentre_table(shown, min_cell=min_cell),
        TRAVEL_FILE: travel_times_table(shown),
        RANKING_FILE: ranking_table(shown),
    }
    if result.plan is not None:
        tables[SCHEDULE_FILE] = result.plan.schedule_table()
    if result.previous is not None:
        tables[CHANGES_FILE] = replan_changes(result)
    if frontier is not None:
        tables[FRONTIER_FILE] = frontier
        if salt is not None:  # each limit and longest drive is one agent's drive
            drives = [c for c in ("max_minutes", "longest_drive") if c in frontier]
            tables[FRONTIER_FILE] = frontier.assign(**{c: frontier[c].round() for c in drives})
    return tables


def _more_summary(
    info: dict[str, Any],
    *,
    maps: bool,
    salt: str | None,
    robustness: Robustness | None,
    extra_timings: Mapping[str, float] | None,
) -> None:
    """Add the privacy section, the scenarios and more timings to the summary (in place)."""
    info["privacy"] = {
        "home_coordinates_in_outputs": False,
        "gpkg_allocation_points": (
            None
            if not maps
            else "per telecentre and commune, at the town hall"
            if salt is not None
            else "per agent, at the home's road access (the town hall for a home by commune)"
        ),
        "agent_ids_pseudonymised": salt is not None,
        "fit_to_share": salt is not None,
        **({"shared_figures": precision_note()} if salt is not None else {}),
    }
    if robustness is not None:
        info["drive_time_uncertainty"] = robustness.summary
    if extra_timings:
        info["timings_s"].update({k: round(v, 4) for k, v in extra_timings.items()})


def _pseudonymised(tables: dict[str, pd.DataFrame], salt: str) -> dict[str, pd.DataFrame]:
    """Return the tables with agent ids replaced by their pseudonyms, rows sorted by them."""
    out = dict(tables)
    for name in (ALLOCATION_FILE, TRAVEL_FILE, RANKING_FILE, SCHEDULE_FILE, CHANGES_FILE):
        if name not in out:
            continue
        frame = out[name].copy()
        frame["agent_id"] = [pseudonym(a, salt) for a in frame["agent_id"]]
        if "tie_won_by" in frame:  # the winner of a tie is an agent too
            frame = _pseudonymised_winners(frame, salt)
        out[name] = frame if name == RANKING_FILE else sort_by_pseudonym(frame)
    return out


def _contents(
    tables: dict[str, pd.DataFrame], info: dict[str, Any], *, csv_style: CsvStyle, lang: Lang
) -> dict[str, str | bytes]:
    """Return the CSV files' and the summary's text, in the run's language."""
    contents: dict[str, str | bytes] = {
        name: csv_text(localise_table(frame, lang), csv_style) for name, frame in tables.items()
    }
    contents[SUMMARY_FILE] = (
        json.dumps(localise_summary(info, lang), indent=2, ensure_ascii=False) + "\n"
    )
    return contents


def _maps(
    shown: RunResult, tables: dict[str, pd.DataFrame], *, shared: bool, lang: Lang
) -> dict[str, str | bytes]:
    """Draw the PNG and HTML maps and write the GeoPackage."""
    from optimizer.gpkg import render_gpkg
    from optimizer.maps import render_html, render_png

    min_cell = MIN_CELL if shared else 1
    return {
        MAP_PNG: render_png(shown, min_cell=min_cell, lang=lang),
        MAP_HTML: render_html(shown, min_cell=min_cell, lang=lang),
        GPKG_FILE: render_gpkg(
            shown,
            tables[ALLOCATION_FILE],
            tables[TELECENTRES_FILE],
            min_cell=min_cell,
            shared=shared,
            lang=lang,
        ),
    }
