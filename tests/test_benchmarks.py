"""The benchmark scripts still run (tiny sizes, no timing asserted: figures are for people)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_matrix_benchmark_runs_on_a_tiny_graph() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "matrix.py"),
            "--nodes",
            "400",
            "--agents",
            "50",
            "--destinations",
            "3",
            "--pair-samples",
            "2",
            "--nx-samples",
            "1",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "optimizer.travel_table" in done.stdout
    assert "rows: 150;" in done.stdout
