"""Where the embedded Lozère files are: their names and their folder.

Nothing here reads them: :mod:`optimizer.inputs` and the modules of each stage
read them (through their own readers), :mod:`optimizer.datasets` gives the
embedded default ready to use. The files live in the repository's ``data/``
folder; a wheel carries them as ``optimizer/_embedded``.
"""

from __future__ import annotations

from pathlib import Path

from optimizer.errors import InputError

COMMUNES_FILE = "lozere_communes_2026.gpkg"
#: Every commune of France (INSEE code, name, postcodes, town-hall point, extent), gzip CSV.
FRANCE_COMMUNES_FILE = "communes_france.csv.gz"
TELECENTRES_FILE = "telecentres_solozere.csv"
HEAD_OFFICE_FILE = "head_office.csv"
AGENTS_FILE = "agents_demo.csv"
NETWORK_FILE = "lozere_offline.osm"
#: Cruising factors of the realistic speed model for the offline network, calibrated on
#: the public reference trips of ``REFERENCE_TRIPS_FILE`` (``data/build.py`` writes it).
NETWORK_FACTORS_FILE = "lozere_offline_factors.csv"
#: Public reference trips between Lozère towns, with their sources.
REFERENCE_TRIPS_FILE = "reference_trips.csv"


def data_dir() -> Path:
    """Return the folder of the embedded data (installed copy first, then the repository's)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_embedded", here.parent / "data"):
        if (candidate / TELECENTRES_FILE).exists():
            return candidate
    msg = (
        "the embedded Lozère data is missing (no optimizer/_embedded nor data/ folder). "
        "Reinstall the package with 'pip install .' from the repository."
    )
    raise InputError(msg)


def path(name: str) -> Path:
    """Return the path of one embedded file, e.g. ``path(NETWORK_FILE)``."""
    return data_dir() / name
