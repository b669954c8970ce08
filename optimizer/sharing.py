"""What leaves the machine: the rules that make a run's files fit to hand to a third party.

Without these rules, a run's figures locate homes: from the minutes and km of
``travel_times.csv`` to the eight public destinations, with the access leg,
anyone holding the public road network finds each home's access point on the
road by trilateration (5 to 15 m off at the median). A *shared* run
(``assign --pseudonymise SALT``) therefore publishes:

- **per-agent figures of a displaced point**: every agent's minutes, km,
  savings and access leg are computed from a point :data:`MIN_OFFSET_M` to
  :data:`MAX_OFFSET_M` from the home, in a direction and at a distance drawn
  from the salt and the id (the same salt gives the same point run after run:
  repeated runs cannot be averaged), then rounded to whole minutes
  (:data:`MINUTES_STEP`), whole km (:data:`KM_STEP`) and access legs to
  :data:`SNAP_STEP_M`; the plan itself, its totals and every decision are
  those of the true homes;
- **no small cells**: a commune with fewer than :data:`MIN_CELL` agents is never
  shown on its own (telecentres' commune lists, maps, ``assignment.gpkg``); the
  maps and the GeoPackage give no drive time per commune, and the GeoPackage
  no agent (its allocation layer counts agents per telecentre and commune, as
  the telecentres' commune lists do: :mod:`optimizer.gpkg`);
- **rows sorted by pseudonym**, not in the roster's order;
- the table of ids and pseudonyms only where the planner asks
  (:func:`write_key_file`), never in the output folder.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import secrets
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

import optimizer.settings as settings
from optimizer.csvout import csv_text
from optimizer.errors import InputError
from optimizer.model import HEAD_OFFICE
from optimizer.pipeline import RunResult, destination_table, own_workplace_times, travel_again
from optimizer.travel import TravelTable

logger = logging.getLogger(__name__)

#: Smallest and largest distance from a home to the point its shared figures come from, metres.
MIN_OFFSET_M = 800.0
MAX_OFFSET_M = 1_600.0
#: Shared minutes are whole minutes; km whole km; access legs whole 100 m.
MINUTES_STEP = 1.0
KM_STEP = 1.0
SNAP_STEP_M = 100.0
#: Shared ``location_precision_m`` (a commune's extent) is rounded up to this step.
SHARED_EXTENT_STEP_M = 5_000.0
#: A commune with fewer agents than this is grouped with the others ("other communes").
MIN_CELL = 3
#: Label of the grouped small communes.
OTHER_COMMUNES = "other communes"


def offsets(agent_ids: list[str], salt: str) -> tuple[np.ndarray, np.ndarray]:
    """Displacement of each agent's shared point, metres east and north, drawn from the salt.

    Parameters
    ----------
    agent_ids
        The agents' real ids.
    salt
        The planner's secret (the ``--pseudonymise`` salt).

    Returns
    -------
    tuple of numpy.ndarray
        ``(dx, dy)``: a direction uniform on the circle, a distance uniform
        between :data:`MIN_OFFSET_M` and :data:`MAX_OFFSET_M`.
    """
    dx = np.empty(len(agent_ids))
    dy = np.empty(len(agent_ids))
    for i, agent in enumerate(agent_ids):
        digest = hashlib.sha256(f"{salt}\x00offset\x00{agent}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        v = int.from_bytes(digest[8:16], "big") / 2**64
        angle = 2 * math.pi * u
        radius = MIN_OFFSET_M + (MAX_OFFSET_M - MIN_OFFSET_M) * v
        dx[i], dy[i] = radius * math.cos(angle), radius * math.sin(angle)
    return dx, dy


def _round(values: np.ndarray | pd.Series, step: float) -> np.ndarray:
    return np.asarray(np.round(np.asarray(values, dtype=float) / step) * step)


def shared_result(result: RunResult, salt: str) -> RunResult:
    """Return the run as it may be shared: per-agent figures of displaced points, rounded.

    The plan (who goes where, on which days, and why) is the run's own; only
    the figures per agent change: times and km from a point
    :data:`MIN_OFFSET_M` to :data:`MAX_OFFSET_M` from each home (see
    :func:`offsets`), rounded to :data:`MINUTES_STEP` minutes and
    :data:`KM_STEP` km, and access legs rounded to :data:`SNAP_STEP_M`.

    Parameters
    ----------
    result
        A run's result.
    salt
        The planner's secret.

    Returns
    -------
    RunResult
        The same run with the shared figures.
    """
    agents = result.agents
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
    x, y = to_metric.transform(agents["lon"].to_numpy(float), agents["lat"].to_numpy(float))
    dx, dy = offsets(agents["agent_id"].astype(str).tolist(), salt)
    lon, lat = to_wgs.transform(np.asarray(x) + dx, np.asarray(y) + dy)
    origins = pd.DataFrame({"id": agents["agent_id"].astype(str), "lon": lon, "lat": lat})
    destinations = destination_table(result.telecentres, result.head_office, result.workplaces)
    moved = travel_again(result, origins, destinations)
    table = moved.table.copy()
    # an agent the run could not route stays unrouted, whatever its displaced point gives
    kept = result.travel.table["reason"].to_numpy() != ""
    for column in ("minutes_to", "minutes_back"):
        table[column] = np.where(kept, np.nan, _round(table[column], MINUTES_STEP))
    for column in ("km_to", "km_back"):
        table[column] = np.where(kept, np.nan, _round(table[column], KM_STEP))
    table["reason"] = result.travel.table["reason"].to_numpy()
    origins_report = moved.origins.copy()
    origins_report["snap_m"] = _round(origins_report["snap_m"], SNAP_STEP_M)
    travel = TravelTable(
        table=table,
        origins=origins_report,
        destinations=result.travel.destinations,
        seconds=moved.seconds,
    )
    n, tc_ids = len(agents), list(result.problem.telecentre_ids)
    own = own_workplace_times(table, agents)
    wide = {
        column: own.pivot(index="origin_id", columns="destination_id", values=column).reindex(
            index=agents["agent_id"].astype(str).tolist(), columns=[*tc_ids, HEAD_OFFICE]
        )
        for column in ("minutes_to", "minutes_back", "km_to", "km_back")
    }
    problem = result.problem.with_rules(
        minutes_to=wide["minutes_to"][tc_ids].to_numpy(float).reshape(n, len(tc_ids)),
        minutes_back=wide["minutes_back"][tc_ids].to_numpy(float).reshape(n, len(tc_ids)),
        km_to=wide["km_to"][tc_ids].to_numpy(float).reshape(n, len(tc_ids)),
        km_back=wide["km_back"][tc_ids].to_numpy(float).reshape(n, len(tc_ids)),
        head_office_minutes_to=wide["minutes_to"][HEAD_OFFICE].to_numpy(float),
        head_office_minutes_back=wide["minutes_back"][HEAD_OFFICE].to_numpy(float),
        head_office_km_to=wide["km_to"][HEAD_OFFICE].to_numpy(float),
        head_office_km_back=wide["km_back"][HEAD_OFFICE].to_numpy(float),
    )
    assignment = replace(result.assignment, problem=problem)
    plan = replace(result.plan, assignment=assignment) if result.plan is not None else None
    logger.info("shared figures from points %g-%g m from the homes", MIN_OFFSET_M, MAX_OFFSET_M)
    return replace(result, travel=travel, problem=problem, assignment=assignment, plan=plan)


def group_small_cells(counts: pd.Series, *, min_cell: int = MIN_CELL) -> pd.Series:
    """Agents per commune with the communes under ``min_cell`` grouped as ``other communes``.

    Parameters
    ----------
    counts
        Agents per commune (index: commune name).
    min_cell
        Smallest count shown on its own.

    Returns
    -------
    pandas.Series
        The counts of the communes shown, largest first, then ``other communes``
        (when any) with the rest.
    """
    shown = counts[counts >= min_cell].sort_values(ascending=False, kind="stable")
    rest = int(counts[counts < min_cell].sum())
    if rest:
        shown = pd.concat([shown, pd.Series({OTHER_COMMUNES: rest})])
    return shown


def sort_by_pseudonym(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of their pseudonyms (``agent_id``), not the roster's.

    Parameters
    ----------
    frame
        A table with a pseudonymised ``agent_id`` column.

    Returns
    -------
    pandas.DataFrame
        The table sorted by ``agent_id`` (stable within an agent), index reset.
    """
    return frame.sort_values("agent_id", kind="stable").reset_index(drop=True)


