"""Price ranges out of fold: coverage and width of the calibrated 80% range in every shared
city and feature set, against the naive range, all on the same folds in one run.

Each outer fold's training rows go through what a run does (`training.plan`: a fifth held
out; the lean PyCaret pipeline with LightGBM fitted on the rest; `intervals.calibrate` on the
held-out fifth), and the range is scored on the outer fold's test rows, which no step saw.
The naive range is the 10th-90th percentile of the training prices in the listing's
neighbourhood x room type.

Usage: python benchmarks/intervals.py [--data-folder DIR] [--folds 5] [--cities ...]
                                      [--repeats K]
Writes results/intervals.json. Targets (issue 22): coverage between 78% and 82% in every
city, at least 72% in every room type with 100+ listings, mean width at most 0.8x the naive
range's.

With --repeats K (> 1) it measures instead how far the coverage moves by chance alone: the
same out-of-fold run under K shuffles of the outer folds (so K draws of calibration and test
rows), per city; results/intervals_spread.json. A small city's few dozen calibration rows per
fold make its measured coverage a draw, and this is its spread.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from cities import SHARED, feature_sets_of
from common import write
from sklearn.model_selection import KFold

from airbnb_price.core import config, spec
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables
from airbnb_price.serve.ranges import DEFAULT_LEVEL
from airbnb_price.train import compiler, experiment, intervals, training

ROOM_TYPE_MIN = 100


@dataclass(frozen=True)
class Fold:
    """One outer fold as a run sees it: its plan (training rows, a hold-out), the pipeline
    fitted on the training rows, compiled, the hold-out's honest prices, the test rows."""

    rows: training.Plan
    pipeline: object
    compiled: object
    holdout_prices: np.ndarray
    X: pd.DataFrame
    prices: np.ndarray


def normalised(fold: Fold) -> tuple[np.ndarray, np.ndarray]:
    """The project's range (train/intervals.py): split-conformal, normalised by a difficulty
    model."""
    calibration = intervals.calibrate(fold.compiled, fold.rows.train, fold.rows.holdout,
                                      fold.holdout_prices)
    return calibration.bounds(fold.compiled.transform(fold.X), fold.prices, DEFAULT_LEVEL)


def out_of_fold(table: pd.DataFrame, folds: int,
                methods: dict[str, Callable[[Fold], tuple[np.ndarray, np.ndarray]]],
                seed: int = config.SEED) -> dict[str, pd.DataFrame]:
    """Every row's range by each method and its naive range, from the fold it was a test row
    in (each method on the same folds, plans and fitted pipelines; `seed` shuffles the folds)."""
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in methods}
    for train, test in KFold(folds, shuffle=True, random_state=seed).split(table):
        tr, te = table.iloc[train], table.iloc[test]
        rows = training.plan(tr)
        exp = experiment.setup_experiment(rows.train, "lean", folds=2, test_data=rows.holdout)
        model = exp.create_model("lightgbm", verbose=False)
        fitted = training.refit(exp.finalize_model(model), rows.train)
        X = te.drop(columns=config.TARGET)
        fold = Fold(rows, fitted, compiler.compile_pipeline(fitted, rows.train.drop(columns=config.TARGET)),
                    fitted.predict(rows.holdout.drop(columns=config.TARGET)), X, fitted.predict(X))
        naive = intervals.naive_ranges(tr, X, DEFAULT_LEVEL)
        for name, method in methods.items():
            low, high = method(fold)
            parts[name].append(pd.DataFrame({
                "price": te[config.TARGET].to_numpy(), "low": low, "high": high,
                "naive_low": naive[:, 0], "naive_high": naive[:, 1],
                "room_type": te["room_type"].to_numpy()}))
    return {name: pd.concat(found, ignore_index=True) for name, found in parts.items()}


def score(frame: pd.DataFrame) -> dict:
    inside = (frame["low"] <= frame["price"]) & (frame["price"] <= frame["high"])
    naive_inside = (frame["naive_low"] <= frame["price"]) & (frame["price"] <= frame["naive_high"])
    width = float((frame["high"] - frame["low"]).mean())
    naive_width = float((frame["naive_high"] - frame["naive_low"]).mean())
    rooms = {room: round(float(inside[frame["room_type"] == room].mean()), 4)
             for room, n in frame["room_type"].value_counts().items() if n >= ROOM_TYPE_MIN}
    coverage = float(inside.mean())
    result = {"listings": len(frame), "coverage": round(coverage, 4),
              "naive_coverage": round(float(naive_inside.mean()), 4),
              "mean_width": round(width, 2), "naive_mean_width": round(naive_width, 2),
              "width_vs_naive": round(width / naive_width, 3),
              "coverage_by_room_type": rooms}
    result["targets_met"] = {
        "coverage_78_82": 0.78 <= coverage <= 0.82,
        "room_types_72": all(v >= 0.72 for v in rooms.values()),
        "width_0.8x_naive": width / naive_width <= 0.8}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-folder", type=Path, default=SHARED)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cities", nargs="*")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.repeats > 1:
        return spread(args)
    result: dict = {"level": DEFAULT_LEVEL, "folds": args.folds, "cities": {}}
    for name, table in tables_of(args):
        scored = score(out_of_fold(table, args.folds, {"normalised": normalised})["normalised"])
        result["cities"][name] = scored
        print(name, {k: scored[k] for k in ("coverage", "width_vs_naive")}, flush=True)
    met = [all(r["targets_met"].values()) for r in result["cities"].values()]
    result["all_targets_met"] = bool(met) and all(met)
    result["coverage_range"] = [min(r["coverage"] for r in result["cities"].values()),
                                max(r["coverage"] for r in result["cities"].values())]
    result["width_vs_naive_range"] = [min(r["width_vs_naive"] for r in result["cities"].values()),
                                      max(r["width_vs_naive"] for r in result["cities"].values())]
    write("intervals", result)


def tables_of(args: argparse.Namespace) -> Iterator[tuple[str, pd.DataFrame]]:
    """(model name, feature table) of every city and feature set chosen."""
    for city in sorted(p.name for p in args.data_folder.iterdir() if p.is_dir()
                       and (not args.cities or p.name in args.cities)):
        for feature_set in feature_sets_of(args.data_folder, city):
            yield spec.get(city, feature_set).name, tables.prepare(RunParams(
                city=city, feature_set=feature_set, data_folder=str(args.data_folder))).table


def spread(args: argparse.Namespace) -> None:
    """The coverage under --repeats shuffles of the outer folds, per city and feature set."""
    result: dict = {"level": DEFAULT_LEVEL, "folds": args.folds, "repeats": args.repeats,
                    "cities": {}}
    for name, table in tables_of(args):
        coverage = np.array([score(out_of_fold(table, args.folds, {"normalised": normalised},
                                               config.SEED + r)["normalised"])["coverage"]
                             for r in range(args.repeats)])
        result["cities"][name] = {
            "listings": len(table), "coverages": coverage.round(4).tolist(),
            "mean": round(float(coverage.mean()), 4), "sd": round(float(coverage.std(ddof=1)), 4),
            "share_within_78_82": round(float(np.mean((coverage >= 0.78) & (coverage <= 0.82))), 2)}
        print(name, result["cities"][name], flush=True)
    write("intervals_spread", result)


if __name__ == "__main__":
    main()
