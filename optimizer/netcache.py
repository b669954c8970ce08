"""The prepared-network cache: a road network read once, then opened in a fraction of a second.

Preparing a network (reading an OSM extract, simplifying it, timing every
road piece, compiling the routing arrays) costs seconds to minutes; every run
on the same file did it again. :func:`optimizer.network.load_network` with a
``cache_dir`` writes what routing and re-timing need, once, and reads it on
the next run with the same inputs:

- the routing arrays (:class:`~optimizer.network.RoutingArrays`, the time
  shares along each edge and the edges' lines, from which the snapping index
  is rebuilt), the road pieces and their times (what calibration and
  drive-time scenarios re-time), and the metadata (source, speed profile and
  model, nodes dropped);
- the osmnx graph as columns (node and edge attributes as JSON text, lines
  as coordinate arrays), rebuilt only when something reads ``graph`` (saving
  GraphML, drawing).

Format
    One file per key, ``networks/network-<key>.npz`` under the cache folder:
    a header (:data:`MAGIC`, then the SHA-256 of the rest) followed by a
    NumPy ``.npz`` archive of plain numeric and text arrays, read with
    ``allow_pickle=False``: nothing in it is executed when it is read. A file
    whose checksum does not match (cut short, a byte flipped) is not trusted:
    a warning is logged and the network is prepared again and rewritten. A
    file without the header is not ours: it is neither read nor replaced.

Key
    The SHA-256 of the source file's content (so a renamed copy hits and an
    edited file misses), the resolved speed profile and speed model (its
    calibration factors included), the versions of this package, osmnx and
    pyosmium, the format version, and the source of the modules that prepare
    networks (a change of code is a change of key, also between releases).

Writing
    To a temporary name beside the entry and a rename (:func:`optimizer.outfile.write_atomic`):
    concurrent runs each write a whole file and the last rename wins; a reader
    never sees half a file. A cache that cannot be written (read-only folder,
    full disk) is a warning, never a failure of the run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import logging
import stat
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely

from optimizer.roadnet import GraphRecipe, LazyLines, RoadNetwork, RoutingArrays
from optimizer.speed_model import EdgePieces, EdgeTimes, SpeedModel

logger = logging.getLogger(__name__)

#: First bytes of a cache entry; the SHA-256 of the rest follows.
MAGIC = b"LOZERE-NETWORK-CACHE\n"
#: Version of the entry's layout (part of the key).
FORMAT_VERSION = 1
#: Folder of the entries under the cache folder.
SUBFOLDER = "networks"
_DIGEST = 32
_CHUNK = 1 << 20
_ROUTING_ARRAYS = (
    "node_ids",
    "x",
    "y",
    "tail",
    "head",
    "seconds",
    "metres",
    "edge_source",
    "share_ptr",
    "share_at",
    "share_t0",
    "share_dt",
)
_PIECE_ARRAYS = (
    "edge",
    "length",
    "limit_kmh",
    "tagged",
    "highway",
    "control",
    "vx",
    "vy",
    "junction_at_end",
    "built_up",
)
_TIME_ARRAYS = ("seconds", "by_group", "piece_s", "piece_delay_s")
_GRAPH_ARRAYS = (
    "g_node_ids",
    "g_lon",
    "g_lat",
    "g_node_attrs",
    "g_u",
    "g_v",
    "g_key",
    "g_edge_attrs",
    "g_line_xy",
    "g_line_ptr",
    "g_attrs",
)
#: Graph columns read with the network (its size and bounds).
_SIZES = ("g_node_ids", "g_lon", "g_lat", "g_u")


class CacheCorruptError(Exception):
    """A cache entry that cannot be trusted (internal: it is rebuilt)."""


def file_digest(path: Path) -> str:
    """Return the SHA-256 (hex) of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def _code_digest() -> str:
    """SHA-256 of the modules that prepare networks: changed code, changed key.

    Read once per process: the code that runs is the code that was imported.
    """
    digest = hashlib.sha256()
    folder = Path(__file__).resolve().parent
    for name in (
        "network.py",
        "osmgraph.py",
        "routing.py",
        "_graphlists.py",
        "roadnet.py",
        "speed_model.py",
        "road_pieces.py",
        "_osm.py",
        "_roads.py",
        "_roads_graph.py",
        "_roads_prepare.py",
        "_graphml.py",
        "settings.py",
        "netcache.py",
    ):
        with (folder / name).open("rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def cache_key(
    source_digest: str,
    *,
    kind: str,
    speeds: Mapping[str, float],
    profile_name: str,
    model: SpeedModel,
) -> str:
    """Return the key of a prepared network (40 hex digits).

    Parameters
    ----------
    source_digest
        SHA-256 of the source file's content (:func:`file_digest`).
    kind
        How the file is read (``"osm"``, ``"graphml"``).
    speeds, profile_name
        The resolved speed profile.
    model
        The resolved speed model (calibration included).
    """
    import osmium
    import osmnx as ox

    from optimizer._version import __version__

    recipe = {
        "format": FORMAT_VERSION,
        "package": __version__,
        "code": _code_digest(),
        "osmnx": ox.__version__,
        "osmium": getattr(osmium, "__version__", ""),
        "source": source_digest,
        "kind": kind,
        "profile": [profile_name, sorted((str(k), float(v)) for k, v in speeds.items())],
        "model": dataclasses.asdict(model),
    }
    text = json.dumps(recipe, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def entry_path(folder: Path, key: str) -> Path:
    """Return the file of the entry ``key`` in the cache folder ``folder``."""
    return Path(folder) / SUBFOLDER / f"network-{key}.npz"


# --------------------------------------------------------------------------- writing


def _text(value: object) -> np.ndarray:
    """JSON text as a byte array (an .npz holds no Python objects)."""
    data = json.dumps(value, separators=(",", ":"), default=_json_default).encode()
    return np.frombuffer(data, dtype=np.uint8)


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _lines(lines: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of lines (None: no line) and the offset of each line's first point."""
    counts = np.array([0 if g is None else shapely.get_num_coordinates(g) for g in lines])
    ptr = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    drawn = [g for g in lines if g is not None]
    coords = shapely.get_coordinates(drawn) if drawn else np.zeros((0, 2))
    return np.asarray(coords, dtype=float), ptr


def _graph_columns(graph: nx.MultiDiGraph) -> dict[str, np.ndarray]:
    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    lon = np.array([d["x"] for _, d in graph.nodes(data=True)], dtype=float)
    lat = np.array([d["y"] for _, d in graph.nodes(data=True)], dtype=float)
    node_attrs = [
        {k: v for k, v in d.items() if k not in ("x", "y")} for _, d in graph.nodes(data=True)
    ]
    u, v, key, attrs, lines = [], [], [], [], []
    for a, b, k, d in graph.edges(keys=True, data=True):
        u.append(a)
        v.append(b)
        key.append(k)
        lines.append(d.get("geometry"))
        attrs.append({n: x for n, x in d.items() if n != "geometry"})
    coords, ptr = _lines(lines)
    return {
        "g_node_ids": node_ids,
        "g_lon": lon,
        "g_lat": lat,
        "g_node_attrs": _text(node_attrs),
        "g_u": np.asarray(u, dtype=np.int64),
        "g_v": np.asarray(v, dtype=np.int64),
        "g_key": np.asarray(key, dtype=np.int64),
        "g_edge_attrs": _text(attrs),
        "g_line_xy": coords,
        "g_line_ptr": ptr,
        "g_attrs": _text(dict(graph.graph)),
    }


def _recipe_columns(columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Return the graph columns of a network built on arrays (:mod:`optimizer._roads`)."""
    return {
        "g_node_ids": np.asarray(columns["ids"], dtype=np.int64),
        "g_lon": np.asarray(columns["lon"], dtype=float),
        "g_lat": np.asarray(columns["lat"], dtype=float),
        "g_node_attrs": _text(columns["node_attrs"]),
        "g_u": np.asarray(columns["u"], dtype=np.int64),
        "g_v": np.asarray(columns["v"], dtype=np.int64),
        "g_key": np.asarray(columns["key"], dtype=np.int64),
        "g_edge_attrs": _text(columns["edge_attrs"]),
        "g_line_xy": np.asarray(columns["line_xy"], dtype=float).reshape(-1, 2),
        "g_line_ptr": np.asarray(columns["line_ptr"], dtype=np.int64),
        "g_attrs": _text(dict(columns["graph"])),
    }


def _payload(network: RoadNetwork, key: str) -> bytes:
    """Return the entry's ``.npz`` bytes."""
    routing, pieces, times = network.routing, network.pieces, network.edge_times
    if pieces is None or times is None or routing.share_ptr is None:
        msg = "only a network prepared by this package can be cached"
        raise ValueError(msg)
    arrays: dict[str, np.ndarray] = {}
    for name in _ROUTING_ARRAYS:
        arrays[f"r_{name}"] = np.asarray(getattr(routing, name))
    points = routing.line_points()
    arrays["r_line_xy"], arrays["r_line_ptr"] = points.coords, points.ptr
    for name in _PIECE_ARRAYS:
        arrays[f"p_{name}"] = np.asarray(getattr(pieces, name))
    arrays["p_classes"] = np.asarray(pieces.classes, dtype=str)
    for name in _TIME_ARRAYS:
        arrays[f"t_{name}"] = np.asarray(getattr(times, name))
    recipe = network.__dict__.get("_graph")
    if isinstance(recipe, GraphRecipe) and recipe.columns is not None:
        arrays.update(_recipe_columns(recipe.columns()))  # the graph is not built to be written
    else:
        arrays.update(_graph_columns(network.graph))
    meta = {
        "key": key,
        "format": FORMAT_VERSION,
        "source": network.source,
        "approximate": network.approximate,
        "speed_profile": network.speed_profile,
        "dropped_nodes": network.dropped_nodes,
        "speed_model": dataclasses.asdict(network.speed_model),
        "n_pieces_edges": pieces.n_edges,
        "prepare_s": network.timings.get("prepare_s", 0.0),
        "read_s": network.timings.get("read_s", 0.0),
    }
    arrays["meta"] = _text(meta)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # not compressed: opening is what a cache is for
    return buffer.getvalue()


def write_entry(network: RoadNetwork, path: Path, key: str) -> bool:
    """Write ``network`` as the cache entry ``path``, atomically; False when it cannot be.

    An existing file that is not a cache entry (no :data:`MAGIC`), or that is
    not a regular file, is left alone.
    """
    from optimizer.outfile import write_atomic

    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        logger.warning("network cache %s: cannot be used (%s); not cached", path, exc.strerror)
        return False
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            logger.warning("network cache %s: not a regular file; left alone, not cached", path)
            return False
        try:
            with path.open("rb") as handle:
                head = handle.read(len(MAGIC))
        except OSError:
            head = b""
        if head != MAGIC:
            logger.warning("network cache %s: not a cache file of ours; left alone", path)
            return False
    try:
        payload = _payload(network, key)
    except (ValueError, TypeError, OverflowError) as exc:
        logger.warning("network cache %s: this network cannot be cached (%s)", path, exc)
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, MAGIC + hashlib.sha256(payload).digest() + payload)
    except OSError as exc:
        logger.warning("network cache %s: cannot be written (%s); not cached", path, exc.strerror)
        return False
    return True


# --------------------------------------------------------------------------- reading


def read_entry(path: Path, key: str, *, source: str) -> RoadNetwork | None:
    """Read the cache entry ``path``; None when there is none (or it is not ours).

    Raises
    ------
    CacheCorruptError
        When the entry is ours but damaged (checksum, truncation, missing arrays,
        another key): the caller prepares the network again.
    """
    started = time.perf_counter()
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("network cache %s: cannot be read (%s)", path, exc.strerror)
        return None
    if not stat.S_ISREG(info.st_mode):
        logger.warning("network cache %s: not a regular file; not read", path)
        return None
    try:
        with path.open("rb") as handle:
            blob = handle.read()
    except OSError as exc:
        logger.warning("network cache %s: cannot be read (%s)", path, exc.strerror)
        return None
    if not blob.startswith(MAGIC):
        logger.warning("network cache %s: not a cache file of ours; not read", path)
        return None
    head = len(MAGIC) + _DIGEST
    with memoryview(blob) as view:
        ok = len(blob) >= head and hashlib.sha256(view[head:]).digest() == blob[len(MAGIC) : head]
    if not ok:
        msg = "checksum does not match (file cut short or damaged)"
        raise CacheCorruptError(msg)
    try:
        # the archive read in place (zip allows the header before it): no copy of the entry
        with _archive(blob) as archive:
            # the graph's columns are read when the graph is (most runs never do)
            arrays = {n: archive[n] for n in archive.files if not n.startswith("g_") or n in _SIZES}
            missing = {n for n in _GRAPH_ARRAYS if n not in archive.files}
        if missing:
            msg = f"arrays {sorted(missing)} are missing"
            raise ValueError(msg)
        return _network(arrays, blob, key, source=source, started=started, path=path)
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        msg = f"unreadable ({type(exc).__name__}: {exc})"
        raise CacheCorruptError(msg) from None


def _archive(blob: bytes) -> Any:
    """Open the ``.npz`` archive of an entry's bytes (header included), without copying them."""
    return np.lib.npyio.NpzFile(io.BytesIO(blob), allow_pickle=False)


def _json(array: np.ndarray) -> Any:
    return json.loads(array.tobytes().decode())


def _network(
    arrays: dict[str, np.ndarray],
    blob: bytes,
    key: str,
    *,
    source: str,
    started: float,
    path: Path,
) -> RoadNetwork:
    meta = _json(arrays["meta"])
    if meta.get("key") != key or meta.get("format") != FORMAT_VERSION:
        msg = "its key is not the one asked for"
        raise ValueError(msg)
    routing = RoutingArrays(
        geometry=_geometry(arrays["r_line_xy"], arrays["r_line_ptr"]),  # type: ignore[arg-type]
        **{name: arrays[f"r_{name}"] for name in _ROUTING_ARRAYS},
    )
    pieces = EdgePieces(
        n_edges=int(meta["n_pieces_edges"]),
        classes=tuple(str(c) for c in arrays["p_classes"]),
        **{name: arrays[f"p_{name}"] for name in _PIECE_ARRAYS},
    )
    times = EdgeTimes(**{name: arrays[f"t_{name}"] for name in _TIME_ARRAYS})
    model_fields = dict(meta["speed_model"])
    model = SpeedModel(**model_fields)
    lon, lat = arrays["g_lon"], arrays["g_lat"]
    recipe = GraphRecipe(
        functools.partial(_graph_from, blob),
        n_nodes=int(arrays["g_node_ids"].size),
        n_edges=int(arrays["g_u"].size),
        bounds=(
            (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
            if lon.size
            else (0.0, 0.0, 0.0, 0.0)
        ),
    )
    ptr = routing.share_ptr
    if (
        int(routing.edge_source.max(initial=-1)) >= pieces.n_edges
        or times.seconds.size != pieces.n_edges
        or ptr is None
        or ptr.size != routing.n_edges + 1
        or routing.share_at is None
        or int(ptr[-1]) != routing.share_at.size
    ):
        msg = "its routing arrays, pieces and times do not match"
        raise ValueError(msg)
    elapsed = time.perf_counter() - started
    return RoadNetwork(
        graph=recipe,  # a recipe: the graph is built when first read
        routing=routing,
        source=source,
        approximate=bool(meta["approximate"]),
        speed_profile=str(meta["speed_profile"]),
        dropped_nodes=int(meta["dropped_nodes"]),
        timings={"cache_read_s": elapsed},
        speed_model=model,
        pieces=pieces,
        edge_times=times,
        cache=f"read {path}",
    )


def _geometry(coords: np.ndarray, ptr: np.ndarray) -> LazyLines:
    """Return the routing edges' lines, made when first read (snapping), not when the entry is."""
    return LazyLines(coords, ptr)


def _graph_from(blob: bytes) -> nx.MultiDiGraph:
    """Rebuild the osmnx graph from the entry's (checked) bytes."""
    with _archive(blob) as archive:
        return _graph({name: archive[name] for name in _GRAPH_ARRAYS})


def _graph(arrays: dict[str, np.ndarray]) -> nx.MultiDiGraph:
    """Rebuild the osmnx graph from its columns."""
    graph = nx.MultiDiGraph(**_json(arrays["g_attrs"]))
    node_attrs = _json(arrays["g_node_attrs"])
    ids = arrays["g_node_ids"].tolist()
    lon, lat = arrays["g_lon"].tolist(), arrays["g_lat"].tolist()
    graph.add_nodes_from(
        (n, {"y": y, "x": x, **d}) for n, x, y, d in zip(ids, lon, lat, node_attrs, strict=True)
    )
    attrs = _json(arrays["g_edge_attrs"])
    ptr = arrays["g_line_ptr"]
    drawn = np.flatnonzero(np.diff(ptr) > 0)
    if drawn.size:
        counts = np.diff(ptr)[drawn]
        starts = ptr[drawn]
        take = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        take += np.arange(int(counts.sum()))
        lines = shapely.linestrings(
            arrays["g_line_xy"][take], indices=np.repeat(np.arange(drawn.size), counts)
        )
        for k, line in zip(drawn.tolist(), lines, strict=True):
            attrs[k]["geometry"] = line
    graph.add_edges_from(
        zip(
            arrays["g_u"].tolist(),
            arrays["g_v"].tolist(),
            arrays["g_key"].tolist(),
            attrs,
            strict=True,
        )
    )
    return graph
