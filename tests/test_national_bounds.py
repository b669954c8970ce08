"""The lower bounds of the pairs no extract certified: shortcuts that must not change them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from optimizer.national import NationalOptions
from optimizer.national.bounds import ExtractBound, Reach, _Extracts, _near_far, _Search, far_homes


def _search(rng: np.random.Generator, n_homes: int, n_sites: int) -> _Search:
    homes = (rng.uniform(0, 200_000, n_homes), rng.uniform(0, 200_000, n_homes))
    sites = (rng.uniform(0, 200_000, n_sites), rng.uniform(0, 200_000, n_sites))
    return _Search(
        usable=np.arange(n_homes),
        home_of=np.arange(n_homes),
        home_pos=pd.Series(np.arange(n_homes), index=[f"H{k}" for k in range(n_homes)]),
        site_pos=pd.Series(np.arange(n_sites), index=[f"S{k}" for k in range(n_sites)]),
        homes_xy=homes,
        sites_xy=sites,
        per_m=60.0 / 72_000.0,
        wp_to=np.full(n_homes, 90.0),
        wp_sum=np.full(n_homes, 180.0),
        floor_s=600.0,
        beyond=float(np.nextafter(60.0, np.inf)),
        opts=NationalOptions(),
    )


def _extract(rng: np.random.Generator, search: _Search) -> ExtractBound:
    n_homes, n_sites = search.home_pos.size, search.site_pos.size
    # an extract of a corner of the country: its sites, its origins, the far homes elsewhere
    sx, sy = search.sites_xy
    cx, cy = rng.uniform(0, 200_000, 2)
    searched = np.hypot(sx - cx, sy - cy) < 50_000
    hx, hy = search.homes_xy
    inside = np.hypot(hx - cx, hy - cy) < 50_000
    origins = np.flatnonzero(inside & (rng.uniform(size=n_homes) < 0.7))
    far = np.flatnonzero(~inside)
    found = np.flatnonzero(searched)
    rows = rng.integers(0, max(origins.size, 1), found.size)
    return ExtractBound(
        origins=origins,
        out=rng.uniform(0, 40, origins.size),
        back=rng.uniform(0, 40, origins.size),
        far=far,
        searched=searched,
        h_to=np.where(searched, rng.uniform(0, 70, n_sites), 0.0),
        h_back=np.where(searched, rng.uniform(0, 70, n_sites), 0.0),
        outside=~searched & (rng.uniform(size=n_sites) < 0.5),
        found_site=found if origins.size else found[:0],
        found_row=rows if origins.size else rows[:0],
        found_to=rng.uniform(0, 60, found.size) if origins.size else np.zeros(0),
        found_back=rng.uniform(0, 60, found.size) if origins.size else np.zeros(0),
    )


@pytest.mark.parametrize("seed", range(6))
def test_far_homes_left_out_never_change_a_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    search = _search(rng, 400, 60)
    every = [_extract(rng, search) for _ in range(5)]
    thinned = [_near_far(bound, search) for bound in every]
    assert sum(b.far.size for b in thinned) < sum(b.far.size for b in every)  # it does thin
    j = np.arange(60)
    for ours, theirs in zip(
        _Extracts.of(thinned, 60).bounds(j, search),
        _Extracts.of(every, 60).bounds(j, search),
        strict=True,
    ):
        np.testing.assert_array_equal(ours, theirs)


def test_homes_far_from_a_hull_are_found_without_measuring_each() -> None:
    rng = np.random.default_rng(3)
    hull = shapely.convex_hull(shapely.multipoints(rng.uniform(40_000, 60_000, (30, 2))))
    hx, hy = rng.uniform(0, 100_000, 3000), rng.uniform(0, 100_000, 3000)
    ids = np.array([f"H{k}" for k in range(hx.size)])
    snap = rng.choice([np.nan, 5.0, 3000.0], hx.size)
    reach = Reach(
        origins=pd.DataFrame({"origin_id": ids, "snap_m": snap, "alike": np.isfinite(snap)}),
        away=pd.DataFrame({"departement": [], "destination_id": [], "near_m": []}),
        extent=pd.DataFrame({"departement": ["A"], "hull": [shapely.to_wkt(hull)]}),
    )
    far = far_homes(reach, ids, hx, hy)["A"]
    distance = shapely.distance(hull, shapely.points(hx, hy))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(far, distance > snap + 0.01)
    assert far.any() and (~far).any()
