"""A synthetic France: département-like road grids side by side, for tests and benchmarks.

The country is one implicit road grid (nodes every ``spacing_m``, some streets
missing, some one-way, road classes mixed), cut into ``cols x rows``
rectangular départements of ``side x side`` nodes. Every node and road is
drawn from a hash of its own id, so any window of the grid (a département and
its buffer) is built alone, identical to the same roads of the whole country,
without ever building the whole country.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

import optimizer.settings as settings
from optimizer._graphlists import GraphLists
from optimizer.national.extracts import Extract, load_or_rebuild, prepare_extract

_CLASSES = np.array(["primary", "secondary", "tertiary", "unclassified", "residential"])
_X0, _Y0 = 650_000.0, 6_300_000.0  # Lambert-93, south of the Massif central


def _unit(ids: np.ndarray, salt: int) -> np.ndarray:
    """Uniform numbers in [0, 1) from integer ids (splitmix64), the same for the same id."""
    with np.errstate(over="ignore"):
        z = np.asarray(ids, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return np.asarray((z >> np.uint64(11)).astype(np.float64) / float(2**53), dtype=np.float64)


@dataclass(frozen=True)
class SyntheticFrance:
    """A grid of département-like road networks.

    Attributes
    ----------
    cols, rows
        Départements across and down.
    side
        Nodes along each side of a département.
    spacing_m
        Distance between neighbouring nodes.
    keep
        Share of grid streets that exist.
    one_way
        Share of streets that are one-way.
    seed
        Changes every road.
    """

    cols: int = 3
    rows: int = 1
    side: int = 30
    spacing_m: float = 300.0
    keep: float = 0.8
    one_way: float = 0.05
    seed: int = 0

    @property
    def width(self) -> int:
        """Grid nodes across the country."""
        return self.cols * self.side

    @property
    def height(self) -> int:
        """Grid nodes down the country."""
        return self.rows * self.side

    @property
    def codes(self) -> list[str]:
        """Département codes, ``"D00"``, ``"D01"``... row by row."""
        return [f"D{k:02d}" for k in range(self.cols * self.rows)]

    def _xy(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        col, row = ids % self.width, ids // self.width
        jitter = 0.2 * self.spacing_m
        x = _X0 + col * self.spacing_m + (_unit(ids, self.seed * 7 + 1) - 0.5) * jitter
        y = _Y0 + row * self.spacing_m + (_unit(ids, self.seed * 7 + 2) - 0.5) * jitter
        return x, y

    def areas(self) -> gpd.GeoDataFrame:
        """Département polygons (``code``, ``geometry``, WGS84): the rectangles between nodes."""
        half = self.spacing_m / 2
        rows = []
        for k, code in enumerate(self.codes):
            c, r = k % self.cols, k // self.cols
            x0 = _X0 + c * self.side * self.spacing_m - half
            y0 = _Y0 + r * self.side * self.spacing_m - half
            size = self.side * self.spacing_m
            rows.append((code, shapely.box(x0, y0, x0 + size, y0 + size)))
        frame = gpd.GeoDataFrame(
            {"code": [c for c, _ in rows]},
            geometry=[g for _, g in rows],
            crs=settings.WORKING_CRS,
        )
        return frame.to_crs(settings.INPUT_CRS)

    def graph(
        self, window: tuple[int, int, int, int] | None = None
    ) -> tuple[nx.MultiDiGraph, set[int]]:
        """Build the roads of a window of the grid, and find the window's border nodes.

        Parameters
        ----------
        window
            ``(col0, row0, col1, row1)`` grid nodes, ends excluded (default: the whole country).

        Returns
        -------
        graph, boundary
            An osmnx-style graph in WGS84, and the nodes with a road leaving the window.
        """
        lists, boundary = self.lists(window)
        return lists.build(None), boundary

    def lists(self, window: tuple[int, int, int, int] | None = None) -> tuple[GraphLists, set[int]]:
        """Return the roads of :meth:`graph` as lists, without networkx (extracts use them)."""
        c0, r0, c1, r1 = window or (0, 0, self.width, self.height)
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, self.width), min(r1, self.height)
        cc, rr = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
        ids = (rr * self.width + cc).ravel()
        x, y = self._xy(ids)
        to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
        lon, lat = to_wgs.transform(x, y)
        nodes = [
            (int(i), {"x": float(a), "y": float(b)}) for i, a, b in zip(ids, lon, lat, strict=True)
        ]
        col, row = ids % self.width, ids // self.width
        right = ids[col + 1 < c1]
        up = ids[row + 1 < r1]
        tails = np.concatenate([right, up])
        heads = np.concatenate([right + 1, up + self.width])
        key = tails * 2 + (heads - tails > 1)  # one id per grid street
        exists = _unit(key, self.seed * 7 + 3) < self.keep
        tails, heads, key = tails[exists], heads[exists], key[exists]
        tx, ty = self._xy(tails)
        hx, hy = self._xy(heads)
        length = np.hypot(tx - hx, ty - hy) * (1.0 + 0.3 * _unit(key, self.seed * 7 + 4))
        classes = _CLASSES[(_unit(key, self.seed * 7 + 5) * _CLASSES.size).astype(int)]
        oneway = _unit(key, self.seed * 7 + 6) < self.one_way
        flip = _unit(key, self.seed * 7 + 7) < 0.5
        edges: list[tuple[int, int, int, dict[str, object]]] = []
        for u, v, m, hwy, ow, fl in zip(
            tails.tolist(),
            heads.tolist(),
            length.tolist(),
            classes.tolist(),
            oneway.tolist(),
            flip.tolist(),
            strict=True,
        ):
            if ow:
                a, b = (v, u) if fl else (u, v)
                edges.append((a, b, 0, {"length": round(m, 2), "highway": hwy, "oneway": True}))
            else:  # each direction its own attributes: timing writes in them
                edges.append((u, v, 0, {"length": round(m, 2), "highway": hwy}))
                edges.append((v, u, 0, {"length": round(m, 2), "highway": hwy}))
        # networkx's order: a node's edges together, in the order the node was first seen
        first = {node: k for k, (node, _) in enumerate(nodes)}
        edges.sort(key=lambda e: first[e[0]])
        border = (
            ((col == c0) & (c0 > 0))
            | ((col == c1 - 1) & (c1 < self.width))
            | ((row == r0) & (r0 > 0))
            | ((row == r1 - 1) & (r1 < self.height))
        )
        lists = GraphLists.of(nodes, edges, {"crs": "epsg:4326"})
        return lists, {int(i) for i in ids[border]}

    def window_area(self, window: tuple[int, int, int, int]) -> shapely.Geometry:
        """Where the graph of ``window`` holds every road of the country (WGS84).

        A road it lacks has an end outside the window, so it lies within a
        tenth of the spacing (the nodes' jitter) beyond the window's outer
        nodes: the area stops there; on the country's own edges it runs on
        (no road lies beyond them).
        """
        c0, r0, c1, r1 = window
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, self.width), min(r1, self.height)
        # past the country's own edges: a département's width beyond its last nodes
        far, margin = self.side * self.spacing_m, 0.1 * self.spacing_m
        east, north = (
            _X0 + (self.width - 1) * self.spacing_m,
            _Y0 + (self.height - 1) * self.spacing_m,
        )
        x0 = _X0 + c0 * self.spacing_m + margin if c0 > 0 else _X0 - far
        y0 = _Y0 + r0 * self.spacing_m + margin if r0 > 0 else _Y0 - far
        x1 = _X0 + (c1 - 1) * self.spacing_m - margin if c1 < self.width else east + far
        y1 = _Y0 + (r1 - 1) * self.spacing_m - margin if r1 < self.height else north + far
        metric = shapely.segmentize(shapely.box(x0, y0, x1, y1), 100.0)
        to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
        return shapely.transform(
            metric, lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))
        )

    def window(self, code: str, buffer_km: float) -> tuple[int, int, int, int]:
        """Grid window of a département and its buffer."""
        k = self.codes.index(code)
        c, r = k % self.cols, k // self.cols
        extra = int(np.ceil(buffer_km * 1000.0 / self.spacing_m))
        return (
            c * self.side - extra,
            r * self.side - extra,
            (c + 1) * self.side + extra,
            (r + 1) * self.side + extra,
        )

    def source(self, code: str, *, buffer_km: float, cache_dir: str | Path) -> SyntheticSource:
        """Return a source that builds (and caches) a département's buffered extract."""
        return SyntheticSource(code=code, country=self, buffer_km=buffer_km, cache=str(cache_dir))

    def region_source(
        self, name: str, polygon: shapely.Geometry, *, cache_dir: str | Path
    ) -> SyntheticSource:
        """Return a source of the grid's window around ``polygon`` (WGS84), named ``name``.

        The window holds every node within the polygon's bounds (and one more
        on each side): the wider extracts of :func:`.plan.plan_national`.
        """
        to_metric = Transformer.from_crs(settings.INPUT_CRS, settings.WORKING_CRS, always_xy=True)
        lon, lat = shapely.get_coordinates(polygon).T
        x, y = (np.asarray(a) for a in to_metric.transform(lon, lat))
        col = (np.array([x.min(), x.max()]) - _X0) / self.spacing_m
        row = (np.array([y.min(), y.max()]) - _Y0) / self.spacing_m
        window = (
            int(np.floor(col[0])) - 1,
            int(np.floor(row[0])) - 1,
            int(np.ceil(col[1])) + 2,
            int(np.ceil(row[1])) + 2,
        )
        return SyntheticSource(
            code=name, country=self, buffer_km=0.0, cache=str(cache_dir), window=window
        )

    def points(
        self, count: int, *, seed: int, codes: list[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Random WGS84 points near random nodes (off the road by up to ~40 m).

        Parameters
        ----------
        count
            Number of points.
        seed
            Random seed.
        codes
            Only in these départements (default: anywhere).
        """
        rng = np.random.default_rng(seed)
        chosen = np.array(codes or self.codes)
        k = np.array([self.codes.index(c) for c in chosen[rng.integers(0, chosen.size, count)]])
        col = (k % self.cols) * self.side + rng.integers(0, self.side, count)
        row = (k // self.cols) * self.side + rng.integers(0, self.side, count)
        x, y = self._xy(row * self.width + col)
        x = x + rng.uniform(-40, 40, count)
        y = y + rng.uniform(-40, 40, count)
        to_wgs = Transformer.from_crs(settings.WORKING_CRS, settings.INPUT_CRS, always_xy=True)
        lon, lat = to_wgs.transform(x, y)
        return np.round(np.asarray(lon), 7), np.round(np.asarray(lat), 7)

    def sites(self, count: int, *, seed: int, desks: tuple[int, int] = (1, 4)) -> pd.DataFrame:
        """Candidate sites anywhere: ``telecentre_id, lon, lat, mon..fri`` (desks per weekday)."""
        rng = np.random.default_rng(seed)
        lon, lat = self.points(count, seed=seed)
        frame = pd.DataFrame(
            {"telecentre_id": [f"S{i:05d}" for i in range(count)], "lon": lon, "lat": lat}
        )
        for day in ("mon", "tue", "wed", "thu", "fri"):
            frame[day] = rng.integers(desks[0], desks[1] + 1, count)
        return frame


@dataclass(frozen=True)
class SyntheticSource:
    """Builds a synthetic département's buffered extract on a worker, cached on disk."""

    code: str
    country: SyntheticFrance
    buffer_km: float
    cache: str
    window: tuple[int, int, int, int] | None = None  # else the département's and its buffer

    def load(self) -> Extract:
        """Read the cached extract, or build and cache it."""
        if self.window is None:
            name = f"{self.code}-{self.buffer_km:g}km"
        else:
            name = "window-" + "_".join(str(v) for v in self.window)
        path = Path(self.cache) / f"{name}-s{self.country.seed}.pkl"
        return load_or_rebuild(path, self._build)

    def _build(self) -> Extract:
        """Build the window of the grid (by default the département's and its buffer)."""
        window = self.window or self.country.window(self.code, self.buffer_km)
        lists, boundary = self.country.lists(window)
        return prepare_extract(
            lists,
            code=self.code,
            boundary=boundary,
            area=self.country.window_area(window),
            source=f"synthetic {self.code}",
        )
