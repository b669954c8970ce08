"""The travel stage of a run: where agents drive to, and the travel table.

The table is computed here, on a Dask cluster's workers, or per département on
a national network folder; :func:`own_workplace_times` turns it into the
problem's "head office" times, each agent's own workplace's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.inputs import HeadOffice
from optimizer.model import HEAD_OFFICE
from optimizer.network import Progress, RoadNetwork
from optimizer.options import PlanOptions
from optimizer.pipeline.result import RunResult
from optimizer.travel import TravelTable, travel_table

if TYPE_CHECKING:
    from optimizer.national.travel import FolderTravel, NetworkFolder


def _folder_travel(
    network: NetworkFolder,
    agents: pd.DataFrame,
    telecentres: pd.DataFrame,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    opts: PlanOptions,
    progress: Progress | None,
    scheduler: str | Any | None,
) -> FolderTravel:
    """Compute the travel stage on a national network folder, here or on the workers."""
    from optimizer.dask_travel import dask_client
    from optimizer.national.travel import folder_travel

    n_sites = len(telecentres)
    place = {HEAD_OFFICE: n_sites}
    for k, ident in enumerate(destinations["id"].astype(str).tolist()[n_sites + 1 :]):
        place.setdefault(ident, n_sites + 1 + k)
    named = (
        agents["workplace_id"].fillna("").astype(str).replace("", HEAD_OFFICE)
        if "workplace_id" in agents
        else pd.Series(HEAD_OFFICE, index=agents.index)
    )
    own = named.map(place).fillna(n_sites).to_numpy(np.int64)
    with dask_client(scheduler, progress=progress) as client:
        return folder_travel(
            network,
            origins,
            destinations,
            own,
            n_sites=n_sites,
            max_minutes=opts.max_minutes,
            min_saving=opts.min_saving,
            no_worse_off=opts.no_worse_off,
            max_snap_m=opts.max_snap_m,
            client=client,
            progress=progress,
        )


def _travel(
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    opts: PlanOptions,
    progress: Progress | None,
    scheduler: str | Any | None,
) -> TravelTable:
    """Compute the travel table here, or on the Dask cluster ``scheduler`` names."""
    if scheduler is None:
        return travel_table(
            network, origins, destinations, max_snap_m=opts.max_snap_m, progress=progress
        )
    from optimizer.dask_travel import dask_client, travel_table_on

    with dask_client(scheduler, progress=progress) as client:
        return travel_table_on(
            client, network, origins, destinations, max_snap_m=opts.max_snap_m, progress=progress
        )


def travel_again(
    result: RunResult, origins: pd.DataFrame, destinations: pd.DataFrame
) -> TravelTable:
    """Compute a travel table on a run's network (a network file, or a folder, in this process).

    Parameters
    ----------
    result
        The run (its network, options and agents' workplaces).
    origins
        ``id, lon, lat``, one row per agent of the run, in its order.
    destinations
        As :func:`destination_table` gives them for the run.

    Returns
    -------
    TravelTable
        The table, with the same meaning as the run's own.
    """
    if isinstance(result.network, RoadNetwork):
        return travel_table(
            result.network, origins, destinations, max_snap_m=result.options.max_snap_m
        )
    return _folder_travel(
        result.network,
        result.agents,
        result.telecentres,
        origins,
        destinations,
        result.options,
        None,
        None,
    ).travel


def destination_table(
    telecentres: pd.DataFrame, head_office: HeadOffice, workplaces: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the places agents drive to: telecentres, the head office, then other workplaces.

    Parameters
    ----------
    telecentres
        From :func:`optimizer.inputs.read_telecentres`.
    head_office
        The head office (id ``head_office``).
    workplaces
        From :func:`optimizer.inputs.read_workplaces`, or None.

    Returns
    -------
    pandas.DataFrame
        ``id, lon, lat`` for :func:`optimizer.travel.travel_table`.
    """
    parts = [
        telecentres.rename(columns={"telecentre_id": "id"})[["id", "lon", "lat"]],
        pd.DataFrame({"id": [HEAD_OFFICE], "lon": [head_office.lon], "lat": [head_office.lat]}),
    ]
    if workplaces is not None:
        parts.append(workplaces.rename(columns={"workplace_id": "id"})[["id", "lon", "lat"]])
    return pd.concat(parts, ignore_index=True)


def own_workplace_times(table: pd.DataFrame, agents: pd.DataFrame) -> pd.DataFrame:
    """Return the travel table with each agent's own workplace as its ``head_office`` rows.

    Savings are counted against the place each agent drives to when not
    teleworking: the head office, or the workplace its ``workplace_id``
    names. The rows of the other workplaces are dropped.

    Parameters
    ----------
    table
        From :func:`optimizer.travel.travel_table` (``origin_id, destination_id``, ...).
    agents
        ``agent_id`` and optionally ``workplace_id`` (empty: the head office).

    Returns
    -------
    pandas.DataFrame
        The table for :meth:`optimizer.model.AssignmentProblem.from_travel_times`.
    """
    if "workplace_id" not in agents or not (agents["workplace_id"].astype(str) != "").any():
        return table
    work = dict(
        zip(agents["agent_id"].astype(str), agents["workplace_id"].astype(str), strict=True)
    )
    place = table["origin_id"].map(work).replace("", HEAD_OFFICE).fillna(HEAD_OFFICE)
    places = set(place)
    own = table[table["destination_id"] == place].copy()
    own["destination_id"] = HEAD_OFFICE
    kept = table[~table["destination_id"].isin(places | {HEAD_OFFICE})]
    order = {d: k for k, d in enumerate(dict.fromkeys(table["destination_id"]))}
    out = pd.concat([kept, own], ignore_index=True)
    rank = out["origin_id"].map({a: k for k, a in enumerate(work)})
    out = out.assign(_a=rank, _d=out["destination_id"].map(order))
    return (
        out.sort_values(["_a", "_d"], kind="stable")
        .drop(columns=["_a", "_d"])
        .reset_index(drop=True)
    )
