"""Benchmark loading a road network: prepared every time, against the prepared-network cache.

Run by hand: ``python benchmarks/network_cache.py [FILE ...] [--nodes N]`` (a few minutes).
For each network file (default: the Andorra extract in ``../shared/data/osm``, real OSM data)
and a synthetic jittered grid of ``--nodes`` nodes (saved as GraphML first, as
``assign network`` would), prints the wall and CPU seconds of ``load_network`` with no cache
(and its reading and preparing stages), with a cold cache (a miss: prepare and write) and a
warm cache (a hit: read), the size of the cache entry, the time to build the osmnx graph of
a network read from the cache, and whether the travel times read from the cache equal those
of the uncached network. ``--save FILE`` also writes each uncached network's routing seconds
(``.npz``), and ``--compare FILE`` checks them against such a file (another commit's).

Measured (issue 26; 2 shared cores at a load average of 6 to 11, so wall seconds are
noisy and CPU seconds are the figure to compare), ``benchmarks/network_cache.py
andorra.osm.pbf test.osm.pbf Helsinki.osm.pbf --nodes 100000``, before (commit ca72374)
and after the array-built preparation; "read" and "prepare" are wall seconds of the
uncached load's two stages, "miss" prepares and writes the cache, "hit" reads it:

==================  ======  =======  ===============  ===========  ==========  ==============  ===============
network             nodes   edges    no cache s (CPU)  read / prep  miss s (CPU)  hit s (CPU)    entry MB
==================  ======  =======  ===============  ===========  ==========  ==============  ===============
andorra, before     1,636   3,242    9.59 (3.73)       8.42 / 1.17  9.53 (3.69)  0.061 (0.026)   8.7
andorra, after      1,636   3,242    1.77 (0.69)       1.46 / 0.28  2.74 (1.10)  0.042 (0.019)   8.7
test.osm.pbf, bef.  224     476      1.06 (0.38)       0.98 / 0.08  0.61 (0.29)  0.009 (0.006)   0.4
test.osm.pbf, aft.  224     476      0.08 (0.04)       0.04 / 0.04  0.21 (0.06)  0.005 (0.004)   0.4
Helsinki, before    141     290      1.07 (0.53)       0.98 / 0.09  1.22 (0.60)  0.020 (0.007)   0.5
Helsinki, after     141     290      0.34 (0.19)       0.30 / 0.05  0.48 (0.21)  0.005 (0.005)   0.5
grid GraphML, bef.  94,811  243,901  32.5 (15.98)      23.0 / 9.49  38.5 (18.84) 1.437 (0.896)   98.2
grid GraphML, aft.  94,811  243,901  24.8 (12.08)      19.5 / 5.21  29.0 (14.45) 0.433 (0.237)   98.2
==================  ======  =======  ===============  ===========  ==========  ==============  ===============

Three later runs of the "after" code under the same load gave, for Andorra, 1.8-2.3 s
(0.7-0.95 s of CPU) uncached and 0.03-0.06 s for a hit, and for the grid 24.8-29.0 s
(12.1-14.2 s of CPU) uncached and 0.40-0.73 s (0.24-0.36 s of CPU) for a hit.
Routing edges and their milliseconds are identical before and after on all four
(``--compare``), and a cache hit gives the uncached travel table. Andorra is prepared
4 to 5 times faster (OSRM's extract and contract of the same file: 2.6-3.3 s); a hit no
longer builds the routing lines (made when first snapped to: 0.1-0.2 s at 100,000
nodes) nor copies the entry. The synthetic grid read from GraphML gains less: parsing
its 39-65 MB of XML is most of what is left (``prepare_network`` of the same grid in
memory: 6.1 s of CPU before, 4.7 after, measured under the same load).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _key(net: Any) -> np.ndarray:
    """The routing edges as ``(tail OSM id, head OSM id, ms)`` rows, sorted (order-free)."""
    r = net.routing
    rows = np.column_stack(
        [r.node_ids[r.tail], r.node_ids[r.head], np.round(r.seconds * 1000).astype(np.int64)]
    )
    return rows[np.lexsort(rows.T[::-1])]


def bench(path: Path, label: str, times: dict[str, np.ndarray]) -> dict[str, object]:
    """Time the three loads of ``path`` and compare their travel times."""
    with tempfile.TemporaryDirectory(prefix="netcache-bench-") as folder:
        plain, wall0, cpu0 = _timed(lambda: load_network(path))
        cold, wall1, cpu1 = _timed(lambda: load_network(path, cache_dir=folder))
        warm, wall2, cpu2 = _timed(lambda: load_network(path, cache_dir=folder))
        assert cold.cache.startswith("written "), cold.cache
        assert warm.cache.startswith("read "), warm.cache
        entry = Path(warm.cache.split(" ", 1)[1])
        size = entry.stat().st_size
        homes = _points(plain.bounds, 2000, 1)
        sites = _points(plain.bounds, 30, 2)
        same = travel_table(plain, homes, sites).table.equals(
            travel_table(warm, homes, sites).table
        )
        _, wall3, _ = _timed(lambda: warm.graph.number_of_nodes())
    times[label] = _key(plain)
    return {
        "network": label,
        "nodes": plain.n_nodes,
        "edges": plain.n_edges,
        "no cache s": round(wall0, 2),
        "(cpu)": round(cpu0, 2),
        "read s": round(plain.timings.get("read_s", 0.0), 2),
        "prepare s": round(plain.timings.get("prepare_s", 0.0), 2),
        "miss s": round(wall1, 2),
        "(cpu) ": round(cpu1, 2),
        "hit s": round(wall2, 3),
        "(cpu)  ": round(cpu2, 3),
        "graph built s": round(wall3, 2),
        "entry MB": round(size / 1e6, 1),
        "same times": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--nodes", type=int, default=42_000, help="synthetic grid size (0: none)")
    parser.add_argument("--save", type=Path, help="write the routing seconds to this .npz")
    parser.add_argument("--compare", type=Path, help="compare the routing seconds to this .npz")
    args = parser.parse_args()
    files = args.files or [ANDORRA]
    for path in files:
        if not path.is_file():
            print(f"{path}: not found, skipped")
    times: dict[str, np.ndarray] = {}
    rows = [bench(path, path.name, times) for path in files if path.is_file()]
    if args.nodes:
        with tempfile.TemporaryDirectory(prefix="netcache-grid-") as folder:
            graphml = Path(folder) / f"grid-{args.nodes}.graphml"
            _, wall, cpu = _timed(
                lambda: save_network(prepare_network(road_like_graph(args.nodes)), graphml)
            )
            print(f"{graphml.name}: made and saved in {wall:.1f} s ({cpu:.1f} s CPU)")
            rows.append(bench(graphml, graphml.name, times))
    print(pd.DataFrame(rows).to_string(index=False))
    if args.save:
        np.savez(args.save, **times)
    if args.compare:
        with np.load(args.compare) as before:
            for label, rows_now in times.items():
                if label in before.files:
                    same = np.array_equal(before[label], rows_now)
                    print(f"{label}: routing edges and ms {'identical' if same else 'DIFFER'}")


if __name__ == "__main__":
    main()
