"""osmnx's graph of a local OpenStreetMap file, simplified with what each edge is made of.

:func:`graph_from_osm_file` reads the drivable ways of an OSM file
(:mod:`optimizer._osm`) and builds osmnx's graph of them; :func:`simplify`
merges chains of segments as osmnx does while keeping each segment's tags,
length and node control in the edge's ``segments`` attribute, from which
:func:`optimizer.routing.add_travel_times` times it. Downloaded graphs are
simplified the same way (:mod:`optimizer.osm_download`).
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import networkx as nx
import osmnx as ox
import osmnx.graph as ox_graph

from optimizer._osm import check_drivable, drivable_overpass_json, reading_osm, write_osm_xml
from optimizer.errors import NetworkError
from optimizer.roadnet import plain_tag as _plain

logger = logging.getLogger(__name__)


#: Edge attribute listing what a simplified edge is made of (see :func:`simplify`).
SEGMENTS = "segments"


#: Node ``highway`` values that delay traffic (kept on the segments of merged edges).
NODE_CONTROLS = frozenset({"traffic_signals", "stop", "give_way"})


def graph_from_osm_file(path: str | Path) -> nx.MultiDiGraph:
    """Build the drivable-road graph of a local OpenStreetMap file with osmnx.

    The drivable ways (osmnx's ``"drive"`` rules: no footways, tracks, service
    roads or private roads) are read with pyosmium and handed to osmnx's graph
    builder as the Overpass-like JSON that :func:`osmnx.graph_from_xml` would
    make of them (no temporary XML), then simplified (:func:`simplify`).

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` or ``.osm.gz``.

    Returns
    -------
    networkx.MultiDiGraph
        The raw osmnx graph (edges not yet timed).
    """
    path = Path(path)
    with reading_osm(path):
        data, counts = drivable_overpass_json(path)
    check_drivable(path, counts)
    try:
        raw = _graph_from_overpass_json(data)
    except NetworkError:
        raise
    except Exception as exc:
        msg = f"{path}: osmnx cannot build a graph from it ({type(exc).__name__}: {exc})."
        raise NetworkError(msg) from None
    graph = simplify(raw, in_place=True)
    logger.info("%s: %s -> %d nodes, %d edges", path, counts, len(graph), graph.number_of_edges())
    return graph


def _graph_from_overpass_json(data: dict[str, Any]) -> nx.MultiDiGraph:
    """Build osmnx's unsimplified graph from Overpass-like JSON, as ``graph_from_xml`` would.

    osmnx turns an OSM XML file into this JSON, then calls its graph builder;
    handing it the JSON directly skips writing and parsing the XML. When this
    osmnx has no such builder, the XML is written and read as before.
    """
    create = getattr(ox_graph, "_create_graph", None)
    if create is not None:
        return create([data], False)  # osmnx: (response_jsons, bidirectional)
    with tempfile.TemporaryDirectory(prefix="lozere-osm-") as folder:
        xml = Path(folder) / "drivable.osm"
        elements = data["elements"]
        nodes = [(e["id"], e["lon"], e["lat"], e["tags"]) for e in elements if e["type"] == "node"]
        ways = [(e["id"], e["nodes"], e["tags"]) for e in elements if e["type"] == "way"]
        write_osm_xml(xml, nodes, ways, generator=str(data["generator"]))
        return ox.graph_from_xml(xml, simplify=False, retain_all=True)


def simplify(raw: nx.MultiDiGraph, *, in_place: bool = False) -> nx.MultiDiGraph:
    """Simplify an unsimplified osmnx graph, keeping what each merged edge is made of.

    osmnx's simplification merges chains of OSM segments into one edge and
    keeps only the distinct values of their tags, so the speed of a merged
    edge can no longer be known exactly (osmnx averages ``maxspeed`` lists),
    and the nodes it removes (a traffic signal along a road) are lost. Here
    every segment's ``highway``, ``maxspeed``, length and the control at its
    end (``traffic_signals``, ``stop``, ``give_way`` or null) are kept in the
    merged edge's ``segments`` attribute (JSON), from which
    :func:`add_travel_times` times the edge exactly, under any speed model and
    profile, also after a GraphML round trip; the edge's ``geometry`` keeps
    the segments' points, which the bends are read from.

    Parameters
    ----------
    raw
        An osmnx graph that is not yet simplified (left unchanged unless ``in_place``).
    in_place
        Annotate ``raw``'s own edges rather than a copy's: for a graph built for this call.

    Returns
    -------
    networkx.MultiDiGraph
        The simplified graph.
    """
    annotated = raw if in_place else raw.copy()
    node_highway = dict(raw.nodes(data="highway"))
    for _, v, data in annotated.edges(data=True):
        control = node_highway.get(v)
        data[SEGMENTS] = json.dumps(
            [
                [
                    _plain(data.get("highway")),
                    _plain(data.get("maxspeed")),
                    float(data["length"]),
                    control if control in NODE_CONTROLS else None,
                ]
            ]
        )
    return ox.simplify_graph(annotated, edge_attr_aggs={"length": sum, SEGMENTS: _join_segments})


def _join_segments(values: list[str]) -> str:
    """Concatenate JSON lists of segments, in path order."""
    return "[" + ",".join(value[1:-1] for value in values) + "]"
