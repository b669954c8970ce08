"""A national network folder's sources: its boundaries and its OpenStreetMap files.

The folder holds the département boundaries (``departements.gpkg`` or
``departements.geojson``, a ``code`` column) and either one OpenStreetMap file
per département or one large file split once into buffered extracts
(``extracts/``, reused while the split is current; widening cuts regions
into ``extracts/wider/``). :func:`read_departements`, :func:`national_sources`
and :func:`wider_sources` turn it into the sources the tasks route on; both
the grouped national plan (:mod:`.files`) and the one pipeline's travel stage
(:mod:`.travel`) read a folder through them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

import optimizer.settings as settings
from optimizer.errors import InputError
from optimizer.national.extracts import NetworkSource
from optimizer.national.groups import one_row_per_code
from optimizer.national.pbf import (
    OsmExtractSource,
    border_reach,
    buffered_areas,
    osm_sources,
    split_osm,
)
from optimizer.network import OSM_SUFFIXES, Progress
from optimizer.speed_model import DEFAULT_SPEED_MODEL

if TYPE_CHECKING:
    from optimizer.national.options import Widen

logger = logging.getLogger(__name__)

if sys.platform != "win32":
    import fcntl

BOUNDARY_FILES = ("departements.gpkg", "departements.geojson")


def read_departements(folder: Path) -> gpd.GeoDataFrame:
    """Read the département boundaries of a national network folder.

    Codes are text; a code stored as a number (``1``, ``1.0``) is written as
    INSEE writes it (``01``), so that it names its ``01.osm.pbf``.

    Raises
    ------
    InputError
        A file that cannot be read, has no ``code`` column, a row without a
        code or without a polygon, or no CRS; one line naming the file.
    """
    for name in BOUNDARY_FILES:
        path = folder / name
        if path.exists():
            try:
                areas = gpd.read_file(path)
            except Exception as exc:  # pyogrio and GDAL raise their own types
                first = str(exc).split(";")[0]
                msg = f"{path}: cannot be read as département polygons ({first})."
                raise InputError(msg) from None
            if "code" not in areas:
                msg = f"{path}: needs a 'code' column (the département code)."
                raise InputError(msg)
            codes = [_code_text(v) for v in areas["code"].tolist()]
            # a self-crossing outline (drawn by hand, say) is repaired, not called empty
            areas = areas.set_geometry([_polygonal(g) for g in areas.geometry], crs=areas.crs)
            empty = [k for k, c in enumerate(codes) if not c]
            shapeless = [
                k for k, g in enumerate(areas.geometry) if g is None or g.is_empty or g.area == 0
            ]
            for rows, what in ((empty, "has no code"), (shapeless, "has no polygon")):
                if rows:
                    msg = (
                        f"{path}: feature {rows[0] + 1} {what} ({len(rows)} such feature(s)). "
                        "Give every département its code and polygon."
                    )
                    raise InputError(msg)
            if areas.crs is None:
                msg = f"{path}: has no coordinate reference system. Save it with one (EPSG:4326)."
                raise InputError(msg)
            areas["code"] = codes
            return one_row_per_code(areas.to_crs("EPSG:4326"))
    msg = (
        f"{folder}: a national network folder needs {' or '.join(BOUNDARY_FILES)} "
        "(département polygons with a 'code' column)."
    )
    raise InputError(msg)


def _polygonal(geometry: shapely.Geometry | None) -> shapely.Geometry | None:
    """Return a valid geometry's own self; an invalid one repaired, its polygons only."""
    if geometry is None or geometry.is_empty or geometry.is_valid:
        return geometry
    fixed = shapely.make_valid(geometry)
    parts = shapely.get_parts(fixed)
    polygons = [g for g in parts if isinstance(g, shapely.Polygon | shapely.MultiPolygon)]
    return shapely.union_all(polygons) if polygons else None


