"""The shell examples of the README and the docs name options that exist, with valid values.

Each ``assign`` command of a ```bash block (continuation lines joined, comments
dropped) is parsed by the command itself, subcommand included, as a user's
shell would hand it over: an option renamed or removed, a value out of its
range, fails here. (The commands read files the reader has, a roster or an
extract: they are parsed, not run; the Python blocks run, in test_docs.py.)
Each ``pip install '.[extra]'`` names an extra that pyproject.toml declares.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import tomllib

from optimizer.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _shell_lines(page: Path) -> list[str]:
    """The commands of a page's ```bash blocks, continuation lines joined, comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            text = re.sub(r"\s#.*$", "", line).strip()
            if text:
                lines.extend(part.strip() for part in text.split("&&"))
    return lines


COMMANDS = [
    pytest.param(line, id=f"{page.name}: {line[:60]}")
    for page in PAGES
    for line in _shell_lines(page)
    if line.split()[0] == "assign"
]
INSTALLS = [
    pytest.param(line, id=f"{page.name}: {line}")
    for page in PAGES
    for line in _shell_lines(page)
    if line.startswith("pip install")
]


def test_the_docs_have_shell_examples() -> None:
    assert len(COMMANDS) >= 8
    assert len(INSTALLS) >= 4


def _rest(ctx: click.Context) -> list[str]:
    """The tokens the group left to its subcommand (click 8.1 to 9)."""
    hidden = getattr(ctx, "_protected_args", None)  # click 8.2+
    if hidden is None:
        hidden = ctx.__dict__.get("protected_args", [])  # click < 8.2
    return [*hidden, *ctx.args]


@pytest.mark.parametrize("line", COMMANDS)
def test_every_assign_example_parses(line: str) -> None:
    args = shlex.split(line)[1:]
    with main.make_context("assign", list(args), resilient_parsing=False) as ctx:
        rest = _rest(ctx)
        if rest:  # a subcommand: network, geocode, calibrate
            name, command, sub_args = main.resolve_command(ctx, rest)
            assert command is not None, f"no subcommand {name!r}"
            with command.make_context(name, sub_args, parent=ctx):
                pass


def test_a_wrong_option_in_an_example_would_fail() -> None:
    with pytest.raises(click.UsageError, match="--no-such-option"):
        main.make_context("assign", ["--no-such-option", "1"])
    with pytest.raises(click.BadParameter):
        main.make_context("assign", ["--select-by", "distance"])
    with pytest.raises(click.NoSuchOption, match="--nope"):  # in a subcommand too
        test_every_assign_example_parses("assign calibrate --reference t.csv --nope x")


@pytest.mark.parametrize("line", INSTALLS)
def test_every_install_example_names_a_declared_extra(line: str) -> None:
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
                 ["optional-dependencies"])  # fmt: skip
    for wanted in re.findall(r"\.\[([a-z,]+)\]", line):
        assert set(wanted.split(",")) <= extras, line
