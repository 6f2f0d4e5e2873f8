"""The model folder a training run writes: the compiled artifact (refused unless it prices
within a cent of the pipeline), its calibrated price range, metadata.json and the PyCaret
pipeline, plus the run's metrics.json and the range's hold-out check.

    saved = model_folder.save(trained, table, run_dir, record, packages)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from airbnb_price.core import registry, runfiles
from airbnb_price.core.config import TARGET
from airbnb_price.core.files import write_json
from airbnb_price.core.spec import ModelSpec
from airbnb_price.train import compiler, intervals
from airbnb_price.train.training import Trained


def input_schema(table: pd.DataFrame) -> dict:
    """What the model saw in training, for request validation: levels and coordinate box."""
    from airbnb_price.core.features import categorical_columns

    levels = {c: sorted(table[c].dropna().unique().tolist()) for c in categorical_columns(table)}
    numeric = [c for c in ("latitude", "longitude", "minimum_nights", "availability_365",
                           "calculated_host_listings_count") if c in table]
    ranges = {c: [float(table[c].min()), float(table[c].max())] for c in numeric}
    return {"levels": levels, "ranges": ranges}


def model_metadata(table: pd.DataFrame, trained: Trained, compiled: Any, run_id: str,
                   record: dict, packages: dict, model: ModelSpec) -> dict:
    """metadata.json for the registry: enough to validate requests and audit the model. The
    spec's fields (name, city, feature set) let the endpoint refuse a model of another spec;
    the city's record (currency, centre) and price window come from notebook 02's record."""
    return {
        "run_id": run_id, "preset": trained.preset, "best_model": trained.best_id,
        "name": model.name, "city": model.city, "feature_set": model.feature_set.name,
        "city_record": record["city"], "currency": record["city"]["currency"],
        "price_window": record["price_window"],
        "estimator": getattr(compiled.estimator, "kind", "") or type(compiled.estimator).__name__,
        "metrics": {"holdout": trained.holdout, "baseline_lightgbm": trained.baseline,
                    "naive_median": trained.naive},
        "data": record["data"], "training_rows": len(table),
        "input_columns": compiled.input_columns, "feature_names": compiled.feature_names,
        "inputs": input_schema(table), "packages": packages,
    }


def save_model(model_dir: Path, pipeline: Any, compiled: Any, metadata: dict,
               neighbourhoods: str | Path | None = None) -> dict[str, float]:
    """Write model.pkl (PyCaret pipeline), compiled.pkl (the served artifact, a plain pickle
    of numpy arrays), metadata.json and, when a neighbourhoods file is given, its validated
    copy (so the endpoint serves the map the model was made with); return sizes in MB."""
    import pickle

    import joblib

    from airbnb_price.core import geo

    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, model_dir / registry.PIPELINE)
    (model_dir / registry.COMPILED).write_bytes(pickle.dumps(compiled, protocol=5))
    metadata = metadata | {"artifact": registry.COMPILED}
    if neighbourhoods:
        raw = Path(neighbourhoods).read_bytes()
        geo.parse(raw, str(neighbourhoods))
        (model_dir / geo.FILE).write_bytes(raw)
        metadata = metadata | {"geometry": geo.FILE}
    write_json(model_dir / registry.METADATA, metadata)
    return {p.name: round(p.stat().st_size / 1e6, 3) for p in sorted(model_dir.iterdir())}


@dataclass
class Saved:
    """A model folder written by `save`: the compiled artifact, its largest price difference
    from the pipeline on the training rows, and its files' sizes in MB."""

    compiled: Any
    worst: float
    sizes: dict[str, float]


def save(trained: Trained, table: pd.DataFrame, run_dir: Path, record: dict, packages: dict,
         neighbourhoods: str | Path | None = None, ids: pd.Series | None = None) -> Saved:
    """Compile the final pipeline (refused unless within a cent of it on every row),
    calibrate and measure its price range, write the model folder, metrics.json and the
    range's hold-out check into the run folder. `ids`: the Airbnb listing id of each row of
    `table` (notebook 02's listing_ids.parquet), for the report's room links."""
    from airbnb_price.core import spec

    X = table.drop(columns=TARGET)
    compiled = compiler.compile_pipeline(trained.final, X)
    worst = compiler.check_equivalence(compiled, trained.final, X)
    rows = trained.rows
    compiled.calibration = intervals.calibrate(compiled, rows.train, rows.holdout,
                                               trained.predicted)
    measured = intervals.checked(compiled, compiled.calibration, rows.holdout, trained.predicted)
    measured.to_parquet(Path(run_dir) / runfiles.RANGE_CHECK)
    price_range = intervals.measure(measured, rows.train) | {
        "outside": intervals.furthest(measured, rows.holdout, compiled, ids)}
    model = spec.get(record["city"]["name"], record["feature_set"])
    metadata = model_metadata(table, trained, compiled, Path(run_dir).name, record, packages,
                              model)
    sizes = save_model(Path(run_dir) / "model", trained.final, compiled, metadata,
                       neighbourhoods or record.get("neighbourhoods"))
    write_json(Path(run_dir) / runfiles.METRICS,
               trained.metrics(record["city"]["currency"]) | {"range": price_range})
    return Saved(compiled, worst, sizes)
