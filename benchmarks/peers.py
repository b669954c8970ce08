"""Our travel_table beside OSRM, Valhalla and pandana, built on the same OSM file.

Run by hand (``--help`` for sizes; the table in docs/guide/drive-times.md took over
half an hour on a loaded 2-core machine with ``--nodes 100000``, most of it OSRM's
contraction of the grid, Valhalla's matrix and pandana's per-pair queries)::

    python benchmarks/peers.py --out peers.md

On the Andorra extract (``data/osm/andorra.osm.pbf``, real OSM data) and on a
synthetic road-like grid written as an OSM PBF (``--nodes``, 40,000 by default;
0 to skip), it prepares each engine from the same file and computes the same
origins x destinations matrix both ways, then prints one Markdown report:
preparation and matrix times (wall clock and CPU; the peers given one thread), and
per pair our times and km over each peer's (median, middle half, by trip length).

Our side runs here (``load_network`` then ``travel_table``); the peers run in
their own environment through ``benchmarks/_peers_worker.py``, since
``osrm-bindings`` ships wheels for Python 3.12 only. Set that environment up with::

    /root/.pyenv/versions/3.12.1/bin/python3.12 -m venv /tmp/peers312
    /tmp/peers312/bin/pip install osrm-bindings pyvalhalla pandana osmium

(any Python 3.12; ``--peer-python`` points at it, ``/tmp/peers312/bin/python``
by default). A peer whose package is missing there is reported as skipped.

What is compared: the time and km on the road. Our table's straight access legs
(point to road, at ``settings.ACCESS_SPEED_KMH``) are taken off, as the peers
have none (OSRM and Valhalla snap to the nearest edge; pandana to the nearest
node). Trip-length bands are by our road km. pandana's km are the shortest km,
not the km along its fastest route. Valhalla's matrix is checked in the run
against its own route service on 100 sampled pairs each way; a way where it
returns longer routes (its one-to-many search run backwards) is left out of
its ratios, and the report says so. ``--reuse`` keeps the peers' results
already in ``--work`` for the same points and reports again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from _graphs import road_like_graph
from pyproj import Transformer

from optimizer import settings
from optimizer.network import load_network
from optimizer.travel import travel_table

ROOT = Path(__file__).resolve().parents[1]
ANDORRA = ROOT / "data" / "osm" / "andorra.osm.pbf"
WORKER = Path(__file__).resolve().parent / "_peers_worker.py"
PEER_PYTHON = Path("/tmp/peers312/bin/python")
PEERS = ("osrm-ch", "osrm-mld", "valhalla", "pandana")  # also: valhalla-costmatrix (slow, GBs)
BANDS = (
    (0.0, 3.0, "< 3 km"),
    (3.0, 10.0, "3-10 km"),
    (10.0, 30.0, "10-30 km"),
    (30.0, np.inf, "> 30 km"),
)
TO_WGS = Transformer.from_crs(settings.WORKING_CRS, "EPSG:4326", always_xy=True)


@dataclass
class Matrix:
    """Road seconds and metres, ``(origins, destinations)``, each way."""

    to_s: np.ndarray
    to_m: np.ndarray
    back_s: np.ndarray
    back_m: np.ndarray


@dataclass
class Engine:
    name: str
    prepare: tuple[float, float]  # wall, CPU
    matrix: tuple[float, float]
    note: str = ""
    result: Matrix | None = None
    extra: dict[str, float] = field(default_factory=dict)
    ways: tuple[str, ...] = ("to", "back")  # the ways whose ratios are reported
    backward: tuple[str, ...] = ()  # ways a one-to-many engine searched backwards
    longer: dict[str, int] = field(default_factory=dict)  # sampled pairs longer than its routes
    no_route: dict[str, int] = field(default_factory=dict)  # sampled pairs its routes missed


def write_synthetic_pbf(n_nodes: int, path: Path) -> tuple[int, int]:
    """Write ``_graphs.road_like_graph(n_nodes)`` as an OSM PBF; (nodes, ways) written.

    The graph's largest strongly connected part; one way per street between two neighbouring nodes, tagged with its
    ``highway`` class and ``oneway=yes`` where the graph has one direction only.
    """
    import osmium

    g = road_like_graph(n_nodes)
    # its largest strongly connected part only: a point on a cut-off fragment would be
    # routed by one engine and not another, and measure snapping rather than routing
    g = g.subgraph(max(nx.strongly_connected_components(g), key=len))
    path.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        for node, data in sorted(g.nodes(data=True)):
            writer.add_node(
                osmium.osm.mutable.Node(
                    id=node + 1, location=(data["x"], data["y"]), version=1, visible=True
                )
            )
        ways = 0
        for u, v, data in g.edges(data=True):
            one = bool(data.get("oneway"))
            if not one and u > v:
                continue  # the other direction of a two-way street, written once
            tags = {"highway": data["highway"]}
            if one:
                tags["oneway"] = "yes"
            ways += 1
            writer.add_way(
                osmium.osm.mutable.Way(
                    id=ways, nodes=[u + 1, v + 1], tags=tags, version=1, visible=True
                )
            )
    finally:
        writer.close()
    return g.number_of_nodes(), ways


def random_points(
    net_x: np.ndarray, net_y: np.ndarray, count: int, *, seed: int, jitter_m: float = 80.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points near random nodes of our routing graph (homes off the road by a few jitter_m)."""
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, net_x.size, count)
    x = net_x[chosen] + rng.normal(0, jitter_m, count)
    y = net_y[chosen] + rng.normal(0, jitter_m, count)
    lon, lat = TO_WGS.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def ours(pbf: Path, model: str, n_orig: int, n_dest: int, points: dict[str, np.ndarray] | None):
    """Our engine on ``pbf``: the Engine row, the points (drawn on its graph if not given)."""
    start = clock()
    net = load_network(pbf, speed_model=model)
    prepare = since(start)
    r = net.routing
    if points is None:
        o_lon, o_lat = random_points(r.x, r.y, n_orig, seed=1)
        d_lon, d_lat = random_points(r.x, r.y, n_dest, seed=2)
        points = {"o_lon": o_lon, "o_lat": o_lat, "d_lon": d_lon, "d_lat": d_lat}
    origins = pd.DataFrame(
        {"id": np.arange(n_orig).astype(str), "lon": points["o_lon"], "lat": points["o_lat"]}
    )
    dests = pd.DataFrame(
        {"id": np.arange(n_dest).astype(str), "lon": points["d_lon"], "lat": points["d_lat"]}
    )
    start = clock()
    table = travel_table(net, origins, dests)
    matrix = since(start)
    # the road only: the straight access legs off
    snap_o = table.origins["snap_m"].to_numpy(float)
    snap_d = table.destinations["snap_m"].to_numpy(float)
    leg_m = snap_o[:, None] + snap_d[None, :]
    leg_s = leg_m / (settings.ACCESS_SPEED_KMH / 3.6)
    t = table.table

    def grid(column: str, scale: float, leg: np.ndarray) -> np.ndarray:
        return t[column].to_numpy(float).reshape(n_orig, n_dest) * scale - leg

    result = Matrix(
        to_s=grid("minutes_to", 60.0, leg_s),
        to_m=grid("km_to", 1000.0, leg_m),
        back_s=grid("minutes_back", 60.0, leg_s),
        back_m=grid("km_back", 1000.0, leg_m),
    )
    engine = Engine(
        name=f"ours ({model}): load_network + travel_table",
        prepare=prepare,
        matrix=matrix,
        note=(
            f"{r.node_ids.size:,} nodes, {r.tail.size:,} edges after simplification "
            f"({net.dropped_nodes:,} nodes dropped outside the largest strongly connected part); "
            f"median snap {np.median(np.concatenate([snap_o, snap_d])):.0f} m"
        ),
        result=result,
    )
    return engine, points


