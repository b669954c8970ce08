"""Benchmark the travel-time matrix: our engine against the usual recipes.

Run by hand: ``python benchmarks/matrix.py`` (about 1-2 minutes; ``--help`` for sizes).
Prints one row per method: seconds for the whole agents x destinations matrix,
both directions (the per-pair and networkx rows are sampled and extrapolated).
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np
import pandas as pd
from _graphs import random_points, road_like_graph
from scipy.sparse.csgraph import dijkstra

from optimizer.network import csr, prepare_network
from optimizer.travel import snap_points, travel_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=60_000)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--destinations", type=int, default=30)
    parser.add_argument("--pair-samples", type=int, default=20)
    parser.add_argument("--nx-samples", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    graph = road_like_graph(args.nodes)
    t1 = time.perf_counter()
    net = prepare_network(graph, source="synthetic")
    t2 = time.perf_counter()
    g = net.graph
    r = net.routing
    print(
        f"graph: {g.number_of_nodes():,} nodes, {g.number_of_edges():,} directed edges "
        f"(built {t1 - t0:.1f} s, prepared {t2 - t1:.1f} s); "
        f"{args.agents:,} agents x {args.destinations} destinations, both directions"
    )
    a_lon, a_lat = random_points(g, args.agents, seed=1)
    d_lon, d_lat = random_points(g, args.destinations, seed=2)
    origins = pd.DataFrame(
        {"id": [f"a{i}" for i in range(args.agents)], "lon": a_lon, "lat": a_lat}
    )
    dests = pd.DataFrame(
        {"id": [f"d{i}" for i in range(args.destinations)], "lon": d_lon, "lat": d_lat}
    )
    n_pairs = args.agents * args.destinations

    # nearest nodes, for the recipes that route node to node
    snap_o = snap_points(r, a_lon, a_lat)
    snap_d = snap_points(r, d_lon, d_lat)
    o_nodes = r.node_ids[r.tail[snap_o.edge]]
    d_nodes = r.node_ids[r.tail[snap_d.edge]]
    rows: list[tuple[str, float, str]] = []

    # 1. per-pair recipe of the osmnx tutorials (nx.shortest_path_length per pair and direction)
    rng = np.random.default_rng(3)
    sample = rng.integers(0, args.agents, args.pair_samples)
    start = time.perf_counter()
    for i in sample:
        d = d_nodes[i % args.destinations]
        nx.shortest_path_length(g, o_nodes[i], d, weight="travel_time")
        nx.shortest_path_length(g, d, o_nodes[i], weight="travel_time")
    per_pair = (time.perf_counter() - start) / args.pair_samples
    rows.append(
        (
            "networkx per pair (osmnx tutorial recipe)",
            per_pair * n_pairs,
            f"extrapolated from {args.pair_samples} pairs",
        )
    )

    # 2. networkx, one Dijkstra per destination and direction
    reverse = g.reverse(copy=False)
    start = time.perf_counter()
    for d in d_nodes[: args.nx_samples]:
        nx.single_source_dijkstra_path_length(reverse, d, weight="travel_time")
        nx.single_source_dijkstra_path_length(g, d, weight="travel_time")
    per_dest = (time.perf_counter() - start) / args.nx_samples
    rows.append(
        (
            "networkx one Dijkstra per destination",
            per_dest * args.destinations,
            f"extrapolated from {args.nx_samples}",
        )
    )

    # 3. raw scipy Dijkstra from the destination nodes, both directions, times only
    index = {int(n): i for i, n in enumerate(r.node_ids)}
    sources = np.array([index[int(n)] for n in d_nodes])
    (forward,) = csr(r.n_nodes, r.tail, r.head, r.seconds)
    (backward,) = csr(r.n_nodes, r.head, r.tail, r.seconds)
    best = np.inf
    for _ in range(args.repeat):
        start = time.perf_counter()
        dijkstra(backward, indices=sources)
        dijkstra(forward, indices=sources)
        best = min(best, time.perf_counter() - start)
    scipy_s = best
    rows.append(
        ("scipy Dijkstra from destinations (times only)", scipy_s, f"best of {args.repeat}")
    )

    # 4. our engine: snapping, split edges, times and distances both ways, long table
    best = np.inf
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = travel_table(net, origins, dests)
        best = min(best, time.perf_counter() - start)
    ours = best
    rows.append(
        ("optimizer.travel_table (snap + minutes + km, both ways)", ours, f"best of {args.repeat}")
    )

    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'method':<{width}}  {'seconds':>12}  {'vs ours':>10}  note")
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:>12.3f}  {seconds / ours:>9.1f}x  {note}")
    print(
        f"\nours / raw scipy = {ours / scipy_s:.2f}; per-pair recipe / ours = {per_pair * n_pairs / ours:,.0f}"
    )
    print(
        f"rows: {len(result.table):,}; unreachable pairs: {int(result.table['minutes_to'].isna().sum())}"
    )


if __name__ == "__main__":
    main()
