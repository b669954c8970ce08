"""Every error and warning the tool can print has its French (issue 27).

The messages are found in the source, not listed by hand: the AST of every
module of ``optimizer/`` is walked for the text given to a project exception
(``raise InputError(...)``, directly or through ``msg = f"..."`` before the
``raise``), to ``logger.warning``/``logger.error``, to a roster's row errors
(``problems.add(row, text)``) and to the helpers that forward a message to one
of those (``_bad_row(..., text)``, ``solve(..., infeasible=msg)``). Each is
turned into a sample text, its placeholders filled, and the catalogue must
translate it: a new English error without French fails this test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from optimizer.i18n import knows, translate

PACKAGE = Path(__file__).resolve().parents[1] / "optimizer"

#: The project's exceptions: their first argument is a message for the user.
PROJECT_ERRORS = frozenset(
    {
        "OptimizerError",
        "InputError",
        "NetworkError",
        "InfeasibleError",
        "SolverError",
        "BusyError",
        "ClusterError",
        "PlaceError",
    }
)
#: What fills a placeholder in a sample: a number, as most are, and a word for the rest
#: works too (a placeholder that is not a number is matched by anything).
SAMPLE = "7"

#: Messages that cannot be captured statically, each with why (``module:function``).
UNCAPTURED: dict[str, str] = {}


@dataclass(frozen=True)
class Hole:
    """A placeholder of a message: what the source puts there (``path``, ``exc``)."""

    name: str
    #: the expression, to follow a local text put there (``hint = " Check ..."``)
    expr: ast.expr | None = field(default=None, compare=False, repr=False)


Piece = str | Hole


@dataclass(frozen=True)
class Message:
    """One message found in the source."""

    where: str
    #: literal pieces and placeholders in order
    pieces: tuple[Piece, ...]

    @property
    def sample(self) -> str:
        return "".join(SAMPLE if isinstance(p, Hole) else p for p in self.pieces)

    @property
    def english(self) -> str:
        return "".join("{}" if isinstance(p, Hole) else p for p in self.pieces)

    @property
    def passes_through(self) -> bool:
        """Only placeholders and punctuation (``f"{name}: {text}"``): it says another message."""
        return not any(isinstance(p, str) and any(c.isalpha() for c in p) for p in self.pieces)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _templates(node: ast.AST) -> list[tuple[Piece, ...]] | None:
    """The texts an expression can be, as pieces; None when it is not a text built here."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value,)]
    if isinstance(node, ast.JoinedStr):
        texts: list[tuple[Piece, ...]] = [()]
        for value in node.values:
            if isinstance(value, ast.Constant):
                texts = [(*t, str(value.value)) for t in texts]
            elif isinstance(value, ast.FormattedValue):
                inner = value.value
                if (  # f"département{'s' if many else ''}": both words
                    isinstance(inner, ast.IfExp)
                    and isinstance(inner.body, ast.Constant)
                    and isinstance(inner.orelse, ast.Constant)
                ):
                    texts = [(*t, str(c.value)) for t in texts for c in (inner.body, inner.orelse)]
                else:
                    texts = [(*t, Hole(_name(inner) or ast.unparse(inner), inner)) for t in texts]
        return texts
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _templates(node.left), _templates(node.right)
        if left is None or right is None:
            return None
        return [a + b for a in left for b in right]
    if isinstance(node, ast.IfExp):
        body, orelse = _templates(node.body), _templates(node.orelse)
        if body is None or orelse is None:
            return None
        return body + orelse
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "... %s ..." % (a, b)
        return _templates(node.left)
    return None


def _percent(pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
    """A logging format (``"cache %s: cannot be read (%s)"``) as pieces with placeholders."""
    out: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, Hole):
            out.append(piece)
            continue
        parts = piece.replace("%%", "\0").split("%")
        out.append(parts[0].replace("\0", "%"))
        for part in parts[1:]:
            rest = part.lstrip("-#0123456789.")[1:]  # %s, %d, %r, %.1f
            out.extend([Hole("arg"), rest.replace("\0", "%")])
    return tuple(out)


