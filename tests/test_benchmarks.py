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


def test_peers_benchmark_runs_and_says_what_it_skipped(tmp_path: Path) -> None:
    # our side on the real Andorra extract and on a small synthetic PBF that the script writes;
    # pandana run through this Python: where it is missing the report says so, where it is
    # installed its plain speed limits must give our free-flow times (same limits, same roads)
    out = tmp_path / "peers.md"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "peers.py"),
            "--nodes",
            "400",
            "--origins",
            "30",
            "--destinations",
            "3",
            "--models",
            "free-flow",
            "--peers",
            "pandana",
            "--peer-python",
            sys.executable,
            "--work",
            str(tmp_path),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.strip() in done.stdout
    assert "### andorra.osm.pbf (real OSM data)" in text
    assert "### synthetic road-like grid" in text
    ours = [line for line in text.splitlines() if line.startswith("| ours (free-flow)")]
    assert len(ours) == 2
    # the synthetic file holds one strongly connected grid: nothing is dropped when read
    assert "(0 nodes dropped outside" in ours[1]
    try:
        import pandana  # noqa: F401
    except ImportError:
        assert text.count(f"pandana is not installed in {sys.executable}") == 2
    else:
        rows = [line for line in text.splitlines() if line.startswith("| free-flow / pandana")]
        assert len(rows) == 2
        medians = [float(row.split("|")[3].split()[0]) for row in rows]
        assert all(0.97 <= m <= 1.03 for m in medians), rows
