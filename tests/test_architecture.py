"""The shape of the package: no import cycle, no upward arrow, and a size ratchet.

The import graph is read from the source with :mod:`ast` (nothing is imported):
every ``import``/``from ... import`` of an ``optimizer`` module, at module level
and inside functions, except under ``if TYPE_CHECKING:``. ``from optimizer.model
import x`` is an edge to ``optimizer.model`` (its ``__init__``) and, when
``optimizer.model.x`` is a module, to that module too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optimizer"

#: Module and function sizes above which a file or function is too long to read at once.
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: Today's offenders and their sizes (lines). A listed one may shrink (lower its figure, or
#: drop it when it is under the limit); it may not grow, and no new one may appear.
MODULES_OVER: dict[str, int] = {}
FUNCTIONS_OVER: dict[str, int] = {}

#: The stages before the plan is made; none of them may import what comes after it.
LOWER = (
    "optimizer.settings",
    "optimizer.errors",
    "optimizer.datafiles",
    "optimizer.inputs",
    "optimizer.places",
    "optimizer.geocode",
    "optimizer.network",
    "optimizer.osmgraph",
    "optimizer.osm_download",
    "optimizer.routing",
    "optimizer._graphlists",
    "optimizer._roads_graph",
    "optimizer._roads_prepare",
    "optimizer.roadnet",
    "optimizer.speed_model",
    "optimizer.road_pieces",
    "optimizer.netcache",
    "optimizer.travel",
    "optimizer.model",
)
#: What comes after: the one-call pipeline, the writers and the command.
UPPER = (
    "optimizer",
    "optimizer.pipeline",
    "optimizer.report",
    "optimizer.tables",
    "optimizer.maps",
    "optimizer.map_data",
    "optimizer.map_png",
    "optimizer.map_html",
    "optimizer.gpkg",
    "optimizer.gpkg_styles",
    "optimizer.cli",
    "optimizer.national",
)


#: The flow of ARCHITECTURE.md, in order: a stage may import the ones before it, not after.
STAGES = (
    ("optimizer.inputs", "optimizer.places", "optimizer.geocode", "optimizer.datafiles"),
    (
        "optimizer.network",
        "optimizer.osmgraph",
        "optimizer.osm_download",
        "optimizer.routing",
        "optimizer._graphlists",
        "optimizer._roads_graph",
        "optimizer._roads_prepare",
        "optimizer.roadnet",
        "optimizer.speed_model",
        "optimizer.road_pieces",
        "optimizer.netcache",
        "optimizer._osm",
    ),
    ("optimizer.travel",),
    ("optimizer.model",),
)


def module_files() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, in functions too, not under TYPE_CHECKING."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child):
            for other in child.orelse:
                yield from _imports_of(other)
            continue
        yield from _imports_of(child)


def _imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def _owner(name: str, modules: dict[str, tuple[str, bool]]) -> str | None:
    """The module ``name`` lives in (``optimizer.x.y`` when ``y`` is an attribute of ``x``)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in modules else None


def module_sources() -> dict[str, tuple[str, bool]]:
    """Every module's source text, and whether it is a package's ``__init__``."""
    return {
        name: (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for name, path in module_files().items()
    }


def import_edges(sources: dict[str, tuple[str, bool]]) -> dict[tuple[str, str], list[int]]:
    """``(importer, imported) -> lines`` for every import of a package module."""
    edges: dict[tuple[str, str], list[int]] = {}
    for name, (text, is_package) in sources.items():
        targets: list[tuple[str, int]] = []
        for node in _imports(ast.parse(text, name)):
            if isinstance(node, ast.Import):
                targets += [(alias.name, node.lineno) for alias in node.names]
                continue
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets.append((module, node.lineno))
            targets += [
                (f"{module}.{alias.name}", node.lineno)
                for alias in node.names
                if f"{module}.{alias.name}" in sources
            ]
        for target, line in targets:
            if not (target == "optimizer" or target.startswith("optimizer.")):
                continue
            owner = _owner(target, sources)
            if owner is not None and owner != name:
                edges.setdefault((name, owner), []).append(line)
    return edges


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    sources = module_sources()
    edges = import_edges(sources)
    made = nx.DiGraph()
    made.add_nodes_from(sources)
    for (a, b), lines in edges.items():
        made.add_edge(a, b, lines=lines)
    return made


def test_the_graph_is_read_as_described() -> None:
    # a made-up package: relative and absolute imports, in functions, under TYPE_CHECKING
    sources = {
        "optimizer": ("from optimizer.b import thing\n", True),
        "optimizer.b": (
            "from typing import TYPE_CHECKING\n"
            "from . import c\n"
            "if TYPE_CHECKING:\n    from optimizer.d import T\nelse:\n    import optimizer.d.x\n"
            "def f():\n    from optimizer.sub import e, f\n",
            False,
        ),
        "optimizer.c": ("import os, optimizer.d\n", False),
        "optimizer.d": ("x = 1\n", False),
        "optimizer.sub": ("", True),
        "optimizer.sub.e": ("from ..c import y\nfrom . import e2\n", False),
        "optimizer.sub.e2": ("from .e import z\n", False),
    }
    edges = import_edges(sources)
    assert edges == {
        ("optimizer", "optimizer.b"): [1],
        ("optimizer.b", "optimizer"): [2],  # from . import c reads the package
        ("optimizer.b", "optimizer.c"): [2],
        ("optimizer.b", "optimizer.d"): [6],  # the else of TYPE_CHECKING counts
        ("optimizer.b", "optimizer.sub"): [8],  # inside a function
        ("optimizer.b", "optimizer.sub.e"): [8],
        ("optimizer.c", "optimizer.d"): [1],
        ("optimizer.sub.e", "optimizer.c"): [1],
        ("optimizer.sub.e", "optimizer.sub"): [2],
        ("optimizer.sub.e", "optimizer.sub.e2"): [2],
        ("optimizer.sub.e2", "optimizer.sub.e"): [1],
    }
    made = nx.DiGraph(list(edges))
    assert sorted(map(sorted, nx.simple_cycles(made))) == [
        ["optimizer", "optimizer.b"],
        ["optimizer.sub.e", "optimizer.sub.e2"],
    ]


def test_no_import_cycle(graph: nx.DiGraph) -> None:
    cycles = sorted(nx.simple_cycles(graph), key=lambda c: (len(c), c))
    for cycle in cycles[:50]:
        steps = [
            f"{a} (line {', '.join(map(str, graph.edges[a, b]['lines']))})"
            for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True)
        ]
        print("cycle:", " -> ".join([*steps, cycle[0]]))
    assert not cycles, f"{len(cycles)} import cycles (the first printed above)"


