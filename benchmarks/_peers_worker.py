"""The peers' side of ``benchmarks/peers.py``: OSRM, Valhalla and pandana on one OSM file.

Runs in the peers' own environment (``osrm-bindings`` ships wheels for Python 3.12
only; see ``peers.py`` for the two set-up commands) and imports nothing of the
project. ``peers.py`` starts it as a subprocess::

    python _peers_worker.py --pbf FILE --points points.npz --speeds speeds.json \
        --work DIR --peers osrm-ch,osrm-mld,valhalla,valhalla-costmatrix,pandana

``points.npz`` holds ``o_lon, o_lat, d_lon, d_lat`` (WGS84). For each peer it
prepares the engine from the file (timed: wall clock and CPU, the CPU of the
engine's own executables included), computes the origins x destinations matrix
both ways (timed the same way) and writes ``DIR/<peer>.npz`` (``to_s, to_m,
back_s, back_m``, shape ``(origins, destinations)``, NaN where unrouted) and
``DIR/<peer>.json`` (times, version, sizes, notes). A peer whose package is
missing gets a JSON with ``skipped`` and its reason.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

PEERS = ("osrm-ch", "osrm-mld", "valhalla", "valhalla-costmatrix", "pandana")


class Clock:
    """Wall clock and CPU (this process and its finished children) between two reads."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = self._cpu()

    @staticmethod
    def _cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, self._cpu() - self.cpu


def run(cmd: list[str], log: Path) -> None:
    with log.open("a") as out:
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        msg = f"{' '.join(cmd)} failed ({done.returncode}):\n{tail}"
        raise RuntimeError(msg)


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


# --- OSRM -----------------------------------------------------------------------------------


def osrm_peer(pbf: Path, work: Path, pts: dict[str, np.ndarray], algorithm: str, threads: int):
    import osrm

    package = Path(osrm.__file__).parent
    binaries = package / "bin"
    profile = package / "share" / "profiles" / "car.lua"
    folder = work / f"osrm-{algorithm.lower()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source = folder / pbf.name
    shutil.copyfile(pbf, source)
    base = folder / (pbf.name.split(".")[0] + ".osrm")
    log = folder / "build.log"
    t = str(threads)
    clock = Clock()
    run([str(binaries / "osrm-extract"), "-p", str(profile), "-t", t, str(source)], log)
    if algorithm == "CH":
        run([str(binaries / "osrm-contract"), "-t", t, str(base)], log)
    else:
        run([str(binaries / "osrm-partition"), "-t", t, str(base)], log)
        run([str(binaries / "osrm-customize"), "-t", t, str(base)], log)
    prep = clock.read()
    clock = Clock()
    engine = osrm.OSRM(storage_config=str(base), algorithm=algorithm, use_shared_memory=False)
    opened = clock.read()

    n_o, n_d = pts["o_lon"].size, pts["d_lon"].size
    coords = list(zip(pts["o_lon"].tolist(), pts["o_lat"].tolist(), strict=True)) + list(
        zip(pts["d_lon"].tolist(), pts["d_lat"].tolist(), strict=True)
    )
    origins = list(range(n_o))
    dests = list(range(n_o, n_o + n_d))

    def table(sources: list[int], targets: list[int]) -> tuple[np.ndarray, np.ndarray]:
        params = osrm.TableParameters(
            coordinates=coords,
            sources=sources,
            destinations=targets,
            annotations=["duration", "distance"],
        )
        clock = Clock()
        answer = engine.Table(params)
        spent.append(clock.read())
        clock = Clock()
        arrays = _osrm_array(answer["durations"]), _osrm_array(answer["distances"])
        converting.append(clock.read())
        return arrays

    spent: list[tuple[float, float]] = []
    converting: list[tuple[float, float]] = []
    to_s, to_m = table(origins, dests)
    back_s, back_m = table(dests, origins)
    matrix = _total(spent)
    result = {"to_s": to_s, "to_m": to_m, "back_s": back_s.T, "back_m": back_m.T}
    size = sum(f.stat().st_size for f in folder.glob("*.osrm*"))
    info = {
        "engine": f"OSRM {algorithm} (osrm-bindings {version('osrm-bindings')}, car.lua)",
        "prepare": prep,
        "open": opened,
        "matrix": matrix,
        "files_mb": size / 1e6,
        "convert": _total(converting),
        "notes": "extract + contract" if algorithm == "CH" else "extract + partition + customize",
    }
    return result, info


