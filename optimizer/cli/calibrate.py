"""``assign calibrate``: fit the realistic speed model to reference trips, write a profile."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

import optimizer.datasets as datasets
import optimizer.settings as settings
from optimizer.calibration import Calibration, calibrate, is_profile, profile_text
from optimizer.cli.common import (
    FORCE_OPTION,
    QUIET_OPTION,
    SPEED_PROFILE_OPTION,
    speed_profile,
    with_options,
)
from optimizer.cli.console import Steps, exit_codes
from optimizer.inputs import check_in_area, read_reference_trips
from optimizer.network import load_network
from optimizer.outfile import check_out_file, write_out_file
from optimizer.speed_model import GROUPS

_OPTIONS = (
    click.option(
        "--reference",
        type=click.Path(path_type=Path),
        required=True,
        help="Reference trips: CSV with from_lon, from_lat, to_lon, to_lat, minutes[, km, label] "
        "(mileage claims, times read off a route planner).",
    ),
    click.option(
        "--network",
        "network_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Road network (default: the embedded approximate Lozère network).",
    ),
    click.option(
        "--out",
        type=click.Path(path_type=Path, dir_okay=False),
        required=True,
        help="Profile CSV to write (highway, kmh, factor); give it to 'assign --speed-profile'.",
    ),
    click.option(
        "--fit-junction-delay",
        is_flag=True,
        help="Also fit the delay at junctions (on a coarse network of towns: crossing a village).",
    ),
    SPEED_PROFILE_OPTION,
    FORCE_OPTION,
    QUIET_OPTION,
)


@click.command("calibrate")
@with_options(_OPTIONS)
def calibrate_command(
    reference: Path,
    network_path: Path | None,
    out: Path,
    fit_junction_delay: bool,
    speed_profile: str,
    force: bool,
    quiet: bool,
) -> None:
    """Fit the realistic speed model's factors to reference trips, and write a profile.

    Prints the error on the reference trips before and after (median and worst,
    in % and minutes). Use the profile with: assign --speed-profile PROFILE.csv
    """
    steps = Steps(quiet=quiet)
    with exit_codes():
        target = check_out_file(
            out,
            suffix=".csv",
            inputs=[
                ("--reference", reference),
                ("--network", network_path),
                ("--speed-profile", Path(speed_profile)),
            ],
            ours=is_profile,
            force=force,
        )
        trips = read_reference_trips(reference)
        result = _fit(reference, trips, network_path, speed_profile, fit_junction_delay, steps)
        steps(f"writing {out}")
        write_out_file(target, profile_text(result).encode("utf-8"))
        steps.finish()
    if not quiet:
        _say_fitted(result, len(trips), out, junction_delay=fit_junction_delay)


def _fit(
    reference: Path,
    trips: pd.DataFrame,
    network_path: Path | None,
    profile: str,
    fit_junction_delay: bool,
    steps: Steps,
) -> Calibration:
    """Load the network, check the trips are on it, and fit the factors to them."""
    speeds = speed_profile(profile)
    src = network_path if network_path is not None else datasets.path(datasets.NETWORK_FILE)
    net = load_network(src, speed_profile=speeds, speed_model="realistic", progress=steps)
    check_in_area(
        pd.DataFrame({"id": trips["label"], "lon": trips["from_lon"], "lat": trips["from_lat"]}),
        net.bounds,
        name=f"{reference} (from_lon, from_lat)",
        id_column="id",
    )
    check_in_area(
        pd.DataFrame({"id": trips["label"], "lon": trips["to_lon"], "lat": trips["to_lat"]}),
        net.bounds,
        name=f"{reference} (to_lon, to_lat)",
        id_column="id",
    )
    table = speeds if isinstance(speeds, dict) else dict(settings.SPEED_PROFILES[speeds])
    return calibrate(
        net, trips, speeds=table, fit_junction_delay=fit_junction_delay, progress=steps
    )


def _say_fitted(result: Calibration, trips: int, out: Path, *, junction_delay: bool) -> None:
    """Print the error on the trips before and after, the factors fitted, and the file."""
    for which in ("before", "after"):
        e = result.errors(which)
        click.echo(
            f"{which:>6}: median error {e['median_pct']:.1f} % ({e['median_min']:.1f} min), "
            f"worst {e['worst_pct']:.1f} % ({e['worst_min']:.1f} min) on {trips} trips"
        )
    fitted = (
        ", ".join(f"{g} {v:.3f}" for g, v in result.factors.items() if g in GROUPS or g == "all")
        or "none"
    )
    click.echo(f"Fitted factors (fraction of the speed limit): {fitted}.")
    if junction_delay:
        click.echo(f"Fitted junction delay: {result.model.junction_delay_s:.1f} s.")
    click.echo(f"Wrote {out}; use it with: assign --speed-profile {out}")
