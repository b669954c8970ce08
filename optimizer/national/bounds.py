"""Lower bounds of the pairs no extract certified, and which of them may still be eligible.

:func:`unknown_pairs` bounds each (group, site) pair whose time no task
certified from below, each way, with what every extract's task wrote (its
cut, horizons, clear origins, the hull of its roads: :class:`Reach`, see
:mod:`.tasks`), and keeps the pairs those bounds do not rule out. The plan
is exact only when none of them may improve it (:mod:`.evaluation`,
:mod:`.plan`); a network folder's travel stage hands their bounds to the
pipeline (:mod:`.travel`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from optimizer.national.options import NationalOptions
from optimizer.settings import INPUT_CRS, WORKING_CRS

#: The columns of :func:`unknown_pairs`, and their types.
_COLUMNS = {
    "group": np.int64,
    "site": np.int64,
    "best_saving_s": np.int64,
    "best_km_m": np.int64,
    "lower_to": np.float64,
    "lower_back": np.float64,
}


@dataclass(frozen=True)
class Reach:
    """What the tasks wrote to bound the pairs they did not certify (see :mod:`.tasks`)."""

    origins: pd.DataFrame  # departement, origin_id, out, in, snap_m, alike
    away: pd.DataFrame  # departement, destination_id, near_m
    extent: pd.DataFrame  # departement, hull (WKT, working CRS)


def unknown_pairs(
    groups: pd.DataFrame,
    commute: pd.DataFrame,
    travel: pd.DataFrame,
    raw: pd.DataFrame,
    sites: pd.DataFrame,
    site_ids: np.ndarray,
    site_code: np.ndarray,
    horizons: pd.DataFrame,
    reach: Reach,
    top_kmh: float,
    opts: NationalOptions,
) -> pd.DataFrame:
    """Find the (group, site) pairs whose time is not known exactly and that may be eligible.

    A pair is known when a task certified it (``travel``, one row per pair).
    Any other pair's merged-network time is at least each of these lower
    bounds, each way, given by every extract ``B`` (``out``, ``in``: the
    home's minutes to and from the nearest cut node of ``B``; ``h``: the
    site's horizon in ``B``, :mod:`.extracts`):

    - the home a clear origin of ``B`` (its road there is its merged-network
      road, routed, away from the cut) and the site searched there: ``min(t, out + h)``
      where ``B`` found ``t`` within the limit, else ``min(limit, out + h)`` to
      the site (nothing on the way back): a route that leaves ``B`` drives to
      its cut, then from its cut;
    - the home surely off ``B``'s roads (:func:`far_homes`) and the site
      searched there: ``h`` (the route enters ``B``);
    - the home a clear origin of ``B`` and the site's road surely not in ``B``
      (:func:`sites_outside`): ``out`` (``in`` back): the route leaves ``B``;
    - the straight distance at the fastest speed of any extract or access leg.

    The pair may be eligible when those bounds pass the rules of
    :func:`.evaluation.eligible_pairs`; none may, for the plan to be optimal on the merged network.
    ``raw`` holds every task's rows (``departement`` the task), ``horizons``
    every task's destinations.

    Returns ``group, site`` (indices), one row per such pair,
    ``best_saving_s``: its round-trip saving a day at those bounds, whole
    seconds (no time the merged network may give saves more), and
    ``lower_to, lower_back``: those bounds, minutes.
    """
    usable = np.flatnonzero(commute["reason"].to_numpy() == "")
    found = {name: [np.zeros(0, dtype)] for name, dtype in _COLUMNS.items()}
    if usable.size == 0 or len(site_ids) == 0:
        return pd.DataFrame({name: arrays[0] for name, arrays in found.items()})
    search = _Search.of(groups, commute, usable, sites, site_ids, top_kmh, opts)
    hx, hy = search.homes_xy
    extracts = _Extracts.of(
        [
            _near_far(bound, search)
            for bound in extract_bounds(
                reach, raw, horizons, search.home_pos, search.site_pos, hx, hy
            )
        ],
        site_ids.size,
    )
    certified = _certified_keys(travel, search.home_pos, search.site_pos)
    step = max(1, 2_000_000 // max(usable.size, search.home_pos.size))
    # sites a block at a time, a département's together: few extracts searched a block's sites
    order = np.argsort(site_code, kind="stable")
    for lo in range(0, site_ids.size, step):
        j = np.sort(order[lo : lo + step])
        lb_to, lb_back = extracts.bounds(j, search)
        for name, values in search.eligible(j, lb_to, lb_back, certified).items():
            found[name].append(values)
    return pd.DataFrame({name: np.concatenate(arrays) for name, arrays in found.items()})


def _certified_keys(travel: pd.DataFrame, home_pos: pd.Series, site_pos: pd.Series) -> np.ndarray:
    """Return the certified pairs, as sorted ``home x site`` keys."""
    sure = travel[(travel["kind"] == "site") & travel["certified"].to_numpy(bool)]
    sure_h = home_pos.reindex(sure["origin_id"].to_numpy()).to_numpy()
    sure_j = site_pos.reindex(sure["destination_id"].to_numpy()).to_numpy()
    known = ~(np.isnan(sure_h) | np.isnan(sure_j))
    n_sites = site_pos.size
    return np.unique(sure_h[known].astype(np.int64) * n_sites + sure_j[known].astype(np.int64))


@dataclass(frozen=True)
class _Search:
    """The homes of the usable groups, the sites, and the rules the bounds are held to."""

    usable: np.ndarray  # the groups whose commute is usable
    home_of: np.ndarray  # each usable group's home (row of ``home_pos``)
    home_pos: pd.Series  # home id -> row
    site_pos: pd.Series  # site id -> column
    homes_xy: tuple[np.ndarray, np.ndarray]  # metres
    sites_xy: tuple[np.ndarray, np.ndarray]
    per_m: float  # minutes per metre at the top speed
    wp_to: np.ndarray  # each usable group's commute, minutes: there, and both ways
    wp_sum: np.ndarray
    floor_s: float  # the least saving a day, seconds
    beyond: float  # just past the limit: where a search stopped
    opts: NationalOptions
    wp_km: np.ndarray | None = None  # each usable group's commute, km both ways

    @classmethod
    def of(
        cls,
        groups: pd.DataFrame,
        commute: pd.DataFrame,
        usable: np.ndarray,
        sites: pd.DataFrame,
        site_ids: np.ndarray,
        top_kmh: float,
        opts: NationalOptions,
    ) -> _Search:
        """Place the homes of the ``usable`` groups and the sites, in metres; keep the rules."""
        home_ids, first, home_of = np.unique(
            groups["home_id"].to_numpy()[usable], return_index=True, return_inverse=True
        )
        to_metric = Transformer.from_crs(INPUT_CRS, WORKING_CRS, always_xy=True)
        hx, hy = (
            np.asarray(a)
            for a in to_metric.transform(
                groups["lon"].to_numpy(float)[usable][first],
                groups["lat"].to_numpy(float)[usable][first],
            )
        )
        sx, sy = (
            np.asarray(a)
            for a in to_metric.transform(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
        )
        wp_to = commute["minutes_to"].to_numpy(float)[usable]
        return cls(
            usable=usable,
            home_of=home_of,
            home_pos=pd.Series(np.arange(home_ids.size), index=home_ids),
            site_pos=pd.Series(np.arange(site_ids.size), index=site_ids),
            homes_xy=(hx, hy),
            sites_xy=(sx, sy),
            # minutes per metre at the top speed; 1 % for the projection's scale error
            per_m=60.0 / (top_kmh * 1000.0) / 1.01,
            wp_to=wp_to,
            wp_sum=wp_to + commute["minutes_back"].to_numpy(float)[usable],
            floor_s=max(1.0, float(np.rint(opts.min_saving * 60.0))),
            beyond=float(np.nextafter(opts.max_minutes, np.inf)),  # searched to the limit there
            opts=opts,
            wp_km=commute["km_to"].to_numpy(float)[usable]
            + commute["km_back"].to_numpy(float)[usable]
            if "km_to" in commute
            else None,
        )

    def line(self, j: np.ndarray) -> np.ndarray:
        """Minutes at the top speed along the straight line, homes x sites ``j``."""
        (hx, hy), (sx, sy) = self.homes_xy, self.sites_xy
        line = np.hypot(hx[:, None] - sx[None, j], hy[:, None] - sy[None, j]) * self.per_m
        return np.asarray(line)

    def eligible(
        self, j: np.ndarray, lb_to: np.ndarray, lb_back: np.ndarray, certified: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Return the pairs to sites ``j`` not certified whose bounds pass the rules."""
        opts, home_of, n_sites = self.opts, self.home_of, self.site_pos.size
        ok = lb_to[home_of] <= opts.max_minutes
        if opts.no_worse_off:
            ok &= lb_to[home_of] <= self.wp_to[:, None]
        ok &= (
            np.rint((self.wp_sum[:, None] - lb_to[home_of] - lb_back[home_of]) * 60.0)
            >= self.floor_s
        )
        g_idx, j_idx = np.nonzero(ok)
        if not g_idx.size:
            return {}
        key = home_of[g_idx] * n_sites + j[j_idx]
        at = np.minimum(np.searchsorted(certified, key), max(certified.size - 1, 0))
        new = certified[at] != key if certified.size else np.ones(key.size, dtype=bool)
        rows, cols = home_of[g_idx[new]], j_idx[new]
        best = np.rint((self.wp_sum[g_idx[new]] - lb_to[rows, cols] - lb_back[rows, cols]) * 60.0)
        best_km = self.best_km(g_idx[new], rows, j[cols])
        keep = best_km > 0 if opts.objective == "km" else np.ones(best_km.size, dtype=bool)
        return {
            "group": self.usable[g_idx[new]][keep],
            "site": j[j_idx[new]][keep],
            "best_saving_s": best.astype(np.int64)[keep],
            "best_km_m": best_km[keep],
            "lower_to": lb_to[rows, cols][keep],
            "lower_back": lb_back[rows, cols][keep],
        }

    def best_km(self, g: np.ndarray, home: np.ndarray, site: np.ndarray) -> np.ndarray:
        """Round-trip metres a day each pair may save at most (-1 where the commute has no km).

        The commute's km less the straight line there and back: a route, access
        legs included, is no shorter than the straight line between its ends (1 %
        for the projection's scale error).
        """
        if self.wp_km is None:
            return np.full(g.size, -1, dtype=np.int64)
        (hx, hy), (sx, sy) = self.homes_xy, self.sites_xy
        line = np.hypot(hx[home] - sx[site], hy[home] - sy[site]) / 1.01
        best = self.wp_km[g] * 1000.0 - 2.0 * line
        return np.where(np.isfinite(best), np.rint(best), -1).astype(np.int64)


@dataclass(frozen=True)
class _Extracts:
    """Every extract's bounds, and their clear origins side by side."""

    each: list[ExtractBound]
    away: np.ndarray  # (n_extracts, n_sites): sites whose road the extract surely lacks
    member_ext: np.ndarray  # per clear origin of any extract: the extract,
    member_home: np.ndarray  # the home,
    member_out: np.ndarray  # its minutes to the cut and back
    member_in: np.ndarray

    @classmethod
    def of(cls, extracts: list[ExtractBound], n_sites: int) -> _Extracts:
        """Gather ``extracts`` (``n_sites`` sites)."""
        return cls(
            each=extracts,
            away=np.array([e.outside for e in extracts]).reshape(len(extracts), n_sites),
            member_ext=np.concatenate(
                [np.full(e.origins.size, k, dtype=np.int64) for k, e in enumerate(extracts)] + [[]]
            ).astype(np.int64),
            member_home=np.concatenate([e.origins for e in extracts] + [[]]).astype(np.int64),
            member_out=np.concatenate([e.out for e in extracts] + [[]]),
            member_in=np.concatenate([e.back for e in extracts] + [[]]),
        )

    def bounds(self, j: np.ndarray, search: _Search) -> tuple[np.ndarray, np.ndarray]:
        """Lower bounds (homes x sites ``j``), minutes each way: the line, then every extract."""
        line = search.line(j)
        lb_to, lb_back = line, line.copy()
        for ext in self.each:
            ext.bound_searched(j, lb_to, lb_back, search.beyond)
        # an extract that lacks every site of the block raises its origins' rows whole
        lacks = self.away[:, j]
        every = np.asarray(lacks.all(axis=1), dtype=bool)
        some = np.asarray(lacks.any(axis=1), dtype=bool)
        chosen = every[self.member_ext]
        if chosen.any():
            for bound, value in ((lb_to, self.member_out), (lb_back, self.member_in)):
                most = np.zeros(search.home_pos.size)
                np.maximum.at(most, self.member_home[chosen], value[chosen])
                np.maximum(bound, most[:, None], out=bound)
        for k in np.flatnonzero(some & ~every):
            self.each[k].bound_outside(j, lb_to, lb_back)
        return lb_to, lb_back


@dataclass(frozen=True)
class ExtractBound:
    """One extract's lower bounds on the pairs' times (see :func:`unknown_pairs`)."""

    origins: np.ndarray  # homes that are clear origins of the extract
    out: np.ndarray  # their minutes to the nearest cut node (0 where unsure)
    back: np.ndarray  # their minutes from it
    far: np.ndarray  # homes surely off the extract's roads
    searched: np.ndarray  # (n_sites,) bool: sites searched in the extract
    h_to: np.ndarray  # (n_sites,) their horizons there (0 elsewhere)
    h_back: np.ndarray
    outside: np.ndarray  # (n_sites,) bool: sites whose road the extract surely lacks
    # the site pairs found within the limit, sorted by site: site, origin row, minutes each way
    found_site: np.ndarray
    found_row: np.ndarray
    found_to: np.ndarray
    found_back: np.ndarray

    def bound_searched(
        self, j: np.ndarray, lb_to: np.ndarray, lb_back: np.ndarray, beyond: float
    ) -> None:
        """Raise ``lb_to``, ``lb_back`` (homes x sites ``j``) where the extract searched."""
        here = np.flatnonzero(self.searched[j])
        if here.size:
            cols = j[here]
            where = np.ix_(self.far, here)
            lb_to[where] = np.maximum(lb_to[where], self.h_to[cols][None, :])
            lb_back[where] = np.maximum(lb_back[where], self.h_back[cols][None, :])
            # origins: at least min(t, out + h), t beyond the limit where not found
            via_to = self.out[:, None] + self.h_to[cols][None, :]
            via_back = self.back[:, None] + self.h_back[cols][None, :]
            t_to = np.full(via_to.shape, beyond)
            t_back = np.zeros(via_to.shape)  # not found: nothing known on the way back
            sites = self.found_site
            first, last = np.searchsorted(sites, [cols[0], cols[-1] + 1])
            at = np.searchsorted(cols, sites[first:last])
            inside = cols[np.minimum(at, cols.size - 1)] == sites[first:last]
            if inside.any():
                r = self.found_row[first:last][inside]
                c = at[inside]
                t_to[r, c] = self.found_to[first:last][inside]
                t_back[r, c] = np.minimum(self.found_back[first:last][inside], via_back[r, c])
            where = np.ix_(self.origins, here)
            lb_to[where] = np.maximum(lb_to[where], np.minimum(t_to, via_to))
            lb_back[where] = np.maximum(lb_back[where], t_back)

    def bound_outside(self, j: np.ndarray, lb_to: np.ndarray, lb_back: np.ndarray) -> None:
        """Raise the bounds of this extract's origins to the sites of ``j`` it lacks."""
        away = np.flatnonzero(self.outside[j])
        if away.size and self.origins.size:
            where = np.ix_(self.origins, away)
            lb_to[where] = np.maximum(lb_to[where], self.out[:, None])
            lb_back[where] = np.maximum(lb_back[where], self.back[:, None])


def _near_far(bound: ExtractBound, search: _Search) -> ExtractBound:
    """Keep the far homes whose bound ``h`` may beat the straight line to the extract's sites.

    A home at least ``h`` minutes at the top speed from the box of the sites
    searched there (the largest of their horizons) has a straight-line bound
    (:meth:`_Search.line`, the first bound) at least every ``h``: the bounds
    are the same without it, and far fewer homes are gone through (most homes
    of the country are far from a given extract).
    """
    searched = np.flatnonzero(bound.searched)
    if bound.far.size == 0 or searched.size == 0:
        return bound
    (hx, hy), (sx, sy) = search.homes_xy, search.sites_xy
    box = (sx[searched].min(), sy[searched].min(), sx[searched].max(), sy[searched].max())
    gap = _to_box(hx[bound.far], hy[bound.far], box)  # no farther than any searched site
    reach = max(float(bound.h_to[searched].max()), float(bound.h_back[searched].max()))
    return replace(bound, far=bound.far[gap * search.per_m < reach])


def _to_box(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Distance from each point to the box ``(x0, y0, x1, y1)``: at most to anything in it.

    Each coordinate's gap is a difference of the same coordinates as the
    distance to a point inside would take, so rounding keeps it no larger.
    """
    x0, y0, x1, y1 = box
    dx = np.maximum(np.maximum(x0 - x, x - x1), 0.0)
    dy = np.maximum(np.maximum(y0 - y, y - y1), 0.0)
    return np.asarray(np.hypot(dx, dy))


def extract_bounds(
    reach: Reach,
    raw: pd.DataFrame,
    horizons: pd.DataFrame,
    home_pos: pd.Series,
    site_pos: pd.Series,
    hx: np.ndarray,
    hy: np.ndarray,
) -> list[ExtractBound]:
    """Gather each extract's bounds from the tables its task wrote.

    Homes are ``home_pos``'s index, at ``hx, hy`` (metres). Each table's ids
    are looked up once (the tables hold millions of rows at national size),
    then split by extract.
    """
    n_homes, n_sites = home_pos.size, site_pos.size
    far = far_homes(reach, home_pos.index.to_numpy(), hx, hy)
    outside = sites_outside(reach, site_pos.index.to_numpy(), horizons)
    homes_index, sites_index = pd.Index(home_pos.index), pd.Index(site_pos.index)
    origins = reach.origins[reach.origins["clear"].to_numpy(bool)]  # the search is the truth
    o = _Split.of(
        origins,
        home=homes_index.get_indexer(origins["origin_id"]),
        out=origins["out"].to_numpy(float),
        back=origins["in"].to_numpy(float),
    )
    site_h = horizons[horizons["kind"] == "site"]
    # only where the site's road is surely its own and away from the cut (``clear``)
    site_h = site_h[site_h["clear"].to_numpy(bool)]
    h = _Split.of(
        site_h,
        site=sites_index.get_indexer(site_h["destination_id"]),
        to=site_h["horizon_to"].to_numpy(float),
        back=site_h["horizon_back"].to_numpy(float),
    )
    found = raw[raw["kind"] == "site"]
    # a time found to a site not clear there is no bound (its road there may not be its own)
    clear = pd.MultiIndex.from_frame(site_h[["departement", "destination_id"]])
    found = found[pd.MultiIndex.from_frame(found[["departement", "destination_id"]]).isin(clear)]
    f = _Split.of(
        found,
        home=homes_index.get_indexer(found["origin_id"]),
        site=sites_index.get_indexer(found["destination_id"]),
        to=found["minutes_to"].to_numpy(float),
        back=found["minutes_back"].to_numpy(float),
    )
    return [
        _extract_bound(
            (o, h, f),
            code,
            far.get(code, np.zeros(n_homes, dtype=bool)),
            outside.get(code, np.zeros(n_sites, dtype=bool)),
        )
        for code in sorted(set(o.rows) | set(h.rows))
    ]


@dataclass(frozen=True)
class _Split:
    """A table's columns (arrays) and the rows of each extract (``departement``)."""

    columns: dict[str, np.ndarray]
    rows: dict[str, np.ndarray]

    @classmethod
    def of(cls, frame: pd.DataFrame, **columns: np.ndarray) -> _Split:
        """Split ``frame``'s rows by extract; keep ``columns``."""
        codes, names = pd.factorize(frame["departement"].astype(str))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        rows = {str(n): order[bounds[k] : bounds[k + 1]] for k, n in enumerate(names)}
        return cls(columns=columns, rows=rows)

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def of_code(self, code: str) -> np.ndarray:
        """Return the rows of extract ``code`` (none when it wrote none)."""
        return self.rows.get(code, np.zeros(0, dtype=np.int64))


def _extract_bound(
    tables: tuple[_Split, _Split, _Split], code: str, far: np.ndarray, outside: np.ndarray
) -> ExtractBound:
    """Extract ``code``'s bounds from its clear origins, site horizons and sites found."""
    o, h, f = tables
    n_homes, n_sites = far.size, outside.size
    rows = o.of_code(code)
    rows = rows[o["home"][rows] >= 0]
    homes = o["home"][rows]
    row_of = np.full(n_homes, -1, dtype=np.int64)
    row_of[homes] = np.arange(homes.size)
    searched = np.zeros(n_sites, dtype=bool)
    h_to, h_back = np.zeros(n_sites), np.zeros(n_sites)
    dest = h.of_code(code)
    dest = dest[h["site"][dest] >= 0]
    searched[h["site"][dest]] = True
    h_to[h["site"][dest]] = h["to"][dest]
    h_back[h["site"][dest]] = h["back"][dest]
    pairs = f.of_code(code)
    pairs = pairs[(f["home"][pairs] >= 0) & (f["site"][pairs] >= 0)]
    pairs = pairs[row_of[f["home"][pairs]] >= 0]
    pairs = pairs[np.argsort(f["site"][pairs], kind="stable")]
    return ExtractBound(
        origins=homes,
        out=o["out"][rows],
        back=o["back"][rows],
        far=np.flatnonzero(far),
        searched=searched,
        h_to=h_to,
        h_back=h_back,
        outside=outside,
        found_site=f["site"][pairs].astype(np.int64),
        found_row=row_of[f["home"][pairs]],
        found_to=f["to"][pairs],
        found_back=f["back"][pairs],
    )


def far_homes(
    reach: Reach, home_ids: np.ndarray, hx: np.ndarray, hy: np.ndarray
) -> dict[str, np.ndarray]:
    """Per extract: which homes surely join none of its roads (``code -> (n_homes,) bool``).

    A home's road in the merged network is known from any task where the
    home joins its road alike (``snap_m``); a home farther than that from the
    convex hull of an extract's roads joins none of them, so a route from it
    to a site of that extract enters the extract through its cut. Homes are
    ``home_ids`` at ``hx, hy`` (metres).
    """
    alike = reach.origins[reach.origins["alike"].to_numpy(bool)]
    snap = (
        alike.groupby("origin_id")["snap_m"].min().reindex(home_ids).to_numpy(float)
    )  # nan: no task knows it
    points = shapely.points(hx, hy)
    out: dict[str, np.ndarray] = {}
    for code, wkt in zip(reach.extent["departement"], reach.extent["hull"], strict=True):
        hull = shapely.from_wkt(wkt)
        # the hull lies in its box: a home a metre farther from the box than the rule asks
        # is far without measuring (most homes of a country, for one extract)
        boxed = _to_box(hx, hy, tuple(shapely.bounds(hull)))
        with np.errstate(invalid="ignore"):
            far = boxed > snap + 1.01
            near = np.flatnonzero(~far & np.isfinite(snap))
            far[near] = shapely.distance(hull, points[near]) > snap[near] + 0.01
        out[str(code)] = far
    return out


def sites_outside(
    reach: Reach, site_ids: np.ndarray, horizons: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Per extract: which sites' roads surely lie outside it (``code -> (n_sites,) bool``).

    A site's road in the merged network is the one its own task found, when
    that task says it is surely the same (``alike``); that road is not in
    another extract when the extract's nearest road is farther from the site.
    """
    own = horizons[(horizons["kind"] == "site") & horizons["own"].to_numpy(bool)]
    mine = own.set_index("destination_id").reindex(site_ids)
    snap = mine["snap_m"].to_numpy(float)
    alike = mine["alike"].fillna(False).to_numpy(bool)
    position = pd.Series(np.arange(site_ids.size), index=site_ids)
    out: dict[str, np.ndarray] = {}
    for code, rows in reach.away.groupby("departement"):
        j = position.reindex(rows["destination_id"].astype(str).to_numpy()).to_numpy()
        known = ~np.isnan(j)
        j = j[known].astype(np.int64)
        flags = np.zeros(site_ids.size, dtype=bool)
        # a centimetre's margin: a tie may be the same road
        flags[j] = alike[j] & (rows["near_m"].to_numpy(float)[known] > snap[j] + 0.01)
        out[str(code)] = flags
    return out
