"""Benchmark the exact assignment against plain OR-Tools min-cost flow, on four shapes.

Run by hand: ``python benchmarks/assign.py`` (a few minutes; ``--sizes 10000x50`` for
the small size only, ``--select 0.2`` to cap the agents at 20 % of them). Each case
runs in a fresh process so that its peak memory (max RSS, instance included) is its
own. Instances are seeded; drive minutes = straight line x 1.3 at 60 km/h in a 120 km
square, 1-3 telework days:

- ``uniform``: homes and telecentres spread evenly, head office at the centre;
- ``clustered``: homes in 40 towns of very different sizes, telecentres half in towns
  and half anywhere, head office off centre;
- ``plentiful``: desks for about 60 % of the agents; ``scarce``: about 30 %.

"plain" is OR-Tools ``SimpleMinCostFlow`` on every eligible pair (the same network as
the library's, unpruned), timed from the same built problem; both columns must give
the same optimum (the script stops if not). On a shared machine, ``--repeat 3`` runs
each case three times, library and plain in turn, and keeps each one's fastest run;
"load" is the 1-minute load average when the row was printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from optimizer.model import AssignmentProblem, solve_flow

SHAPES = ("uniform-plentiful", "uniform-scarce", "clustered-plentiful", "clustered-scarce")


def instance(
    shape: str, n: int, m: int, seed: int = 0, select: float | None = None
) -> AssignmentProblem:
    homes_kind, desks_kind = shape.split("-")
    rng = np.random.default_rng(seed)
    if homes_kind == "uniform":
        agents = rng.uniform(0, 120, size=(n, 2))
        centres = rng.uniform(0, 120, size=(m, 2))
        office = np.array([60.0, 60.0])
    else:
        towns = rng.uniform(5, 115, size=(40, 2))
        weight = 1.0 / np.arange(1, 41)  # a few big towns, many villages
        town = rng.choice(40, size=n, p=weight / weight.sum())
        agents = towns[town] + rng.normal(0, 2.5, size=(n, 2))
        half = m // 2
        centres = np.concatenate(
            [
                towns[rng.choice(40, size=half)] + rng.normal(0, 1.0, (half, 2)),
                rng.uniform(0, 120, (m - half, 2)),
            ]
        )
        office = np.array([35.0, 80.0])
    minutes = np.empty((n, m))
    for lo in range(0, n, 10_000):
        block = agents[lo : lo + 10_000]
        minutes[lo : lo + 10_000] = (
            np.hypot(*(block[:, None, :] - centres[None, :, :]).transpose(2, 0, 1)) * 1.3
        )
    head = np.hypot(*(agents - office).T) * 1.3
    share = 0.6 if desks_kind == "plentiful" else 0.3
    mean = share * n / m
    capacities = rng.integers(max(1, round(mean / 2)), max(2, round(mean * 1.5)), size=m)
    rules: dict[str, object] = {}
    if select is not None:
        rules["select"] = int(select * n)
    return AssignmentProblem.from_cost_matrix(
        minutes, head, capacities, days=rng.integers(1, 4, size=n), **rules
    )


def plain_flow(problem: AssignmentProblem) -> tuple[int, int]:
    """OR-Tools min-cost flow on every eligible pair: (objective gain, arcs)."""
    n, m = problem.n_agents, problem.n_telecentres
    rows_l, cols_l, gains_l = [], [], []
    for lo, _, ok, gain in problem.blocks():
        r, c = np.nonzero(ok)
        rows_l.append(r + lo)
        cols_l.append(c)
        gains_l.append(gain[r, c])
    rows, cols, gains = np.concatenate(rows_l), np.concatenate(cols_l), np.concatenate(gains_l)
    source, hub, sink, stay = n + m, n + m + 1, n + m + 2, n + m + 3
    agents = np.arange(n)
    free = ~problem.must
    tails = np.concatenate([np.full(n, source), rows, agents[free], n + np.arange(m), [hub, stay]])
    heads = np.concatenate(
        [agents, n + cols, np.full(int(free.sum()), stay), np.full(m, hub), [sink, sink]]
    )
    caps = np.concatenate(
        [
            np.ones(n),
            np.ones(rows.size),
            np.ones(int(free.sum())),
            problem.capacities,
            [problem.limit, n],
        ]
    )
    costs = np.concatenate([np.zeros(n), -gains, np.zeros(int(free.sum()) + m + 2)])
    flow = solve_flow(
        tails, heads, caps, costs, n_nodes=n + m + 4, source=source, sink=sink, amount=n
    )
    assert flow is not None
    return -int(flow.optimal_cost()), int(rows.size)


def run_case(shape: str, n: int, m: int, method: str, select: float | None) -> dict[str, object]:
    problem = instance(shape, n, m, select=select)
    start = time.perf_counter()
    if method == "plain":
        gain, arcs = plain_flow(problem)
        assigned = -1
    else:
        result = problem.solve()
        gain, arcs = result.gain_total(), -1
        assigned = int(result.assigned.sum())
    took = time.perf_counter() - start
    return {
        "shape": shape,
        "agents": n,
        "telecentres": m,
        "method": method,
        "gain": gain,
        "arcs": arcs,
        "assigned": assigned,
        "desks": int(problem.capacities.sum()),
        "s": round(took, 3),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _in_process(args: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", nargs=4, metavar=("SHAPE", "N", "M", "METHOD"))
    parser.add_argument("--sizes", default="10000x50,100000x200")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--select", type=float, default=None, help="cap: this share of the agents")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the fastest is kept")
    args = parser.parse_args()
    if args.case:
        shape, n, m, method = args.case[0], int(args.case[1]), int(args.case[2]), args.case[3]
        print(json.dumps(run_case(shape, n, m, method, args.select)))
        return
    print(
        f"{'shape':>20} {'agents':>7} {'centres':>7} {'desks':>6} {'assigned':>8} {'arcs (plain)':>12} "
        f"{'library s':>9} {'MB':>5} {'plain s':>7} {'MB':>5} {'speed-up':>8} {'load':>5}"
    )
    extra = [] if args.select is None else ["--select", str(args.select)]
    for size in args.sizes.split(","):
        n, m = (int(v) for v in size.split("x"))
        for shape in args.shapes.split(","):
            runs: dict[str, list[dict[str, object]]] = {"library": [], "plain": []}
            for _ in range(args.repeat):
                for method, done in runs.items():
                    done.append(_in_process(["--case", shape, str(n), str(m), method, *extra]))
            lib = min(runs["library"], key=lambda run: float(str(run["s"])))
            plain = min(runs["plain"], key=lambda run: float(str(run["s"])))
            if lib["gain"] != plain["gain"]:
                msg = f"different optima on {shape} {n}x{m}: {lib['gain']} vs {plain['gain']}"
                raise SystemExit(msg)
            print(
                f"{shape:>20} {n:>7} {m:>7} {lib['desks']:>6} {lib['assigned']:>8} {plain['arcs']:>12,} "
                f"{lib['s']:>9} {lib['max_rss_mb']:>5} {plain['s']:>7} {plain['max_rss_mb']:>5} "
                f"{plain['s'] / max(lib['s'], 0.001):>7.1f}x {os.getloadavg()[0]:>5.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
