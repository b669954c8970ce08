"""Where the tasks run: in this process, on a ``LocalCluster``, or on a running cluster.

``scheduler`` strings: ``None`` (this process), ``"local"`` or ``"local:N"``
(a ``dask.distributed.LocalCluster`` of N worker processes, one thread
each, default 2), or a scheduler address ``"tcp://HOST:8786"`` (a cluster
started with ``dask scheduler`` and ``dask worker``). Worker processes
inherit this process's environment, so ``PYTHONPATH`` reaches them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from optimizer.errors import ClusterError, InputError, OptimizerError
from optimizer.network import Progress

logger = logging.getLogger(__name__)

DEFAULT_LOCAL_WORKERS = 2


def parse_scheduler(scheduler: str) -> tuple[str, int | str]:
    """Split a ``--scheduler`` value into ``("local", workers)`` or ``("address", address)``.

    Raises
    ------
    InputError
        When the value is neither ``local[:N]`` nor a ``tcp://`` (or ``tls://``) address
        with a host and a port.
    """
    text = scheduler.strip()
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2] or str(min(DEFAULT_LOCAL_WORKERS, os.cpu_count() or 1))
        if not (count.isascii() and count.isdigit()) or int(count) < 1:
            msg = f"--scheduler {scheduler}: give local:N with N workers >= 1 (e.g. local:2)."
            raise InputError(msg)
        cores = os.cpu_count() or 1
        if int(count) > cores:
            # each worker process holds a département's network (about a GB): more processes
            # than cores only share the cores and multiply the memory
            msg = (
                f"--scheduler {scheduler}: this machine has {cores} core(s); give local:N with "
                f"N at most {cores}, or a cluster's address for more."
            )
            raise InputError(msg)
        return "local", int(count)
    msg = (
        f"--scheduler {scheduler}: give local[:N] (a cluster of N processes here) or a "
        "scheduler address such as tcp://HOST:8786."
    )
    if text.startswith("inproc://"):
        return "address", text
    if text.startswith(("tcp://", "tls://")):
        # Dask refuses an address without host or port with a bare ValueError
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise InputError(msg) from None
        if not parts.hostname or port is None or port < 1 or parts.path or parts.query:
            raise InputError(msg)
        return "address", text
    raise InputError(msg)


@contextmanager
def connect(
    scheduler: str | None,
    *,
    progress: Progress | None = None,
    log_level: int = logging.WARNING,
) -> Iterator[Any]:
    """Yield a ``dask.distributed.Client`` for ``scheduler`` (None: yield None, no Dask).

    A ``LocalCluster`` started here is closed on exit.

    Parameters
    ----------
    scheduler
        See :func:`parse_scheduler`.
    progress
        Told the number of workers and the dashboard's address.
    log_level
        Least level of Dask's own log messages (``distributed.*``), in this
        process (the scheduler of a ``LocalCluster`` runs here) and in the
        workers it starts, while the client lives: Dask logs its start-up and
        shut-down at INFO, and a failed task's traceback at ERROR although the
        failure comes back to the caller as an exception.
    """
    if scheduler is None:
        yield None
        return
    kind, value = parse_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        msg = (
            f"--scheduler {scheduler}: Dask is not installed here; install it with "
            "pip install 'lozere-telework-optimizer[national]' (dask[distributed], pyarrow)."
        )
        raise ClusterError(msg) from None

    dask_logger = logging.getLogger("distributed")
    previous_level = dask_logger.level
    dask_logger.setLevel(log_level)
    try:
        client, cluster = _start(Client, LocalCluster, kind, value, scheduler, log_level)
    except OptimizerError:
        dask_logger.setLevel(previous_level)
        raise
    workers = len(client.scheduler_info().get("workers", {}))
    link = client.dashboard_link
    logger.info("Dask: %d workers, dashboard %s", workers, link)
    if progress:
        progress(f"Dask cluster: {workers} workers; dashboard {link}")
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        dask_logger.setLevel(previous_level)


def _start(
    client_class: Any,
    cluster_class: Any,
    kind: str,
    value: str | int,
    scheduler: str,
    log_level: int,
) -> tuple[Any, Any]:
    """Start a ``LocalCluster`` and its client, or connect to a scheduler's address.

    Returns the client and the cluster started here (None for an address).

    Raises
    ------
    InputError
        An address Dask cannot use.
    ClusterError
        A scheduler that cannot be reached (a cluster started here is closed).
    """
    cluster = None
    try:
        if kind == "local":
            cluster = cluster_class(
                n_workers=int(value),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=max(log_level, logging.WARNING),
            )
            return client_class(cluster), cluster
        try:
            return client_class(str(value), timeout="10s"), None
        except (TypeError, ValueError) as exc:  # e.g. tls:// without Dask's TLS settings
            msg = (
                f"--scheduler {scheduler}: Dask cannot use this address ({exc}). Give a "
                "scheduler address such as tcp://HOST:8786 (tls:// needs Dask's TLS "
                "settings, distributed.comm.tls)."
            )
            raise InputError(msg) from None
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        msg = (
            f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc}). Check that it "
            "runs (dask scheduler) and that this machine can reach its address and port, or "
            "use --scheduler local:N for a cluster on this machine."
        )
        raise ClusterError(msg) from None