class _Module:
    """One module's functions, for following a message to where it was built."""

    def __init__(self, path: Path) -> None:
        self.where = str(path.relative_to(PACKAGE.parent))
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.functions = [
            n
            for n in ast.walk(self.tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        ]

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        best = None
        for function in self.functions:
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            end = function.end_lineno or function.lineno
            if function.lineno <= getattr(node, "lineno", 0) <= end and (
                best is None or function.lineno >= best.lineno
            ):
                best = function
        return best

    def resolve(
        self, node: ast.AST, at: ast.AST
    ) -> tuple[list[tuple[Piece, ...]] | None, tuple[str, str] | None]:
        """The texts ``node`` can be at ``at``, or the parameter it forwards (function, name)."""
        found = _templates(node)
        if (
            isinstance(node, ast.Call)
            and _name(node.func) == "str"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
        ):
            return [], None  # str(exc): another error's message, found where it is raised
        if isinstance(node, ast.Call) and _name(node.func).endswith("_warning"):
            return [], None  # a function that says a warning: its own return is walked
        if found is not None or not isinstance(node, ast.Name):
            return found, None
        function = self.function_of(at)
        scope: ast.AST = self.tree if function is None else function
        texts: list[tuple[Piece, ...]] = []
        for assign in ast.walk(scope):
            if not isinstance(assign, ast.Assign | ast.AnnAssign) or assign.lineno >= at.lineno:
                continue
            targets = assign.targets if isinstance(assign, ast.Assign) else [assign.target]
            if assign.value is None or not any(
                isinstance(t, ast.Name) and t.id == node.id for t in targets
            ):
                continue
            built = _templates(assign.value)
            if built is None:
                return None, None
            texts += built
        if texts:
            return texts, None
        for assign in self.tree.body:  # a module's constant: SYNTHETIC_WARNING
            if (
                isinstance(assign, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == node.id for t in assign.targets)
                and _templates(assign.value) is not None
            ):
                return _templates(assign.value), None
        if function is not None and node.id in [a.arg for a in function.args.args] + [
            a.arg for a in function.args.kwonlyargs
        ]:
            return None, (function.name, node.id)
        return None, None

    def message_arguments(self) -> Iterator[tuple[ast.AST, ast.AST, str]]:
        """Each (argument, node, kind) that is a message for the user."""
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and _name(node.exc.func) in PROJECT_ERRORS
                and node.exc.args
            ):
                yield node.exc.args[0], node, "error"
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if (
                    node.func.attr in ("warning", "error")
                    and _name(node.func.value) in ("logger", "log")
                    and node.args
                ):
                    yield node.args[0], node, "log"
                elif node.func.attr == "add" and len(node.args) == 2:  # _RowErrors.add
                    yield node.args[1], node, "row"
                elif node.func.attr == "append" and _name(node.func.value) in (
                    "warned",
                    "warnings",
                ):  # the warnings a table keeps in attrs["warnings"], printed at the end
                    yield node.args[0], node, "warning"
            elif (  # a warning the command prints: APPROXIMATE_WARNING = "..."
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and _name(node.targets[0]).endswith("_WARNING")
            ):
                yield node.value, node, "warning"
            elif (  # def off_network_warning(...) -> str: return f"..."
                isinstance(node, ast.FunctionDef) and node.name.endswith("_warning")
            ):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Return) and inner.value is not None:
                        yield inner.value, inner, "warning"


def _modules() -> list[_Module]:
    return [_Module(p) for p in sorted(PACKAGE.rglob("*.py"))]


