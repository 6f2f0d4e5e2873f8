"""Fleet runs: many cities' notebooks at once, one Dask task per city.

The client resolves each city's files as `airbnb-price run` would (flag, data folder,
environment, cache, download) and ships them to the task **as bytes**, laid out as a data
folder; the task runs the notebooks into a scratch folder on its worker and ships the whole
run folder back **as a tar archive**. Workers therefore need the project's environment (the
package and the `airbnb-price` kernel) but no filesystem shared with the client, so the same
command runs on the embedded LocalCluster, a `dask scheduler` + `dask worker` cluster, or
dask-kubernetes / dask-jobqueue workers.

A city that fails (a bad file, a notebook error) fails alone; a task whose worker dies is
rescheduled by Dask on another worker; an exception in the task itself is retried
(`config.FLEET_RETRIES`). The fleet folder `runs/<fleet-id>/` gets one run folder per city,
`fleet.json` and the stakeholder page `index.html`.
"""

from __future__ import annotations

import collections
import datetime as dt
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from airbnb_price.core import cities, config, features, geo, registry, runfiles, spec
from airbnb_price.core.files import write_json
from airbnb_price.core.params import RunParams
from airbnb_price.data.errors import DataError
from airbnb_price.data.sources import resolve_source
from airbnb_price.data.tables import maps_beside
from airbnb_price.local import cluster, fleet_page, runner
from airbnb_price.runs import runfolder
from airbnb_price.train.budget import TooSmall

#: A fleet retrains and compares; deploying is one step for the whole fleet afterwards
#: (`model publish --fleet`, then `deploy`), so notebook 05 is not run per city.
FLEET_NOTEBOOKS = runner.NOTEBOOKS[:4]
FLEET_SUFFIX = "-fleet"
RECORD = "fleet.json"
#: Errors that mean "this city's input is wrong": reported, not retried.
CITY_ERRORS = (DataError, runner.RunFailed, cities.CityError, spec.SpecError, TooSmall)


class FleetError(ValueError):
    """A fleet that cannot start (no cities, a malformed cities file, not a fleet folder)."""


@dataclass(frozen=True)
class FleetCity:
    """One line of a fleet: a city, optionally its snapshot and its own listings file."""

    city: str
    snapshot: str | None = None
    listings: str | None = None

    @classmethod
    def parse(cls, text: str, where: str = "--city") -> FleetCity:
        """`city`, `city@snapshot` or (in a cities file) `city [snapshot] [listings]`."""
        parts = text.replace("@", " ", 1).split()
        if not 1 <= len(parts) <= 3:
            raise FleetError(f"{where}: {text!r} is not `city [snapshot] [listings]`")
        return cls(*parts)


def read_cities(path: Path) -> list[FleetCity]:
    """A cities file: one `city [snapshot] [listings]` per line; `#` starts a comment."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise FleetError(f"cannot read cities file {path}: {exc}") from exc
    return [FleetCity.parse(line.split("#", 1)[0], f"{path} line {number}")
            for number, line in enumerate(lines, 1) if line.split("#", 1)[0].strip()]


@dataclass(frozen=True)
class Job:
    """What one city's task needs, by value: its files (data-folder path -> bytes) and the
    run's parameters."""

    label: str
    city: str
    snapshot: str
    feature_set: str
    smoke: bool
    notebooks: tuple[str, ...]
    files: dict[str, bytes] = field(repr=False)
    topic: str = "fleet"
    time_budget: str | None = None

    @property
    def size(self) -> int:
        """Bytes of listings (not of the map): what the fleet orders its tasks by, biggest
        (longest) first."""
        return sum(len(body) for name, body in self.files.items() if Path(name).name != geo.FILE)


def bundle(entry: FleetCity, label: str, feature_set: str, smoke: bool,
           notebooks: tuple[str, ...], data_folder: str | None, topic: str,
           time_budget: str | None = None) -> tuple[Job, dict]:
    """The task of one city and what the client knows of its source (path, origin); the
    listings file is found as `airbnb-price run` finds it, its map beside it."""
    params = RunParams(listings=entry.listings, city=entry.city, snapshot=entry.snapshot,
                       feature_set=feature_set, data_folder=data_folder).resolved()
    source = resolve_source(params.listings, params.city, params.snapshot,
                            data_folder=params.data_folder, file=params.spec.source)
    snapshot = source.snapshot or "unknown"
    files = {f"{params.city}/{snapshot}/{params.spec.source.name}": source.path.read_bytes()}
    found = next((p for p in maps_beside(data_folder, params.city, source.path) if p.is_file()),
                 None)
    if found:
        files[f"{params.city}/{geo.FILE}"] = found.read_bytes()
    job = Job(label, params.city, snapshot, params.feature_set, smoke, notebooks, files, topic,
              time_budget)
    return job, {"source": str(source.path), "origin": source.origin}


