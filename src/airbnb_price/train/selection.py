"""Notebook 03's feature-selection comparison: a LightGBM's CV MAE with all features,
PyCaret's classic selection, Boruta pre-selection and the article's full preprocessing, under
the run's time budget."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from airbnb_price.core.config import SEED, TARGET
from airbnb_price.core.features import SUMMARY, categorical_columns
from airbnb_price.train.budget import Budget
from airbnb_price.train.experiment import N_JOBS, cv_mae, setup_experiment


def boruta_features(table: pd.DataFrame, seed: int = SEED, max_iter: int = 30) -> list[str]:
    """Input columns Boruta confirms (or leaves tentative) as better than their shadows.

    PyCaret 3 dropped Boruta, so it runs here as a pre-selection on the raw feature table;
    a categorical input counts as selected when any of its one-hot columns is.
    """
    from boruta import BorutaPy
    from lightgbm import LGBMRegressor

    X = pd.get_dummies(table.drop(columns=TARGET), columns=categorical_columns(table), dtype=float)
    # Gain importance: split counts favour continuous shadow columns over real dummies.
    selector = BorutaPy(LGBMRegressor(n_estimators=100, n_jobs=N_JOBS, verbose=-1,
                                      importance_type="gain",
                                      random_state=seed),
                        n_estimators=100, max_iter=max_iter, random_state=seed)
    selector.fit(X.fillna(-1).to_numpy(), np.log(table[TARGET].to_numpy()))  # Boruta rejects NaN
    kept = X.columns[selector.support_ | selector.support_weak_]
    inputs = [c for c in table.columns if c != TARGET]
    return [c for c in inputs if any(k == c or k.startswith(f"{c}_") for k in kept)]


#: The article preset's comparison costs about this many times the first (lean, all
#: features) one, whatever the rows: its polynomial terms, quantile transform and
#: multicollinearity removal are fitted in every fold (London, 4,000 and 10,000 rows:
#: 173 s and 177 s against 3.8 s and 2.7 s).
ARTICLE_COST = 60
#: The share of the time left that the feature-selection comparison may take.
SELECTION_SHARE = 0.25


def compare_selection(table: pd.DataFrame, folds: int, boruta_iter: int = 30,
                      rows: int | None = None, seed: int = SEED,
                      log_dir: Path | None = None, budget: Budget | None = None) -> pd.DataFrame:
    """LightGBM CV MAE under each way of choosing features: none, PyCaret's classic
    selection, Boruta pre-selection, and the article's full preprocessing (on a sample of
    `rows` rows when given). Under a `budget`, the article preset runs only when its
    estimated cost (ARTICLE_COST x the first comparison's) fits SELECTION_SHARE of the time
    left; the budget's cuts say when it did not.

    The article preset runs on the summary features only, as the article did: its degree-2
    polynomial terms over the detailed set's ~90 columns took 23 minutes in a smoke run.
    """
    budget = budget or Budget(None)
    if rows and rows < len(table):
        table = table.sample(rows, random_state=seed)
    boruta = boruta_features(table, seed, boruta_iter)
    inputs = [c for c in table.columns if c != TARGET]
    summary = [c for c in SUMMARY.model_features if c in inputs]
    half = max(2, len(inputs) // 2)
    article = ("article preset (PyCaret 2 options)" if summary == inputs
               else "article preset (PyCaret 2 options, summary features)")
    runs = [
        ("all features (lean preset)", inputs, {}),
        (f"PyCaret classic selection ({half} kept)", inputs,
         {"feature_selection": True, "n_features_to_select": half}),
        ("Boruta pre-selection", boruta, {}),
        (article, summary, "article"),
    ]
    found, first = [], 0.0
    for label, columns, options in runs:
        preset = options if isinstance(options, str) else "lean"
        if preset == "article" and ARTICLE_COST * first > budget.share(SELECTION_SHARE):
            budget.cuts.append(f"left out the article preset's comparison (about "
                               f"{ARTICLE_COST * first / 60:.0f} min): budget")
            continue
        extra = options if isinstance(options, dict) else {}
        started = time.monotonic()
        exp = setup_experiment(table[[*columns, TARGET]], preset, folds, seed=seed,
                               log_dir=log_dir, **extra)
        found.append({"selection": label, "input_columns": len(columns),
                      "cv_mae": cv_mae(exp), "columns": ", ".join(columns)})
        first = first or time.monotonic() - started
    return pd.DataFrame(found)
