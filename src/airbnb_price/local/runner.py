"""Run the numbered notebooks with papermill into a fresh run folder.

A run folder `runs/<run-id>/` holds the executed notebooks, their artifacts, a no-code HTML
report per notebook, `index.html` linking them, and `run.json` (parameters, data checksum,
package versions, status and timing per notebook). Folders are created with `exist_ok=False`,
so a run can never overwrite an earlier one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import CaselessStrEnum, default

from airbnb_price.core import config, features, runfiles
from airbnb_price.core.files import write_json
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables
from airbnb_price.data.errors import SchemaError
from airbnb_price.data.listings import load_listings
from airbnb_price.data.sources import resolve_source
from airbnb_price.data.tables import RunData
from airbnb_price.local import reports, stopping
from airbnb_price.runs import runfolder
from airbnb_price.runs.provenance import package_versions
from airbnb_price.train import budget
from airbnb_price.train.progress import PREFIX

#: The numbered notebooks a full run executes, in order.
NOTEBOOKS = ("01_eda.ipynb", "02_features.ipynb", "03_automl.ipynb", "04_explain.ipynb",
             "05_deploy.ipynb")
#: Added to a run when a second snapshot is given (RunParams.compare_*).
DRIFT_NOTEBOOK = "06_drift.ipynb"


class IPCKernelManager(AsyncKernelManager):
    """Notebook kernels talk to papermill over local IPC sockets (in Jupyter's runtime
    folder), not TCP: nothing listens on a port, and ipykernel has no reason to warn that
    the kernel "is running over TCP without encryption" on every notebook."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        """The sockets' path prefix, absolute and private: jupyter_client's default is
        relative ("kernel-ipc"), so the kernel made its sockets in its working directory (the
        run folder) and they stayed there."""
        return str(Path(tempfile.mkdtemp(prefix="airbnb-price-kernel-")) / "kernel-ipc")

    async def start_kernel(self, **kwargs: object) -> None:
        """Start the kernel with its own process's stderr (ipykernel's log lines, not cell
        output: papermill captures that) appended to the run's logs.log, not the terminal.
        papermill starts kernels in the run folder it has changed into."""
        folder = Path(str(kwargs.get("cwd") or os.getcwd()))
        if (folder / runfiles.RUN).is_file() and "stderr" not in kwargs:
            self._stderr = open(folder / "logs.log", "ab")  # noqa: SIM115, ASYNC230
            kwargs["stderr"] = self._stderr
        await super().start_kernel(**kwargs)
        self._kernel_pid = getattr(self.provisioner, "pid", None)
        if self._kernel_pid:
            stopping.KERNELS.add(self._kernel_pid)  # so a stopped run can end it

    async def cleanup_resources(self, restart: bool = False) -> None:
        await super().cleanup_resources(restart=restart)
        stopping.KERNELS.discard(getattr(self, "_kernel_pid", None))
        if getattr(self, "_stderr", None) is not None:
            self._stderr.close()
        if not restart:
            shutil.rmtree(Path(self.ip).parent, ignore_errors=True)


class ProgressLines:
    """papermill's `stdout_file`: the kernel's output as it comes, of which the lines that
    start with `train.progress.PREFIX` (step, model, fold, time left) go to `progress`, so a
    long notebook 03 says where its time goes while it runs."""

    def __init__(self, notebook: str, progress: Callable[[str], None]) -> None:
        self.notebook, self.progress, self.pending = notebook, progress, ""

    def write(self, text: str) -> None:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if line.startswith(PREFIX):
                self.progress(f"{self.notebook} {line[len(PREFIX):]}")

    def flush(self) -> None:
        """Lines are forwarded whole, as they end."""


class RunFailed(RuntimeError):
    """A notebook raised; run.json and the message point at the failing cell."""


def notebooks_for(params: RunParams) -> tuple[str, ...]:
    """The notebooks a run of `params` executes (the drift notebook only with a second
    snapshot)."""
    return (*NOTEBOOKS, DRIFT_NOTEBOOK) if params.compares else NOTEBOOKS


def notebook_parameters(params: RunParams, declared: set[str], run_dir: Path,
                        deadline: float | None = None) -> dict:
    """The parameters a notebook declares, from the run's resolved parameters; its
    `time_budget` is what is left of the run's budget when it starts (`deadline`, epoch s)."""
    values = {k: v for k, v in params.as_dict().items() if v is not None}
    values["output_dir"] = str(run_dir)
    if deadline is not None:
        values["time_budget"] = max(1, round(deadline - time.time()))
    return {k: v for k, v in values.items() if k in declared}