def _total(parts: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


def _osrm_array(rows: Any) -> np.ndarray:
    return np.array(
        [[math.nan if x is None else float(x) for x in row] for row in rows], dtype=float
    )


# --- Valhalla -------------------------------------------------------------------------------


def valhalla_peer(pbf: Path, work: Path, pts: dict[str, np.ndarray], threads: int, algorithm: str):
    import valhalla

    folder = work / f"valhalla-{algorithm}"
    shutil.rmtree(folder, ignore_errors=True)
    tiles = folder / "tiles"
    tiles.mkdir(parents=True)
    config = valhalla.get_config(tile_extract="", tile_dir=str(tiles), verbose=False)
    config["mjolnir"]["concurrency"] = threads
    for key in ("admin", "timezone", "landmarks", "traffic_extract", "transit_dir"):
        config["mjolnir"][key] = ""
    # no hierarchy culling in the matrix: exact shortest paths, as every other engine here
    # (by default local roads are left 5 km from each end, which leaves a grid without
    # arterials unrouted)
    config["thor"].setdefault("costmatrix", {})["hierarchy_limits"] = {
        "max_up_transitions": {"1": 10**9, "2": 10**9},
        "expand_within_distance": {"0": 1e9, "1": 1e9, "2": 1e9},
    }
    # timedistancematrix: one search per location of the smaller side, as ours;
    # costmatrix (Valhalla's own choice for cars): one bidirectional search per pair side
    config["thor"]["source_to_target_algorithm"] = algorithm
    limits = config["service_limits"]["auto"]
    limits["max_matrix_location_pairs"] = 10**8
    limits["max_matrix_distance"] = 1e8
    config_file = folder / "valhalla.json"
    config_file.write_text(json.dumps(config))
    build = Path(valhalla.__file__).parent / "bin" / "valhalla_build_tiles"
    clock = Clock()
    run([str(build), "-c", str(config_file), str(pbf)], folder / "build.log")
    prep = clock.read()
    clock = Clock()
    actor = valhalla.Actor(str(config_file))
    opened = clock.read()

    def locations(lon: np.ndarray, lat: np.ndarray) -> list[dict[str, float]]:
        return [{"lon": x, "lat": y} for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]

    origins = locations(pts["o_lon"], pts["o_lat"])
    dests = locations(pts["d_lon"], pts["d_lat"])
    used: set[str] = set()

    def table(
        sources: list[dict[str, float]], targets: list[dict[str, float]]
    ) -> tuple[np.ndarray, np.ndarray]:
        request = {
            "sources": sources,
            "targets": targets,
            "costing": "auto",
            "units": "kilometers",
            "verbose": False,
        }
        text = json.dumps(request)
        clock = Clock()
        answer = actor.matrix(text)
        spent.append(clock.read())
        clock = Clock()
        reply = json.loads(answer)
        used.add(reply.get("algorithm", "?"))
        grid = reply["sources_to_targets"]
        seconds = _none_to_nan(grid["durations"])
        metres = _none_to_nan(grid["distances"]) * 1000.0
        converting.append(clock.read())
        return seconds, metres

    spent: list[tuple[float, float]] = []
    converting: list[tuple[float, float]] = []
    to_s, to_m = table(origins, dests)
    back_s, back_m = table(dests, origins)
    matrix = _total(spent)
    # check a sample of each way against Valhalla's own route service for the same points
    rng = np.random.default_rng(7)
    off = {}
    no_route = {}
    for way, km, frm, to in (("to", to_m, origins, dests), ("back", back_m.T, origins, dests)):
        stray = unrouted = 0
        for i, j in zip(rng.integers(0, len(frm), 100), rng.integers(0, len(to), 100), strict=True):
            a, b = (frm[i], to[j]) if way == "to" else (to[j], frm[i])
            try:
                route = actor.route({"locations": [a, b], "costing": "auto", "units": "kilometers"})
            except valhalla.ValhallaError:
                unrouted += 1  # the route service found none where the matrix did
                continue
            route_m = route["trip"]["summary"]["length"] * 1000.0
            stray += bool(km[i, j] > route_m * 1.01 + 10.0)
        off[way] = stray
        no_route[way] = unrouted
    size = sum(f.stat().st_size for f in tiles.rglob("*") if f.is_file())
    info = {
        "engine": f"Valhalla auto (pyvalhalla {version('pyvalhalla')}, {'/'.join(sorted(used))})",
        "prepare": prep,
        "open": opened,
        "matrix": matrix,
        "files_mb": size / 1e6,
        "convert": _total(converting),
        # timedistancematrix searches from the smaller side: backwards from each target
        # when there are more sources than targets (the way there, origins to destinations)
        "longer_than_route": off,  # of 100 sampled pairs per way
        "no_route": no_route,  # of the same: the route service found no route
        "backward": (
            []
            if algorithm != "timedistancematrix" or len(origins) == len(dests)
            else ["to"]
            if len(origins) > len(dests)
            else ["back"]
        ),
        "notes": "valhalla_build_tiles (no admin, timezone or elevation data)"
        + ("; costmatrix without hierarchy culling" if algorithm == "costmatrix" else ""),
    }
    return {"to_s": to_s, "to_m": to_m, "back_s": back_s.T, "back_m": back_m.T}, info


def _none_to_nan(rows: list[list[float | None]]) -> np.ndarray:
    return np.array([[math.nan if x is None else float(x) for x in row] for row in rows])


# --- pandana --------------------------------------------------------------------------------

# osmnx's "drive" filter, as its network_type="drive" query says it
_NOT_DRIVE = {
    *("abandoned", "bridleway", "bus_guideway", "construction", "corridor", "cycleway"),
    *("elevator", "escalator", "footway", "no", "path", "pedestrian", "planned", "platform"),
    *("proposed", "raceway", "razed", "service", "steps", "track"),
}
_NOT_SERVICE = {"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"}


def read_drive_edges(pbf: Path, speeds: dict[str, Any]):
    """Drivable edges of an OSM file, one per pair of consecutive way nodes, both ways
    unless one-way: (node ids, lon, lat, tail index, head index, metres, seconds)."""
    import osmium

    profile: dict[str, float] = speeds["profile"]
    implicit: dict[str, float] = speeds["implicit"]
    fallback: float = speeds["fallback"]

    def limit(tags: Any, highway: str) -> float:
        raw = tags.get("maxspeed")
        if raw:
            text = raw.strip().lower()
            if text in implicit:
                return implicit[text]
            match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph)?", text)
            if match:
                value = float(match.group(1).replace(",", "."))
                value *= 1.609344 if match.group(2) == "mph" else 1.0
                if value > 0:
                    return value
        return profile.get(highway, fallback)

    ids: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    tail: list[int] = []
    head: list[int] = []
    kmh: list[float] = []

    def index(node: Any) -> int:
        i = ids.get(node.ref)
        if i is None:
            i = ids[node.ref] = len(lon)
            lon.append(node.lon)
            lat.append(node.lat)
        return i

    for way in osmium.FileProcessor(str(pbf)).with_locations():
        if not way.is_way():
            continue
        tags = way.tags
        highway = tags.get("highway")
        if (
            highway is None
            or highway in _NOT_DRIVE
            or tags.get("area") == "yes"
            or tags.get("motor_vehicle") == "no"
            or tags.get("motorcar") == "no"
            or tags.get("access") == "private"
            or tags.get("service") in _NOT_SERVICE
        ):
            continue
        oneway = tags.get("oneway", "")
        reverse = oneway == "-1"
        one = reverse or oneway in ("yes", "true", "1") or tags.get("junction") == "roundabout"
        nodes = [index(n) for n in way.nodes]
        speed = limit(tags, highway)
        for a, b in itertools.pairwise(nodes):
            if a == b:
                continue
            if not one or not reverse:
                tail.append(a)
                head.append(b)
                kmh.append(speed)
            if not one or reverse:
                tail.append(b)
                head.append(a)
                kmh.append(speed)
    x = np.radians(np.array(lon))
    y = np.radians(np.array(lat))
    t = np.array(tail)
    h = np.array(head)
    # haversine, metres
    dlat = y[h] - y[t]
    dlon = x[h] - x[t]
    a = np.sin(dlat / 2) ** 2 + np.cos(y[t]) * np.cos(y[h]) * np.sin(dlon / 2) ** 2
    metres = 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))
    seconds = metres / (np.array(kmh) / 3.6)
    return np.array(lon), np.array(lat), t, h, metres, seconds


