"""The examples in the public docstrings run as written."""

from __future__ import annotations

import doctest

import pytest

from optimizer import travel


@pytest.mark.parametrize("module", [travel])
def test_docstring_examples(module) -> None:
    failures, tried = doctest.testmod(module)
    assert tried > 0
    assert failures == 0
