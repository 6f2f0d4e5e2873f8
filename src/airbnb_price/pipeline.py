"""Run the numbered notebooks with papermill into a fresh run folder and render reports.

A run folder `runs/<run-id>/` holds the executed notebooks, their artifacts, a no-code HTML
report per notebook, `index.html` linking them, and `run.json` (parameters, data checksum,
package versions, status and timing per notebook). Folders are created with `exist_ok=False`,
so a run can never overwrite an earlier one.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import platform
import secrets
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from airbnb_price import config

#: The numbered notebooks a full run executes, in order.
NOTEBOOKS = ("01_eda.ipynb", "02_features.ipynb", "03_automl.ipynb", "04_explain.ipynb",
             "05_deploy.ipynb")
#: Added to a run when a second snapshot is given (RunParams.compare_*).
DRIFT_NOTEBOOK = "06_drift.ipynb"

#: Packages whose versions every run and every published model records.
TRACKED_PACKAGES = (
    "airbnb-price", "pycaret", "pandas", "numpy", "scikit-learn", "scipy", "lightgbm", "shap",
    "ydata-profiling", "papermill", "joblib",
)


class RunFailed(RuntimeError):
    """A notebook raised; run.json and the message point at the failing cell."""


@dataclass
class RunParams:
    """Parameters shared by the notebooks; each notebook receives those it declares."""

    listings: str | None = None
    city: str = config.DEFAULT_CITY
    snapshot: str | None = None  # None: the feature set's default snapshot
    feature_set: str = "summary"
    smoke: bool = False
    min_price: float = config.MIN_PRICE
    max_price: float = config.MAX_PRICE
    compare_listings: str | None = None
    compare_snapshot: str | None = None

    @property
    def compares(self) -> bool:
        """A second snapshot was asked for, so the run includes the drift notebook."""
        return bool(self.compare_listings or self.compare_snapshot)

    def notebooks(self) -> tuple[str, ...]:
        return (*NOTEBOOKS, DRIFT_NOTEBOOK) if self.compares else NOTEBOOKS

    def for_notebook(self, declared: set[str], run_dir: Path) -> dict:
        values = {k: v for k, v in asdict(self).items() if v is not None}
        values["output_dir"] = str(run_dir)
        return {k: v for k, v in values.items() if k in declared}


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def new_run_dir(root: Path | None = None, suffix: str = "") -> Path:
    """Create and return a new, never-before-used run folder under `root`."""
    root = Path(root or config.RUNS_DIR)
    root.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = root / f"{stamp}-{secrets.token_hex(3)}{suffix}"
    run_dir.mkdir(exist_ok=False)
    return run_dir


def output_dir(value: str | os.PathLike | None) -> Path:
    """A notebook's output folder: the one papermill passed, else a new interactive run."""
    if value:
        path = Path(value)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return new_run_dir(suffix="-interactive")


def write_json(path: Path, payload: dict) -> None:
    """Write JSON atomically, so a reader never sees half a run.json."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def render_report(notebook: Path, dest: Path) -> Path:
    """Render an executed notebook as a stakeholder HTML page: outputs only, no code."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    dest.write_text(body, encoding="utf-8")
    return dest