def _tar(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=".")
    return buffer.getvalue()


def run_city(job: Job) -> dict:
    """One city's notebooks on a Dask worker, in a scratch folder deleted afterwards: the
    outcome, the worker and the run folder as a tar archive (None when the run never
    started). Progress lines go to the client as Dask events on `job.topic`."""
    from distributed import get_worker

    worker = get_worker()

    def progress(line: str) -> None:
        worker.log_event(job.topic, {"label": job.label, "line": line})

    progress(f"started on {worker.address}")
    os.environ[config.THREADS_ENV] = str(worker.state.nthreads)  # its kernels' fits too
    scratch = Path(tempfile.mkdtemp(prefix=f"fleet-{job.label}-", dir=worker.local_directory))
    started = time.perf_counter()
    try:
        for name, body in job.files.items():
            (scratch / "data" / name).parent.mkdir(parents=True, exist_ok=True)
            (scratch / "data" / name).write_bytes(body)
        params = RunParams(city=job.city, snapshot=job.snapshot, feature_set=job.feature_set,
                           data_folder=str(scratch / "data"), smoke=job.smoke,
                           time_budget=job.time_budget)
        status, error = "ok", None
        try:
            runner.run(params, job.notebooks, runs_dir=scratch / "runs", progress=progress)
        except CITY_ERRORS as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        run_dirs = sorted((scratch / "runs").glob(f"*/{runfiles.RUN}")) if (
            scratch / "runs").is_dir() else []
        return {"label": job.label, "status": status, "error": error, "worker": worker.address,
                "seconds": round(time.perf_counter() - started, 1),
                "run": _tar(run_dirs[0].parent) if run_dirs else None}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _labels(entries: list[FleetCity]) -> list[str]:
    """Each city's folder name in the fleet: its slug, with the snapshot when a city appears
    more than once."""
    counts = collections.Counter(e.city for e in entries)
    labels = [e.city if counts[e.city] == 1 else f"{e.city}-{e.snapshot or 'default'}"
              for e in entries]
    if len(set(labels)) != len(labels):
        raise FleetError(f"a city appears twice with the same snapshot: {', '.join(labels)}")
    return labels


def _unpack(archive: bytes, dest: Path) -> None:
    dest.mkdir(exist_ok=False)  # a fleet folder is new: nothing is overwritten
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")


def city_row(fleet_dir: Path, label: str, outcome: dict) -> dict:
    """fleet.json's row of one city: outcome, data, the hold-out scores of the AutoML model,
    the plain LightGBM and the naive median, from the run folder the task shipped back."""
    row = {"label": label, **{k: outcome.get(k) for k in (
        "city", "status", "error", "source", "origin", "seconds", "attempts")}}
    folder = fleet_dir / label
    if not (folder / runfiles.RUN).is_file():
        return row | {"report": None}
    run = json.loads((folder / runfiles.RUN).read_text())
    row |= {"snapshot": (run.get("data") or {}).get("snapshot"), "run_id": run["run_id"],
            "feature_set": run["parameters"]["feature_set"],
            "sha256": (run.get("data") or {}).get("sha256"), "report": f"{label}/index.html",
            "currency": (run.get("price_window") or {}).get("currency")}
    if (folder / runfiles.FEATURES).is_file():
        prices = pd.read_parquet(folder / runfiles.FEATURES, columns=[config.TARGET])
        row |= {"listings": len(prices),
                "median_price": round(float(prices[config.TARGET].median()), 2)}
    if (folder / runfiles.METRICS).is_file():
        metrics = json.loads((folder / runfiles.METRICS).read_text())
        row["holdout"] = {name: metrics[key] for name, key in (
            ("automl", "automl"), ("lightgbm", "baseline_lightgbm"),
            ("naive", "naive_median")) if key in metrics}
        row["range"] = metrics.get("range")
        row["model"] = f"{label}/{runfiles.MODEL_DIR}" if (
            folder / runfiles.MODEL_DIR / registry.METADATA).is_file() else None
    return row


def _attempts(client, topic: str) -> dict[str, list[str]]:
    """The workers each city's task started on (more than one: it was retried)."""
    found: dict[str, list[str]] = {}
    for _, event in client.get_events(topic):
        if str(event.get("line", "")).startswith("started on"):
            found.setdefault(event["label"], []).append(event.get("worker"))
    return found