def precision_note() -> dict[str, object]:
    """Describe what a shared run's per-agent figures are, for ``summary.json``.

    Returns
    -------
    dict
        The offsets, rounding steps and smallest cell.
    """
    return {
        "figures_from_a_point_m_from_home": [MIN_OFFSET_M, MAX_OFFSET_M],
        "minutes_step": MINUTES_STEP,
        "km_step": KM_STEP,
        "access_leg_step_m": SNAP_STEP_M,
        "location_precision_step_m": SHARED_EXTENT_STEP_M,
        "smallest_commune_cell": MIN_CELL,
        "small_communes_grouped_as": OTHER_COMMUNES,
        "rows_sorted_by": "pseudonym",
        "plan_and_totals": "the run's own, from the true homes",
    }


def check_key_file(path: str | Path, *, out_dir: str | Path) -> Path:
    """Refuse a key file where it must not go; return it absolute.

    Refused: inside the output folder (or its hidden run folders), which is
    meant to be shared; the folder itself or any folder; a path under a file;
    a device, a pipe or a link; an existing file this tool did not write (a
    key file starts with :data:`KEY_HEADER`).

    Parameters
    ----------
    path
        Where the planner wants the key.
    out_dir
        The run's output folder.

    Returns
    -------
    pathlib.Path
        The absolute path.
    """
    target = Path(os.path.abspath(path))  # noqa: PTH100 - keep the path as given
    folder = Path(os.path.abspath(out_dir)).resolve()  # noqa: PTH100
    parent = target.parent.resolve()
    inside = folder == parent or folder in parent.parents
    beside = parent == folder.parent and target.name.startswith(f".{folder.name}.")
    if inside or beside:
        msg = (
            f"--key-file: '{path}' is inside the output folder '{out_dir}', which is meant to "
            "be shared. Keep the key apart, e.g. --key-file key.csv outside it."
        )
        raise InputError(msg)
    if folder in (target, target.resolve()) or target.is_dir():
        msg = f"--key-file: '{path}' is a folder. Give a file name, e.g. key.csv."
        raise InputError(msg)
    for ancestor in target.parents:
        if ancestor.exists() and not ancestor.is_dir():
            msg = (
                f"--key-file: '{path}' would be inside '{ancestor}', which is a file, not a "
                "folder. Give a file name in a folder, e.g. key.csv."
            )
            raise InputError(msg)
    if target.exists() or target.is_symlink():
        if not target.is_file() or target.is_symlink():
            msg = (
                f"--key-file: '{path}' is not a regular file (a device, a pipe or a link): "
                "the key is never written there. Give a new file name, e.g. key.csv."
            )
            raise InputError(msg)
        if not _is_key_file(target):
            msg = (
                f"--key-file: '{path}' exists and is not a key file this tool wrote: it is "
                "never replaced. Give a new file name, or move that file away."
            )
            raise InputError(msg)
    return target