def _within(module: str, names: tuple[str, ...]) -> bool:
    """Is ``module`` one of ``names`` or inside one of them (the package root is itself only)."""
    return any(module == n or (n != "optimizer" and module.startswith(f"{n}.")) for n in names)


def test_no_upward_import(graph: nx.DiGraph) -> None:
    upper = {m for m in graph if _within(m, UPPER)}
    wrong = []
    for module in graph:
        if not _within(module, LOWER):
            continue
        for above in sorted(nx.descendants(graph, module) & upper):
            path = nx.shortest_path(graph, module, above)
            wrong.append(" -> ".join(path))
    for line in wrong:
        print("upward:", line)
    assert not wrong


def test_stages_import_only_earlier_stages(graph: nx.DiGraph) -> None:
    wrong = []
    for k, stage in enumerate(STAGES):
        later = {m for m in graph if any(_within(m, s) for s in STAGES[k + 1 :])}
        for module in (m for m in graph if _within(m, stage)):
            wrong += [
                " -> ".join(nx.shortest_path(graph, module, found))
                for found in sorted(nx.descendants(graph, module) & later)
            ]
    for line in wrong:
        print("against the flow:", line)
    assert not wrong


def test_nothing_imports_the_command(graph: nx.DiGraph) -> None:
    command = {m for m in graph if _within(m, ("optimizer.cli",))}
    assert {"optimizer.cli", "optimizer.cli.assign", "optimizer.cli.console"} <= command
    importers = sorted(
        {m for c in command for m in graph.predecessors(c)} - command - {"optimizer.__main__"}
    )
    assert not importers, f"modules that import the command: {importers}"


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{node.name}"
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield name, (node.end_lineno or node.lineno) - first + 1
            yield from _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def _data_lines(tree: ast.Module) -> int:
    """Lines of a module's data tables: module-level constants given as a literal dict or list.

    A catalogue (``optimizer.i18n``'s messages) grows with what it holds, not with its logic:
    its entries are not counted in a module's size (its functions are).
    """
    literals = (ast.Dict, ast.List, ast.Tuple, ast.Set)
    count = 0
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, literals) and node.end_lineno is not None:
            count += node.end_lineno - node.lineno + 1
    return count


def sizes() -> tuple[dict[str, int], dict[str, int]]:
    """Modules over :data:`MAX_MODULE_LINES` and functions over :data:`MAX_FUNCTION_LINES`."""
    modules, functions = {}, {}
    for name, path in module_files().items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = len(text.splitlines()) - _data_lines(tree)
        if lines > MAX_MODULE_LINES:
            modules[name] = lines
        for function, length in _functions(tree):
            if length > MAX_FUNCTION_LINES:
                functions[f"{name}:{function}"] = length
    return modules, functions


def _ratchet(kind: str, found: dict[str, int], table: dict[str, int]) -> list[str]:
    problems = []
    for name, size in sorted(found.items(), key=lambda item: -item[1]):
        allowed = table.get(name)
        print(f"{kind} {name}: {size} lines (table: {allowed})")
        if allowed is None:
            problems.append(f"new {kind} over the limit: {name} ({size} lines)")
        elif size > allowed:
            problems.append(f"{kind} {name} grew: {size} lines, the table allows {allowed}")
    for name, allowed in sorted(table.items()):
        if found.get(name, 0) < allowed:
            print(f"{kind} {name} shrank to {found.get(name, 'under the limit')}: lower the table")
    return problems


def test_size_ratchet() -> None:
    modules, functions = sizes()
    problems = _ratchet("module", modules, MODULES_OVER) + _ratchet(
        "function", functions, FUNCTIONS_OVER
    )
    assert not problems, "\n".join(problems)
