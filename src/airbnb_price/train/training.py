"""Training in source: the steps notebook 03 shows, as functions a script, `airbnb-price
train` and a fleet task call without a Jupyter kernel.

    rows = training.plan(table)
    trained = training.fit(rows, budget.sizes(smoke, len(table)), "lean", Budget.of(15 * 60))
    saved = model_folder.save(trained, table, run_dir, record, packages)

`fit` holds out 20% of the rows first (no step of training sees them), picks, compares and
tunes on the learning curve's sample of the rest (`train.budget`), then fits the winner on
every training row for the hold-out scores and on every row for the served model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from airbnb_price.core import config, settings
from airbnb_price.core.config import SEED, TARGET
from airbnb_price.train import baselines, experiment
from airbnb_price.train import budget as budgets
from airbnb_price.train.budget import Budget, Curve, Sizes
from airbnb_price.train.progress import AnnouncedKFold, Progress, minutes

Say = Callable[[str], None]


@dataclass
class Trained:
    """What training made: the comparison table, the winner (tuned on the sample, refitted on
    every row), its hold-out scores beside both bars it must clear, and what the budget cut."""

    compare: pd.DataFrame
    best_id: str
    final: Any
    holdout: dict[str, float]
    baseline: dict[str, float]
    naive: dict[str, float]
    holdout_rows: int
    curve: Curve
    sizes: Sizes
    preset: str
    n_iter: int
    cuts: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    #: The PyCaret experiment (on the sample) and its tuned model, for PyCaret's own plots.
    experiment: Any = None
    tuned: Any = None
    #: The rows the hold-out scores come from and their prices predicted by the model fitted
    #: on the training rows only (what calibrates the price range).
    rows: Plan | None = None
    predicted: np.ndarray | None = None

    def metrics(self, currency: str) -> dict:
        """metrics.json: the hold-out scores of the AutoML model and of both bars it must
        clear (plain LightGBM, the naive neighbourhood x room-type median), which the run's
        and the fleet's pages show, and how the run was sized."""
        return {"automl": self.holdout, "baseline_lightgbm": self.baseline,
                "naive_median": self.naive, "best_model": self.best_id, "preset": self.preset,
                "folds": self.sizes.folds, "holdout_rows": self.holdout_rows,
                "currency": currency, "selection_rows": self.curve.rows,
                "learning_curve": self.curve.points, "tune_iterations": self.n_iter,
                "budget_cuts": self.cuts, "seconds": self.seconds}


def lightgbm_mae(train: pd.DataFrame, holdout: pd.DataFrame) -> float:
    """Hold-out MAE of the plain LightGBM baseline trained on `train` (the curve's score)."""
    model = baselines.baseline_lightgbm(train.drop(columns=TARGET), train[TARGET])
    predicted = baselines.baseline_predict(model, holdout.drop(columns=TARGET))
    return float(np.mean(np.abs(predicted - holdout[TARGET].to_numpy())))


def iteration_seconds(compare: pd.DataFrame, best: Any, folds: int) -> float:
    """What one tuning iteration costs: `folds` fits of the model, timed by compare_models
    (its "TT (Sec)" is the mean fit time per fold), scaled by the search space's mean tree
    count over the compared model's (one thread: an upper bound when the run has more)."""
    fit_s = max(float(compare["TT (Sec)"].iloc[0]), 0.01)
    trees = getattr(best, "n_estimators", None)
    grid = experiment.LIGHTGBM_GRID["n_estimators"] if type(best).__name__ == "LGBMRegressor" else []
    return fit_s * (float(np.mean(grid)) / trees if grid and trees else 1.0) * folds


