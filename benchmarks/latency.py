"""Latency of the prediction endpoint: warm handler in process, cold start in fresh processes.

Usage: python benchmarks/latency.py [--calls 1000] [--cold-runs 10]    (make bench runs it)

- warm: API Gateway v2 event in -> response out, through the real handler, model on moto S3;
  one listing and a batch of 100, p50/p99 over --calls calls (logging on, as in Lambda); one
  detailed listing when a run has a detailed model.
- cold: a fresh process in the serving environment (.venv-serving, built like the image):
  imports + model load from S3 + the first answer, p50 over --cold-runs processes. The
  credentials are in the environment, as Lambda gives them, so the store reads with a signed
  GET from the standard library (core/s3get.py).
- baselines, same run: the same cold start with the credentials in a profile instead, so the
  store reads through boto3 (import + client: every read before core/s3get.py); the same in
  a process that unpickles the PyCaret pipeline instead
  (import pycaret + load model.pkl + one pipeline.predict), and in one that loads the serving
  artifact as it was before the compiled engine (scikit-learn and LightGBM objects: import
  both + joblib.load + one predict).
- the compiled artifact alone (compiler.measure): load time, one-listing predict time, size.
- floors, same run: the share of a cold start spent importing the handler module (numpy,
  pydantic, powertools, the engine; before any model); the share of a warm call
  spent in the engine (`listings` + `answer` for the one listing, in process, no HTTP),
  without the neighbourhood map and with it (as the endpoint serves a model that has one); a
  warm call through the same powertools stack around a route that answers a constant, and
  around a route that runs the engine first.
Writes results/latency.json (warm_p50_ms, warm_p99_ms, batch100_p50_ms, cold_start_p50_s, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
from common import SERVING_PYTHON, newest_model_dir, percentiles_ms, served_model, write

from airbnb_price.core import config, geo, registry, spec
from airbnb_price.ops import httpapi
from airbnb_price.runs import runfolder
from airbnb_price.serve import artifact, engine
from airbnb_price.train import compiler

COLD_PROBE = """
import time; started = time.perf_counter()
import json, sys
from pathlib import Path
from airbnb_price.ops import httpapi
handler = httpapi.load_handler(task_root=Path(sys.argv[2]), environment={})
print("IMPORTED", time.perf_counter() - started, file=sys.stderr)
event = httpapi.to_event("POST", "/predict", {"content-type": "application/json"}, sys.argv[1].encode())
response = handler(event, httpapi.LambdaContext())
assert response["statusCode"] == 200, response
print("COLD", time.perf_counter() - started, file=sys.stderr)
"""

PYCARET_PROBE = """
import time; started = time.perf_counter()
import sys, joblib, pandas as pd
import pycaret.regression  # what unpickling the pipeline needs
from airbnb_price.core import cities, features
pipeline = joblib.load(sys.argv[1])
row = features.feature_table(pd.DataFrame([__import__("json").loads(sys.argv[2])]), target=None,
                             centre=cities.lookup("amsterdam").centre)
pipeline.predict(row)
print("COLD", time.perf_counter() - started, file=sys.stderr)
"""


LEAN_PROBE = """
import time; started = time.perf_counter()
import sys, joblib, json
import sklearn, lightgbm  # what the artifact before the compiled engine unpickles
from airbnb_price.core import cities, features
lean = joblib.load(sys.argv[1])
row = features.add_features({k: [v] for k, v in json.loads(sys.argv[2]).items()},
                            cities.lookup("amsterdam").centre)
lean.predict(row)
print("COLD", time.perf_counter() - started, file=sys.stderr)
"""


def lean_artifact(model_dir: Path, path: Path) -> None:
    """The serving artifact as it was before the compiled engine, for the baseline."""
    import joblib
    import pandas as pd

    pipeline = joblib.load(model_dir / registry.PIPELINE)
    table = pd.read_parquet(model_dir.parent / "features.parquet").drop(columns=config.TARGET)
    joblib.dump(compiler.trace_pipeline(pipeline, table), path)


def repeated_calls(call, calls: int) -> dict:
    """p50/p99 of `calls` calls, after one that warms up (loads the model)."""
    call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return percentiles_ms(times)


def interleaved(calls: dict[str, Callable[[], object]], count: int,
                rounds: int = 20) -> dict[str, dict]:
    """p50/p99 of `count` calls of each, taken in `rounds` turns (count / rounds calls of
    one, then of the next, ...) after one warm-up call each: every figure sees the same
    moments of a machine whose speed drifts within a run, so the floors and the whole can be
    set side by side."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(max(1, count // rounds)):
                started = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - started)
    return {name: percentiles_ms(seconds) for name, seconds in times.items()}


