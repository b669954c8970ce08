"""The travel stage on Dask: the same travel table, computed by a cluster's workers.

:func:`travel_table` costs one shortest-path search per destination (each
way); the searches of different destinations share nothing but the network.
:func:`travel_table_on` sends the network to every worker once, gives each
task a run of destinations, and puts the pieces back in the order
:func:`optimizer.travel.travel_table` gives, so that the result is the same
table, value for value (the searches work in whole milliseconds and length
units, so a destination's column does not depend on which other
destinations share its task).

``optimizer.pipeline.run(..., scheduler=...)`` and ``assign --scheduler``
use it: the scheduler decides where the travel stage runs, never what the
plan is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

import optimizer.settings as settings
from optimizer.network import Progress, RoadNetwork
from optimizer.travel import TravelTable, travel_table

logger = logging.getLogger(__name__)

#: Tasks per worker: a few, so that a slow worker does not hold the others back.
TASKS_PER_WORKER = 2


def _chunk_table(
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    max_snap_m: float,
    access_speed_kmh: float,
    limit: float | None,
) -> TravelTable:
    """One task: the travel table to a run of destinations (runs on a worker)."""
    return travel_table(
        network,
        origins,
        destinations,
        max_snap_m=max_snap_m,
        access_speed_kmh=access_speed_kmh,
        limit=limit,
    )


def destination_runs(n_dest: int, tasks: int) -> list[np.ndarray]:
    """Split ``range(n_dest)`` into at most ``tasks`` contiguous runs of near-equal size.

    Examples
    --------
    >>> [r.tolist() for r in destination_runs(5, 2)]
    [[0, 1, 2], [3, 4]]
    """
    runs = np.array_split(np.arange(n_dest), max(1, min(tasks, n_dest)))
    return [r for r in runs if r.size]


def join_tables(pieces: list[TravelTable], origins: pd.DataFrame, seconds: float) -> TravelTable:
    """Put per-destination-run tables back into one origin-major table.

    Parameters
    ----------
    pieces
        Travel tables of the same origins to consecutive runs of destinations,
        in destination order.
    origins
        The origins (``id`` column), in the order every piece has them.
    seconds
        Wall time of the whole stage.

    Returns
    -------
    TravelTable
        As :func:`optimizer.travel.travel_table` would give for all the destinations.
    """
    n_orig = len(origins)
    columns = pieces[0].table.columns
    table = pd.DataFrame(
        {
            column: np.concatenate(
                [p.table[column].to_numpy().reshape(n_orig, len(p.destinations)) for p in pieces],
                axis=1,
            ).ravel()
            for column in columns
        }
    )
    return TravelTable(
        table=table,
        origins=pieces[0].origins,
        destinations=pd.concat([p.destinations for p in pieces], ignore_index=True),
        seconds=seconds,
    )


def travel_table_on(
    client: Any,
    network: RoadNetwork,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    max_snap_m: float = settings.MAX_SNAP_M,
    access_speed_kmh: float = settings.ACCESS_SPEED_KMH,
    limit: float | None = None,
    progress: Progress | None = None,
) -> TravelTable:
    """:func:`optimizer.travel.travel_table` computed by a Dask cluster's workers.

    Parameters
    ----------
    client
        A ``dask.distributed.Client``.
    network, origins, destinations, max_snap_m, access_speed_kmh, limit
        As for :func:`optimizer.travel.travel_table`.
    progress
        Called with a short message before the tasks start.

    Returns
    -------
    TravelTable
        The same table :func:`optimizer.travel.travel_table` gives.
    """
    started = time.perf_counter()
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    runs = destination_runs(len(destinations), workers * TASKS_PER_WORKER)
    if not runs:  # no destination: nothing to share out
        return _chunk_table(network, origins, destinations, max_snap_m, access_speed_kmh, limit)
    if progress:
        progress(
            f"shortest paths from {len(destinations)} destinations on {workers} Dask "
            f"worker(s), {len(runs)} task(s)"
        )
    [shared] = client.scatter([network], broadcast=True)
    [homes] = client.scatter([origins], broadcast=True)
    futures = [
        client.submit(
            _chunk_table,
            shared,
            homes,
            destinations.iloc[run].reset_index(drop=True),
            max_snap_m,
            access_speed_kmh,
            limit,
            pure=False,
        )
        for run in runs
    ]
    pieces: list[TravelTable] = client.gather(futures)
    elapsed = time.perf_counter() - started
    logger.info(
        "travel table %d origins x %d destinations in %.3f s on %d worker(s)",
        len(origins),
        len(destinations),
        elapsed,
        workers,
    )
    return join_tables(pieces, origins, elapsed)


@contextmanager
def dask_client(
    scheduler: str | Any | None,
    *,
    progress: Progress | None = None,
    log_level: int = logging.CRITICAL,
) -> Iterator[Any]:
    """Yield a client for ``scheduler``: None, a ``--scheduler`` string, or a client.

    A client given is used as it is (and left open); a string starts or
    reaches a cluster (:func:`optimizer.national.cluster.connect`), closed on
    exit.
    """
    if scheduler is None or not isinstance(scheduler, str):
        yield scheduler
        return
    from optimizer.national.cluster import connect

    with connect(scheduler, progress=progress, log_level=log_level) as client:
        yield client
