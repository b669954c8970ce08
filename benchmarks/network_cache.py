"""Benchmark loading a road network: prepared every time, against the prepared-network cache.

Run by hand: ``python benchmarks/network_cache.py [FILE ...] [--nodes N]`` (a few minutes).
For each network file (default: the Andorra extract in ``../shared/data/osm``, real OSM data)
and a synthetic jittered grid of ``--nodes`` nodes (saved as GraphML first, as
``assign network`` would), prints the wall time of ``load_network`` with no cache, with a
cold cache (prepare and write) and a warm cache (read), the size of the cache entry, and
whether the travel times read from the cache equal those of the uncached network.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _graphs import road_like_graph

from optimizer.network import load_network, prepare_network, save_network
from optimizer.travel import travel_table

ANDORRA = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "andorra.osm.pbf"


def _points(bounds: tuple[float, float, float, float], n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    w, s, e, n_ = bounds
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "lon": rng.uniform(w, e, n),
            "lat": rng.uniform(s, n_, n),
        }
    )


def bench(path: Path, label: str) -> dict[str, object]:
    """Time the three loads of ``path`` and compare their travel times."""
    with tempfile.TemporaryDirectory(prefix="netcache-bench-") as folder:
        t0 = time.perf_counter()
        plain = load_network(path)
        t1 = time.perf_counter()
        cold = load_network(path, cache_dir=folder)
        t2 = time.perf_counter()
        warm = load_network(path, cache_dir=folder)
        t3 = time.perf_counter()
        assert cold.cache.startswith("written "), cold.cache
        assert warm.cache.startswith("read "), warm.cache
        entry = Path(warm.cache.split(" ", 1)[1])
        size = entry.stat().st_size
        homes = _points(plain.bounds, 2000, 1)
        sites = _points(plain.bounds, 30, 2)
        same = travel_table(plain, homes, sites).table.equals(
            travel_table(warm, homes, sites).table
        )
        t4 = time.perf_counter()
        warm.graph.number_of_nodes()  # the graph, rebuilt when first read
        t5 = time.perf_counter()
    return {
        "network": label,
        "nodes": plain.n_nodes,
        "edges": plain.n_edges,
        "no cache s": round(t1 - t0, 2),
        "cold cache s": round(t2 - t1, 2),
        "warm cache s": round(t3 - t2, 3),
        "graph rebuilt s": round(t5 - t4, 2),
        "entry MB": round(size / 1e6, 1),
        "same times": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--nodes", type=int, default=42_000, help="synthetic grid size (0: none)")
    args = parser.parse_args()
    files = args.files or [ANDORRA]
    for path in files:
        if not path.is_file():
            print(f"{path}: not found, skipped")
    rows = [bench(path, path.name) for path in files if path.is_file()]
    if args.nodes:
        with tempfile.TemporaryDirectory(prefix="netcache-grid-") as folder:
            graphml = Path(folder) / f"grid-{args.nodes}.graphml"
            save_network(prepare_network(road_like_graph(args.nodes), source="grid"), graphml)
            rows.append(bench(graphml, f"synthetic grid ({graphml.name})"))
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
