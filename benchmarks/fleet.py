"""Fleet runs and batch pricing on Dask, against their one-process baselines, in one run.

1. Smoke fleet over every shared city (notebooks 01-04): wall time serial (`runner.run` of
   one city after another, as `airbnb-price run` would) vs `fleet.run_fleet` on the embedded
   LocalCluster. Target: >= 1.5x faster on a 2-core machine.
2. Batch pricing with the fleet's models: files made by repeating the shared cities' summary
   listings (at least 1 million rows), priced in one process (`batch.price_block` over the
   blocks, no Dask) vs `batch.price_files` on the LocalCluster; listings per second per core,
   and the peak resident memory of the client and of each worker, at two input sizes.
   Targets: >= 50,000 listings per second per core; peak memory that does not grow with the
   input size.

Usage: python benchmarks/fleet.py [--rows 1000000] [--data-folder ../shared/data]
Writes results/fleet.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from common import rss_mb, write

from airbnb_price.core import config, registry
from airbnb_price.core.params import RunParams
from airbnb_price.data.listings import read_listings
from airbnb_price.local import batch, cluster, fleet, runner

CITIES = ("amsterdam", "victoria", "valencia", "albany")
TARGET_SPEEDUP, TARGET_PER_CORE = 1.5, 50_000


def peak_rss_while(work: Callable[[], object]) -> tuple[object, float, float]:
    """Run `work`, sampling this process's resident memory every 50 ms: its result, the
    seconds it took and the peak (MB)."""
    peak, done = [rss_mb()], threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    return result, seconds, round(max(peak[0], rss_mb()), 1)


def fleet_times(data_folder: str, work: Path) -> tuple[dict, Path]:
    """Serial vs LocalCluster wall time of the smoke fleet; the fleet folder (its models)."""
    started = time.perf_counter()
    for city in CITIES:
        runner.run(RunParams(city=city, data_folder=data_folder, smoke=True),
                   fleet.FLEET_NOTEBOOKS, runs_dir=work / "serial", progress=lambda _: None)
    serial = time.perf_counter() - started
    started = time.perf_counter()
    fleet_dir, record = fleet.run_fleet([fleet.FleetCity(c) for c in CITIES], smoke=True,
                                        runs_dir=work / "fleet", data_folder=data_folder,
                                        say=lambda _: None)
    parallel = time.perf_counter() - started
    assert record["status"] == "ok", record
    return {"cities": list(CITIES), "notebooks": list(fleet.FLEET_NOTEBOOKS),
            "serial_s": round(serial, 1), "local_cluster_s": round(parallel, 1),
            "speedup": round(serial / parallel, 2), "cores": cluster.cores(),
            "target_speedup": TARGET_SPEEDUP,
            "target_met": serial / parallel >= TARGET_SPEEDUP}, fleet_dir


def repeated_files(data_folder: Path, rows: int, dest: Path) -> list[str]:
    """`<dest>/<city>/<snapshot>/listings.csv` per shared city, its rows repeated until the
    files hold `rows` listings in all (each city about a quarter)."""
    made = []
    for city in CITIES:
        (source,) = sorted((data_folder / city).glob("*/listings.csv"))[-1:]
        header, *lines = source.read_bytes().splitlines(keepends=True)
        body = b"".join(lines)
        records = len(read_listings(source))
        path = dest / city / source.parent.name / "listings.csv"
        path.parent.mkdir(parents=True)
        with path.open("wb") as out:
            out.write(header)
            for _ in range(max(1, round(rows / len(CITIES) / records))):
                out.write(body)
        made.append(str(path))
    return made


def measure(mode: str, store: str, files: list[str]) -> dict:
    """One batch measurement in this (fresh) process: `serial` prices every block here with
    no Dask; `cluster` runs `batch.price_files` on a new LocalCluster. Rows, seconds, peak
    resident memory of this process and (cluster) of each worker."""
    if mode == "serial":
        blocks = batch.blocks(files)
        rows, seconds, peak = peak_rss_while(
            lambda: sum(len(batch.price_block(block, store)) for block in blocks))
        return {"rows": rows, "partitions": len(blocks), "s": round(seconds, 1),
                "listings_per_s": round(rows / seconds), "peak_mb": peak}
    out = Path(tempfile.mkdtemp()) / "priced.parquet"
    with cluster.connect() as client:  # kept open after the batch for the workers' peaks
        address = client.scheduler.address
        counts, seconds, peak = peak_rss_while(
            lambda: batch.price_files(files, out, store, scheduler=address))
        workers = sorted(client.run(lambda: round(resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024, 1)).values())
    return {"rows": counts["rows"], "priced": counts["priced"], "s": round(seconds, 1),
            "listings_per_s": round(counts["rows"] / seconds),
            "per_core": round(counts["rows"] / seconds / cluster.cores()),
            "client_peak_mb": peak, "worker_peak_mb": workers}


def batch_figures(files: list[str], store: str) -> dict:
    """The one-process baseline and the LocalCluster on one input, each measured in a fresh
    process, so neither's memory is counted in the other's peak."""
    found = {}
    for mode in ("serial", "cluster"):
        done = subprocess.run([sys.executable, __file__, "--measure", mode, "--store", store,
                               *files], capture_output=True, text=True, check=True)
        found[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"rows": found["serial"]["rows"], "partitions": found["serial"]["partitions"],
            "priced": found["cluster"]["priced"], "one_process": found["serial"],
            "local_cluster": found["cluster"],
            "speedup": round(found["serial"]["s"] / found["cluster"]["s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data-folder", type=Path,
                        default=config.PROJECT_ROOT.parent / "shared" / "data")
    parser.add_argument("--measure", choices=("serial", "cluster"), help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # one measurement, in its own process (batch_figures)
        print(json.dumps(measure(args.measure, args.store, args.files)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        fleet_result, fleet_dir = fleet_times(str(args.data_folder), work)
        print(f"fleet: serial {fleet_result['serial_s']} s, LocalCluster "
              f"{fleet_result['local_cluster_s']} s: {fleet_result['speedup']}x", flush=True)
        store = str(work / "store")
        fleet.publish_fleet(fleet_dir, registry.open_store(store))
        sizes = {}
        for rows in (args.rows, 2 * args.rows):
            files = repeated_files(args.data_folder, rows, work / f"input-{rows}")
            sizes[str(rows)] = batch_figures(files, store)
            print(f"batch {rows:,}: {sizes[str(rows)]}", flush=True)
    small, large = sizes[str(args.rows)], sizes[str(2 * args.rows)]
    grows = large["local_cluster"]["client_peak_mb"] / small["local_cluster"]["client_peak_mb"]
    worker_grows = max(large["local_cluster"]["worker_peak_mb"]) / max(
        small["local_cluster"]["worker_peak_mb"])
    write("fleet", {
        "fleet": fleet_result,
        "batch": sizes,
        "batch_targets": {
            "per_core": TARGET_PER_CORE,
            "per_core_met": small["local_cluster"]["per_core"] >= TARGET_PER_CORE,
            "client_peak_ratio_2x_input": round(grows, 2),
            "worker_peak_ratio_2x_input": round(worker_grows, 2),
            "memory_bounded": grows < 1.25 and worker_grows < 1.25}})


if __name__ == "__main__":
    main()