def _code_text(value: object) -> str:
    """Write a département code as INSEE does: ``48``, ``1`` or ``1.0`` -> ``"01"``, ``"2A"``."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        return f"{int(value):02d}"
    return str(value).strip()


def national_sources(
    folder: Path,
    areas: gpd.GeoDataFrame,
    *,
    buffer_km: float,
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str = DEFAULT_SPEED_MODEL,
    progress: Progress | None = None,
) -> dict[str, NetworkSource]:
    """Make the sources of a national network folder's départements (splitting a big file once).

    ``speed_profile`` (a name of :data:`optimizer.settings.SPEED_PROFILES`) and
    ``speed_model`` time the roads of every extract (as ``--speed-profile`` and
    ``--speed-model`` of a plain run); the cache keeps one file per pair.
    """
    if not folder.is_dir():
        msg = f"{folder}: with --scheduler, --network is a folder (see README, National scale)."
        raise InputError(msg)
    codes = set(areas["code"])
    per_code, others = _osm_files(folder, codes)
    cache = folder / "cache"
    if per_code and others:
        msg = (
            f"{folder}: holds both OSM files named by a département "
            f"({_shown([p.name for p in per_code.values()])}) and others "
            f"({_shown([p.name for p in others])}): give one file per département or exactly "
            "one large file to split, and move the others out of the folder."
        )
        raise InputError(msg)
    if per_code:
        sources: dict[str, NetworkSource] = {}
        grown = buffered_areas(areas, buffer_km)
        reach = border_reach(areas, buffer_km, among=set(per_code)) if buffer_km > 0 else {}
        for code, path in per_code.items():
            sources[code] = OsmExtractSource(
                code=code,
                path=str(path),
                polygon_wkt=shapely.to_wkt(grown[code]),
                cache=str(cache),
                speed_profile=speed_profile,
                speed_model=speed_model,
                reach_wkt=shapely.to_wkt(reach[code]) if code in reach else "",
            )
        return sources
    if len(others) != 1:
        shown = _shown([p.name for p in others])
        some = ", ".join(sorted(codes)[:3])
        msg = (
            f"{folder}: give one OpenStreetMap file per département (CODE.osm.pbf, CODE a "
            f"'code' of the départements file, e.g. {some}) or exactly one large file to split; "
            f"found {len(others)} other OSM files" + (f" ({shown})." if others else ".")
        )
        raise InputError(msg)
    extracts = _split_once(others[0], areas, folder / "extracts", buffer_km, progress)
    return dict(
        osm_sources(
            extracts,
            areas,
            buffer_km=buffer_km,
            cache_dir=cache,
            speed_profile=speed_profile,
            speed_model=speed_model,
        )
    )


def wider_sources(
    folder: Path,
    areas: gpd.GeoDataFrame,
    *,
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str = DEFAULT_SPEED_MODEL,
    progress: Progress | None = None,
) -> Widen | None:
    """Give extracts of regions of a folder's large OSM file (see :data:`.options.Widen`).

    Each call splits the large file once more, in one pass, into the regions
    asked, in a folder of their own (``extracts/wider/<hash of the regions>/``:
    a run never reads regions another run is writing; the same regions are
    split once). Files given one per département cover what they cover: then
    there is nothing wider to give (None).
    """
    per_code, others = _osm_files(folder, set(areas["code"]))
    if per_code or len(others) != 1:
        return None
    big = others[0]

    def widen(regions: Mapping[str, shapely.Geometry]) -> Mapping[str, NetworkSource]:
        shapes = gpd.GeoDataFrame(
            {"code": list(regions)}, geometry=list(regions.values()), crs=settings.INPUT_CRS
        )
        named = "".join(f"{name}={shapely.to_wkt(shape)};" for name, shape in regions.items())
        where = folder / "extracts" / "wider" / hashlib.sha256(named.encode()).hexdigest()[:16]
        extracts = _split_once(big, shapes, where, 0.0, progress)
        return osm_sources(
            extracts,
            shapes,
            buffer_km=0.0,
            cache_dir=folder / "cache",
            speed_profile=speed_profile,
            speed_model=speed_model,
        )

    return widen


def _shown(names: list[str]) -> str:
    """Join the first three names, and "..." when there are more."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _osm_files(folder: Path, codes: set[str]) -> tuple[dict[str, Path], list[Path]]:
    """Sort the folder's OSM files: ``code -> file`` for those named by a code, and the others."""
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
    return per_code, others


