"""The inputs of ``assign``: where they come from, what may not be asked together, reading them.

The files given, else the embedded Lozère default (:mod:`optimizer.datasets`);
the checks made before anything is read or written (the salt, the key file,
an input kept where the run writes, re-plan penalties without a previous
plan); the tables, the network and the previous plan, read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

import optimizer.datasets as datasets
import optimizer.settings as settings
from optimizer.cli.assign_options import AssignArgs
from optimizer.cli.common import given, same_file, utf8
from optimizer.errors import InputError
from optimizer.inputs import (
    HeadOffice,
    parse_lonlat,
    read_agents,
    read_telecentres,
    read_workplaces,
    split_layer,
)
from optimizer.national.plan import DEFAULT_BUFFER_KM as NATIONAL_BUFFER_KM
from optimizer.national.travel import NetworkFolder, open_network_folder
from optimizer.network import Progress, RoadNetwork, load_network
from optimizer.places import nearest_commune
from optimizer.replan import match_previous, read_previous_allocation
from optimizer.report import OWN_FILES, pseudonym
from optimizer.sharing import check_key_file
from optimizer.speed_model import SpeedModel


@dataclass(frozen=True)
class Sources:
    """Where a run's inputs come from: the files given, else the embedded ones."""

    agents: Path
    telecentres: Path
    network: Path
    head_office: HeadOffice


def sources(args: AssignArgs) -> Sources:
    """Return the files of a run (the embedded ones for those not given) and its head office."""
    return Sources(
        agents=args.agents if args.agents is not None else datasets.path(datasets.AGENTS_FILE),
        telecentres=args.telecentres
        if args.telecentres is not None
        else datasets.path(datasets.TELECENTRES_FILE),
        network=args.network_path
        if args.network_path is not None
        else datasets.path(datasets.NETWORK_FILE),
        head_office=HeadOffice(*parse_lonlat(args.head_office), name="head office (--head-office)")
        if args.head_office is not None
        else datasets.head_office(),
    )


def run_sources(args: AssignArgs, src: Sources) -> dict[str, str]:
    """Return what the run's summary says of its inputs: the files, or which embedded ones."""
    return {
        "agents_file": str(src.agents),
        "telecentres_file": str(src.telecentres),
        "network_file": str(src.network),
        **({"previous_file": str(args.previous)} if args.previous is not None else {}),
        **({"workplaces": str(args.workplaces)} if args.workplaces is not None else {}),
        "agents": str(args.agents) if args.agents is not None else f"embedded roster {src.agents}",
        "telecentres": str(args.telecentres)
        if args.telecentres is not None
        else f"embedded telecentres {src.telecentres}",
        "head_office": "--head-office"
        if args.head_office is not None
        else f"embedded head office {datasets.path(datasets.HEAD_OFFICE_FILE)}",
    }


def check_request(ctx: click.Context, args: AssignArgs, src: Sources) -> None:
    """Refuse what may not be asked together, before anything is read or written."""
    salt, key_file = args.salt, args.key_file
    if salt is not None and not salt.strip():
        msg = "--pseudonymise needs a non-empty salt (a secret phrase of your own)."
        raise InputError(msg)
    if salt is not None and not utf8(salt):
        msg = (
            "--pseudonymise: the salt is not valid text (bytes that are not UTF-8); "
            "type it again, in letters, digits and punctuation."
        )
        raise InputError(msg)
    if key_file is not None and salt is None:
        msg = "--key-file holds the ids behind the pseudonyms: give --pseudonymise SALT too."
        raise InputError(msg)
    inputs: dict[str, str | Path | None] = {
        "--agents": src.agents,
        "--telecentres": src.telecentres,
        "--workplaces": args.workplaces,
        "--network": src.network,
        "--speed-profile": args.speed_profile,
    }
    _inputs_not_outputs(args.out, inputs)
    if key_file is not None:
        _key_file_not_input(key_file, {**inputs, "--previous": args.previous})
        check_key_file(key_file, out_dir=args.out)  # after: an input is named as such
    _check_replan(ctx, args)


