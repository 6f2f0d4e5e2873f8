"""Where fleet runs and batch pricing execute: an existing Dask cluster by its scheduler's
address (`--scheduler`, else $DASK_SCHEDULER_ADDRESS), or an embedded LocalCluster.

The LocalCluster has one single-threaded worker process per core: every fit in a run uses
n_jobs=1, so one city per core keeps the machine busy without oversubscribing it, and worker
processes (not threads) keep notebook kernels and the GIL out of each other's way.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from airbnb_price.core import config, settings


def cores() -> int:
    """The cores this process may use (a container's or a job's share, not the host's)."""
    return len(os.sched_getaffinity(0))


def address(scheduler: str | None) -> str | None:
    """The scheduler to use: the one given, else $DASK_SCHEDULER_ADDRESS, else None (an
    embedded LocalCluster)."""
    return scheduler or settings.local().scheduler


@contextlib.contextmanager
def connect(scheduler: str | None = None, n_workers: int | None = None) -> Iterator:
    """A Dask `Client` on the given cluster or on a LocalCluster of `n_workers` (default:
    one per core) that lives as long as the block."""
    from distributed import Client, LocalCluster

    chosen = address(scheduler)
    if chosen:
        with Client(chosen, timeout="30s") as client:
            yield client
        return
    with LocalCluster(n_workers=n_workers or cores(), threads_per_worker=1, processes=True,
                      dashboard_address=config.DASHBOARD_ADDRESS,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def identity(client) -> dict:
    """The scheduler's record of itself and of every worker, fetched now. Not
    `Client.scheduler_info`: it returns the client's cached record, which the client's
    periodic refresh (workers left out) may replace between the fetch and the return (seen
    as a worker missing from it in CI)."""
    return client.sync(client.scheduler.identity, n_workers=-1)


def describe(client) -> str:
    """One line naming the cluster, its workers and the dashboard link."""
    info = identity(client)
    threads = sum(w["nthreads"] for w in info["workers"].values())
    link = client.dashboard_link if info.get("services", {}).get("dashboard") \
        else "none (the scheduler runs no dashboard)"
    return (f"Dask scheduler {client.scheduler.address}: {len(info['workers'])} workers, "
            f"{threads} threads; dashboard {link}")
