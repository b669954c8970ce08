"""``assign geocode``: place a roster's addresses with the BAN, and say which rows to check."""

from __future__ import annotations

import math
from pathlib import Path

import click
import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.cli.common import FORCE_OPTION, QUIET_OPTION, Finite, with_options
from optimizer.cli.console import Steps, exit_codes
from optimizer.geocode import (
    BAD_ANSWER,
    BAN_URL,
    COORDINATES_GIVEN,
    MIN_SCORE,
    geocode_roster,
    is_geocode_output,
)
from optimizer.inputs import AGENT_ALIASES, _header_key, read_table
from optimizer.outfile import check_cache_dir, check_out_file, write_out_file
from optimizer.report import csv_text

_OPTIONS = (
    click.option(
        "--out",
        type=click.Path(path_type=Path, dir_okay=False),
        required=True,
        help="Roster CSV to write: the roster with lon, lat and the match of each row; give it "
        "to 'assign --agents'.",
    ),
    click.option(
        "--min-score",
        type=Finite(min=0, max=1),
        default=MIN_SCORE,
        show_default=True,
        help="Matches scoring below this get no coordinates and are flagged 'low score'.",
    ),
    click.option(
        "--url",
        default=BAN_URL,
        show_default=True,
        help="The address service (France's national address base, BAN).",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help=f"Where answers are cached (default {settings.CACHE_DIR}/ban).",
    ),
    FORCE_OPTION,
    QUIET_OPTION,
)


@click.command("geocode")
@click.argument("roster", type=click.Path(path_type=Path))
@with_options(_OPTIONS)
def geocode_command(
    roster: Path,
    out: Path,
    min_score: float,
    url: str,
    cache_dir: Path | None,
    force: bool,
    quiet: bool,
) -> None:
    """Geocode the roster's adresse column with the BAN (needs a connection; cached).

    Only the addresses (and postcodes) are sent. Rows the service cannot place
    well are flagged; offline, give communes instead (columns commune, insee or
    code_postal), which need no connection.
    """
    steps = Steps(quiet=quiet)
    with exit_codes():
        target = check_out_file(
            out, suffix=".csv", inputs=[("ROSTER", roster)], ours=is_geocode_output, force=force
        )
        cache = check_cache_dir(cache_dir, default=Path(settings.CACHE_DIR) / "ban")
        table, name = read_table(roster)
        steps(f"geocoding {len(table)} rows with {url}")
        coded = geocode_roster(table, name=name, min_score=min_score, base_url=url, cache_dir=cache)
        write_out_file(target, csv_text(coded).encode("utf-8"))
        steps.finish()
    if not quiet:
        _say_geocoded(coded, out)


def _say_geocoded(coded: pd.DataFrame, out: Path) -> None:
    """Print how many rows were placed, the first rows to check, and the rows assign refuses."""
    counts = coded["geocode_status"].value_counts()
    bad = f"{counts.get(BAD_ANSWER, 0)} bad answers, " if counts.get(BAD_ANSWER, 0) else ""
    kept = counts.get(COORDINATES_GIVEN, 0)
    click.echo(
        f"{counts.get('ok', 0)} of {len(coded)} rows placed at their address; "
        f"{counts.get('low score', 0)} low score, {counts.get('not found', 0)} not found, "
        f"{bad}{counts.get('no address', 0)} without address."
        + (f" {kept} rows kept the coordinates they had (not sent)." if kept else "")
    )
    flagged = coded[coded["geocode_status"].isin(["low score", "not found", BAD_ANSWER])]
    for i, row in zip(
        flagged.index.tolist()[:10], flagged.head(10).to_dict("records"), strict=True
    ):
        score = row["geocode_score"]
        matched = (
            f" ({score:g}: {row['geocode_label'] or 'nothing'})"
            if isinstance(score, (int, float)) and math.isfinite(score)
            else ""
        )
        click.echo(
            f"  row {i + 2}: {row['geocode_status']}{matched}; check it, or give its commune."
        )
    stranded = _stranded_rows(coded)
    if stranded:
        shown = ", ".join(str(i + 2) for i in stranded[:10])
        more = f" and {len(stranded) - 10} more" if len(stranded) > 10 else ""
        click.echo(
            f"WARNING: {len(stranded)} rows have neither coordinates nor a commune "
            f"(rows {shown}{more}); assign refuses them until you give their commune "
            "(column commune, insee or code_postal) or lon, lat."
        )
    click.echo(f"Wrote {out}; use it with: assign --agents {out}")


def _stranded_rows(coded: pd.DataFrame) -> list[int]:
    """Rows of a geocoded roster that assign cannot place: no coordinates, no commune."""
    keys = {_header_key(str(c)): c for c in coded.columns}
    places = [
        keys[a]
        for field in ("commune", "insee", "code_postal")
        for a in AGENT_ALIASES[field]
        if a in keys
    ]
    placed = coded["geocode_status"].isin(["ok", COORDINATES_GIVEN]).to_numpy()
    named = np.zeros(len(coded), dtype=bool)
    for column in places:
        named |= coded[column].fillna("").astype(str).str.strip().ne("").to_numpy()
    return np.flatnonzero(~placed & ~named).tolist()
