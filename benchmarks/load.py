"""A bounded load run against the local endpoint over HTTP on 127.0.0.1 (`make serve`'s stack:
HTTP API stand-in -> the real handler -> model from moto S3).

Usage: python benchmarks/load.py [--requests 5000] [--concurrency 8]
Writes results/load.json (requests, errors, p50_ms, p99_ms, throughput_rps).
One handler instance answers one request at a time, as one Lambda container does; the figure is
what a single warm container sustains, client and server sharing this machine's 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from urllib.parse import urlsplit

from common import percentiles_ms, served_model, write

from airbnb_price.core import spec
from airbnb_price.ops import httpapi


def client(base_url: str, count: int, body: bytes) -> tuple[list[float], int]:
    """One keep-alive connection sending `count` requests; (latencies, non-200 answers)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    times, errors = [], 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            connection.request("POST", "/predict", body, {"content-type": "application/json"})
            response = connection.getresponse()
            response.read()
            errors += response.status != 200
        except OSError:
            errors += 1
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        times.append(time.perf_counter() - started)
    connection.close()
    return times, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    body = json.dumps(spec.get().example()).encode()
    share = args.requests // args.concurrency
    with (open(os.devnull, "w") as sink, redirect_stdout(sink),  # the handler's log lines
          served_model() as store, httpapi.local_endpoint(store) as url):
        client(url, 5, body)  # warm up: the first request loads the model
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(lambda _: client(url, share, body), range(args.concurrency)))
        elapsed = time.perf_counter() - started
    times = [t for result in results for t in result[0]]
    stats = percentiles_ms(times)
    write("load", {"requests": len(times), "errors": sum(r[1] for r in results),
                   "concurrency": args.concurrency, "p50_ms": stats["p50_ms"],
                   "p99_ms": stats["p99_ms"], "seconds": round(elapsed, 2),
                   "throughput_rps": round(len(times) / elapsed, 1)})


if __name__ == "__main__":
    main()
