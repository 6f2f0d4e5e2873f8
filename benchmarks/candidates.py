"""Which candidate models earn their time on a big city: compare_models' fit time and
cross-validated MAE of each candidate on the learning curve's sample of London's training
rows (the sample a full run compares on), plus each one's fit on every training row.

Usage: python benchmarks/candidates.py [LISTINGS] [CITY]
       (default: ../shared/data/london/2021-10-13/listings.csv, london)
Writes results/candidates.json: per model, mean fit seconds per fold, CV MAE, and the
ratio of its MAE and time to LightGBM's (the baseline, measured in the same run).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common import write

from airbnb_price.core import config
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables
from airbnb_price.train import experiment, training

LONDON = Path(__file__).resolve().parents[2] / "shared/data/london/2021-10-13/listings.csv"


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else str(LONDON)
    city = sys.argv[2] if len(sys.argv) > 2 else "london"
    table = tables.prepare(RunParams(listings=path, city=city)).table
    rows = training.plan(table)
    exp = experiment.setup_experiment(rows.sample, "lean", 5, test_data=rows.holdout)
    include = config.sizes(False)["include"]
    started = time.perf_counter()
    exp.compare_models(include=include, sort="MAE", n_select=len(include), verbose=False)
    compare = exp.pull()
    seconds = round(time.perf_counter() - started, 1)
    base = compare.loc["lightgbm"]
    models = {
        model: {"name": row["Model"], "cv_mae": round(float(row["MAE"]), 2),
                "fit_s_per_fold": float(row["TT (Sec)"]),
                "mae_vs_lightgbm": round(float(row["MAE"] / base["MAE"]), 3),
                "time_vs_lightgbm": round(float(row["TT (Sec)"] / base["TT (Sec)"]), 1)}
        for model, row in compare.iterrows()}
    write("candidates", {"city": city, "rows": len(table), "sample_rows": rows.curve.rows,
                         "learning_curve": rows.curve.points, "folds": 5,
                         "compare_seconds": seconds, "models": models})


if __name__ == "__main__":
    main()