#: The header of a key file: a file that starts with it may be replaced by a new key.
KEY_HEADER = "agent_id,pseudonym"


def _is_key_file(path: Path) -> bool:
    """Whether ``path`` is a key file this tool wrote (its first line is :data:`KEY_HEADER`)."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(len(KEY_HEADER) + 2)
    except OSError:
        return False
    return first.rstrip(b"\r\n") == KEY_HEADER.encode()


def write_key_file(table: pd.DataFrame, path: str | Path, *, out_dir: str | Path) -> Path:
    """Write the table of ids and pseudonyms where the planner asked, never in ``out_dir``.

    Parameters
    ----------
    table
        ``agent_id, pseudonym``.
    path
        The CSV file to write: a new file, or a key file this tool wrote
        (:func:`check_key_file`); written to a private temporary file beside
        it, then renamed.
    out_dir
        The run's output folder, which the file may not be in (it is shared).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    target = check_key_file(path, out_dir=out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # created new and private (O_EXCL: never through a file or link already there)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(csv_text(table[["agent_id", "pseudonym"]]))
        check_key_file(path, out_dir=out_dir)  # nothing put there meanwhile
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    logger.info("wrote the key of %d pseudonyms to %s", len(table), target)
    return target


__all__ = [
    "KM_STEP",
    "MAX_OFFSET_M",
    "MINUTES_STEP",
    "MIN_CELL",
    "MIN_OFFSET_M",
    "OTHER_COMMUNES",
    "SHARED_EXTENT_STEP_M",
    "SNAP_STEP_M",
    "check_key_file",
    "group_small_cells",
    "offsets",
    "precision_note",
    "shared_result",
    "sort_by_pseudonym",
    "write_key_file",
]