def _hole_texts(
    module: _Module, expr: ast.AST, at: ast.AST, depth: int = 0
) -> tuple[list[tuple[Piece, ...]], set[tuple[str, str]]]:
    """The texts a placeholder's expression can hold, and the parameters it takes them from.

    A local or module text (``hint = " Check ..."``), either side of ``a if c else b``,
    what a function of the module returns (``_close_names(key)``); a parameter of the
    function (``what``) is followed to the calls by :func:`project_messages`.
    """
    if depth > 3:
        return [], set()
    if isinstance(expr, ast.IfExp):
        a, fa = _hole_texts(module, expr.body, at, depth + 1)
        b, fb = _hole_texts(module, expr.orelse, at, depth + 1)
        return a + b, fa | fb
    if isinstance(expr, ast.Name):
        texts, forwards = module.resolve(expr, at)
        if texts is not None or forwards is not None:
            return texts or [], {forwards} if forwards else set()
        return _bound_texts(module, expr.id, at, depth)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        defined = next(
            (f for f in module.functions if getattr(f, "name", "") == expr.func.id), None
        )
        out: list[tuple[Piece, ...]] = []
        forwards: set[tuple[str, str]] = set()
        for inner in ast.walk(defined) if defined is not None else []:
            if isinstance(inner, ast.Return) and inner.value is not None:
                texts = _templates(inner.value)
                if texts is None:
                    texts, more = _hole_texts(module, inner.value, inner, depth + 1)
                    forwards |= more
                out += texts
        return out, forwards
    return [], set()


def _bound_texts(
    module: _Module, name: str, at: ast.AST, depth: int
) -> tuple[list[tuple[Piece, ...]], set[tuple[str, str]]]:
    """The texts a name holds when bound by a call or a loop, in the function around ``at``.

    ``kind = _kind(mode)``: what ``_kind`` returns; ``for start, what in
    _BINARY_STARTS.items()``: the texts of the module's dict.
    """
    function = module.function_of(at)
    out: list[tuple[Piece, ...]] = []
    forwards: set[tuple[str, str]] = set()
    for node in ast.walk(function if function is not None else module.tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Call)
        ):
            texts, more = _hole_texts(module, node.value, node, depth + 1)
            out += texts
            forwards |= more
        elif (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Tuple)
            and [isinstance(e, ast.Name) and e.id == name for e in node.target.elts]
            == [False, True]
            and isinstance(node.iter, ast.Call)
            and _name(node.iter.func) == "items"
            and isinstance(node.iter.func, ast.Attribute)
            and isinstance(node.iter.func.value, ast.Name)
        ):
            table = node.iter.func.value.id
            for assign in module.tree.body:
                target = assign.target if isinstance(assign, ast.AnnAssign) else None
                targets = assign.targets if isinstance(assign, ast.Assign) else [target]
                value = getattr(assign, "value", None)
                if any(isinstance(t, ast.Name) and t.id == table for t in targets) and isinstance(
                    value, ast.Dict
                ):
                    out += [t for v in value.values for t in _templates(v) or []]
    return out, forwards


def _found(
    module: _Module, node: ast.AST, texts: list[tuple[Piece, ...]], *, log: bool = False
) -> tuple[list[Message], set[tuple[str, str]]]:
    """The messages of ``texts`` met at ``node``, the texts put into them, where those come from.

    ``f"{where}: {what}. Give a number."`` with ``what = "is empty" if ... else ...``:
    ``is empty`` is a piece the reader sees too, so it is a message of its own.
    """
    where = f"{module.where}:{node.lineno}"
    out = []
    forwards: set[tuple[str, str]] = set()
    for pieces in texts:
        out.append(Message(where, _percent(pieces) if log else pieces))
        for hole in pieces:
            if isinstance(hole, Hole) and hole.expr is not None:
                inner, more = _hole_texts(module, hole.expr, node)
                out += [Message(f"{where} ({hole.name})", p) for p in inner]
                forwards |= more
    return out, forwards


def _forwarded_argument(call: ast.Call, defined: ast.FunctionDef, parameter: str) -> ast.AST | None:
    """What ``call`` gives to ``parameter`` of the function ``defined``, if anything."""
    names = [a.arg for a in defined.args.args]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    argument = next((k.value for k in call.keywords if k.arg == parameter), None)
    if argument is None and parameter in names and names.index(parameter) < len(call.args):
        argument = call.args[names.index(parameter)]
    return argument


