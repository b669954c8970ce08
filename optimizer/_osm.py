"""OpenStreetMap files: the drivable-road filter, and OSM XML writing.

Local extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) are read
with pyosmium (the ``osmium`` package: Python bindings of libosmium, the C++
library maintained by OpenStreetMap developers). It reads every OSM file format
as a stream, so a whole département's PBF extract goes through in seconds with
little memory. It was chosen over pyrosm, which also reads PBF, because pyrosm
turns the data into GeoDataFrames of its own design, where we need OSM
elements to hand to osmnx; osmnx itself reads no PBF.

The drivable ways and their nodes are handed to osmnx's own graph building
(one-way rules, simplification) as the JSON it builds graphs from, or written
to OSM XML for :func:`osmnx.graph_from_xml` (:func:`drivable_overpass_json`,
:func:`drivable_to_xml`). :func:`load_network <optimizer.network.load_network>`
reads them in one pass with the nodes' locations (:func:`drivable_located`)
and builds the same graph on arrays (:mod:`optimizer._roads`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import osmium
import osmium.filter

from optimizer.errors import NetworkError

logger = logging.getLogger(__name__)

#: ``highway`` values that are not roads for cars (osmnx's ``"drive"`` network).
NOT_DRIVABLE = frozenset(
    {
        "abandoned",
        "bridleway",
        "bus_guideway",
        "construction",
        "corridor",
        "cycleway",
        "elevator",
        "escalator",
        "footway",
        "no",
        "path",
        "pedestrian",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "service",
        "steps",
        "track",
        "bus_stop",
        "rest_area",
        "services",
    }
)
#: ``service`` values excluded even if the way is kept (osmnx's ``"drive"`` filter).
NOT_DRIVABLE_SERVICE = frozenset(
    {"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"}
)
#: Way tags carried over to the graph.
WAY_TAGS = (
    "highway",
    "maxspeed",
    "oneway",
    "junction",
    "name",
    "ref",
    "lanes",
    "access",
    "bridge",
    "tunnel",
)
NODE_TAGS = ("highway", "ref", "name")


def is_drivable(tags: Mapping[str, str]) -> bool:
    """Tell whether a way with these tags is a road for cars (osmnx's ``"drive"`` rules).

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    bool
        True for a public drivable road.
    """
    highway = tags.get("highway")
    if not highway or highway in NOT_DRIVABLE:
        return False
    if tags.get("area") == "yes":
        return False
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        return False
    if tags.get("access") == "private":
        return False
    return tags.get("service") not in NOT_DRIVABLE_SERVICE


Node = tuple[int, float, float, Mapping[str, str]]
Way = tuple[int, list[int], Mapping[str, str]]


@contextmanager
def reading_osm(path: Path) -> Iterator[None]:
    """Turn a reader's failure on ``path`` into a :class:`NetworkError` naming the file."""
    try:
        yield
    except (RuntimeError, ValueError, OSError) as exc:
        msg = f"{path}: cannot be read as OpenStreetMap data ({exc}). Is the file complete?"
        raise NetworkError(msg) from None


def check_drivable(path: Path, counts: Mapping[str, int]) -> None:
    """Raise when a reader kept no drivable way of ``path`` (``counts`` as the readers give)."""
    if counts["ways_kept"] == 0:
        msg = (
            f"{path}: no drivable road in this extract ({counts['ways_read']} highway ways "
            "read). Check that it covers the area and holds roads (highway=*)."
        )
        raise NetworkError(msg)


def write_osm_xml(
    path: Path, nodes: Iterable[Node], ways: Iterable[Way], *, generator: str
) -> None:
    """Write nodes ``(id, lon, lat, tags)`` and ways ``(id, node ids, tags)`` as OSM XML.

    Parameters
    ----------
    path
        Target file.
    nodes, ways
        The elements, written in the order given.
    generator
        The ``generator`` attribute of the root element.
    """
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        out.write(f'<osm version="0.6" generator={quoteattr(generator)}>\n')
        for node_id, lon, lat, tags in nodes:
            head = f'  <node id="{node_id}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
            if tags:
                out.write(head + ">\n")
                out.writelines(
                    f"    <tag k={quoteattr(k)} v={quoteattr(str(v))}/>\n" for k, v in tags.items()
                )
                out.write("  </node>\n")
            else:
                out.write(head + "/>\n")
        for way_id, refs, tags in ways:
            out.write(f'  <way id="{way_id}" version="1">\n')
            out.writelines(f'    <nd ref="{ref}"/>\n' for ref in refs)
            out.writelines(
                f"    <tag k={quoteattr(k)} v={quoteattr(str(v))}/>\n" for k, v in tags.items()
            )
            out.write("  </way>\n")
        out.write("</osm>\n")


def drivable_to_xml(source: Path, target: Path) -> dict[str, int]:
    """Copy the drivable roads of an OSM file (any format osmium reads) to OSM XML.

    Parameters
    ----------
    source
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.
    target
        The OSM XML file to write.

    Returns
    -------
    dict
        Counts: ``ways_read`` (ways with a ``highway`` tag), ``ways_kept``, ``nodes_kept``.

    Raises
    ------
    RuntimeError, ValueError
        From osmium, when the file is not a readable OSM file.
    """
    nodes, ways, counts = drivable_elements(source)
    write_osm_xml(target, nodes, ways, generator=GENERATOR)
    return counts


#: The ``generator`` of the drivable roads' OSM data.
GENERATOR = "lozere-optimizer drivable roads"


def drivable_overpass_json(source: Path) -> tuple[dict[str, object], dict[str, int]]:
    """Read the drivable roads of an OSM file as the Overpass-like JSON osmnx builds graphs from.

    The same elements, with the same values, as osmnx reads from the OSM XML
    :func:`drivable_to_xml` writes (coordinates rounded to 7 decimals, as written
    there), without writing and parsing that XML.

    Parameters
    ----------
    source
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.

    Returns
    -------
    tuple
        The JSON (``{"version", "generator", "elements"}``) and the counts of
        :func:`drivable_to_xml`.
    """
    nodes, ways, counts = drivable_elements(source)
    elements: list[dict[str, object]] = [
        {
            "type": "node",
            "tags": dict(tags),
            "id": node_id,
            "version": 1,
            "lat": float(f"{lat:.7f}"),
            "lon": float(f"{lon:.7f}"),
        }
        for node_id, lon, lat, tags in nodes
    ]
    elements.extend(
        {
            "type": "way",
            "tags": {k: str(v) for k, v in tags.items()},
            "id": way_id,
            "version": 1,
            "nodes": list(refs),
        }
        for way_id, refs, tags in ways
    )
    return {"version": "0.6", "generator": GENERATOR, "elements": elements}, counts


def drivable_elements(source: Path) -> tuple[list[Node], list[Way], dict[str, int]]:
    """Read the drivable ways of an OSM file and their nodes (see :func:`drivable_to_xml`).

    Returns
    -------
    tuple
        Nodes ``(id, lon, lat, tags)``, ways ``(id, node ids, tags)`` (a way
        cut by the extract's border split into its runs inside it) and the counts.
    """
    needed: set[int] = set()
    ways: list[Way] = []
    read = 0
    # libosmium's filters pass only ways with a highway tag, then only the nodes of the
    # drivable ones, to Python (most of an extract is neither)
    for way in osmium.FileProcessor(str(source), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        if not isinstance(way, osmium.osm.Way):
            continue
        read += 1
        tags = {tag.k: tag.v for tag in way.tags}
        if not is_drivable(tags):
            continue
        refs = [node.ref for node in way.nodes]
        if len(refs) < 2:
            continue
        needed.update(refs)
        ways.append((way.id, refs, {k: tags[k] for k in WAY_TAGS if k in tags}))
    nodes: list[Node] = []
    found = osmium.FileProcessor(str(source), osmium.osm.NODE)
    for node in found.with_filter(osmium.filter.IdFilter(needed)) if needed else ():
        if isinstance(node, osmium.osm.Node) and node.location.valid():
            node_tags = {tag.k: tag.v for tag in node.tags if tag.k in NODE_TAGS}
            nodes.append((node.id, node.location.lon, node.location.lat, node_tags))
    present = {node[0] for node in nodes}
    complete = _cut_at_border(ways, present)
    counts = {"ways_read": read, "ways_kept": len(complete), "nodes_kept": len(nodes)}
    logger.info("%s: %s", source, counts)
    return nodes, complete, counts


def _runs(refs: list[int], present: set[int]) -> list[list[int]]:
    """Split a way's node list into runs of consecutive nodes that are present (2 or more)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for ref in refs:
        if ref in present:
            current.append(ref)
            continue
        if len(current) >= 2:
            runs.append(current)
        current = []
    if len(current) >= 2:
        runs.append(current)
    return runs


def _cut_at_border(ways: list[Way], present: set[int]) -> list[Way]:
    """Split each way cut by the extract's border into its runs of nodes inside the extract.

    A way's first run keeps its id; the others get negative ids, -1, -2, ... in order.
    """
    complete: list[Way] = []
    next_piece = -1
    for way_id, refs, way_tags in ways:
        for k, piece in enumerate(_runs(refs, present)):
            if k == 0:
                complete.append((way_id, piece, way_tags))
            else:
                complete.append((next_piece, piece, way_tags))
                next_piece -= 1
    return complete


def drivable_located(
    source: Path,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, dict[int, dict[str, str]], list[Way], dict[str, int]
]:
    """Read the drivable ways of an OSM file with their nodes' locations, in one pass.

    The same ways and nodes as :func:`drivable_elements`, read in one pass in
    which libosmium keeps every node's location (its ``with_locations``), so
    that Python sees only the ways with a ``highway`` tag and the few nodes
    with a ``highway`` or ``ref`` tag. The file must hold its nodes before its
    ways, as OSM files do (a node met after its way counts as outside the extract).

    Parameters
    ----------
    source
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.

    Returns
    -------
    tuple
        The nodes of the kept ways, by increasing id (``ids``, ``lon``, ``lat``:
        locations at OSM's 7 decimals), the tags of those that have some
        (``highway`` and ``ref`` only: what osmnx keeps of a node), the ways
        ``(id, node ids, tags)`` (a way cut by the extract's border split
        into its runs inside it, as
        :func:`drivable_elements` does) and the counts of :func:`drivable_to_xml`.
    """
    located: dict[int, tuple[int, int]] = {}
    node_tags: dict[int, dict[str, str]] = {}
    ways: list[Way] = []
    read = 0
    processor = osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY)
    # libosmium keeps every node's location and passes on only the tagged elements
    keys = ("highway", "ref")  # of a node, osmnx keeps no other tag of NODE_TAGS
    for element in processor.with_locations().with_filter(osmium.filter.KeyFilter(*keys)):
        if isinstance(element, osmium.osm.Node):
            tags = {tag.k: tag.v for tag in element.tags if tag.k in keys}
            if tags:
                node_tags[element.id] = tags
            continue
        if not isinstance(element, osmium.osm.Way):
            continue
        tags = {tag.k: tag.v for tag in element.tags}
        if "highway" not in tags:
            continue
        read += 1
        if not is_drivable(tags):
            continue
        refs = []
        for node in element.nodes:
            refs.append(node.ref)
            location = node.location
            if location.valid():
                located[node.ref] = (location.x, location.y)
        if len(refs) < 2:
            continue
        ways.append((element.id, refs, {k: tags[k] for k in WAY_TAGS if k in tags}))
    present = set(located)
    complete = _cut_at_border(ways, present)
    ids = np.fromiter(located, dtype=np.int64, count=len(located))
    xy = np.array(list(located.values()), dtype=np.int64).reshape(-1, 2)
    order = np.argsort(ids, kind="stable")
    # what libosmium's lon/lat give (fixed-point 1e-7 degrees), with no rounding of our own
    lon = xy[order, 0] / 1e7
    lat = xy[order, 1] / 1e7
    kept_tags = {n: t for n, t in node_tags.items() if n in present}
    counts = {"ways_read": read, "ways_kept": len(complete), "nodes_kept": len(located)}
    logger.info("%s: %s", source, counts)
    return ids[order], lon, lat, kept_tags, complete, counts
