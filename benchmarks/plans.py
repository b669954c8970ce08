"""Benchmarks of the CP-SAT models: weekly desk plans, and OR-Library GAP types A-D.

Run by hand: ``python benchmarks/plans.py weekly`` (about a minute) and
``python benchmarks/plans.py gap --time-limit 60`` (one minute per instance, 24 instances).
GAP instances are read from ``../shared/benchmarks/orlib/``.
"""

from __future__ import annotations

import argparse
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
    minutes = np.hypot(*(homes[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) * 1.3
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
        f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
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
    parser.add_argument("what", choices=["weekly", "gap"])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--telecentres", type=int, default=30)
    parser.add_argument("--types", default="abcd")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    if args.what == "weekly":
        weekly(args.agents, args.telecentres, args.time_limit)
    else:
        gap(args.types, args.time_limit)


if __name__ == "__main__":
    main()
