"""Where the exact assignment's time goes, and how far pruning could ever take it.

Run by hand: ``python benchmarks/assign_floor.py`` (about a minute; same seeded
shapes as ``benchmarks/assign.py``, default size 10,000 agents x 50 telecentres).
For each shape it times, fastest of ``--repeat`` runs in this one process:

- ``plain``: OR-Tools ``SimpleMinCostFlow`` on every eligible pair, arrays built
  from the problem's matrices (as in ``benchmarks/assign.py``), and the solve alone;
- the library's stages, called one after the other as ``solve_min_cost_flow``
  does: prices from two samples, candidate pairs near each agent's best at those
  prices, the one OR-Tools solve on them (and how many agents it holds), the
  certificate over all pairs (with its cycle cancelling) and the result (reasons
  included);
- ``floor``: the OR-Tools solve on the pruned pairs plus the certificate and the
  result, what the library would take were prices and candidates free, and the
  speed-up over plain it would then reach.

It also measures why the pruned solve cannot be much smaller: at the exact optimal
prices (the potentials of the certified optimum), how many agents have their best
and second-best options (staying included) within 100 s and 300 s a week of each
other; an agent that close is settled by no price estimate less accurate than that,
so it must be a node of the flow. Beside it, the mean error of the samples' prices.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from assign import SHAPES, instance, plain_flow

from optimizer.model.flow import (
    _candidates,
    _margin_candidates,
    _priced_flow,
    _sample_potentials,
)
from optimizer.model.flow_cycles import _cancel_cycles
from optimizer.model.flow_network import _flow_on
from optimizer.model.result import _result

T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = call()
    return out, time.perf_counter() - start


def stages(shape: str, n: int, m: int) -> dict[str, float]:
    """One run of the library's stages on a fresh instance: seconds each, and counts."""
    problem = instance(shape, n, m)
    _, build = timed(lambda: list(problem.blocks()))  # the gain matrices, built once
    prices, sample = timed(lambda: _sample_potentials(problem))
    if prices is None:
        (rows, cols, gains), pick = timed(lambda: _candidates(problem, m))
    else:
        (rows, cols, gains), pick = timed(lambda: _margin_candidates(problem, prices))
    (telecentre, _), solve = timed(lambda: _flow_on(problem, rows, cols, gains))
    repaired, certify = timed(lambda: _cancel_cycles(problem, telecentre))
    if repaired is not None:
        telecentre = repaired[0]
    _, report = timed(
        lambda: _result(
            problem, telecentre, bound_gain=0, status="optimal", engine="flow", started=0.0
        )
    )
    return {
        "build": build,
        "sample": sample,
        "pick": pick,
        "solve": solve,
        "certify": certify,
        "report": report,
        "agents_in_flow": float(np.unique(rows).size),
        "pairs": float(rows.size),
    }


def plain(shape: str, n: int, m: int) -> tuple[float, float]:
    """Plain flow on a fresh instance: (seconds in all, seconds of the OR-Tools solve)."""
    from ortools.graph.python import min_cost_flow

    problem = instance(shape, n, m)
    solve_seconds = []
    original = min_cost_flow.SimpleMinCostFlow.solve

    def solve(self: min_cost_flow.SimpleMinCostFlow) -> int:
        status, took = timed(lambda: original(self))
        solve_seconds.append(took)
        return int(status)

    min_cost_flow.SimpleMinCostFlow.solve = solve  # type: ignore[method-assign]
    try:
        _, total = timed(lambda: plain_flow(problem))
    finally:
        min_cost_flow.SimpleMinCostFlow.solve = original  # type: ignore[method-assign]
    return total, solve_seconds[0]


def settled_by_prices(shape: str, n: int, m: int) -> tuple[int, int, float]:
    """Agents within 100 s and 300 s of a tie at the exact prices; the samples' price error."""
    problem = instance(shape, n, m)
    potential = _priced_flow(problem)[4]
    exact = potential[:m] - potential[m]  # a desk's worth, relative to staying
    ok = problem.eligible()
    valued = np.where(ok, problem.weekly_gain() + exact[None, :], -np.inf)
    if problem.must.any():
        raise SystemExit("this analysis assumes no agent must be assigned")
    options = np.concatenate([valued, np.zeros((n, 1))], axis=1)  # staying is worth 0
    top = -np.partition(-options, 1, axis=1)[:, :2]
    gap = top.max(axis=1) - top.min(axis=1)
    prices = _sample_potentials(problem)
    error = float("nan") if prices is None else float(np.abs(prices.values - exact).mean())
    return int((gap < 100).sum()), int((gap < 300).sum()), error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="10000x50")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeat", type=int, default=5, help="runs; the fastest of each is kept")
    args = parser.parse_args()
    n, m = (int(v) for v in args.size.split("x"))
    print(
        f"{'shape':>20} {'plain':>6} {'(solve)':>7} | {'build':>5} {'sample':>6} {'pick':>5} "
        f"{'solve':>5} {'agents':>6} {'certify':>7} {'report':>6} {'library':>7} {'speed-up':>8} | "
        f"{'floor':>5} {'speed-up':>8} | {'<100 s':>6} {'<300 s':>6} {'price err':>9}"
    )
    for shape in args.shapes.split(","):
        runs = [stages(shape, n, m) for _ in range(args.repeat)]
        best = {key: min(run[key] for run in runs) for key in runs[0]}
        plains = [plain(shape, n, m) for _ in range(args.repeat)]
        plain_s, plain_solve = min(total for total, _ in plains), min(s for _, s in plains)
        library = sum(best[k] for k in ("build", "sample", "pick", "solve", "certify", "report"))
        floor = best["solve"] + best["certify"] + best["report"]
        close, near, error = settled_by_prices(shape, n, m)
        ms = {key: round(value * 1000) for key, value in best.items()}
        print(
            f"{shape:>20} {plain_s * 1000:>6.0f} {plain_solve * 1000:>7.0f} | {ms['build']:>5} "
            f"{ms['sample']:>6} {ms['pick']:>5} {ms['solve']:>5} {int(best['agents_in_flow']):>6} "
            f"{ms['certify']:>7} {ms['report']:>6} {library * 1000:>7.0f} "
            f"{plain_s / library:>7.1f}x | {floor * 1000:>5.0f} {plain_s / floor:>7.1f}x | "
            f"{close:>6} {near:>6} {error:>9.0f}",
            flush=True,
        )
    print("times in ms (fastest run of each stage); price err: mean |sample - exact|, s/week")


if __name__ == "__main__":
    main()
