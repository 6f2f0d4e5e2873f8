"""Snapshot drift (notebook 06): how listings and prices moved between two Inside Airbnb
snapshots, and how a model trained on one snapshot prices the other.

Both snapshots go through the same loading, validation and cleaning rules as training, and
the cross-scoring uses the plain LightGBM baseline on the shared feature table, so the figures
isolate the data's change, not a change of method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from airbnb_price.core import config, features
from airbnb_price.core.cities import City
from airbnb_price.core.params import RunParams
from airbnb_price.data.cleaning import clean, default_rules
from airbnb_price.data.listings import load_listings
from airbnb_price.data.sources import Source, resolve_source
from airbnb_price.train import baselines


def snapshot_sources(params: RunParams) -> dict[str, Source]:
    """The two snapshots' files by date: the run's listings and the comparison snapshot's
    (default config.COMPARE_SNAPSHOT, file from $AIRBNB_COMPARE_LISTINGS, cache or download)."""
    params = params.resolved()
    base = resolve_source(params.listings, params.city, params.snapshot,
                          data_folder=params.data_folder)
    other = params.compare_snapshot or config.COMPARE_SNAPSHOT
    return {str(base.snapshot): base,
            other: resolve_source(params.compare_listings, params.city, other,
                                  data_folder=params.data_folder,
                                  env_var=config.COMPARE_LISTINGS_ENV)}


def load_snapshots(sources: dict[str, Source], min_price: float, max_price: float
                   ) -> dict[str, pd.DataFrame]:
    """Cleaned listings per snapshot label, in the order given."""
    rules = default_rules(min_price, max_price)
    return {label: clean(load_listings(source).frame, rules)[0]
            for label, source in sources.items()}


def counts(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Listings per room type per snapshot (after cleaning), with a total row."""
    table = pd.DataFrame({label: frame["room_type"].value_counts()
                          for label, frame in frames.items()}).fillna(0).astype(int)
    table.loc["all listings"] = table.sum()
    return table


def median_price_by(frames: dict[str, pd.DataFrame], column: str) -> pd.DataFrame:
    """Median price per level of `column` per snapshot, and the change from the first to the
    last snapshot in percent; levels sorted by the first snapshot's median."""
    table = pd.DataFrame({label: frame.groupby(column)[config.TARGET].median()
                          for label, frame in frames.items()})
    first, last = table.columns[0], table.columns[-1]
    table["change_pct"] = (100 * (table[last] / table[first] - 1)).round(1)
    return table.sort_values(first, ascending=False)


def cross_scores(frames: dict[str, pd.DataFrame], city: City, test_size: float = 0.2,
                 seed: int = config.SEED) -> pd.DataFrame:
    """MAE and bias (mean predicted - actual, in the city's currency) of a model trained on
    each snapshot, scored on every snapshot's hold-out rows (the same rows for every model);
    distances are measured from the city's own centre."""
    from sklearn.model_selection import train_test_split

    splits = {label: train_test_split(features.feature_table(frame, centre=city.centre),
                                      test_size=test_size, random_state=seed)
              for label, frame in frames.items()}
    rows = []
    for trained_on, (train, _) in splits.items():
        model = baselines.baseline_lightgbm(train.drop(columns=config.TARGET),
                                           train[config.TARGET], seed)
        for scored_on, (_, test) in splits.items():
            predicted = baselines.baseline_predict(model, test.drop(columns=config.TARGET))
            actual = test[config.TARGET].to_numpy()
            rows.append({"trained_on": trained_on, "scored_on": scored_on,
                         "mae": round(float(np.mean(np.abs(predicted - actual))), 2),
                         "bias": round(float(np.mean(predicted - actual)), 2),
                         "currency": city.currency, "rows": len(test)})
    return pd.DataFrame(rows)


#: Retrain when the old model's MAE on the new snapshot exceeds the new model's by this factor.
RETRAIN_RATIO = 1.1


def verdict(scores: pd.DataFrame) -> str:
    """One sentence for the stakeholder: how far off the first snapshot's model is on the last
    snapshot, and whether that calls for retraining (RETRAIN_RATIO)."""
    first, last = scores["trained_on"].iloc[0], scores["scored_on"].iloc[-1]
    own = scores.query("trained_on == @last and scored_on == @last").iloc[0]
    old = scores.query("trained_on == @first and scored_on == @last").iloc[0]
    direction = "under" if old["bias"] < 0 else "over"
    advice = (f"retrain before pricing {last} listings"
              if old["mae"] > RETRAIN_RATIO * own["mae"] else "no retraining needed yet")
    money = old["currency"]
    return (f"A model trained on {first} {direction}prices {last} listings by {money} "
            f"{abs(old['bias']):.0f} on average (MAE {money} {old['mae']:.0f}, against {money} "
            f"{own['mae']:.0f} for a model trained on {last} itself): {advice}.")