def pandana_peer(pbf: Path, pts: dict[str, np.ndarray], speeds: dict[str, Any]):
    import pandana
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    clock = Clock()
    lon, lat, tail, head, metres, seconds = read_drive_edges(pbf, speeds)
    read = clock.read()
    # the largest strongly connected part, as every engine here routes on
    n = lon.size
    graph = coo_matrix((np.ones(tail.size), (tail, head)), shape=(n, n))
    _, label = connected_components(graph, directed=True, connection="strong")
    keep_label = np.bincount(label).argmax()
    keep = label == keep_label
    both = keep[tail] & keep[head]
    nodes = pd.DataFrame({"x": lon[keep], "y": lat[keep]}, index=np.flatnonzero(keep))
    edges = pd.DataFrame(
        {
            "from": tail[both],
            "to": head[both],
            "seconds": seconds[both],
            "metres": metres[both],
        }
    )
    net = pandana.Network(
        nodes["x"],
        nodes["y"],
        edges["from"],
        edges["to"],
        edges[["seconds", "metres"]],
        twoway=False,
    )
    prep = clock.read()
    n_o, n_d = pts["o_lon"].size, pts["d_lon"].size
    clock = Clock()
    o_node = net.get_node_ids(pd.Series(pts["o_lon"]), pd.Series(pts["o_lat"])).to_numpy()
    d_node = net.get_node_ids(pd.Series(pts["d_lon"]), pd.Series(pts["d_lat"])).to_numpy()
    a = np.repeat(o_node, n_d)
    b = np.tile(d_node, n_o)
    to_s = np.asarray(net.shortest_path_lengths(a, b, imp_name="seconds"), dtype=float)
    back_s = np.asarray(net.shortest_path_lengths(b, a, imp_name="seconds"), dtype=float)
    matrix = clock.read()
    to_m = np.asarray(net.shortest_path_lengths(a, b, imp_name="metres"), dtype=float)
    back_m = np.asarray(net.shortest_path_lengths(b, a, imp_name="metres"), dtype=float)
    result = {}
    for name, values in (("to_s", to_s), ("to_m", to_m), ("back_s", back_s), ("back_m", back_m)):
        values[values >= 4_294_967.0] = np.nan  # pandana's "no path"
        result[name] = values.reshape(n_o, n_d)
    info = {
        "engine": f"pandana CH (pandana {version('pandana')}, maxspeed or class limit)",
        "prepare": prep,
        "read": read,
        "open": (0.0, 0.0),
        "matrix": matrix,
        "nodes": int(keep.sum()),
        "edges": int(both.sum()),
        "notes": (
            "osmium read + CH; nearest node, no edge snapping; "
            "km = shortest km (not along the fastest route)"
        ),
    }
    return result, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pbf", type=Path, required=True)
    parser.add_argument("--points", type=Path, required=True)
    parser.add_argument("--speeds", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    pts = dict(np.load(args.points))
    speeds = json.loads(args.speeds.read_text())
    args.work.mkdir(parents=True, exist_ok=True)
    pbf = args.pbf.resolve()
    jobs: dict[str, Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]]] = {
        "osrm-ch": lambda: osrm_peer(pbf, args.work, pts, "CH", args.threads),
        "osrm-mld": lambda: osrm_peer(pbf, args.work, pts, "MLD", args.threads),
        "valhalla": lambda: valhalla_peer(pbf, args.work, pts, args.threads, "timedistancematrix"),
        "valhalla-costmatrix": lambda: valhalla_peer(
            pbf, args.work, pts, args.threads, "costmatrix"
        ),
        "pandana": lambda: pandana_peer(pbf, pts, speeds),
    }
    for peer in args.peers.split(","):
        if peer not in jobs:
            msg = f"unknown peer {peer!r}; choose among {', '.join(PEERS)}"
            raise SystemExit(msg)
        try:
            result, info = jobs[peer]()
        except ImportError as exc:
            info = {"skipped": f"{exc.name or exc} is not installed in {sys.executable}"}
            result = {}
        if result:
            np.savez(args.work / f"{peer}.npz", **result)
        (args.work / f"{peer}.json").write_text(json.dumps(info))
        print(peer, json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
