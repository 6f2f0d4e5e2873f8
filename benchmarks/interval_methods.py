"""Is the range's width the method's or the data's? The project's range (split-conformal
normalised by a difficulty model) against conformalised quantile regression (CQR, Romano et
al. 2019: LightGBM quantile models of the log price at the range's tails, widened by the
conformity scores of the same calibration rows), out of fold on the same folds, plans and
fitted pipelines (intervals.py's `out_of_fold`).

If CQR is no narrower where the project's range misses the 0.8x-naive width target, the width
is set by how much the listing's columns tell about its price (the point model's error), not
by the way the range is calibrated.

And whether more calibration rows steady the coverage of small cities (a few hundred
listings, so a few dozen calibration rows per fold): cross-conformal scores every training row
by a refit of the pipeline that did not see it (`cross`), five times the rows, at the price of
refits on four fifths of them (weaker than the served model where the learning curve is still
steep). And whether a quantile per side (`asymmetric`: signed scores) narrows the range where
errors are skewed.

Usage: python benchmarks/interval_methods.py [--cities amsterdam valencia ...] [--feature-sets
summary] [--folds 5]
Writes results/interval_methods.json.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from cities import SHARED, feature_sets_of
from common import write
from intervals import Fold, normalised, out_of_fold, score
from lightgbm import LGBMRegressor
from sklearn.model_selection import KFold

from airbnb_price.core import config, spec
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables
from airbnb_price.serve import ranges
from airbnb_price.serve.ranges import DEFAULT_LEVEL
from airbnb_price.train import intervals, training

#: The quantile models: as small as the difficulty model (train/intervals.DIFFICULTY_PARAMS).
QUANTILE_PARAMS = {"n_estimators": 400, "learning_rate": 0.03, "num_leaves": 15,
                   "min_child_samples": 20, "subsample": 0.8, "subsample_freq": 1,
                   "verbose": -1, "random_state": config.SEED, "n_jobs": 1}


def cqr(fold: Fold) -> tuple[np.ndarray, np.ndarray]:
    """CQR at DEFAULT_LEVEL: quantile models on the training rows (the pipeline's own
    features), conformity scores max(low - y, y - high) in log price on the hold-out's
    rows (every hold-out row, as the project's range calibrates on)."""
    tails = ((1 - DEFAULT_LEVEL) / 2, (1 + DEFAULT_LEVEL) / 2)
    X = fold.compiled.transform(fold.rows.train.drop(columns=config.TARGET))
    y = np.log(fold.rows.train[config.TARGET].to_numpy(dtype=float))
    low, high = (LGBMRegressor(objective="quantile", alpha=a, **QUANTILE_PARAMS).fit(X, y)
                 for a in tails)
    part = fold.rows.holdout
    Xc = fold.compiled.transform(part.drop(columns=config.TARGET))
    yc = np.log(part[config.TARGET].to_numpy(dtype=float))
    scores = np.sort(np.maximum(low.predict(Xc) - yc, yc - high.predict(Xc)))
    rank = min(len(scores), int(np.ceil((len(scores) + 1) * DEFAULT_LEVEL))) - 1
    test = fold.compiled.transform(fold.X)
    return (np.exp(low.predict(test) - scores[rank]), np.exp(high.predict(test) + scores[rank]))


def cross(fold: Fold) -> tuple[np.ndarray, np.ndarray]:
    """Cross-conformal (MAPIE's "cv" method, normalised): every training row's conformity
    score from a refit of the pipeline and a difficulty model that did not see it (5 folds),
    so the quantile rests on all the training rows instead of the hold-out alone;
    the served difficulty model learns from every row's out-of-fold error."""
    train = fold.rows.train
    X, y = train.drop(columns=config.TARGET), train[config.TARGET]
    matrix = fold.compiled.transform(X)
    splits = list(KFold(5, shuffle=True, random_state=config.SEED).split(X))
    errors, widths = np.empty(len(train)), np.empty(len(train))
    for fit, scored in splits:
        refitted = training.refit(fold.pipeline, train.iloc[fit])
        errors[scored] = intervals._log_errors(y.iloc[scored],
                                               refitted.predict(X.iloc[scored]))
    floor = max(float(np.quantile(errors, 0.05)), 1e-3)
    for fit, scored in splits:
        widths[scored] = difficulty(matrix[fit], errors[fit]).predict(matrix[scored])
    calibration = ranges.Calibration(difficulty(matrix, errors),
                                     np.sort(errors / np.maximum(widths, floor)), floor)
    return calibration.bounds(fold.compiled.transform(fold.X), fold.prices, DEFAULT_LEVEL)


def asymmetric(fold: Fold) -> tuple[np.ndarray, np.ndarray]:
    """The project's range with a quantile per side: the same difficulty model and
    calibration rows, signed scores (log price - log predicted) / difficulty, the lower bound
    at the (1 - level) / 2 quantile and the upper at (1 + level) / 2 (each side misses at most
    half, so the guarantee holds); narrower where the errors are skewed."""
    calibration = intervals.calibrate(fold.compiled, fold.rows.train, fold.rows.holdout,
                                      fold.holdout_prices)
    part = fold.rows.holdout
    signed = np.sort((np.log(part[config.TARGET].to_numpy(dtype=float))
                      - np.log(fold.holdout_prices))
                     / calibration.widths(fold.compiled.transform(part.drop(columns=config.TARGET))))
    n, tail = len(signed), (1 - DEFAULT_LEVEL) / 2
    low = signed[max(0, int(np.floor((n + 1) * tail)) - 1)]
    high = signed[min(n, int(np.ceil((n + 1) * (1 - tail)))) - 1]
    widths = calibration.widths(fold.compiled.transform(fold.X))
    return fold.prices * np.exp(low * widths), fold.prices * np.exp(high * widths)


def difficulty(matrix: np.ndarray, errors: np.ndarray) -> LGBMRegressor:
    return LGBMRegressor(**intervals.DIFFICULTY_PARAMS).fit(matrix, errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cities", nargs="*", default=["albany", "amsterdam", "valencia",
                                                        "victoria"])
    parser.add_argument("--feature-sets", nargs="*", default=["summary"])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    result: dict = {"level": DEFAULT_LEVEL, "folds": args.folds, "cities": {}}
    for city in args.cities:
        for feature_set in (f for f in feature_sets_of(SHARED, city) if f in args.feature_sets):
            table = tables.prepare(RunParams(city=city, feature_set=feature_set,
                                             data_folder=str(SHARED))).table
            found = out_of_fold(table, args.folds, {"normalised": normalised, "cqr": cqr,
                                                      "cross": cross, "asymmetric": asymmetric})
            scored = {name: score(frame) for name, frame in found.items()}
            result["cities"][spec.get(city, feature_set).name] = scored
            print(city, feature_set, {name: (r["coverage"], r["width_vs_naive"])
                                      for name, r in scored.items()}, flush=True)
    write("interval_methods", result)


if __name__ == "__main__":
    main()
