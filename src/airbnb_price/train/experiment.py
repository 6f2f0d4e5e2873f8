"""The PyCaret 3 regression experiment (notebook 03, `train.training`): the preprocessing
presets, PyCaret's setup with this project's names and logs, tuning, and PyCaret's own plots.

Two preprocessing presets: ARTICLE reproduces the 2021 article's PyCaret 2 setup in PyCaret 3
terms, LEAN keeps what tree models need. Threads: cross-validation runs one fit at a time;
LightGBM's own threads plus PyCaret's parallel folds oversubscribe 2 cores and stall tuning.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from airbnb_price.core import runfiles
from airbnb_price.core.config import SEED, TARGET
from airbnb_price.core.features import categorical_columns

N_JOBS = 1

#: The article's setup() in PyCaret 3 names. Yeo-Johnson fails to bracket on the near-constant
#: polynomial geo columns (scipy BracketError), so the feature transformation is quantile-based.
ARTICLE = {
    "normalize": True, "transformation": True, "transformation_method": "quantile",
    "transform_target": True, "remove_multicollinearity": True,
    "multicollinearity_threshold": 0.8, "polynomial_features": True, "rare_to_value": 0.01,
    "feature_selection": True, "feature_selection_method": "classic",
    # The default 0.2 keeps 20% of the *input* columns: 2 features here. Keep 30 instead.
    "n_features_to_select": 30,
}
#: Trees need no scaling, polynomial terms or rare-level grouping. Measured by
#: benchmarks/model_quality.py (5-fold MAE, 2021-07-04): keeping every neighbourhood beats
#: grouping those under 1% (41.26 vs 41.33). A quantile target transform scores 41.18 but its
#: inverse is flat between tied prices (many listings cost exactly 100 or 150), which makes
#: prices snap to round values and price contributions lumpy; Yeo-Johnson stays smooth.
#: One-hot encode up to 100 levels (PyCaret's default 25 would target-encode the detailed set's
#: ~60 property types, a step the serving compiler does not have and trees do not need).
LEAN = {"transform_target": True, "max_encoding_ohe": 100}
PRESETS = {"article": ARTICLE, "lean": LEAN}

#: What became of the article's PyCaret 2 setup() options in PyCaret 3.
PYCARET2_CHANGES = pd.DataFrame([
    ("combine_rare_levels=True, rare_level_threshold", "rare_to_value=<fraction>"),
    ("trigonometry_features=True", "removed: geo features computed in airbnb_price.features"),
    ("feature_interaction=True", "removed: polynomial_features=True is the nearest"),
    ("feature_ratio=True", "removed"),
    ("silent=True", "removed: setup() no longer asks to confirm dtypes"),
    ("feature_selection_method='boruta'", ("removed: classic/univariate/sequential; Boruta "
     "provided by airbnb_price.train.selection.boruta_features as a documented pre-selection")),
    ("transformation=True (yeo-johnson)", "same option; quantile here (see ARTICLE)"),
    ("remove_multicollinearity=True, multicollinearity_threshold=0.8", "unchanged"),
], columns=["PyCaret 2", "PyCaret 3"])


def limit_threads() -> None:
    """Keep BLAS/OpenMP to one thread per fit so 2 cores are not oversubscribed."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def quiet_lightgbm() -> None:
    """Route LightGBM's messages to a logger at ERROR level: it prints parameter-alias warnings
    for every fit PyCaret makes (hundreds per tune_model), which buried the reports."""
    import lightgbm

    logger = logging.getLogger("lightgbm")
    logger.setLevel(logging.ERROR)
    lightgbm.register_logger(logger)