def _split_once(
    big: Path,
    areas: gpd.GeoDataFrame,
    split_dir: Path,
    buffer_km: float,
    progress: Progress | None,
) -> dict[str, Path]:
    """Split ``big`` into ``split_dir`` for ``areas`` unless a current split is there."""
    codes = set(areas["code"])
    stamp = split_dir / "split.json"
    # the shapes too: edited boundaries (or regions of the same names) are split again
    shapes = hashlib.sha256("".join(shapely.to_wkt(g) for g in areas.geometry).encode())
    wanted: dict[str, object] = {
        "source": big.name,
        "source_file": _mark(big),  # size and time: a file put back, even older, is split
        "buffer_km": buffer_km,
        "codes": sorted(codes),
        "shapes": shapes.hexdigest(),
    }
    split_dir.mkdir(parents=True, exist_ok=True)
    with _split_lock(split_dir):  # runs sharing the folder split it once, one at a time
        if not _split_is_current(stamp, big, wanted):
            stamp.unlink(missing_ok=True)
            extracts = split_osm(big, areas, split_dir, buffer_km=buffer_km, progress=progress)
            for stale in split_dir.glob("*.osm"):  # an earlier split's, of a code not written
                if stale not in extracts.values():
                    stale.unlink(missing_ok=True)
                    stale.with_suffix(".border.json").unlink(missing_ok=True)
            marks = {code: _mark(split_dir / f"{code}.osm") for code in sorted(extracts)}
            stamp.write_text(json.dumps({**wanted, "extracts": sorted(extracts), "files": marks}))
            return extracts
        return {
            p.name.split(".")[0]: p
            for p in sorted(split_dir.glob("*.osm"))
            if p.name.split(".")[0] in codes
        }


@contextmanager
def _split_lock(split_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``split_dir`` (waiting for another run's split to end)."""
    fd = os.open(split_dir / ".split.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if sys.platform != "win32":
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning("%s: another run is splitting the network; waiting", split_dir)
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _split_is_current(stamp: Path, big: Path, wanted: dict[str, object]) -> bool:
    """Whether the extracts of ``stamp`` were split from ``big`` as it is, for these rules.

    The split is redone when the large file is not the one split (its size or
    modification time differs from the stamp's ``source_file``: edited, replaced,
    put back older), when the buffer or the
    départements (codes or shapes) changed (an extract cut for another
    buffer, or a département missing, would be reused silently otherwise), or when an
    extract it wrote is gone (deleted as unreadable, say) or damaged: its size
    or modification time differs from the stamp's (cut short, overwritten,
    edited). A checksum would also catch damage that keeps both, at the cost
    of reading every extract at every run (tens of GB for France): not done.
    """
    if not stamp.exists():
        return False
    try:
        done = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(done, dict) or {k: done.get(k) for k in wanted} != wanted:
        return False
    written, marks = done.get("extracts"), done.get("files")
    if not isinstance(written, list) or not isinstance(marks, dict):
        return False  # a stamp without the extracts' marks (older versions): split again
    for code in written:
        path = stamp.parent / f"{code}.osm"
        if _mark(path) != marks.get(code):
            logger.warning(
                "%s: missing, or changed since the split (size or time): splitting %s again",
                path,
                big.name,
            )
            return False
    return True


def _mark(path: Path) -> list[int] | None:
    """Size and modification time (ns) of a file, as a split stamp records them (None: none)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_size, info.st_mtime_ns]