def check_data(params: RunParams) -> RunData:
    """Resolve and validate the run's data before any notebook starts, so a bad file (a
    DataError) or a city too small to model (TooSmall) fails fast with no half-made run; the
    result's parameters have the file, snapshot, currency and price window filled in for
    every notebook."""
    run = tables.load_run(params)
    try:
        features.check_inputs(run.listings.frame, run.params.spec.feature_set)
    except ValueError as exc:
        raise SchemaError(f"{run.source.path} ({run.listings.layout} layout): {exc}") from exc
    budget.fold_count(len(tables.prepare_run(run).table), config.sizes(False)["folds"])
    if run.params.compares:
        other = resolve_source(run.params.compare_listings, run.params.city,
                               run.params.compare_snapshot, data_folder=run.params.data_folder,
                               env_var=config.COMPARE_LISTINGS_ENV)
        load_listings(other)
        run = replace(run, params=replace(run.params, compare_listings=str(other.path)))
    return run


def _failure(exc: Exception) -> dict:
    return {"cell_index": getattr(exc, "cell_index", None),
            "execution_count": getattr(exc, "exec_count", None),
            "ename": getattr(exc, "ename", type(exc).__name__),
            "evalue": getattr(exc, "evalue", str(exc))}


def execute(entry: dict, params: RunParams, run_dir: Path, notebooks_dir: Path,
            progress: Callable[[str], None], deadline: float | None = None) -> None:
    """Run one notebook into the run folder and render its report; `entry` (its line in
    run.json) gets status, seconds, report and any error; `progress` gets its progress line."""
    import papermill as pm

    name = entry["name"]
    executed = run_dir / name
    declared = set(pm.inspect_notebook(str(notebooks_dir / name)))
    started = time.perf_counter()
    try:
        pm.execute_notebook(str(notebooks_dir / name), str(executed),
                            parameters=notebook_parameters(params, declared, run_dir, deadline),
                            kernel_name=config.KERNEL_NAME, cwd=str(run_dir),
                            kernel_manager_class=f"{__name__}.IPCKernelManager",
                            progress_bar=sys.stderr.isatty(),  # papermill's cell bar, live
                            stdout_file=ProgressLines(Path(name).stem, progress))
        entry["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - kernel errors, dead kernels, timeouts alike
        entry["status"], entry["error"] = "failed", _failure(exc)
    entry["seconds"] = round(time.perf_counter() - started, 2)
    if executed.exists():
        report = reports.render_report(executed, run_dir / "reports" / f"{executed.stem}.html",
                                       run_dir / "logs.log")
        entry["report"] = report.relative_to(run_dir).as_posix()
    progress(progress_line(entry, run_dir))


def interrupted(record: dict, run_dir: Path, signal_name: str) -> None:
    """Mark a stopped run in run.json and its index page: the notebook that was running and
    its cell; notebooks not started stay "pending"."""
    for entry in record["notebooks"]:
        if entry["status"] == "running":
            entry["status"] = "interrupted"
            entry["error"] = {"ename": "interrupted", "evalue": f"stopped by {signal_name}",
                              **(stopping.running_cell(run_dir / entry["name"]) or {})}
    record |= {"status": "interrupted", "stopped_by": signal_name,
               "finished": dt.datetime.now(dt.UTC).isoformat()}
    write_json(run_dir / runfiles.RUN, record)
    reports.write_index(run_dir, record)


def budget_record(seconds: float | None, used: float, run_dir: Path) -> dict:
    """run.json's "budget": the limit, the time used, whether the run kept within 10% of it,
    and what training cut to stay inside (metrics.json's `budget_cuts`)."""
    metrics = Path(run_dir) / runfiles.METRICS
    cuts = json.loads(metrics.read_text()).get("budget_cuts", []) if metrics.is_file() else []
    within = None if seconds is None else used <= 1.1 * seconds
    return {"seconds": seconds, "used_s": round(used, 1), "within_10pct": within, "cuts": cuts}


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def headline(name: str, run_dir: Path) -> str:
    """What a finished notebook found, in one line, from what it wrote to the run folder."""
    folder = Path(run_dir)
    if name.startswith("02") and (folder / runfiles.FEATURES).is_file():
        record = json.loads((folder / runfiles.CLEANING).read_text())
        rows = record["rules"][-1]["rows_after"] if record.get("rules") else "?"
        return f"{rows:,} listings priced in {record['price_window']['currency']}"
    if name.startswith("03") and (folder / runfiles.METRICS).is_file():
        metrics = json.loads((folder / runfiles.METRICS).read_text())
        return (f"hold-out MAE {metrics['automl']['mae']:.2f} vs LightGBM "
                f"{metrics['baseline_lightgbm']['mae']:.2f} {metrics.get('currency', '')}".strip())
    if name.startswith("05") and (folder / runfiles.DEPLOY).is_file():
        deployed = json.loads((folder / runfiles.DEPLOY).read_text())
        item = (deployed.get("response") or {}).get("predictions", [{}])[0]
        return f"{deployed['mode']}: HTTP {deployed['status']}, price {item.get('price', '?')}"
    return ""


def progress_line(entry: dict, run_dir: Path) -> str:
    """One line per finished notebook: name, status, time and its headline (`make run`
    shows these as it goes)."""
    stem = Path(entry["name"]).stem
    if entry["status"] != "ok":
        error = entry.get("error", {})
        return f"{stem} FAILED after {_duration(entry['seconds'])}: {error.get('ename')}: " \
               f"{error.get('evalue')}"
    found = headline(entry["name"], run_dir)
    return f"{stem} ok {_duration(entry['seconds'])}" + (f": {found}" if found else "")


def _print(line: str) -> None:
    print(line, flush=True)


def run(params: RunParams, notebooks: tuple[str, ...] = NOTEBOOKS,
        runs_dir: Path | None = None, notebooks_dir: Path | None = None,
        progress: Callable[[str], None] = _print) -> Path:
    """Execute `notebooks` in order into a new run folder; return that folder. `progress` gets
    one line per finished notebook (the terminal by default; a fleet sends it to its client).

    Raises `RunFailed` when a notebook raises (the run folder and run.json stay, marked), and
    `stopping.RunInterrupted` on SIGINT or SIGTERM (kernels ended, run.json "interrupted"
    with the notebook and cell it stopped in).
    """
    with stopping.signals_stop_the_run():
        return _run(params, notebooks, runs_dir, notebooks_dir, progress)


def _run(params: RunParams, notebooks: tuple[str, ...], runs_dir: Path | None,
         notebooks_dir: Path | None, progress: Callable[[str], None]) -> Path:
    started = time.time()
    data = check_data(params)
    params = data.params
    seconds = params.budget_seconds
    deadline = None if seconds is None else started + seconds
    run_dir = runfolder.new_run_dir(runs_dir)
    (run_dir / "reports").mkdir()
    record = {
        "run_id": run_dir.name, "status": "running",
        "started": dt.datetime.now(dt.UTC).isoformat(),
        "parameters": params.as_dict(), "model": params.spec.name, **data.record(),
        "packages": package_versions(),
        "notebooks": [{"name": nb, "status": "pending"} for nb in notebooks],
    }
    write_json(run_dir / runfiles.RUN, record)
    try:
        for entry in record["notebooks"]:
            entry["status"] = "running"
            write_json(run_dir / runfiles.RUN, record)  # progress is visible while a run goes on
            execute(entry, params, run_dir, Path(notebooks_dir or config.NOTEBOOKS_DIR),
                    progress, deadline)
            write_json(run_dir / runfiles.RUN, record)
            if entry["status"] == "failed":
                break
    except stopping.RunInterrupted as exc:
        stopping.stop_kernels()
        interrupted(record, run_dir, exc.signal_name)
        exc.run_dir = run_dir
        raise
    failed = [e for e in record["notebooks"] if e["status"] == "failed"]
    record["status"] = "failed" if failed else "ok"
    record["finished"] = dt.datetime.now(dt.UTC).isoformat()
    record["budget"] = budget_record(seconds, time.time() - started, run_dir)
    write_json(run_dir / runfiles.RUN, record)
    reports.write_index(run_dir, record)
    if failed:
        err = failed[0]["error"]
        raise RunFailed(
            f"{failed[0]['name']} failed in cell {err['cell_index']} "
            f"(execution count {err['execution_count']}): {err['ename']}: {err['evalue']}\n"
            f"executed notebook: {run_dir / failed[0]['name']}; run record: {run_dir / 'run.json'}")
    return run_dir
