"""The planners' notebooks run clean on the embedded data, and each draws at least one chart."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from optimizer.i18n import knows, translate

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(autouse=True)
def _this_checkout(monkeypatch) -> None:
    """The kernels import this checkout's package, as the tests do (not another install)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_there_are_four_notebooks() -> None:
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


#: The notebook the French test runs in two locales: its English run is also its run here
#: (one execution: the same charts, the figures' texts kept on the side).
FRENCH_TESTED = "01_"
#: The tests sharing that run go to one xdist worker (tests/conftest.py's work units).
_SHARES_RUN = pytest.mark.shares("notebook-01-english")


def _runs_and_charts_params() -> list[object]:
    return [
        pytest.param(p, id=p.stem, marks=[_SHARES_RUN] if p.name.startswith(FRENCH_TESTED) else [])
        for p in NOTEBOOKS
    ]


def _charts(cells: list[nbformat.NotebookNode]) -> list[object]:
    return [
        output
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]


def _run(book: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    """Execute ``book`` (read from ``path``) in its folder, in place; return it."""
    NotebookClient(
        book,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return book


@pytest.mark.parametrize("path", _runs_and_charts_params())
def test_notebook_runs_and_charts(path: Path, monkeypatch) -> None:
    if path.name.startswith(FRENCH_TESTED):
        book = _executed(path, "C.UTF-8", monkeypatch)
        cells = book.cells[1:-1]  # the notebook's own, without the capture's first and last
    else:
        book = _run(nbformat.read(path, as_version=4), path)
        cells = book.cells
    assert _charts(cells), f"{path.name} draws no chart"


#: Put first in a notebook: keeps the texts of each figure it shows (titles, axis labels,
#: legends, colour bars), which the inline backend draws through ``print_figure``.
CAPTURE = """
import matplotlib.backend_bases as _backend_bases

FIGURE_TEXTS = []
_print_figure = _backend_bases.FigureCanvasBase.print_figure


def _keep_texts(self, *args, **kwargs):
    texts = [t.get_text() for t in self.figure.texts]
    for axes in self.figure.axes:
        texts.append(axes.get_title())
        if axes.axison:  # a map's hidden axes keep geopandas' own labels, never shown
            texts += [axes.get_xlabel(), axes.get_ylabel()]
        if axes.get_legend() is not None:
            texts += [t.get_text() for t in axes.get_legend().get_texts()]
    FIGURE_TEXTS.append([t for t in texts if t.strip()])
    return _print_figure(self, *args, **kwargs)


_backend_bases.FigureCanvasBase.print_figure = _keep_texts
"""
SHOW = "import json\nprint('FIGURE_TEXTS ' + json.dumps(FIGURE_TEXTS))"


#: Notebooks run with :data:`CAPTURE`, by file name and locale: run once in this process.
_EXECUTED: dict[tuple[str, str], nbformat.NotebookNode] = {}


def _executed(path: Path, locale: str, monkeypatch) -> nbformat.NotebookNode:
    """``path`` run in ``locale`` with :data:`CAPTURE` first and :data:`SHOW` last (once)."""
    key = (path.name, locale)
    if key not in _EXECUTED:
        with monkeypatch.context() as patch:
            patch.setenv("LC_ALL", locale)
            book = nbformat.read(path, as_version=4)
            book.cells.insert(0, nbformat.v4.new_code_cell(CAPTURE))
            book.cells.append(nbformat.v4.new_code_cell(SHOW))
            _run(book, path)
        _EXECUTED[key] = book
    return _EXECUTED[key]


def _figure_texts(path: Path, locale: str, monkeypatch) -> list[list[str]]:
    """Run a notebook in a locale; the texts of the figures it drew, in order."""
    book = _executed(path, locale, monkeypatch)
    printed = "".join(o.get("text", "") for o in book.cells[-1].outputs)
    return json.loads(printed.split("FIGURE_TEXTS ", 1)[1])


@_SHARES_RUN
def test_a_notebook_in_french_leaves_no_english_label_in_its_figures(monkeypatch) -> None:
    """Notebook 01 run in a French locale, then an English one: each title, axis label and legend
    of its figures is a sentence of the catalogue, and in French it is the catalogue's French."""
    path = next(p for p in NOTEBOOKS if p.name.startswith(FRENCH_TESTED))
    english = _figure_texts(path, "C.UTF-8", monkeypatch)
    french = _figure_texts(path, "fr_FR.UTF-8", monkeypatch)
    assert len(english) == len(french) >= 2
    pairs = [
        pair for en, fr in zip(english, french, strict=True) for pair in zip(en, fr, strict=True)
    ]
    assert len(pairs) >= 5
    for en, fr in pairs:
        assert knows(en), f"figure label not in the catalogue: {en!r}"
        assert fr == translate(en, "fr") != en, (en, fr)
