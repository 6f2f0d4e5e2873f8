"""Every city of a data folder (default ../shared/data), each feature set its files allow:
5-fold CV MAE, R^2 and MAE as a share of the median price for the pipeline (PyCaret lean
preset, LightGBM tuned in each fold as notebook 03 tunes it), a plain LightGBM on the same
features, and the naive baseline (median price per neighbourhood x room type), all in one run
on the same folds.

Usage: python benchmarks/cities.py [--data-folder DIR] [--folds 5] [--tune-iterations 5]
                                   [--cities austin london]
Writes results/cities.json. Targets (issue 22): the pipeline's MAE not more than 1% above the
plain LightGBM in every city, and at least 37% below the naive baseline on a file whose names
are Airbnb's listing cards (Austin 2023-09-10). The earlier 15%-below-naive target for summary
files is retired: independent runs put plain LightGBM at 10-15% there too.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from common import RESULTS, write
from model_quality import cross_validate

from airbnb_price.core import config, features, spec
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables

SHARED = config.PROJECT_ROOT.parent / "shared" / "data"
#: A file of listing cards: the pipeline's MAE at least this far below the naive baseline.
CARD_TARGET = 0.37


def feature_sets_of(folder: Path, city: str) -> list[str]:
    """The feature sets a city's files allow (summary; detailed when it has that file)."""
    files = {p.name for p in (folder / city).glob("*/*")}
    return [name for name, chosen in features.FEATURE_SETS.items()
            if chosen.source.name in files and not chosen.uses_reviews]


def score(city: str, feature_set: str, folder: Path, folds: int, tune: int) -> dict:
    prepared = tables.prepare(RunParams(city=city, feature_set=feature_set,
                                        data_folder=str(folder)))
    table, run = prepared.table, prepared.run
    result = cross_validate(table, folds, tune)
    median = float(table[config.TARGET].median())
    for name in ("pipeline", "baseline_lightgbm", "naive_median"):
        result[name]["mae_share_of_median"] = round(result[name]["mae"] / median, 4)
    pipeline, naive, plain = (result[k]["mae"] for k in
                              ("pipeline", "naive_median", "baseline_lightgbm"))
    result["vs_naive"] = round(1 - pipeline / naive, 4)
    result["vs_lightgbm"] = round(pipeline / plain - 1, 4)
    cards = features.reads_cards(table.columns)
    result["cards"] = cards
    result["targets_met"] = result["vs_lightgbm"] <= 0.01 and (not cards or
                                                              result["vs_naive"] >= CARD_TARGET)
    result["setup"] = {"rows": len(table), "currency": run.city.currency,
                       "snapshot": run.params.snapshot, "median_price": median,
                       "price_window": [run.params.min_price, run.params.max_price],
                       "window_rule": run.window_rule, "folds": folds, "tune_iterations": tune}
    print(f"{city:10s} {feature_set:8s} MAE pipeline {pipeline:.2f} / LightGBM {plain:.2f} / "
          f"naive {naive:.2f} {run.city.currency}: {result['vs_naive']:.1%} below naive, "
          f"{result['vs_lightgbm']:+.1%} vs LightGBM")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-folder", type=Path, default=SHARED)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tune-iterations", type=int, default=5)
    parser.add_argument("--cities", nargs="*", help="only these cities (default: every one)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    earlier = RESULTS / "cities.json"
    result: dict = {"cities": json.loads(earlier.read_text())["cities"]
                    if args.cities and earlier.is_file() else {}}  # a subset updates its rows
    for city in sorted(p.name for p in args.data_folder.iterdir() if p.is_dir()
                       and (not args.cities or p.name in args.cities)):
        for feature_set in feature_sets_of(args.data_folder, city):
            key = spec.get(city, feature_set).name
            result["cities"][key] = score(city, feature_set, args.data_folder, args.folds,
                                          args.tune_iterations)
    result["all_targets_met"] = all(r["targets_met"] for r in result["cities"].values())
    write("cities", result)
    print(json.dumps({k: v["targets_met"] for k, v in result["cities"].items()}))


if __name__ == "__main__":
    main()