def tune_iterations(compare: pd.DataFrame, best: Any, sizes: Sizes, budget: Budget,
                    keep: float) -> int:
    """Tuning iterations the budget pays for (TUNE_SHARE of what is left after `keep`)."""
    if math.isinf(budget.left()):
        return sizes.n_iter
    cost = iteration_seconds(compare, best, sizes.folds)
    affordable = int(budget.share(budgets.TUNE_SHARE, keep) // cost)
    if affordable < sizes.n_iter:
        budget.cuts.append(f"tuned {affordable} of {sizes.n_iter} iterations: budget")
    return min(sizes.n_iter, affordable)


def refit(pipeline: Any, rows: pd.DataFrame) -> Any:
    """A fresh copy of a finalized PyCaret pipeline fitted on `rows` (all its steps: imputers,
    encoders, target transform, estimator)."""
    from sklearn.base import clone

    return clone(pipeline).fit(rows.drop(columns=TARGET), rows[TARGET])


@dataclass(frozen=True)
class Plan:
    """The rows of a training run: the hold-out no step of training sees, the training rows,
    and the learning curve's sample of them that model selection and tuning use."""

    table: pd.DataFrame
    train: pd.DataFrame
    holdout: pd.DataFrame
    curve: Curve

    @property
    def sample(self) -> pd.DataFrame:
        return self.train.iloc[:self.curve.rows]


def plan(table: pd.DataFrame) -> Plan:
    """Hold out 20% of `table` and size the model-selection sample by a learning curve."""
    train, holdout = budgets.split(table)
    return Plan(table, train, holdout, budgets.learning_curve(train, holdout, lightgbm_mae))


def candidates(sizes: Sizes, rows: int, budget: Budget) -> list[str]:
    """The models to compare: the run size's, less config.BIG_SAMPLE_LEFT_OUT on a big sample
    (the budget's cuts say which and why)."""
    if rows < config.BIG_SAMPLE_ROWS:
        return sizes.include
    dropped = [m for m in sizes.include if m in config.BIG_SAMPLE_LEFT_OUT]
    for model in dropped:
        budget.cuts.append(f"left out {model} on {rows:,} sample rows: "
                           f"{config.BIG_SAMPLE_LEFT_OUT[model]}")
    return [m for m in sizes.include if m not in dropped]


def compare(exp: Any, include: list[str], folds: int, budget: Budget,
            progress: Progress) -> tuple[Any, pd.DataFrame]:
    """compare_models within its share of the budget (PyCaret's `budget_time`: no model starts
    after it), cheapest candidates first; the best model and the comparison table."""
    limit = budget.share(budgets.COMPARE_SHARE, keep=budgets.AFTER_TRAINING_S)
    progress.step("compare", len(include) * folds, f"{', '.join(include)} ({folds} folds"
                  + ("" if math.isinf(limit) else f", at most {minutes(limit)}") + ")")
    best = exp.compare_models(include=include, sort="MAE", n_select=1, verbose=False,
                              budget_time=None if math.isinf(limit) else max(limit, 1) / 60)
    table = exp.pull()
    if len(table) < len(include):
        budget.cuts.append(f"compared {len(table)} of {len(include)} models: budget")
    return best, table


#: Estimators that fit on one thread whatever the run has. LightGBM's OpenMP threads wait
#: passively (train/__init__.py), and then two threads made a 1,000-tree, 63-leaf fit 10x
#: slower on 6,400 Amsterdam rows (13.2 s against 1.4 s on one) and 2.6-4.8x slower on
#: 32,000-66,000 London rows; spinning threads gained only 1.2-1.3x on London, lost on
#: Amsterdam, and stall a machine that runs anything else. Forests (joblib threads) gain.
SINGLE_THREADED = ("LGBMRegressor",)


def threaded(model: Any) -> Any:
    """The model with as many threads as the run has (core/settings.py), when it takes any
    and gains from them (not SINGLE_THREADED)."""
    if "n_jobs" in model.get_params() and type(model).__name__ not in SINGLE_THREADED:
        model.set_params(n_jobs=settings.local().threads)
    return model


def final_fits(exp: Any, tuned: Any, rows: Plan) -> tuple[Any, np.ndarray]:
    """The tuned pipeline fitted on every row (the served model) and its hold-out predictions
    when fitted on every training row."""
    if len(rows.sample) == len(rows.train):  # the experiment trained on every training row
        predicted = exp.predict_model(tuned, verbose=False)["prediction_label"].to_numpy()
        return exp.finalize_model(tuned), predicted  # on the experiment's rows: all of them
    final = exp.finalize_model(tuned)  # the sample and the hold-out: refitted below
    predicted = refit(final, rows.train).predict(rows.holdout.drop(columns=TARGET))
    return refit(final, rows.table), predicted


def fit(rows: Plan, sizes: Sizes, preset: str = "lean", budget: Budget | None = None,
        log_dir: Path | None = None, say: Say = print) -> Trained:
    """compare_models -> tune_model on the plan's sample, then the winner refitted on every
    training row (hold-out scores) and on every row (the served model)."""
    budget, seconds, clock = budget or Budget(None), {}, [time.monotonic()]

    def lap(step: str) -> None:
        seconds[step] = round(time.monotonic() - clock[0], 1)
        clock[0] = time.monotonic()

    progress = Progress(say)
    exp = experiment.setup_experiment(rows.sample, preset, sizes.folds, test_data=rows.holdout,
                                    log_dir=log_dir,
                                    fold_strategy=AnnouncedKFold(sizes.folds, SEED, progress))
    lap("setup")
    with progress:  # listens to PyCaret's log, which setup() has just made
        include = candidates(sizes, len(rows.sample), budget)
        best, compared = compare(exp, include, sizes.folds, budget, progress)
        lap("compare")
        per_fit = float(compared["TT (Sec)"].iloc[0])
        refit_s = 2 * per_fit * len(rows.table) / max(1, len(rows.sample))
        n_iter = tune_iterations(compared, best, sizes, budget,
                                 budgets.AFTER_TRAINING_S + refit_s)
        cost = n_iter * iteration_seconds(compared, best, sizes.folds)
        progress.step("tune", 0, f"{compared.index[0]}, {n_iter} iterations x {sizes.folds} "
                      f"folds, at most about {minutes(cost)}")
        tuned = threaded(experiment.tune(exp, threaded(best), n_iter) if n_iter else best)
        lap("tune")
        progress.step("final fit", 0, f"{compared.index[0]} on {len(rows.train):,} training "
                      f"rows, then all {len(rows.table):,}, about {minutes(refit_s)}")
        final, predicted = final_fits(exp, tuned, rows)
        lap("final_fit")
    X_test, y_test = rows.holdout.drop(columns=TARGET), rows.holdout[TARGET]
    base = baselines.baseline_lightgbm(rows.train.drop(columns=TARGET), rows.train[TARGET])
    return Trained(compared, compared.index[0], final, baselines.holdout_metrics(y_test, predicted),
                   baselines.holdout_metrics(y_test, baselines.baseline_predict(base, X_test)),
                   baselines.holdout_metrics(y_test, baselines.naive_predict(rows.train, X_test)),
                   len(rows.holdout), rows.curve, sizes, preset, n_iter, budget.cuts, seconds,
                   exp, tuned, rows, np.asarray(predicted, dtype=float))
