"""5-fold CV of the chosen pipeline (PyCaret, lean preset, LightGBM tuned as in notebook 03:
on the learning curve's sample, then fitted on every training row) vs a plain LightGBM on the
same folds, for each feature set.

Usage: python benchmarks/model_quality.py [--listings PATH] [--detailed-listings PATH]
                                          [--folds 5] [--tune-iterations 10] [--only SET]
Prints MAE/RMSE/R^2 per model and writes benchmarks/results/model_quality.json: the summary
feature set (2021-07-04 summary file) at the top level, the detailed one under "detailed" and
the existing-listing variant under "existing" (both on the 2022-01-07 detailed file; sources
default to $AIRBNB_LISTINGS / $AIRBNB_DETAILED_LISTINGS).
Targets: summary (issue 3) MAE <= EUR 43.0 and not worse than the plain LightGBM; detailed
(issue 6) MAE <= EUR 36 and R^2 >= 0.65; existing: none (it shows what review history adds).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from airbnb_price.core import config, features
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables
from airbnb_price.train import baselines, experiment, training

RESULTS = Path(__file__).parent / "results" / "model_quality.json"
#: Cross-validation folds inside tuning: a full run's, as notebook 03 tunes.
TUNE_FOLDS = config.sizes(smoke=False)["folds"]


def cross_validate(table: pd.DataFrame, folds: int, tune_iterations: int) -> dict:
    """Mean hold-out metrics over `folds` outer folds: the pipeline tuned inside each fold as
    notebook 03 tunes it (on the learning curve's sample of the fold's training rows, then
    fitted on all of them), and the plain LightGBM on the same rows."""
    scores: dict[str, list[dict]] = {"pipeline": [], "baseline_lightgbm": [], "naive_median": []}
    sample_rows = []
    for train, test in KFold(folds, shuffle=True, random_state=config.SEED).split(table):
        tr, te = table.iloc[train], table.iloc[test]
        rows = training.plan(tr)
        sample_rows.append(rows.curve.rows)
        exp = experiment.setup_experiment(rows.sample, "lean", folds=TUNE_FOLDS,
                                          test_data=rows.holdout)
        model = exp.create_model("lightgbm", verbose=False)
        if tune_iterations:
            model = experiment.tune(exp, model, tune_iterations)
        pipeline = training.refit(exp.finalize_model(model), tr)
        scores["pipeline"].append(baselines.holdout_metrics(
            te[config.TARGET], pipeline.predict(te.drop(columns=config.TARGET))))
        base = baselines.baseline_lightgbm(tr.drop(columns=config.TARGET), tr[config.TARGET])
        scores["baseline_lightgbm"].append(baselines.holdout_metrics(
            te[config.TARGET], baselines.baseline_predict(base, te.drop(columns=config.TARGET))))
        scores["naive_median"].append(baselines.holdout_metrics(
            te[config.TARGET], baselines.naive_predict(tr, te)))
    means = {name: {k: round(float(np.mean([s[k] for s in runs])), 4) for k in runs[0]}
             for name, runs in scores.items()}
    return means | {"tuning_sample_rows": sample_rows}


def measure(params: RunParams, folds: int, tune_iterations: int) -> dict:
    started = time.perf_counter()
    prepared = tables.prepare(params)
    table, run = prepared.table, prepared.run
    result = cross_validate(table, folds, tune_iterations)
    result["setup"] = {"city": run.city.name, "currency": run.city.currency,
                       "feature_set": run.params.feature_set, "folds": folds,
                       "tune_iterations": tune_iterations, "rows": len(table),
                       "features": table.shape[1] - 1, "data": run.listings.path.name,
                       "snapshot": run.params.snapshot, "layout": run.listings.layout,
                       "data_sha256": run.listings.sha256,
                       "price_window": [run.params.min_price, run.params.max_price],
                       "median_price": float(table[config.TARGET].median()),
                       "seconds": round(time.perf_counter() - started, 1)}
    feature_set = run.params.feature_set
    for name in ("pipeline", "baseline_lightgbm", "naive_median"):
        print(f"{feature_set:9s} {name:20s} MAE {result[name]['mae']:.2f}  "
              f"RMSE {result[name]['rmse']:.2f}  R2 {result[name]['r2']:.3f}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", default=None)
    parser.add_argument("--detailed-listings", default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tune-iterations", type=int, default=10,
                        help="tune_model iterations inside each fold (0: untuned)")
    parser.add_argument("--only", choices=sorted(features.FEATURE_SETS), default=None,
                        help="measure one feature set and keep the others' stored figures")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    result = json.loads(RESULTS.read_text()) if args.only and RESULTS.is_file() else {}
    for name, chosen in features.FEATURE_SETS.items():
        if args.only not in (None, name):
            continue
        listings = args.listings if chosen.source is config.SUMMARY_FILE else \
            args.detailed_listings
        measured = measure(RunParams(listings=listings, feature_set=name), args.folds,
                           args.tune_iterations)
        if name == "summary":
            result |= measured
        else:  # the pipeline's figures at the entry's top level, beside the summary ones
            result[name] = measured["pipeline"] | measured
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
