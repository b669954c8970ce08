"""National benchmark: a synthetic France planned in one exact plan, with 1 and 2 Dask workers.

Run by hand (about 50 minutes at full size for both runs on 2 quiet cores)::

    python benchmarks/national.py                 # 96 départements, 1M agents, 1 then 2 workers
    python benchmarks/national.py --scale 0.1 --workers 1   # a quick look
    python benchmarks/national.py --departements 12         # a 4 x 3 slice: a 2-4 minute profile
    python benchmarks/national.py --workers 2 --most-days 3 # 1-3 telework days: the weekly model

Full size: 96 département-like road grids of 177 x 177 nodes (31,329 nodes each,
3.0 million in all, 430 m apart: a département about 76 km wide), a 30 km
border as ``assign`` uses by default (each extract about 91,000 nodes;
``--buffer-km``), the pairs not certified priced out or routed again in wider
regions (``--widen-rounds``), 1,000,000 agents in 35,000 origin groups (a
home, a workplace near the département's centre, allowed days), 3,500 sites
with 1 to 8 desks a weekday, a 60-minute limit. Each run starts
from an empty extract cache, so it prepares every network. Prints wall time,
each worker's peak memory, the load average, the time of each phase, the
tasks' wall and CPU seconds (their ratio is 1 when each worker had its core),
the scale-out ratio and the plan's figures (exactness included).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time

import numpy as np
import pandas as pd

from optimizer.national import NationalOptions, SyntheticFrance, connect, plan_national


def instance(
    scale: float, *, departements: int | None = None, side: int = 177, most_days: int = 1
) -> tuple[SyntheticFrance, pd.DataFrame, pd.DataFrame]:
    """The synthetic France: ``scale`` of the agents, groups and sites; 96 x scale départements.

    ``departements`` overrides the count (laid out 12 across, or in a square
    when fewer: every département then has neighbours on several sides, as at
    full size); ``side`` is the nodes along a département's side.
    """
    n_dep = departements or max(3, round(96 * scale))
    if departements is not None:
        scale = departements / 96
    cols = min(12, n_dep) if departements is None else min(12, int(np.ceil(np.sqrt(n_dep))))
    rows = int(np.ceil(n_dep / cols))
    country = SyntheticFrance(cols=cols, rows=rows, side=side, spacing_m=430.0, seed=1)
    half = side // 2
    spread = max(1, round(23 * side / 177))
    rng = np.random.default_rng(0)
    n_groups = round(35_000 * scale)
    n_agents = round(1_000_000 * scale)
    codes = country.codes[:n_dep]
    # workplaces: 20 per département, within 10 km of its centre
    work_lon, work_lat, work_code = [], [], []
    for k, code in enumerate(codes):
        c, r = k % cols, k // cols
        col = c * side + half + rng.integers(-spread, spread + 1, 20)
        row = r * side + half + rng.integers(-spread, spread + 1, 20)
        x, y = country._xy(row * country.width + col)
        from pyproj import Transformer

        lon, lat = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True).transform(x, y)
        work_lon += list(np.round(lon, 7))
        work_lat += list(np.round(lat, 7))
        work_code += [code] * 20
    work_lon_a, work_lat_a = np.array(work_lon), np.array(work_lat)
    home_code_idx = rng.integers(0, len(codes), n_groups)
    home_lon = np.empty(n_groups)
    home_lat = np.empty(n_groups)
    for k, code in enumerate(codes):
        where = np.flatnonzero(home_code_idx == k)
        if where.size:
            home_lon[where], home_lat[where] = country.points(
                where.size, seed=100 + k, codes=[code]
            )
    work = home_code_idx * 20 + rng.integers(0, 20, n_groups)
    sizes = rng.multinomial(n_agents - n_groups, np.full(n_groups, 1.0 / n_groups)) + 1
    membership = np.repeat(np.arange(n_groups), sizes)
    impossible = np.array(["", "mon", "fri", "wed|fri"])[rng.integers(0, 4, n_groups)]
    days = rng.integers(1, most_days + 1, n_groups)
    agents = pd.DataFrame(
        {
            "agent_id": np.char.add("a", np.arange(n_agents).astype(str)),
            "lon": home_lon[membership],
            "lat": home_lat[membership],
            "workplace_lon": work_lon_a[work][membership],
            "workplace_lat": work_lat_a[work][membership],
            "impossible_days": impossible[membership],
            "telework_days": days[membership],
        }
    )
    sites = country.sites(round(3_500 * scale), seed=5, desks=(1, 8))
    sites = sites[np.isin(locate_codes(country, sites), codes)].reset_index(drop=True)
    return country, agents, sites


def locate_codes(country: SyntheticFrance, sites: pd.DataFrame) -> np.ndarray:
    """Département of each site."""
    from optimizer.national import locate

    return locate(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), country.areas())


def run(
    country,
    agents,
    sites,
    workers: int,
    buffer_km: float,
    limit: float,
    widen_rounds: int = 2,
    time_limit_s: float = 60.0,
) -> dict:
    cache = tempfile.mkdtemp(prefix="national-cache-")
    work = tempfile.mkdtemp(prefix="national-work-")
    codes = sorted(set(locate_codes(country, sites)))
    sources = {c: country.source(c, buffer_km=buffer_km, cache_dir=cache) for c in codes}
    options = NationalOptions(
        max_minutes=limit,
        buffer_km=buffer_km,
        widen_rounds=widen_rounds,
        time_limit_s=time_limit_s,
    )
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with connect(f"local:{workers}", progress=print) as client:
        plan = plan_national(
            agents,
            sites,
            country.areas(),
            sources,
            work_dir=work,
            options=options,
            client=client,
            widen=lambda regions: {
                name: country.region_source(name, shape, cache_dir=cache)
                for name, shape in regions.items()
            },
            progress=lambda m: print(f"  {time.perf_counter() - started:7.1f}s {m}", flush=True),
        )
    wall = time.perf_counter() - started
    tasks = pd.DataFrame(plan.summary["tasks"])
    peak = tasks.groupby("pid")["peak_rss_mb"].max()
    out = {k: v for k, v in plan.summary.items() if k not in ("tasks", "work_dir")}
    out.update(
        workers=workers,
        wall_s=round(wall, 1),
        load_before=load_before,
        load_after=os.getloadavg()[0],
        peak_rss_mb_per_worker=peak.round(0).tolist(),
        extract_nodes_mean=int(tasks["nodes"].mean()),
        extract_nodes_total=int(tasks["nodes"].sum()),
        task_s_mean=round(float(tasks["seconds"].mean()), 2),
        task_load_s_mean=round(float(tasks["load_s"].mean()), 2),
        task_route_s_mean=round(float(tasks["route_s"].mean()), 2),
        # task wall / task CPU: 1.0 when each worker had its core to itself
        task_wall_over_cpu=round(float(tasks["seconds"].sum() / tasks["cpu_s"].sum()), 3),
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full size")
    parser.add_argument(
        "--departements",
        type=int,
        default=None,
        help="this many départements (in a square), agents, groups and sites in proportion "
        "(a profile run: --departements 12)",
    )
    parser.add_argument("--side", type=int, default=177, help="nodes along a département's side")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument("--buffer-km", type=float, default=30.0)
    parser.add_argument("--max-minutes", type=float, default=60.0)
    parser.add_argument(
        "--widen-rounds",
        type=int,
        default=2,
        help="rounds routing the pairs not certified again in wider extracts (0: none)",
    )
    parser.add_argument(
        "--most-days",
        type=int,
        default=1,
        help="each group teleworks 1 to this many days (above 1: the weekly model solves)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="seconds the weekly model may search (1 day: the flow is exact, no limit)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    t = time.perf_counter()
    country, agents, sites = instance(
        args.scale, departements=args.departements, side=args.side, most_days=args.most_days
    )
    n_dep = len(set(locate_codes(country, sites)))
    print(
        f"instance: {n_dep} départements x {country.side**2:,} nodes "
        f"= {n_dep * country.side**2:,} nodes, {len(agents):,} agents, "
        f"{len(sites):,} sites ({time.perf_counter() - t:.1f} s)",
        flush=True,
    )
    results = []
    for workers in (int(w) for w in args.workers.split(",")):
        result = run(
            country,
            agents,
            sites,
            workers,
            args.buffer_km,
            args.max_minutes,
            args.widen_rounds,
            args.time_limit,
        )
        print(json.dumps(result, indent=1), flush=True)
        results.append(result)
    if len(results) == 2:
        print(
            f"scale-out ratio (1 -> 2 workers): {results[0]['wall_s'] / results[1]['wall_s']:.2f}"
        )
        print(
            f"same objective: {results[0]['saving_minutes_week'] == results[1]['saving_minutes_week']}"
        )


if __name__ == "__main__":
    main()