def run_fleet(entries: list[FleetCity], feature_set: str | None = None, smoke: bool = False,
              notebooks: tuple[str, ...] = FLEET_NOTEBOOKS, scheduler: str | None = None,
              runs_dir: Path | None = None, data_folder: str | None = None,
              retries: int = config.FLEET_RETRIES, time_budget: str | None = None,
              say: Callable[[str], None] = print) -> tuple[Path, dict]:
    """Run every city's notebooks on the cluster, each within `time_budget`, the biggest
    city first (so it does not start last and hold up the fleet); the fleet folder and its
    record. Never raises for one city's failure: its row says what happened."""
    from distributed import as_completed

    if not entries:
        raise FleetError("no cities: pass --city (repeatable) or --cities FILE")
    labels = _labels(entries)
    fleet_dir = runfolder.new_run_dir(runs_dir, FLEET_SUFFIX)
    topic = f"fleet-{fleet_dir.name}"
    chosen = features.by_name(feature_set or features.SUMMARY.name).name
    record = {"fleet_id": fleet_dir.name, "status": "running",
              "started": dt.datetime.now(dt.UTC).isoformat(), "feature_set": chosen,
              "smoke": smoke, "notebooks": list(notebooks), "time_budget": time_budget,
              "cities": []}
    outcomes: dict[str, dict] = {label: {"city": e.city} for label, e in zip(labels, entries)}
    with cluster.connect(scheduler) as client:
        record["cluster"] = cluster.describe(client)
        say(record["cluster"])
        client.subscribe_topic(topic, lambda event: say(f"[{event[1]['label']}] "
                                                        f"{event[1]['line']}"))
        jobs = []
        for label, entry in zip(labels, entries, strict=True):
            try:
                job, known = bundle(entry, label, chosen, smoke, notebooks, data_folder, topic,
                                    time_budget)
            except CITY_ERRORS as exc:
                outcomes[label] |= {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                say(f"[{label}] FAILED before starting: {exc}")
                continue
            outcomes[label] |= known
            jobs.append(job)
        futures = {}
        jobs.sort(key=lambda j: j.size, reverse=True)  # longest first
        record["order"] = [job.label for job in jobs]
        for job in jobs:
            futures[client.submit(run_city, job, key=f"{topic}-{job.label}", retries=retries,
                                  pure=False, priority=job.size)] = job.label
        for future, result in as_completed(futures, with_results=True, raise_errors=False):
            label = futures[future]
            if isinstance(result, BaseException):
                result = {"status": "failed", "error": f"{type(result).__name__}: {result}"}
            if result.get("run"):
                _unpack(result.pop("run"), fleet_dir / label)
            outcomes[label] |= result
            say(f"[{label}] {result['status']}" + (f": {result['error']}"
                                                   if result.get("error") else ""))
        for label, workers in _attempts(client, topic).items():
            outcomes[label]["attempts"] = workers
    record["cities"] = [city_row(fleet_dir, label, outcomes[label]) for label in labels]
    failed = [row["label"] for row in record["cities"] if row["status"] != "ok"]
    record["status"] = "ok" if not failed else f"{len(failed)} of {len(labels)} failed"
    record["finished"] = dt.datetime.now(dt.UTC).isoformat()
    write_json(fleet_dir / RECORD, record)
    fleet_page.write_fleet_index(fleet_dir, record)
    return fleet_dir, record


def publish_fleet(fleet_dir: Path, store: registry.Store) -> list[tuple[str, str]]:
    """Publish every successful city's model of a fleet (each publish atomic, as `model
    publish`); the (name, version) published. Cities that failed are skipped."""
    path = Path(fleet_dir) / RECORD
    if not path.is_file():
        raise FleetError(f"{fleet_dir} is not a fleet folder (no {RECORD})")
    published = []
    for row in json.loads(path.read_text())["cities"]:
        if row["status"] == "ok" and row.get("model"):
            model_dir = Path(fleet_dir) / row["model"]
            name = spec.of_metadata(registry.run_metadata(model_dir)).name
            published.append((name, registry.publish(store, model_dir, name)))
    return published


def terminal_report(record: dict) -> str:
    """The fleet in a few lines for the terminal: one per city."""
    lines = [f"fleet {record['fleet_id']}: {record['status']}"]
    for row in record["cities"]:
        scores = row.get("holdout") or {}
        mae = " vs ".join(f"{name} {scores[name]['mae']:.2f}" for name in
                          ("automl", "lightgbm", "naive") if name in scores)
        lines.append(f"  {row['label']:<20} {row['status']:<7} "
                     + (f"hold-out MAE {mae} {row.get('currency') or ''}" if mae else
                        row.get("error") or ""))
    return "\n".join(lines)

