"""Run folders: what each notebook writes there and reads from its upstream steps.

A papermill run passes `output_dir`; a notebook opened in JupyterLab gets `None` and works in
the newest `runs/<id>-interactive/` folder that has what it needs (notebook 01 or 02 starts a
new one). A notebook whose upstream output is missing stops with "run 02_features first"
instead of rebuilding it or taking another run's model.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import secrets
from pathlib import Path

import pandas as pd

from airbnb_price.core import registry, settings, spec
from airbnb_price.core.files import write_json
from airbnb_price.core.registry import COMPILED, METADATA
from airbnb_price.core.runfiles import (
    CLEANING,
    EXAMPLE,
    FEATURES,
    LISTING_IDS,
    MADE_BY,
    METRICS,
    MODEL_DIR,
    NEEDS,
    RANGE_CHECK,
)
from airbnb_price.data.tables import Prepared

INTERACTIVE = "-interactive"


class MissingUpstream(FileNotFoundError):
    """A notebook's input from an earlier step is not in the run folder."""


def new_run_dir(root: Path | None = None, suffix: str = "") -> Path:
    """Create and return a new, never-before-used run folder under `root`."""
    root = Path(root or settings.local().runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = root / f"{stamp}-{secrets.token_hex(3)}{suffix}"
    run_dir.mkdir(exist_ok=False)
    return run_dir


def _interactive_dirs(root: Path) -> list[Path]:
    """Interactive run folders, newest first (names start with a UTC time stamp)."""
    return sorted(root.glob(f"*{INTERACTIVE}"), reverse=True) if root.is_dir() else []


def output_dir(value: str | os.PathLike | None, notebook: str) -> Path:
    """The run folder `notebook` works in: the one papermill passed (its upstream outputs
    checked), else the newest interactive folder holding them (a new one for a first step)."""
    needs = NEEDS.get(notebook, ())
    if value:
        path = Path(value)
        path.mkdir(parents=True, exist_ok=True)
        require(path, *needs)
        return path
    root = settings.local().runs_dir
    if not needs:
        return new_run_dir(root, INTERACTIVE)
    for candidate in _interactive_dirs(root):
        if all((candidate / need).exists() for need in needs):
            print(f"working in run {candidate.name} (the newest interactive run with "
                  f"{', '.join(needs)})")  # its id, not this machine's path
            return candidate
    raise MissingUpstream(f"no interactive run under {root} has {', '.join(needs)}: run "
                          f"{MADE_BY[needs[0]]} first (or pass output_dir of a run that has)")


def notebook_link(target: Path, text: str) -> str:
    """An HTML link to a run's file, relative to the notebook showing it: a kernel works in
    its notebook's folder (papermill's run folder, Lab's notebooks/), so the link opens from
    JupyterLab and from the executed notebook; its HTML report, one folder down, gets the
    same link with `../` (`reports.render_report`)."""
    relative = os.path.relpath(Path(target).resolve(), Path.cwd().resolve())
    return f'<a href="{html.escape(Path(relative).as_posix())}">{html.escape(text)}</a>'


def require(run_dir: Path, *outputs: str) -> None:
    """MissingUpstream naming the first missing output and the notebook that writes it."""
    for output in outputs:
        if not (Path(run_dir) / output).exists():
            maker = MADE_BY.get(output, "the notebook that writes it")
            raise MissingUpstream(f"{run_dir} has no {output}: run {maker} first "
                                  f"(it writes {output} into the run folder)")


def write_features(run_dir: Path, table: pd.DataFrame, record: dict, example: dict) -> None:
    """Notebook 02's outputs: the feature table, its record (parameters, model spec, city,
    price window, data provenance, cleaning rules) and the run's example request, written for
    03, 04 and 05 to read."""
    table.to_parquet(Path(run_dir) / FEATURES, index=False)
    write_json(Path(run_dir) / CLEANING, record)
    write_json(Path(run_dir) / EXAMPLE, example)


def write_prepared(run_dir: Path, prepared: Prepared) -> None:
    """Notebook 02's outputs from its prepared data: the feature table, its record and a
    typical listing of the city as the run's example request (`airbnb-price train` writes
    the same)."""
    from airbnb_price.runs import examples

    run, model = prepared.run, prepared.run.params.spec
    request = examples.typical_request(prepared.cleaned, model.feature_set, run.city.name)
    ids = prepared.cleaned.loc[prepared.table.index, "id"].astype(str).to_numpy()
    pd.DataFrame({"id": ids}).to_parquet(Path(run_dir) / LISTING_IDS, index=False)
    write_features(run_dir, prepared.table, run.record() | {
        "model": model.name, "city": run.city.record(), "feature_set": model.feature_set.name,
        "parameters": run.params.as_dict(), "rules": prepared.report.to_dict(orient="records")},
        request)


def example(run_dir: Path) -> dict:
    """The run's example request (notebook 02's typical listing of the city)."""
    require(run_dir, EXAMPLE)
    return json.loads((Path(run_dir) / EXAMPLE).read_text())


def listing_ids(run_dir: Path) -> pd.Series | None:
    """Each feature-table row's listing id (None for a run made before they were kept)."""
    path = Path(run_dir) / LISTING_IDS
    return pd.read_parquet(path)["id"] if path.is_file() else None


def range_check(run_dir: Path) -> pd.DataFrame:
    """Notebook 03's hold-out listings with their price range and side, for the map."""
    require(run_dir, RANGE_CHECK)
    return pd.read_parquet(Path(run_dir) / RANGE_CHECK)


def metrics(run_dir: Path) -> dict:
    """Notebook 03's metrics.json: hold-out scores, how training was sized, the price range."""
    require(run_dir, METRICS)
    return json.loads((Path(run_dir) / METRICS).read_text())


def read_features(run_dir: Path) -> tuple[pd.DataFrame, dict]:
    """Notebook 02's feature table and its record (data provenance, city, feature set)."""
    require(run_dir, FEATURES, CLEANING)
    return (pd.read_parquet(Path(run_dir) / FEATURES),
            json.loads((Path(run_dir) / CLEANING).read_text()))


def model_dir(run_dir: Path, given: str | os.PathLike | None = None) -> Path:
    """The model folder a notebook uses: the one given explicitly, else this run's."""
    if given:
        require(Path(given), METADATA)
        return Path(given)
    require(run_dir, f"{MODEL_DIR}/{METADATA}")
    return Path(run_dir) / MODEL_DIR


def newest_model_dir(runs_root: Path | None = None) -> Path:
    """The newest run's model folder (deploys without --run)."""
    runs_root = Path(runs_root or settings.local().runs_dir)
    found = sorted(runs_root.glob(f"*/{MODEL_DIR}/{COMPILED}"))
    if not found:
        raise MissingUpstream(f"no model in any run under {runs_root}: "
                              "run 03_automl first")
    return found[-1].parent


def newest_model_dirs(runs_root: Path | None = None) -> dict[str, Path]:
    """The newest run's model folder per model spec (what `airbnb-price serve` publishes)."""
    newest: dict[str, Path] = {}
    runs_root = Path(runs_root or settings.local().runs_dir)
    for found in sorted(runs_root.glob(f"*/{MODEL_DIR}/{METADATA}")):
        newest[spec.of_metadata(registry.run_metadata(found.parent)).name] = found.parent
    if not newest:
        raise MissingUpstream(f"no model in any run under {runs_root}: "
                              "run 03_automl first")
    return dict(sorted(newest.items()))