def warm_call(handler, target: str, body: bytes) -> Callable[[], None]:
    """One API Gateway request through `handler`, checked to answer 200."""
    event = httpapi.to_event("POST", target, {"content-type": "application/json"}, body)

    def call() -> None:
        response = handler(event, httpapi.LambdaContext())
        assert response["statusCode"] == 200, response
    return call


def warm(handler, target: str, body: bytes, calls: int) -> dict:
    return repeated_calls(warm_call(handler, target, body), calls)


def cold(python: Path, probe: str, args: list[str], runs: int,
         env: dict[str, str] | None = None) -> dict[str, list[float]]:
    """Seconds per fresh process: to the first answer ("COLD"), and to the handler imported
    ("IMPORTED", for the probes that print it)."""
    seconds: dict[str, list[float]] = {"COLD": [], "IMPORTED": []}
    for _ in range(runs):
        done = subprocess.run([str(python), "-c", probe, *args], capture_output=True, text=True,
                              timeout=300, check=True,
                              env=env or os.environ | httpapi.function_environment())
        for line in done.stderr.splitlines():
            marker, _, value = line.partition(" ")
            if marker in seconds:
                seconds[marker].append(float(value))
    return seconds


def boto3_reads(folder: Path) -> dict[str, str]:
    """The function's environment with its credentials in a shared credentials file instead
    (a profile): the store then reads through boto3, as every read did before core/s3get.py."""
    env = os.environ | httpapi.function_environment()
    keys = {k: env.pop(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    (folder / "credentials").write_text("[default]\n" + "".join(
        f"{k.lower()} = {v}\n" for k, v in keys.items()))
    return env | {"AWS_SHARED_CREDENTIALS_FILE": str(folder / "credentials")}


def powertools_floor(work: Callable[[], object] = lambda: None
                     ) -> Callable[[dict, object], dict]:
    """A handler through the endpoint's own powertools stack (HTTP API resolver, Logger with
    the Lambda context and correlation id, Metrics flushed per call, one log line and one
    metric) around a route that only reads the JSON body, calls `work` and answers a constant:
    with no work, what the framework costs before any pricing; with the engine as the work,
    what the framework and the engine cost in one request, without the handler's own code."""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.metrics import MetricUnit

    logger, metrics, app = Logger(service="floor"), Metrics(namespace="floor"), \
        APIGatewayHttpResolver()

    @app.post("/predict")
    def route() -> Response:
        items = app.current_event.json_body
        work()
        metrics.add_metric(name="Listings", unit=MetricUnit.Count, value=1)
        logger.info("predicted", extra={"listings": 1, "model": "floor"})
        return Response(200, "application/json", {"price": 1.0, "items": len(items)})

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics
    def handler(event: dict, context: object) -> dict:
        return app.resolve(event, context)
    return handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--cold-runs", type=int, default=10)
    args = parser.parse_args()
    one = json.dumps(spec.get().example()).encode()
    batch = json.dumps([spec.get().example()] * 100).encode()
    python = SERVING_PYTHON if SERVING_PYTHON.exists() else Path(sys.executable)
    has_detailed = spec.get(feature_set="detailed").name in runfolder.newest_model_dirs()
    model, items = spec.get(), [spec.get().example()]
    loaded = registry.LoadedModel("run", artifact.load(newest_model_dir()),
                                  registry.run_metadata(newest_model_dir()))
    served = engine.ServedModel.build(loaded, model, None)
    map_file = newest_model_dir() / geo.FILE  # the endpoint places every listing on it
    mapped = engine.ServedModel.build(loaded, model, geo.load_map(
        map_file.read_bytes(), str(map_file))) if map_file.exists() else served
    with served_model() as store:
        os.environ[config.MODEL_STORE_ENV] = store
        with open(os.devnull, "w") as sink, redirect_stdout(sink):  # the handler's log lines
            handler = httpapi.load_handler()
            one_listing = interleaved({
                "handler": warm_call(handler, "/predict", one),
                "powertools": warm_call(powertools_floor(), "/predict", one),
                "engine": lambda: served.answer(served.listings(items)),
                "engine_with_map": lambda: mapped.answer(mapped.listings(items)),
                "powertools_with_engine": warm_call(powertools_floor(
                    lambda: mapped.answer(mapped.listings(items))), "/predict", one)},
                args.calls)
            single = one_listing["handler"]
            hundred = warm(handler, "/predict", batch, max(50, args.calls // 10))
            explained = warm(handler, "/predict?explain=true", one, max(50, args.calls // 4))
            detailed = warm(handler, "/predict", json.dumps(spec.get(feature_set="detailed").example())
                            .encode(), args.calls) if has_detailed else None
        engine_cold = cold(python, COLD_PROBE, [one.decode(), str(config.LAMBDA_DIR)], args.cold_runs)
        with tempfile.TemporaryDirectory() as folder:
            boto3_cold = cold(python, COLD_PROBE, [one.decode(), str(config.LAMBDA_DIR)],
                              args.cold_runs, boto3_reads(Path(folder)))["COLD"]
    engine_cold, imported = engine_cold["COLD"], engine_cold["IMPORTED"]
    pycaret_cold = cold(Path(sys.executable), PYCARET_PROBE,
                        [str(newest_model_dir() / "model.pkl"), one.decode()], 3)["COLD"]
    lean_path = newest_model_dir().parent / "lean-baseline.pkl"
    lean_artifact(newest_model_dir(), lean_path)
    lean_cold = cold(Path(sys.executable), LEAN_PROBE, [str(lean_path), one.decode()], 5)["COLD"]
    lean_path.unlink()
    row = served.features(served.listings(items))
    compiled = compiler.measure(newest_model_dir() / registry.COMPILED, row, repeats=1000)
    result = {
        "compiled_artifact": compiled,
        "warm_p50_ms": single["p50_ms"], "warm_p99_ms": single["p99_ms"],
        "batch100_p50_ms": hundred["p50_ms"], "batch100_p99_ms": hundred["p99_ms"],
        "batch100_per_listing_ms": round(hundred["p50_ms"] / 100, 3),
        "explain_p50_ms": explained["p50_ms"], "explain_p99_ms": explained["p99_ms"],
        # the detailed model, one listing with amenities and a description (when a run has one)
        "detailed_warm_p50_ms": detailed and detailed["p50_ms"],
        "detailed_warm_p99_ms": detailed and detailed["p99_ms"],
        # taken in turns with the handler's (`interleaved`): the engine without the map and
        # with it (as the endpoint serves this model), powertools around a constant route
        "engine_only_p50_ms": one_listing["engine"]["p50_ms"],
        "engine_with_map_p50_ms": one_listing["engine_with_map"]["p50_ms"],
        "warm_p50_outside_engine_ms": round(
            single["p50_ms"] - one_listing["engine_with_map"]["p50_ms"], 3),
        "powertools_floor_p50_ms": one_listing["powertools"]["p50_ms"],
        # the same stack with the engine inside its route: the handler's own code is the
        # rest, and the engine inside a request costs more than in a loop of its own
        "powertools_with_engine_p50_ms": one_listing["powertools_with_engine"]["p50_ms"],
        "cold_start_p50_s": round(float(np.median(engine_cold)), 3),
        "cold_start_runs_s": [round(s, 3) for s in engine_cold],
        "cold_start_import_p50_s": round(float(np.median(imported)), 3),
        "baseline_boto3_reads_cold_start_p50_s": round(float(np.median(boto3_cold)), 3),
        "baseline_lean_artifact_cold_start_p50_s": round(float(np.median(lean_cold)), 3),
        "cold_start_python": str(python.relative_to(config.PROJECT_ROOT)
                                 if python.is_relative_to(config.PROJECT_ROOT) else python),
        "baseline_pycaret_cold_start_p50_s": round(float(np.median(pycaret_cold)), 3),
        "cold_start_speedup_vs_pycaret": round(float(np.median(pycaret_cold)
                                                     / np.median(engine_cold)), 2),
        "calls": {"single": single["n"], "batch100": hundred["n"], "explain": explained["n"]},
        "targets": {"warm_p50_ms": 0.3, "cold_start_p50_s": 0.35},
    }
    write("latency", result)


if __name__ == "__main__":
    main()
