"""Benchmark the assignment engines.

Run by hand: ``python benchmarks/assign.py`` (a few minutes). Each case runs in a
fresh process so that its peak memory (max RSS) is its own. Instances are seeded:
agents and telecentres at random in a 120 km square, drive minutes = straight
line x 1.3 at 60 km/h, head office at the centre, 1-3 telework days, capacities
drawn so that desks are scarce (as in Lozère).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

from optimizer.model import AssignmentProblem


def instance(n: int, m: int, seed: int = 0) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    agents = rng.uniform(0, 120, size=(n, 2))
    centres = rng.uniform(0, 120, size=(m, 2))
    minutes = np.empty((n, m))
    for lo in range(0, n, 10_000):
        block = agents[lo : lo + 10_000]
        minutes[lo : lo + 10_000] = (
            np.hypot(*(block[:, None, :] - centres[None, :, :]).transpose(2, 0, 1)) * 1.3
        )
    head = np.hypot(*(agents - 60.0).T) * 1.3
    capacities = rng.integers(max(1, n // (4 * m)), max(2, n // m), size=m)
    return AssignmentProblem.from_cost_matrix(
        minutes, head, capacities, days=rng.integers(1, 4, size=n)
    )


def run_case(n: int, m: int, engine: str, limit: float) -> dict[str, object]:
    start = time.perf_counter()
    problem = instance(n, m)
    built = time.perf_counter() - start
    result = problem.solve(engine, time_limit_s=limit)  # type: ignore[arg-type]
    return {
        "agents": n,
        "telecentres": m,
        "engine": engine,
        "status": result.status,
        "objective": round(result.objective_value, 1),
        "gap": round(result.gap, 5),
        "assigned": int(result.assigned.sum()),
        "build_s": round(built, 2),
        "solve_s": round(result.solve_seconds, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }


CASES = [
    (10_000, 50, "flow"),
    (100_000, 200, "flow"),
    (2_000, 30, "cp-sat"),
    (2_000, 30, "flow"),
    (5_000, 50, "cp-sat"),
    (5_000, 50, "flow"),
    (10_000, 50, "cp-sat"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", nargs=3, metavar=("N", "M", "ENGINE"))
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    if args.case:
        n, m, engine = int(args.case[0]), int(args.case[1]), args.case[2]
        print(json.dumps(run_case(n, m, engine, args.time_limit)))
        return
    print(
        f"{'agents':>8} {'centres':>7} {'engine':>7} {'status':>8} {'objective (min/wk)':>19} {'gap':>7} {'assigned':>8} {'build s':>7} {'solve s':>7} {'max RSS MB':>10}"
    )
    for n, m, engine in CASES:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--case",
                str(n),
                str(m),
                engine,
                "--time-limit",
                str(args.time_limit),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{r['agents']:>8} {r['telecentres']:>7} {r['engine']:>7} {r['status']:>8} {r['objective']:>19,.1f} {r['gap']:>7} {r['assigned']:>8} {r['build_s']:>7} {r['solve_s']:>7} {r['max_rss_mb']:>10}"
        )


if __name__ == "__main__":
    main()
