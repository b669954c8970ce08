"""Rebuild the generated files of data/: the demo roster and the offline road network.

Run from the repository root: ``python data/build.py``. The output is deterministic
(fixed seed, fixed rounding), so a rebuild changes no byte unless the code changed;
``tests/test_datasets.py`` checks that.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd

from optimizer import datasets
from optimizer._offline import write_offline_network


def build(folder: Path) -> None:
    """Write ``agents_demo.csv`` and ``lozere_offline.osm`` into ``folder``."""
    communes = gpd.read_file(Path(__file__).parent / datasets.COMMUNES_FILE)
    roster = datasets.make_demo_roster(communes)
    roster.to_csv(folder / datasets.AGENTS_FILE, index=False, lineterminator="\n")
    counts = write_offline_network(communes, folder / datasets.NETWORK_FILE)
    print(f"{len(roster)} agents; network {counts}")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
