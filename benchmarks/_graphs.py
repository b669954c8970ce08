"""Synthetic road-like graphs for the benchmarks (seeded, so runs compare)."""

from __future__ import annotations

import networkx as nx
import numpy as np
from pyproj import Transformer

TO_WGS = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
CLASSES = np.array(["primary", "secondary", "tertiary", "unclassified", "residential"])


def road_like_graph(
    n_nodes: int = 60_000, *, keep: float = 0.66, one_way: float = 0.1, seed: int = 0
) -> nx.MultiDiGraph:
    """A jittered grid with 300 m blocks, some streets missing and some one-way.

    With the defaults: about 60,000 nodes and 150,000 directed edges (Lambert-93
    coordinates around Mende, converted to WGS84 as osmnx graphs are).
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    k = np.arange(n_nodes)
    x = 740_000 + (k % side) * 300.0 + rng.normal(0, 60, n_nodes)
    y = 6_350_000 + (k // side) * 300.0 + rng.normal(0, 60, n_nodes)
    lon, lat = TO_WGS.transform(x, y)
    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_nodes_from((int(i), {"x": float(lon[i]), "y": float(lat[i])}) for i in k)
    right = k[(k % side != side - 1) & (k + 1 < n_nodes)]
    up = k[k + side < n_nodes]
    tails = np.concatenate([right, up])
    heads = np.concatenate([right + 1, up + side])
    chosen = rng.random(tails.size) < keep
    tails, heads = tails[chosen], heads[chosen]
    lengths = np.hypot(x[tails] - x[heads], y[tails] - y[heads]) * rng.uniform(1.0, 1.3, tails.size)
    classes = CLASSES[rng.integers(0, CLASSES.size, tails.size)]
    oneway = rng.random(tails.size) < one_way
    flip = rng.random(tails.size) < 0.5
    edges = []
    for u, v, length, hwy, ow, fl in zip(tails, heads, lengths, classes, oneway, flip, strict=True):
        data = {"length": float(length), "highway": str(hwy)}
        if ow:
            a, b = (int(v), int(u)) if fl else (int(u), int(v))
            edges.append((a, b, {**data, "oneway": True}))
        else:
            edges.append((int(u), int(v), data))
            edges.append((int(v), int(u), data))
    g.add_edges_from(edges)
    return g


def random_points(
    g: nx.MultiDiGraph, count: int, *, seed: int, jitter_m: float = 80.0
) -> tuple[np.ndarray, np.ndarray]:
    """Random points near random nodes (homes off the road, by up to a few jitter_m)."""
    rng = np.random.default_rng(seed)
    nodes = np.array(list(g.nodes))
    chosen = rng.choice(nodes, size=count, replace=True)
    lon = np.array([g.nodes[n]["x"] for n in chosen]) + rng.normal(0, jitter_m / 78_000, count)
    lat = np.array([g.nodes[n]["y"] for n in chosen]) + rng.normal(0, jitter_m / 111_000, count)
    return lon, lat
