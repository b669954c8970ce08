"""Benchmark the speed models: preparing a network and the default `assign` run.

Run by hand: ``python benchmarks/speed_model.py``. Prints seconds to prepare the
57,000-node road-like graph of ``benchmarks/_graphs.py`` (as is, and with every
edge drawn as a winding 12-point line) under ``free-flow`` and ``realistic``, and
the time of the embedded default run under each model (median of a few repeats).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import shapely
from _graphs import road_like_graph

from optimizer import datasets, run
from optimizer.network import load_network, prepare_network

MODELS = ("free-flow", "realistic")


def _winding(graph, points: int = 12, seed: int = 1):
    """The same graph with every edge drawn as a gently winding line of ``points`` points."""
    rng = np.random.default_rng(seed)
    g = graph.copy()
    for u, v, data in g.edges(data=True):
        ax, ay = g.nodes[u]["x"], g.nodes[u]["y"]
        bx, by = g.nodes[v]["x"], g.nodes[v]["y"]
        t = np.linspace(0.0, 1.0, points)
        wiggle = np.sin(t * np.pi * rng.integers(1, 4)) * 0.0004 * rng.uniform(0.2, 1.0)
        xs, ys = ax + (bx - ax) * t - (by - ay) * wiggle, ay + (by - ay) * t + (bx - ax) * wiggle
        data["geometry"] = shapely.LineString(np.column_stack([xs, ys]))
    return g


def _interleaved(fns: dict, repeat: int) -> dict[str, float]:
    """Median seconds of each function, the functions taking turns (fair on a busy machine)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    plain = road_like_graph(60_000)
    winding = _winding(plain)
    print(f"graph: {plain.number_of_nodes():,} nodes, {plain.number_of_edges():,} edges")
    for label, graph in (("straight edges", plain), ("12-point winding edges", winding)):
        got = _interleaved(
            {m: (lambda g=graph, m=m: prepare_network(g, speed_model=m)) for m in MODELS}, 3
        )
        for model, s in got.items():
            print(f"prepare_network, {label:>22}, {model:>9}: {s:6.2f} s")
    agents, sites, head = datasets.agents(), datasets.telecentres(), datasets.head_office()
    path = datasets.path(datasets.NETWORK_FILE)
    got = _interleaved(
        {
            m: (lambda m=m: run(agents, sites, head, load_network(path, speed_model=m)))
            for m in MODELS
        },
        7,
    )
    for model, s in got.items():
        print(f"default run (network read + travel + solve), {model:>9}: {s:6.3f} s")


if __name__ == "__main__":
    main()
