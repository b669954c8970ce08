"""A national run from files: what ``assign --scheduler`` calls.

The network is a folder holding the département boundaries
(``departements.gpkg`` or ``departements.geojson``, a ``code`` column) and
either one OpenStreetMap file per département (``CODE.osm.pbf``,
``CODE.osm``...) or one large file of the country or a region (any other
``*.osm.pbf``), split once into buffered extracts in ``extracts/`` (reused
while newer than the file). Prepared extracts are cached in ``cache/``.

Agents are read like any roster (:func:`optimizer.inputs.read_agents`); their
workplace is ``workplace_lon, workplace_lat`` when the file has them, else the
head office. The results are ``allocation.csv``, ``schedule.csv`` and
``summary.json`` in the output folder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.errors import InputError
from optimizer.inputs import HeadOffice, read_agents, read_telecentres
from optimizer.national.cluster import connect
from optimizer.national.extracts import NetworkSource
from optimizer.national.pbf import OsmExtractSource, buffered_areas, osm_sources, split_osm
from optimizer.national.plan import NationalOptions, NationalPlan, plan_national
from optimizer.network import OSM_SUFFIXES, Progress
from optimizer.publish import OutputFolder
from optimizer.report import (
    ALLOCATION_FILE,
    OWN_FILES,
    SCHEDULE_FILE,
    SUMMARY_FILE,
    neutralise_formulas,
)

logger = logging.getLogger(__name__)

BOUNDARY_FILES = ("departements.gpkg", "departements.geojson")


def read_departements(folder: Path) -> gpd.GeoDataFrame:
    """Read the département boundaries of a national network folder."""
    for name in BOUNDARY_FILES:
        path = folder / name
        if path.exists():
            areas = gpd.read_file(path)
            if "code" not in areas:
                msg = f"{path}: needs a 'code' column (the département code)."
                raise InputError(msg)
            areas["code"] = areas["code"].astype(str)
            return areas.to_crs("EPSG:4326")
    msg = (
        f"{folder}: a national network folder needs {' or '.join(BOUNDARY_FILES)} "
        "(département polygons with a 'code' column)."
    )
    raise InputError(msg)


def national_sources(
    folder: Path,
    areas: gpd.GeoDataFrame,
    *,
    buffer_km: float,
    progress: Progress | None = None,
) -> dict[str, NetworkSource]:
    """Make the sources of a national network folder's départements (splitting a big file once)."""
    if not folder.is_dir():
        msg = f"{folder}: with --scheduler, --network is a folder (see README, National scale)."
        raise InputError(msg)
    codes = set(areas["code"])
    per_code: dict[str, Path] = {}
    others: list[Path] = []
    for path in sorted(folder.iterdir()):
        name = path.name.lower()
        if not name.endswith(OSM_SUFFIXES):
            continue
        stem = path.name.split(".")[0]
        if stem in codes:
            per_code[stem] = path
        else:
            others.append(path)
    cache = folder / "cache"
    if per_code:
        sources: dict[str, NetworkSource] = {}
        grown = buffered_areas(areas, buffer_km)
        for code, path in per_code.items():
            sources[code] = OsmExtractSource(
                code=code,
                path=str(path),
                polygon_wkt=shapely.to_wkt(grown[code]),
                cache=str(cache),
            )
        return sources
    if len(others) != 1:
        msg = (
            f"{folder}: give one OpenStreetMap file per département (CODE.osm.pbf) or exactly "
            f"one large file to split; found {len(others)} other OSM files."
        )
        raise InputError(msg)
    big = others[0]
    split_dir = folder / "extracts"
    stamp = split_dir / "split.json"
    if not stamp.exists() or stamp.stat().st_mtime < big.stat().st_mtime:
        extracts = split_osm(big, areas, split_dir, buffer_km=buffer_km, progress=progress)
        stamp.write_text(json.dumps({"source": big.name, "buffer_km": buffer_km}))
    else:
        extracts = {p.name.split(".")[0]: p for p in sorted(split_dir.glob("*.osm"))}
    return dict(osm_sources(extracts, areas, buffer_km=buffer_km, cache_dir=cache))


def run_national_files(
    agents_file: Path,
    telecentres_file: Path,
    network: Path,
    out: Path,
    *,
    scheduler: str,
    head_office: HeadOffice | None = None,
    options: NationalOptions | None = None,
    crs: str | None = None,
    progress: Progress | None = None,
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
    options
        The rules.
    crs
        CRS of CSV coordinates when not WGS84.
    progress
        Called with one line per step.

    Returns
    -------
    NationalPlan
        The plan (also written to ``out``).
    """
    opts = options or NationalOptions()
    agents = read_agents(agents_file, crs=crs)
    raw = _raw_columns(agents_file, ("workplace_lon", "workplace_lat"))
    if raw is not None:
        agents["workplace_lon"], agents["workplace_lat"] = raw[0], raw[1]
    elif head_office is not None:
        agents["workplace_lon"], agents["workplace_lat"] = head_office.lon, head_office.lat
    else:
        msg = f"{agents_file}: give workplace_lon, workplace_lat columns or --head-office."
        raise InputError(msg)
    sites = read_telecentres(telecentres_file, crs=crs)
    areas = read_departements(network)
    sources = national_sources(network, areas, buffer_km=opts.buffer_km, progress=progress)
    folder = OutputFolder(out, own_names=OWN_FILES)
    folder.acquire()  # one run at a time on a folder, as a plain run
    try:
        tables = out.parent / f"{out.name}.tables"
        with connect(scheduler, progress=progress) as client:
            plan = plan_national(
                agents,
                sites,
                areas,
                sources,
                work_dir=tables,
                options=opts,
                client=client,
                progress=progress,
            )
        summary = {k: v for k, v in plan.summary.items() if k != "tasks"}
        summary["departements_routed"] = plan.summary["tasks"]
        summary["files"] = [ALLOCATION_FILE, SCHEDULE_FILE, SUMMARY_FILE]
        summary["parquet_tables"] = str(tables)
        folder.publish(
            {
                ALLOCATION_FILE: _csv(plan.allocation),
                SCHEDULE_FILE: _csv(plan.schedule_table()),
                SUMMARY_FILE: json.dumps(summary, indent=1, default=str) + "\n",
            }
        )
    finally:
        folder.release()
    return plan


def _csv(frame: pd.DataFrame) -> str:
    """Return a table as CSV text, cells a spreadsheet would run neutralised (as every output)."""
    return str(neutralise_formulas(frame).to_csv(index=False, lineterminator="\n"))


def _raw_columns(path: Path, names: tuple[str, ...]) -> list[np.ndarray] | None:
    """Read columns of a CSV roster as floats (None when the file lacks one)."""
    if path.suffix.lower() != ".csv":
        return None
    table = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
    if not all(n in table for n in names):
        return None
    return [pd.to_numeric(table[n].str.replace(",", "."), errors="raise").to_numpy() for n in names]