def write_index(run_dir: Path, record: dict) -> Path:
    """index.html: one link per notebook report plus every other HTML artifact of the run."""
    rows = []
    for nb in record["notebooks"]:
        link = (f'<a href="{html.escape(nb["report"])}">{html.escape(nb["name"])}</a>'
                if nb.get("report") else html.escape(nb["name"]))
        rows.append(f"<tr><td>{link}</td><td>{html.escape(nb['status'])}</td>"
                    f"<td>{nb.get('seconds', '')}</td></tr>")
    reports = {nb.get("report") for nb in record["notebooks"]}
    extras = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*.html")
                    if p.name != "index.html" and p.relative_to(run_dir).as_posix() not in reports)
    extra_items = "".join(f'<li><a href="{html.escape(e)}">{html.escape(e)}</a></li>'
                          for e in extras)
    data = record.get("data") or {}
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>airbnb-price run {html.escape(record['run_id'])}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}td,th{{padding:.3em 1em}}</style>
</head><body><h1>Run {html.escape(record['run_id'])}: {html.escape(record['status'])}</h1>
<p>Data: {html.escape(str(data.get('path', '')))} ({data.get('rows', '?')} rows,
sha256 <code>{html.escape(str(data.get('sha256', ''))[:12])}</code>)</p>
<table><tr><th>report</th><th>status</th><th>seconds</th></tr>{''.join(rows)}</table>
<h2>Other artifacts</h2><ul>{extra_items}</ul></body></html>"""
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _failure(exc: Exception) -> dict:
    return {"cell_index": getattr(exc, "cell_index", None),
            "execution_count": getattr(exc, "exec_count", None),
            "ename": getattr(exc, "ename", type(exc).__name__),
            "evalue": getattr(exc, "evalue", str(exc))}


def run(params: RunParams, notebooks: tuple[str, ...] = NOTEBOOKS,
        runs_dir: Path | None = None, notebooks_dir: Path | None = None) -> Path:
    """Execute `notebooks` in order into a new run folder; return that folder.

    The data are resolved and validated before any notebook starts, so a bad file fails fast
    with a named `DataError` and no half-made run. Raises `RunFailed` when a notebook raises.
    """
    import papermill as pm

    from airbnb_price import data, features

    chosen = features.feature_set(params.feature_set)
    params.snapshot = params.snapshot or config.DEFAULT_SNAPSHOTS[chosen.listings]
    source = data.resolve_source(params.listings, params.city, params.snapshot,
                                 kind=chosen.listings)
    listings = data.load_listings(source)
    try:
        features.check_inputs(listings.frame, chosen)
    except ValueError as exc:
        raise data.SchemaError(f"{source.path} ({listings.layout} layout): {exc}") from exc
    params.listings = str(source.path)
    if params.compares:  # the second snapshot is checked before any notebook runs, too
        params.compare_snapshot = params.compare_snapshot or config.COMPARE_SNAPSHOT
        other = data.resolve_source(params.compare_listings, params.city, params.compare_snapshot,
                                    env_var=config.COMPARE_LISTINGS_ENV)
        data.load_listings(other)
        params.compare_listings = str(other.path)
    run_dir = new_run_dir(runs_dir)
    notebooks_dir = Path(notebooks_dir or config.NOTEBOOKS_DIR)
    (run_dir / "reports").mkdir()
    record = {
        "run_id": run_dir.name, "status": "running",
        "started": dt.datetime.now(dt.UTC).isoformat(),
        "parameters": asdict(params),
        "data": listings.provenance() | {"origin": source.origin, "url": source.url},
        "packages": package_versions(),
        "notebooks": [{"name": nb, "status": "pending"} for nb in notebooks],
    }
    write_json(run_dir / "run.json", record)
    for entry in record["notebooks"]:
        name = entry["name"]
        executed = run_dir / name
        declared = set(pm.inspect_notebook(str(notebooks_dir / name)))
        started = time.perf_counter()
        entry["status"] = "running"
        write_json(run_dir / "run.json", record)  # progress is visible while a run goes on
        try:
            pm.execute_notebook(
                str(notebooks_dir / name), str(executed),
                parameters=params.for_notebook(declared, run_dir),
                kernel_name=config.KERNEL_NAME, cwd=str(run_dir), progress_bar=False,
            )
            entry["status"] = "ok"
        except Exception as exc:  # noqa: BLE001 - kernel errors, dead kernels, timeouts alike
            entry["status"], entry["error"] = "failed", _failure(exc)
        entry["seconds"] = round(time.perf_counter() - started, 2)
        if executed.exists():
            report = render_report(executed, run_dir / "reports" / executed.with_suffix(".html").name)
            entry["report"] = report.relative_to(run_dir).as_posix()
        write_json(run_dir / "run.json", record)
        if entry["status"] == "failed":
            break
    failed = [e for e in record["notebooks"] if e["status"] == "failed"]
    record["status"] = "failed" if failed else "ok"
    record["finished"] = dt.datetime.now(dt.UTC).isoformat()
    write_json(run_dir / "run.json", record)
    write_index(run_dir, record)
    if failed:
        err = failed[0]["error"]
        raise RunFailed(
            f"{failed[0]['name']} failed in cell {err['cell_index']} "
            f"(execution count {err['execution_count']}): {err['ename']}: {err['evalue']}\n"
            f"executed notebook: {run_dir / failed[0]['name']}; run record: {run_dir / 'run.json'}")
    return run_dir


def find_model_dir(model_dir: str | os.PathLike | None, run_dir: Path,
                   runs_root: Path | None = None) -> Path:
    """The model folder notebook 04 explains: the one given, this run's, else the newest run's
    (so 04 also works opened on its own after 03 has run once)."""
    if model_dir:
        return Path(model_dir)
    if (run_dir / "model" / "lean.pkl").is_file():
        return run_dir / "model"
    found = sorted(Path(runs_root or config.RUNS_DIR).glob("*/model/lean.pkl"))
    if not found:
        raise FileNotFoundError(f"no model in {run_dir} or any run under "
                                f"{runs_root or config.RUNS_DIR}: run notebook 03 first")
    return found[-1].parent


def newest_model_dirs(runs_root: Path | None = None) -> dict[str, Path]:
    """The newest run's model folder per feature set (what `airbnb-price serve` publishes)."""
    from airbnb_price import registry

    newest: dict[str, Path] = {}
    for found in sorted(Path(runs_root or config.RUNS_DIR).glob("*/model/metadata.json")):
        newest[registry.feature_set(registry.run_metadata(found.parent))] = found.parent
    if not newest:
        raise FileNotFoundError(f"no model in any run under {runs_root or config.RUNS_DIR}: "
                                "run notebook 03 first")
    return dict(sorted(newest.items()))
