"""The examples in the public docstrings run as written."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer import travel


@pytest.mark.parametrize("module", [travel])
def test_docstring_examples(module) -> None:
    failures, tried = doctest.testmod(module)
    assert tried > 0
    assert failures == 0


DOCS = Path(__file__).resolve().parents[1] / "docs"


def _python_blocks(page: Path) -> list[str]:
    """The ```python blocks of a Markdown page, in order."""
    blocks, current = [], None
    for line in page.read_text(encoding="utf-8").splitlines():
        if current is None and line.strip() == "```python":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


@pytest.mark.parametrize(
    "page", sorted(p for p in DOCS.rglob("*.md") if _python_blocks(p)), ids=lambda p: p.name
)
def test_the_python_examples_of_the_docs_run(page) -> None:
    """Each page's Python blocks run in order, in one namespace, as a reader would paste them."""
    namespace: dict[str, object] = {}
    for block in _python_blocks(page):
        exec(compile(block, str(page), "exec"), namespace)  # our own docs


def test_the_documentation_site_builds_with_warnings_as_errors(tmp_path) -> None:
    pytest.importorskip("mkdocstrings_handlers.python")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=DOCS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "api" / "pipeline" / "index.html").exists()
    page = (tmp_path / "api" / "pipeline" / "index.html").read_text(encoding="utf-8")
    assert "optimizer.pipeline.run" in page  # the reference is generated from the docstrings