def project_messages() -> tuple[list[Message], list[str]]:
    """Every message of the package, and where one could not be followed (``module:function``)."""
    modules = _modules()
    messages: list[Message] = []
    lost: list[str] = []
    forwarded: set[tuple[str, str]] = set()  # (function, parameter) given to a raise
    pieces: set[tuple[str, str]] = set()  # (function, parameter) put into a message
    for module in modules:
        for argument, node, kind in module.message_arguments():
            texts, forwards = module.resolve(argument, node)
            if texts is not None:
                found, holes = _found(module, node, texts, log=kind == "log")
                messages += found
                pieces |= holes
            elif forwards is not None:
                forwarded.add(forwards)
            else:
                function = module.function_of(node)
                lost.append(f"{module.where}:{function.name if function else '<module>'}")
    definitions = {
        f.name: f for m in modules for f in m.functions if isinstance(f, ast.FunctionDef)
    }
    # the calls of a function that forwards its parameter to a raise: their argument
    for module in modules:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            for function, parameter in pieces:  # what="each agent's home"
                if _name(node.func) == function and function in definitions:
                    argument = _forwarded_argument(node, definitions[function], parameter)
                    texts = [] if argument is None else _templates(argument) or []
                    messages += [Message(f"{module.where}:{node.lineno}", t) for t in texts]
            for function, parameter in forwarded:
                if _name(node.func) != function:
                    continue
                argument = _forwarded_argument(node, definitions[function], parameter)
                if argument is None:
                    continue
                texts, forwards = module.resolve(argument, node)
                if texts is not None:
                    messages += _found(module, node, texts)[0]
                elif forwards is None:
                    caller = module.function_of(node)
                    lost.append(f"{module.where}:{caller.name if caller else '<module>'}")
    return messages, sorted(set(lost))


MESSAGES, LOST = project_messages()


def test_the_walk_finds_the_messages() -> None:
    """The walk sees the errors of every kind: hundreds of raises, logged warnings, row errors."""
    wheres = {m.where.split(":")[0] for m in MESSAGES}
    assert len(MESSAGES) > 300
    assert {
        "optimizer/inputs/loading.py",
        "optimizer/netcache.py",
        "optimizer/cli/network.py",
    } <= wheres
    english = {m.english for m in MESSAGES}
    assert "{}: file not found. Check the path." in english  # raise InputError(msg)
    assert "network cache {}: cannot be read ({})" in english  # logger.warning("... %s", ...)


def test_messages_not_followed_are_the_listed_ones() -> None:
    """A message the walk cannot follow is listed here, with why; the list stays short."""
    assert set(LOST) == set(UNCAPTURED)
    assert len(UNCAPTURED) <= 5


def test_every_error_and_warning_has_its_french() -> None:
    """Each message the package can raise or log, placeholders filled, is in the catalogue."""
    missing = sorted(
        {
            f"{m.where}: {m.english}"
            for m in MESSAGES
            if not m.passes_through and not knows(m.sample.strip())
        }
    )
    assert not missing, f"{len(missing)} messages without French:\n" + "\n".join(missing)


@pytest.mark.parametrize(
    ("english", "french"),
    [
        (
            "agents.csv: file not found. Check the path.",
            "agents.csv : fichier introuvable. Vérifiez le chemin.",
        ),
        (  # a file name is left as it is, digits and all
            "2024.5.csv: file not found. Check the path.",
            "2024.5.csv : fichier introuvable. Vérifiez le chemin.",
        ),
        (  # a value quoted from the file too; the row and column said in French
            "agents.csv: row 3, column 'lon': '3.5x' is not a number. Give a number.",
            "agents.csv : ligne 3, colonne 'lon' : '3.5x' n'est pas un nombre. Donnez un nombre.",
        ),
        (  # a number the tool computed is written the French way
            "--max-minutes must be positive, got -2.5.",
            "--max-minutes doit être positif, reçu -2,5.",
        ),
        (  # a logged warning, the system's reason left as it is
            "network cache /x/c.npz: cannot be read (Permission denied)",
            "cache réseau /x/c.npz : illisible (Permission denied)",
        ),
        ("and 3 more", "et 3 de plus"),
    ],
)
def test_some_french_by_hand(english: str, french: str) -> None:
    """A few messages and their French written out, pieces and numbers included."""
    assert translate(english, "fr") == french
