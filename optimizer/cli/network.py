"""``assign network``: build a road network from OpenStreetMap and save it as GraphML."""

from __future__ import annotations

from pathlib import Path

import click

import optimizer.settings as settings
from optimizer.cli.common import (
    FORCE_OPTION,
    QUIET_OPTION,
    SPEED_MODEL_OPTION,
    SPEED_PROFILE_OPTION,
    Finite,
    speed_setup,
    with_options,
)
from optimizer.cli.console import Steps, exit_codes
from optimizer.errors import InputError
from optimizer.inputs import read_area
from optimizer.network import (
    DEFAULT_BUFFER_KM,
    RoadNetwork,
    download_network,
    load_network,
    save_network,
)
from optimizer.outfile import check_cache_dir, check_out_file, write_out_file

_OPTIONS = (
    click.option(
        "--place", default=None, help="Download the roads of this place, e.g. 'Lozère, France'."
    ),
    click.option(
        "--polygon",
        type=click.Path(path_type=Path),
        default=None,
        help="Download the roads inside the area of this GeoPackage / GeoJSON file.",
    ),
    click.option(
        "--from-file",
        "from_file",
        type=click.Path(path_type=Path),
        default=None,
        help="Build from a local OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2) instead.",
    ),
    click.option(
        "--buffer-km",
        type=Finite(min=0, max=500),
        default=DEFAULT_BUFFER_KM,
        show_default=True,
        help="Border added around --place or --polygon, so that routes leaving the area are kept.",
    ),
    click.option(
        "--out",
        type=click.Path(path_type=Path, dir_okay=False),
        required=True,
        help="GraphML file to write; give it to 'assign --network'.",
    ),
    click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help=f"Where downloads are cached (default {settings.CACHE_DIR}).",
    ),
    SPEED_PROFILE_OPTION,
    SPEED_MODEL_OPTION,
    FORCE_OPTION,
    QUIET_OPTION,
)


@click.command("network")
@with_options(_OPTIONS)
def network_command(
    place: str | None,
    polygon: Path | None,
    from_file: Path | None,
    buffer_km: float,
    out: Path,
    cache_dir: Path | None,
    speed_profile: str,
    speed_model_name: str,
    force: bool,
    quiet: bool,
) -> None:
    """Build a road network from OpenStreetMap and save it as GraphML.

    Either download it (--place or --polygon; needs internet, cached) or read a
    local extract (--from-file; works offline). Only drivable roads are kept,
    and only the largest part in which every road can reach every other.
    """
    steps = Steps(quiet=quiet)
    with exit_codes():
        if sum(x is not None for x in (place, polygon, from_file)) != 1:
            msg = "give --place or --from-file (or --polygon): exactly one source."
            raise InputError(msg)
        target = check_out_file(
            out,
            suffix=".graphml",
            inputs=[
                ("--from-file", from_file),
                ("--polygon", polygon),
                ("--speed-profile", Path(speed_profile)),
            ],
            ours=_is_network_file,
            force=force,
        )
        if cache_dir is not None or from_file is None:
            cache_dir = check_cache_dir(cache_dir, default=Path(settings.CACHE_DIR))
        net = _build(
            place, polygon, from_file, buffer_km, cache_dir, speed_profile, speed_model_name, steps
        )
        steps(f"saving {out}")
        write_out_file(target, lambda path: save_network(net, path))
        steps.finish()
    if not quiet:
        g = net.graph
        click.echo(
            f"{net.source}: {g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges "
            f"({net.dropped_nodes:,} nodes dropped: not reachable both ways); "
            f"saved {out} in {steps.elapsed:.1f} s."
        )


def _build(
    place: str | None,
    polygon: Path | None,
    from_file: Path | None,
    buffer_km: float,
    cache_dir: Path | None,
    speed_profile: str,
    speed_model_name: str,
    steps: Steps,
) -> RoadNetwork:
    """Read the local extract, or download the place's or the polygon's roads."""
    profile, model = speed_setup(speed_profile, speed_model_name)
    if from_file is not None:
        return load_network(from_file, speed_profile=profile, speed_model=model, progress=steps)
    area = read_area(polygon) if polygon is not None else None
    return download_network(
        place,
        polygon=area,
        buffer_km=buffer_km,
        cache_dir=cache_dir,
        speed_profile=profile,
        speed_model=model,
        progress=steps,
    )


def _is_network_file(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a network saved by ``assign network``."""
    return b"<graphml" in head and all(
        f'attr.name="{key}"'.encode() in head for key in ("speed_model", "speed_profile")
    )
