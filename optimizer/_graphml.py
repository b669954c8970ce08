"""GraphML files saved by osmnx, read into lists of nodes and edges (no networkx graph).

:func:`osmnx.load_graphml` reads a file with :func:`networkx.read_graphml`
(one ``add_edge`` per edge) and then converts every attribute in place; on a
département's network most of ``load_network``'s time went there. Here the
same XML is parsed once with :mod:`xml.etree.ElementTree` and every value is
converted with osmnx's own rules (literal lists and dicts, ``osmid``, ``x``,
``y``, ``length``, ``oneway``, ``reversed``, ``travel_time``... and the
lines' WKT, all at once with shapely), the nodes and edges kept in the order
networkx would iterate them. Anything this reader does not expect (typed
keys, defaults, yFiles data, nested graphs, undeclared nodes, repeated edge
keys) is left to osmnx: :func:`read_graphml` then returns None.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from osmnx.io import _convert_bool_string

logger = logging.getLogger(__name__)

_NS = "{http://graphml.graphdrawing.org/xmlns}"
#: osmnx's conversions of node, edge and graph attributes (``load_graphml``'s defaults).
NODE_TYPES: dict[str, Any] = {
    "elevation": float,
    "elevation_res": float,
    "osmid": int,
    "street_count": int,
    "x": float,
    "y": float,
}
EDGE_TYPES: dict[str, Any] = {
    "bearing": float,
    "grade": float,
    "grade_abs": float,
    "length": float,
    "oneway": _convert_bool_string,
    "osmid": int,
    "reversed": _convert_bool_string,
    "speed_kph": float,
    "travel_time": float,
}
GRAPH_TYPES: dict[str, Any] = {
    "consolidated": _convert_bool_string,
    "simplified": _convert_bool_string,
}

Nodes = list[tuple[int, dict[str, Any]]]
Edges = list[tuple[int, int, int, dict[str, Any]]]


class _NotPlainError(Exception):
    """The file uses a GraphML feature this reader leaves to osmnx."""


def read_graphml(path: Path) -> tuple[Nodes, Edges, dict[str, Any]] | None:
    """Read an osmnx GraphML file as ``osmnx.load_graphml`` reads it, into lists.

    Parameters
    ----------
    path
        The GraphML file.

    Returns
    -------
    tuple or None
        The nodes ``(id, attributes)`` and edges ``(u, v, key, attributes)``
        in the order of the graph ``osmnx.load_graphml`` returns, and the
        graph's attributes; None when the file needs osmnx's own reader.

    Raises
    ------
    ET.ParseError, ValueError, SyntaxError
        When the file is not well-formed XML or a value cannot be converted.
    """
    root = ET.parse(path).getroot()
    try:
        return _read(root)
    except _NotPlainError as exc:
        logger.info("%s: read by osmnx (%s)", path, exc)
        return None


def _read(root: ET.Element) -> tuple[Nodes, Edges, dict[str, Any]]:
    keys: dict[str, str] = {}
    for key in root.iter(f"{_NS}key"):
        if key.get("attr.type", "string") != "string" or key.get("yfiles.type") is not None:
            raise _NotPlainError("a key that is not text")
        if key.find(f"{_NS}default") is not None:
            raise _NotPlainError("a key with a default")
        name = key.get("attr.name")
        if name is None:
            raise _NotPlainError("a key without a name")
        keys[str(key.get("id"))] = name
    graphs = root.findall(f"{_NS}graph")
    if len(graphs) != 1 or graphs[0].get("edgedefault") != "directed":
        raise _NotPlainError("not one directed graph")
    graph = graphs[0]

    data_tag = f"{_NS}data"
    for tag in ("port", "graph", "hyperedge"):
        if tag != "graph" and root.find(f".//{_NS}{tag}") is not None:
            raise _NotPlainError(f"{tag} elements")
        if tag == "graph" and graph.find(f".//{_NS}graph") is not None:
            raise _NotPlainError("nested graphs")

    def data_of(element: ET.Element) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in element:
            if item.tag != data_tag:
                continue
            if len(item):
                raise _NotPlainError("data with sub-elements")
            name = keys.get(item.get("key", ""))
            if name is None:
                raise _NotPlainError("data of an undeclared key")
            if item.text is not None:
                data[name] = item.text
        return data

    nodes: Nodes = []
    position: dict[int, int] = {}
    raw: list[tuple[int, int, int, dict[str, Any]]] = []
    seen: set[tuple[int, int, int]] = set()
    node_tag, edge_tag = f"{_NS}node", f"{_NS}edge"
    for element in graph:
        if element.tag == node_tag:
            node_id = int(str(element.get("id")))
            if node_id in position:
                raise _NotPlainError("a node given twice")
            position[node_id] = len(nodes)
            nodes.append((node_id, _converted(data_of(element), NODE_TYPES)))
        elif element.tag == edge_tag:
            if element.get("directed") == "false":
                raise _NotPlainError("undirected edges")
            u, v = int(str(element.get("source"))), int(str(element.get("target")))
            if u not in position or v not in position:  # networkx reads nodes first
                raise _NotPlainError("an edge before its nodes, or to an undeclared node")
            edge_id = element.get("id")
            if not edge_id:
                raise _NotPlainError("an edge without a key")
            edge_key = int(edge_id)
            if (u, v, edge_key) in seen:
                raise _NotPlainError("an edge key given twice")
            seen.add((u, v, edge_key))
            data = data_of(element)
            data.pop("id", None)
            raw.append((u, v, edge_key, _converted(data, EDGE_TYPES)))
    lined = [k for k, e in enumerate(raw) if "geometry" in e[3]]
    if lined:
        lines = shapely.from_wkt([raw[k][3]["geometry"] for k in lined])
        for k, line in zip(lined, lines, strict=True):
            raw[k][3]["geometry"] = line
    attrs = data_of(graph)
    for name in attrs.keys() & GRAPH_TYPES.keys():
        attrs[name] = GRAPH_TYPES[name](attrs[name])
    return nodes, _in_graph_order(raw, position), attrs


def _converted(data: dict[str, Any], types: dict[str, Any]) -> dict[str, Any]:
    """Convert attribute texts in place as osmnx does (literal lists and dicts, then types)."""
    for name, value in data.items():
        if value[:1] in ("[", "{") and (
            (value.startswith("[") and value.endswith("]"))
            or (value.startswith("{") and value.endswith("}"))
        ):
            with contextlib.suppress(SyntaxError, ValueError):
                data[name] = ast.literal_eval(value)
    for name in data.keys() & types.keys():
        value = data[name]
        if isinstance(value, list):
            data[name] = [types[name](item) for item in value]
        else:
            data[name] = types[name](value)
    return data


def _in_graph_order(raw: Edges, position: dict[int, int]) -> Edges:
    """Order the edges as networkx does: by tail node, then head as first linked, then key."""
    first: dict[tuple[int, int], int] = {}
    rank = np.array([first.setdefault((u, v), k) for k, (u, v, _, _) in enumerate(raw)])
    tail = np.array([position[u] for u, _, _, _ in raw], dtype=np.int64)
    order = np.lexsort((np.arange(len(raw)), rank, tail)) if raw else np.zeros(0, dtype=int)
    return [raw[k] for k in order.tolist()]