def _inputs_not_outputs(out: str, inputs: dict[str, str | Path | None]) -> None:
    """Refuse an input kept in ``out`` under the name of a file the run writes there.

    The run would replace it with its own table (and the next run would read
    that table as its input). ``--previous`` may be the run's own
    ``allocation.csv``: it is the tool's file, read before it is replaced.
    """
    folder = Path(out)
    for option, source in inputs.items():
        if source is None:
            continue
        path = Path(split_layer(source)[0])
        for name in sorted(OWN_FILES):
            if same_file(path, folder / name):
                msg = (
                    f"{option}: '{source}' is the {name} of --out '{out}': this run writes its "
                    f"own {name} there and would replace it. Move the input out of that "
                    "folder, or give another --out."
                )
                raise InputError(msg)


def _key_file_not_input(key_file: Path, inputs: dict[str, str | Path | None]) -> None:
    """Refuse a ``--key-file`` that is one of the run's inputs: the key would replace it."""
    order = ("--agents", "--telecentres", "--workplaces", "--previous", "--network")
    for option in (*order, "--speed-profile"):
        source = inputs[option]
        if source is not None and same_file(key_file, split_layer(source)[0]):
            msg = (
                f"--key-file: '{key_file}' is the {option} file: the key would replace "
                "it. Give another file, e.g. --key-file key.csv."
            )
            raise InputError(msg)


def _check_replan(ctx: click.Context, args: AssignArgs) -> None:
    """Refuse the re-plan penalties without ``--previous``: they weigh changes from it."""
    if (
        args.previous is None
        and ctx.get_parameter_source("move_penalty") is click.core.ParameterSource.COMMANDLINE
    ):
        msg = "--move-penalty weighs moves from a previous plan: give --previous FILE too."
        raise InputError(msg)
    if args.previous is None and given(ctx, "day_change_penalty"):
        msg = (
            "--day-change-penalty weighs weekday changes from a previous plan: give "
            "--previous FILE too."
        )
        raise InputError(msg)


def read_tables(
    args: AssignArgs, src: Sources
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Read the agents, the telecentres and the workplaces (None when not given)."""
    # a commune name other départements share is the one in the head office's
    area = {nearest_commune(src.head_office.lon, src.head_office.lat).departement}
    crs = args.crs
    agents = read_agents(src.agents, crs=crs, area_departements=area)
    sites = read_telecentres(
        src.telecentres, crs=crs if args.telecentres is not None else None, area_departements=area
    )
    work = (
        read_workplaces(args.workplaces, crs=crs, area_departements=area)
        if args.workplaces is not None
        else None
    )
    return agents, sites, work


def road_network(
    args: AssignArgs,
    src: Sources,
    speeds: str | dict[str, float],
    model: SpeedModel,
    progress: Progress,
    *,
    national: bool,
) -> RoadNetwork | NetworkFolder:
    """Load the network file, or open the national network folder (timed département by one)."""
    if not national:
        return load_network(
            src.network,
            speed_profile=speeds,
            speed_model=model,
            progress=progress,
            cache_dir=None if args.no_network_cache else settings.CACHE_DIR,
        )
    if args.speed_uncertainty is not None:
        msg = (
            "--speed-uncertainty retimes one road network; a national network folder "
            "is timed département by département: give one network file for it."
        )
        raise InputError(msg)
    return open_network_folder(
        Path(src.network),
        buffer_km=NATIONAL_BUFFER_KM if args.border_km is None else args.border_km,
        speed_profile=args.speed_profile,
        speed_model_name=args.speed_model_name,
        progress=progress,
    )


def previous_plan(args: AssignArgs, agents: pd.DataFrame) -> pd.DataFrame | None:
    """Read ``--previous`` and match it to the roster (None without a previous plan)."""
    if args.previous is None:
        return None
    salt = args.salt
    return match_previous(
        read_previous_allocation(args.previous),
        agents["agent_id"].tolist(),
        pseudonymise=(lambda a: pseudonym(a, salt)) if salt is not None else None,
    )
