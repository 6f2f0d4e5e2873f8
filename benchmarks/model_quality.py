"""5-fold CV of the chosen pipeline (PyCaret, lean preset, LightGBM tuned as in notebook 03)
vs a plain LightGBM on the same folds.

Usage: python benchmarks/model_quality.py [--listings PATH] [--folds 5] [--tune-iterations 10]
Prints MAE/RMSE/R^2 per model and writes benchmarks/results/model_quality.json.
Target (issue 3): pipeline MAE <= EUR 43.0 and not worse than the plain LightGBM.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from airbnb_price import config, data, modeling

RESULTS = Path(__file__).parent / "results" / "model_quality.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tune-iterations", type=int, default=10,
                        help="tune_model iterations inside each fold (0: untuned)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    table, _, loaded = data.prepare(args.listings)
    scores: dict[str, list[dict]] = {"pipeline": [], "baseline_lightgbm": []}
    started = time.perf_counter()
    for train, test in KFold(args.folds, shuffle=True, random_state=config.SEED).split(table):
        tr, te = table.iloc[train], table.iloc[test]
        exp = modeling.setup_experiment(tr, "lean", folds=3, test_data=te)
        model = exp.create_model("lightgbm", verbose=False)
        if args.tune_iterations:
            model = exp.tune_model(model, n_iter=args.tune_iterations, optimize="MAE",
                                   choose_better=True, verbose=False)
        predicted = exp.predict_model(model, data=te.drop(columns=config.TARGET), verbose=False)
        scores["pipeline"].append(modeling.holdout_metrics(te[config.TARGET],
                                                           predicted["prediction_label"]))
        base = modeling.baseline_lightgbm(tr.drop(columns=config.TARGET), tr[config.TARGET])
        scores["baseline_lightgbm"].append(modeling.holdout_metrics(
            te[config.TARGET], modeling.baseline_predict(base, te.drop(columns=config.TARGET))))
    result = {name: {k: round(float(np.mean([s[k] for s in runs])), 4) for k in runs[0]}
              for name, runs in scores.items()}
    result["setup"] = {"folds": args.folds, "tune_iterations": args.tune_iterations, "rows": len(table), "data_sha256": loaded.sha256,
                       "price_window": [config.MIN_PRICE, config.MAX_PRICE],
                       "seconds": round(time.perf_counter() - started, 1)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for name in ("pipeline", "baseline_lightgbm"):
        print(f"{name:20s} MAE {result[name]['mae']:.2f}  RMSE {result[name]['rmse']:.2f}  "
              f"R2 {result[name]['r2']:.3f}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
