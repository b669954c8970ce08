"""Benchmarks of the CP-SAT models: weekly desk plans, and OR-Library GAP types A-D.

Run by hand: ``python benchmarks/plans.py weekly`` (2,000 agents x 30 telecentres x 5 days,
under a minute), ``python benchmarks/plans.py weekly --agents 100000 --telecentres 200`` (or
``weekly-large``: the same at 100,000 x 200, a 240 s limit by default),
``python benchmarks/plans.py weekly-groups`` (another shape, the national one: 35,000 groups
of 1 to 55 agents, each with its 9 nearest of 3,500 sites of 1 to 8 desks a weekday, 1 to 3
days, 60 s) and ``python benchmarks/plans.py gap --time-limit 60`` (one minute per instance,
24 instances).
Each weekly line gives the status, objective, valid bound, gap, seconds, peak memory of the
process and the load average of the machine (timings depend on it).
GAP instances are read from ``../shared/benchmarks/orlib/``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.model import AssignmentProblem
from optimizer.orlib import read_gap, solve_gap
from optimizer.schedule import solve_weekly

ORLIB = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "orlib"
SIZES = ["05100", "05200", "10100", "10200", "20100", "20200"]


def weekly(n: int, m: int, limit: float) -> None:
    rng = np.random.default_rng(0)
    homes = rng.uniform(0, 120, (n, 2))
    sites = rng.uniform(0, 120, (m, 2))
    minutes = np.empty((n, m))
    for lo in range(0, n, 10_000):  # a block of homes at a time: same values, less memory
        block = homes[lo : lo + 10_000]
        minutes[lo : lo + 10_000] = (
            np.hypot(block[:, 0, None] - sites[None, :, 0], block[:, 1, None] - sites[None, :, 1])
            * 1.3
        )
    head = np.hypot(*(homes - 60.0).T) * 1.3
    problem = AssignmentProblem.from_cost_matrix(
        minutes, head, np.ones(m, dtype=np.int64), days=rng.integers(1, 4, n)
    )
    desks = rng.integers(0, max(2, n // (2 * m)), (m, 5))
    allowed = rng.random((n, 5)) > 0.15
    preferred = rng.random((n, 5)) > 0.7
    start = time.perf_counter()
    plan = solve_weekly(
        problem,
        desks,
        allowed_days=allowed,
        preferred_days=preferred,
        day_bonus=5,
        time_limit_s=limit,
    )
    took = time.perf_counter() - start
    a = plan.assignment
    print(
        f"weekly plan {n} agents x {m} telecentres x 5 days: {a.status}, "
        f"{int(a.assigned.sum())} assigned, objective {a.objective_value:,.1f} min/week, "
        f"bound {a.best_bound:,.1f}, gap {a.gap:.3%}, {took:.1f} s "
        f"(desk-days {int(desks.sum())}, used {int(plan.occupancy().sum())}), "
        f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, "
        f"engine {a.engine}, load {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )


def weekly_groups(groups: int, sites: int, limit: float) -> None:
    """Groups of identical agents and many small sites: desks far scarcer than agents."""
    from scipy.spatial import cKDTree

    from optimizer.national.solve import solve_weekly_groups

    rng = np.random.default_rng(0)
    homes = rng.uniform(0, 1000, (groups, 2))
    points = rng.uniform(0, 1000, (sites, 2))
    sizes = rng.integers(1, 56, groups)
    days = rng.integers(1, 4, groups)
    distance, nearest = cKDTree(points).query(homes, k=9)
    commute = rng.uniform(20, 60, groups)
    near = distance < commute[:, None]
    group = np.repeat(np.arange(groups), 9)[near.ravel()]
    site = nearest.ravel()[near.ravel()]
    gain = np.rint((commute[group] - distance.ravel()[near.ravel()]) * 120).astype(np.int64)
    gain *= days[group]
    keep = gain > 0
    desks = rng.integers(1, 9, (sites, 5))
    start = time.perf_counter()
    plan = solve_weekly_groups(
        sizes,
        days,
        np.full(groups, 31),
        group[keep],
        site[keep],
        gain[keep],
        desks,
        time_limit_s=limit,
    )
    print(
        f"weekly groups {groups} groups ({int(sizes.sum())} agents) x {sites} sites x 5 days, "
        f"{int(keep.sum())} pairs: {plan.status}, objective {plan.gain / 60:,.0f} min/week, "
        f"bound {plan.bound / 60:,.0f}, gap {plan.gap:.3%}, "
        f"{time.perf_counter() - start:.1f} s (desk-days {int(desks.sum())}), "
        f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, "
        f"load {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )


def gap(types: str, limit: float) -> None:
    optima = pd.read_csv(ORLIB / "gap" / "optima.csv").set_index(["instance", "sense"])
    print(f"{'instance':>9} {'status':>8} {'found':>7} {'published':>9} {'above':>7} {'s':>5}")
    gaps = []
    for kind in types:
        for size, instance in zip(SIZES, read_gap(ORLIB / "gap" / f"gap{kind}.txt"), strict=True):
            name = f"{kind}{size}"
            start = time.perf_counter()
            sol = solve_gap(instance, maximise=False, time_limit_s=limit, workers=8)
            best = float(optima.loc[(name, "min"), "optimal_value"])
            above = (sol.objective - best) / best
            gaps.append((kind, above))
            print(
                f"{name:>9} {sol.status:>8} {sol.objective:>7.0f} {best:>9.0f} {above:>7.2%} {time.perf_counter() - start:>5.1f}",
                flush=True,
            )
    frame = pd.DataFrame(gaps, columns=["type", "above"])
    print(
        frame.groupby("type")["above"]
        .agg(["mean", "max"])
        .to_string(float_format=lambda v: f"{v:.2%}")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["weekly", "weekly-large", "weekly-groups", "gap"])
    parser.add_argument("--agents", type=int, default=None)
    parser.add_argument("--telecentres", type=int, default=None)
    parser.add_argument("--types", default="abcd")
    parser.add_argument(
        "--time-limit", type=float, default=None, help="seconds (60; 240 from 20,000 agents)"
    )
    args = parser.parse_args()
    if args.what == "weekly-groups":
        weekly_groups(args.agents or 35_000, args.telecentres or 3_500, args.time_limit or 60.0)
    elif args.what.startswith("weekly"):
        large = args.what == "weekly-large"
        n = args.agents or (100_000 if large else 2000)
        m = args.telecentres or (200 if large else 30)
        weekly(n, m, args.time_limit or (240.0 if n >= 20_000 else 60.0))
    else:
        gap(args.types, args.time_limit or 60.0)


if __name__ == "__main__":
    main()
