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


def test_assignment_benchmarks_run_on_a_small_size() -> None:
    # the two scripts behind issue 15's tables: library beside plain flow (same optimum,
    # or the script stops), and where the library's time goes
    for script, args in (
        ("assign.py", ["--sizes", "2500x60", "--shapes", "clustered-scarce"]),
        ("assign_floor.py", ["--size", "2500x60", "--shapes", "uniform-scarce", "--repeat", "1"]),
    ):
        done = subprocess.run(
            [sys.executable, str(BENCHMARKS / script), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        shape = args[3]
        rows = [line.split() for line in done.stdout.splitlines()]
        (row,) = [row for row in rows if row[0] == shape]  # one row, with its speed-up
        assert any(cell.endswith("x") and cell[:-1].replace(".", "").isdigit() for cell in row)