def run_peers(
    pbf: Path,
    points: dict[str, np.ndarray],
    work: Path,
    peers: list[str],
    python: Path,
    threads: int,
    *,
    reuse: bool = False,
) -> list[Engine]:
    work.mkdir(parents=True, exist_ok=True)
    saved = work / "points.npz"
    if reuse and saved.exists():
        old = np.load(saved)
        if set(old.files) != set(points) or not all(
            np.array_equal(old[k], points[k]) for k in points
        ):
            reuse = False  # other points: every peer runs again
    np.savez(saved, **points)
    speeds = {
        "profile": dict(settings.SPEED_PROFILES[settings.DEFAULT_SPEED_PROFILE]),
        "implicit": dict(settings.IMPLICIT_MAXSPEEDS),
        "fallback": settings.FALLBACK_SPEED_KMH,
    }
    (work / "speeds.json").write_text(json.dumps(speeds))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    if reuse:
        before = [p for p in peers if (work / f"{p}.json").exists()]
        peers_to_run = [p for p in peers if p not in before]
        if before:
            print(f"   reusing {', '.join(before)} from {work}", file=sys.stderr, flush=True)
    else:
        peers_to_run = peers
    done = (
        subprocess.run(
            [
                str(python),
                str(WORKER),
                "--pbf",
                str(pbf),
                "--points",
                str(work / "points.npz"),
                "--speeds",
                str(work / "speeds.json"),
                "--work",
                str(work),
                "--peers",
                ",".join(peers_to_run),
                "--threads",
                str(threads),
            ],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        if peers_to_run
        else None
    )
    if done is not None and done.returncode != 0:
        msg = f"the peers' worker failed ({done.returncode}):\n{done.stderr[-3000:]}"
        raise SystemExit(msg)
    engines = []
    for peer in peers:
        info = json.loads((work / f"{peer}.json").read_text())
        if "skipped" in info:
            engines.append(
                Engine(
                    name=peer,
                    prepare=(np.nan, np.nan),
                    matrix=(np.nan, np.nan),
                    note=info["skipped"],
                )
            )
            continue
        arrays = np.load(work / f"{peer}.npz")
        extra = {"files_mb": info["files_mb"]} if "files_mb" in info else {}
        note = info.get("notes", "")
        if "nodes" in info:
            note = f"{info['nodes']:,} nodes, {info['edges']:,} edges; {note}"
        if "convert" in info:
            note = f"{note}; reading its answer into arrays: {info['convert'][1]:.2f} s CPU more"
        if "files_mb" in info:
            note = f"{info['files_mb']:.1f} MB of files, opened in {info['open'][0] * 1000:.0f} ms; {note}"
        engines.append(
            Engine(
                name=info["engine"],
                prepare=tuple(info["prepare"]),
                matrix=tuple(info["matrix"]),
                note=note,
                result=Matrix(**{k: arrays[k] for k in ("to_s", "to_m", "back_s", "back_m")}),
                extra=extra,
                backward=tuple(info.get("backward", ())),
                longer=info.get("longer_than_route", {}),
                no_route=info.get("no_route", {}),
            )
        )
    return engines


def _ways(m: Matrix, what: str, ways: tuple[str, ...]) -> np.ndarray:
    return np.concatenate([getattr(m, f"{way}_{what}").ravel() for way in ways])


def ratios(mine: Matrix, peer: Matrix, ways: tuple[str, ...] = ("to", "back")) -> dict[str, str]:
    """Our road time and km over the peer's, per pair, the ``ways`` pooled."""
    t_ours, m_ours = _ways(mine, "s", ways), _ways(mine, "m", ways)
    t_peer, m_peer = _ways(peer, "s", ways), _ways(peer, "m", ways)
    ok = (
        np.isfinite(t_ours)
        & np.isfinite(t_peer)
        & np.isfinite(m_ours)
        & np.isfinite(m_peer)
        & (t_peer > 0)
        & (m_peer > 0)
    )
    row = {"pairs": f"{int(ok.sum()):,} of {ok.size:,}"}
    if not ok.any():
        return row
    rt = t_ours[ok] / t_peer[ok]
    rk = m_ours[ok] / m_peer[ok]
    km = m_ours[ok] / 1000.0
    row["time"] = _median_iqr(rt)
    for lo, hi, label in BANDS:
        band = (km >= lo) & (km < hi)
        row[label] = f"{np.median(rt[band]):.2f} ({int(band.sum()):,})" if band.any() else "-"
    row["km"] = _median_iqr(rk)
    return row


def _median_iqr(values: np.ndarray) -> str:
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    return f"{q2:.2f} ({q1:.2f}-{q3:.2f})"


def _seconds(pair: tuple[float, float]) -> str:
    wall, cpu = pair
    if not np.isfinite(wall):
        return "-"
    return f"{wall:.2f} ({cpu:.2f})"


def _distinct(engines: list[Engine]) -> list[Engine]:
    """The engines with a matrix, less those whose times equal an earlier one's (noted)."""
    kept: list[Engine] = []
    for e in engines:
        if e.result is None:
            continue
        same = [k for k in kept if _same_times(k.result, e.result)]
        if same:
            assert same[0].result is not None and e.result is not None
            km = _km_differ(same[0].result, e.result)
            e.note += (
                f"; same times as {same[0].name.split(' (')[0]} (within 0.5 s), "
                f"km differ by over 1 m on {km:.2%} of pairs (equally fast routes)"
            )
            continue
        kept.append(e)
    return kept


def _same_times(a: Matrix | None, b: Matrix) -> bool:
    if a is None:
        return False
    return all(
        np.allclose(getattr(a, k), getattr(b, k), atol=0.5, rtol=0, equal_nan=True)
        for k in ("to_s", "back_s")
    )


def _km_differ(a: Matrix, b: Matrix) -> float:
    differ = [np.abs(getattr(a, k) - getattr(b, k)) > 1.0 for k in ("to_m", "back_m")]
    return float(np.mean(np.concatenate([d.ravel() for d in differ])))


def _check_backward(engines: list[Engine], mine: Matrix) -> None:
    """Compare an engine only on the ways where its matrix agrees with its own routes.

    The worker checks 100 sampled pairs of each way of Valhalla's matrix against its
    route service for the same two points. Its one-to-many matrix (timedistancematrix),
    where it searches backwards from each destination, can return longer routes than
    the route service; such a way is left out of the ratios (and said so).
    """
    for e in engines:
        if e.result is None or not e.longer:
            continue
        stray = {}
        for way in ("to", "back"):
            ours_m = getattr(mine, f"{way}_m")
            theirs = getattr(e.result, f"{way}_m")
            ok = np.isfinite(ours_m) & np.isfinite(theirs) & (ours_m > 0)
            stray[way] = float(np.mean(theirs[ok] > 1.05 * ours_m[ok]))
        name = {"to": "way there", "back": "way back"}
        e.note += "; matrix km over 1 % above its own route service's for the same points: " + (
            ", ".join(
                f"{e.longer[w]} of 100 sampled pairs on the {name[w]}" for w in ("to", "back")
            )
        )
        if any(e.no_route.values()):
            e.note += (
                " (the route service found no route for "
                + ", ".join(f"{e.no_route[w]} on the {name[w]}" for w in ("to", "back"))
                + ")"
            )
        if e.backward:
            e.note += f" (the {name[e.backward[0]]} searched backwards from each end point)"
        e.note += "; km over 5 % above ours: " + ", ".join(
            f"{stray[w]:.1%} of pairs on the {name[w]}" for w in ("to", "back")
        )
        good = tuple(w for w in ("to", "back") if e.longer[w] <= 2)
        if good and len(good) < 2:
            e.ways = good
            e.note += f"; compared on the {name[good[0]]} only"


def report(title: str, engines: list[Engine], ours_rows: list[Engine]) -> str:
    assert ours_rows[0].result is not None
    _check_backward(engines, ours_rows[0].result)
    distinct = _distinct(engines)
    lines = [f"### {title}", ""]
    lines += [
        "| engine | preparation, s wall (CPU) | matrix both ways, s wall (CPU) | notes |",
        "| --- | ---: | ---: | --- |",
    ]
    for e in [*ours_rows, *engines]:
        lines.append(f"| {e.name} | {_seconds(e.prepare)} | {_seconds(e.matrix)} | {e.note} |")
    lines += [
        "",
        "Ours over the peer, per pair and way: median (middle half); by our road km: median (pairs).",
        "",
    ]
    header = ["ours / peer", "pairs", "time", *(b[2] for b in BANDS), "km"]
    lines += [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |",
    ]
    for mine in ours_rows:
        assert mine.result is not None
        model = mine.name.split("(")[1].split(")")[0]
        for e in distinct:
            row = ratios(mine.result, e.result, e.ways)
            only = (
                ""
                if len(e.ways) == 2
                else f" ({'way back' if e.ways[0] == 'back' else 'way there'} only)"
            )
            cells = [f"{model} / {e.name.split(' (')[0]}{only}", row["pairs"]] + [
                row.get(k, "-") for k in header[2:]
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pbf", default=str(ANDORRA), help="real OSM extract ('': none)")
    parser.add_argument("--nodes", type=int, default=40_000, help="synthetic grid size (0: none)")
    parser.add_argument("--origins", type=int, default=3000)
    parser.add_argument("--destinations", type=int, default=300)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--models", default="realistic,free-flow", help="our speed models")
    parser.add_argument(
        "--peer-python",
        type=Path,
        default=PEER_PYTHON if PEER_PYTHON.exists() else Path(sys.executable),
    )
    parser.add_argument("--threads", type=int, default=1, help="threads given to the peers")
    parser.add_argument("--work", type=Path, default=None, help="folder for the peers' files")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the peers' results already in --work for the same points (report again)",
    )
    args = parser.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    models = [m for m in args.models.split(",") if m]
    work = args.work or Path(tempfile.mkdtemp(prefix="peers-"))
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    sections = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{os.cpu_count()} cores (load average {load[0]:.1f} at start), Python "
        f"{platform.python_version()} (ours), peers with {args.peer_python}; "
        f"`{shlex.join(['python', 'benchmarks/peers.py', *sys.argv[1:]])}`. "
        f"{args.origins:,} origins x {args.destinations:,} destinations, both ways; "
        f"peers on {args.threads} thread(s).",
        "",
    ]
    networks: list[tuple[str, Path]] = []
    if args.pbf:
        networks.append((f"{Path(args.pbf).name} (real OSM data)", Path(args.pbf)))
    if args.nodes > 0:
        pbf = work / f"synthetic_{args.nodes}.osm.pbf"
        n, w = write_synthetic_pbf(args.nodes, pbf)
        networks.append(
            (
                f"synthetic road-like grid, {n:,} nodes and {w:,} ways ({pbf.stat().st_size / 1e6:.1f} MB PBF)",
                pbf,
            )
        )
    for title, pbf in networks:
        print(f"-- {title}", file=sys.stderr, flush=True)
        points = None
        ours_rows = []
        for model in models:
            engine, points = ours(pbf, model, args.origins, args.destinations, points)
            ours_rows.append(engine)
            print(
                f"   {engine.name}: {engine.prepare[0]:.1f} s + {engine.matrix[0]:.1f} s",
                file=sys.stderr,
                flush=True,
            )
        assert points is not None
        engines = run_peers(
            pbf,
            points,
            work / pbf.name.split(".")[0],
            peers,
            args.peer_python,
            args.threads,
            reuse=args.reuse,
        )
        sections.append(report(title, engines, ours_rows))
    text = "\n".join(sections)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
