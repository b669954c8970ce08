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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_charts(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    images = [
        output
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images, f"{path.name} draws no chart"


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


def _figure_texts(path: Path, locale: str, monkeypatch) -> list[list[str]]:
    """Run a notebook in a locale; the texts of the figures it drew, in order."""
    monkeypatch.setenv("LC_ALL", locale)
    book = nbformat.read(path, as_version=4)
    book.cells.insert(0, nbformat.v4.new_code_cell(CAPTURE))
    book.cells.append(nbformat.v4.new_code_cell(SHOW))
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    printed = "".join(o.get("text", "") for o in book.cells[-1].outputs)
    return json.loads(printed.split("FIGURE_TEXTS ", 1)[1])


def test_a_notebook_in_french_leaves_no_english_label_in_its_figures(monkeypatch) -> None:
    """Notebook 01 run in a French locale, then an English one: each title, axis label and legend
    of its figures is a sentence of the catalogue, and in French it is the catalogue's French."""
    path = next(p for p in NOTEBOOKS if p.name.startswith("01_"))
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