def setup_experiment(table: pd.DataFrame, preset: str = "lean", folds: int = 5,
                     test_data: pd.DataFrame | None = None, train_size: float = 0.8,
                     seed: int = SEED, log_dir: Path | None = None, **overrides: Any):
    """A PyCaret RegressionExperiment on the feature table with a named preprocessing preset.
    PyCaret's log goes to `log_dir`/logs.log (a notebook passes its run folder); without one
    it writes none, instead of a logs.log in whatever folder the process started in."""
    log = str(Path(log_dir) / "logs.log") if log_dir else os.devnull
    os.environ["PYCARET_CUSTOM_LOGGING_PATH"] = log  # PyCaret opens its log on import
    from pycaret.regression import RegressionExperiment

    limit_threads()
    quiet_lightgbm()
    options = PRESETS[preset] | overrides
    exp = RegressionExperiment()
    exp.setup(table, target=TARGET, session_id=seed, fold=folds, fold_shuffle=True,
              train_size=train_size, test_data=test_data,
              categorical_features=categorical_columns(table), n_jobs=N_JOBS, verbose=False,
              html=False, system_log=log, **clean_names(options), **options)
    return exp


#: setup() options that add a step after the categorical encoders, in PyCaret's order.
AFTER_ENCODING = ("polynomial_features", "low_variance_threshold", "group_features",
                  "remove_multicollinearity", "bin_numeric_features", "remove_outliers",
                  "transformation", "normalize", "pca", "feature_selection")


def clean_names(options: dict) -> dict:
    """PyCaret's own CleanColumnNames right after the categorical encoders: one-hot columns
    are named after the levels (`neighbourhood_Rockland, Fairfield`), and LightGBM (the model,
    and the article preset's feature selection) refuses names with JSON's special
    characters. PyCaret adds the step only when an *input* column name has them. The serving
    compiler treats it as a renaming."""
    from pycaret.internal.preprocess.transformers import CleanColumnNames

    after = sum(1 for option in AFTER_ENCODING if options.get(option))
    return {"custom_pipeline": [("clean_column_names", CleanColumnNames())],
            "custom_pipeline_position": -1 - after}


#: LightGBM's search space for tune_model: PyCaret's default space is centred on few, fast
#: trees and in 10 random draws stayed above the plain LightGBM on the detailed set; slower
#: learning with more trees and column/row subsampling is where the better models are.
LIGHTGBM_GRID = {
    "n_estimators": [300, 600, 1000], "learning_rate": [0.02, 0.03, 0.05, 0.1],
    "num_leaves": [15, 31, 63], "min_child_samples": [10, 20, 40],
    "subsample": [0.7, 0.8, 1.0], "subsample_freq": [1], "colsample_bytree": [0.5, 0.7, 0.9],
    "reg_lambda": [0.0, 1.0, 5.0],
}


def tune(exp: Any, model: Any, n_iter: int) -> Any:
    """tune_model on MAE (LightGBM in LIGHTGBM_GRID), keeping the untuned model if better."""
    grid = LIGHTGBM_GRID if type(model).__name__ == "LGBMRegressor" else None
    return exp.tune_model(model, n_iter=n_iter, optimize="MAE", choose_better=True,
                          custom_grid=grid, verbose=False)


def cv_mae(exp: Any, model_id: str = "lightgbm") -> float:
    """Mean cross-validated MAE (the city's currency) of one model in an experiment."""
    exp.create_model(model_id, verbose=False)
    return round(float(exp.pull().loc["Mean", "MAE"]), 2)


#: PyCaret's own diagnostics for a regression model, by plot_model id and file stem.
PYCARET_PLOTS = {"residuals": "pycaret_residuals", "error": "pycaret_prediction_error",
                 "feature": "pycaret_feature_importance"}


def pycaret_plots(exp: Any, model: Any, output_dir: Any) -> list[Any]:
    """Save PyCaret's residuals, prediction-error and feature-importance plots of `model`
    (fitted on the training split, so the hold-out points are honest) as figures/<stem>.png.

    PyCaret plots in the model's target space (the transformed price), as its own reports do.
    """
    import matplotlib.pyplot as plt

    figures = Path(output_dir) / runfiles.FIGURES
    figures.mkdir(parents=True, exist_ok=True)
    paths = []
    for plot, stem in PYCARET_PLOTS.items():
        saved = Path(exp.plot_model(model, plot=plot, save=str(figures), verbose=False))
        paths.append(saved.replace(figures / f"{stem}.png"))
        plt.close("all")
    return paths
