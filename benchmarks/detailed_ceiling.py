"""How far the detailed file's columns can take a price model: the evidence behind issue 6's
R^2 gap. A plain LightGBM on log price (fixed, tuned-by-hand parameters, the same 5 folds as
model_quality.py) on:

- issue baseline: the handful of columns behind the issue's reference point (R^2 ~ 0.55,
  MAE ~ EUR 39), measured in the same run so the other variants read as gains over it;
- detailed: the detailed feature set (what the pipeline trains on);
- log + euro blend: the detailed set, averaging the log-price model with one trained on
  squared error in euros (the loss R^2 measures);
- + other host columns: plus every remaining column a new host knows (host tenure, response
  time, licence, verifications, profile texts' lengths, nightly-minimum averages);
- + text: plus a TF-IDF ridge score of the title and description, stacked out-of-fold inside
  each training fold (so no test row's price reaches a training feature);
- + reviews: plus the review history (counts, scores, reviews per month), which a new host
  cannot know: the "existing" feature set, the existing-listing variant;
- + reviews + text: both.

Usage: python benchmarks/detailed_ceiling.py [--listings PATH]   (default $AIRBNB_DETAILED_LISTINGS)
Writes results/detailed_ceiling.json (mae, r2 per variant). Measurements, not a model we serve.
"""

from __future__ import annotations

import argparse
import functools
import time
import warnings

import numpy as np
import pandas as pd
from common import write
from lightgbm import LGBMRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from airbnb_price.core import cities, config, features
from airbnb_price.data import cleaning, listings, sources
from airbnb_price.train import baselines

PARAMS = {"n_estimators": 600, "learning_rate": 0.03, "num_leaves": 31, "min_child_samples": 20,
          "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.7}
BASELINE = ("accommodates", "bedrooms", "beds", "bathrooms", "bathrooms_shared", "room_type",
            "property_type", "amenities_count", "neighbourhood", "latitude", "longitude",
            "host_is_superhost", "calculated_host_listings_count", "minimum_nights",
            "availability_365")


def text_scores(texts: np.ndarray, log_price: np.ndarray, train: np.ndarray,
                test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold scores for the training rows, scores for the test rows) of a TF-IDF ridge
    fitted on training rows only."""
    def fit_score(fit_rows: np.ndarray, score_rows: np.ndarray) -> np.ndarray:
        vectorizer = TfidfVectorizer(min_df=2, ngram_range=(1, 2), sublinear_tf=True,
                                     max_features=100_000)
        ridge = Ridge(alpha=1.0).fit(vectorizer.fit_transform(texts[fit_rows]),
                                     log_price[fit_rows])
        return ridge.predict(vectorizer.transform(texts[score_rows]))

    oof = np.zeros(len(train))
    for inner_fit, inner_score in KFold(5, shuffle=True, random_state=0).split(train):
        oof[inner_score] = fit_score(train[inner_fit], train[inner_score])
    return oof, fit_score(train, test)


def other_host_columns(frame: pd.DataFrame, snapshot: str) -> pd.DataFrame:
    """The detailed file's remaining pre-review columns, as numbers or categories."""
    number = functools.partial(pd.to_numeric, errors="coerce")
    return pd.DataFrame({
        "host_days": (pd.Timestamp(snapshot) - pd.to_datetime(frame["host_since"],
                                                              errors="coerce")).dt.days,
        "host_response_time": frame["host_response_time"].astype("category"),
        "license_exempt": frame["license"].str.contains("exempt", case=False, na=False),
        "license_missing": frame["license"].isna(),
        "availability_60": number(frame["availability_60"]),
        "minimum_nights_avg_ntm": number(frame["minimum_nights_avg_ntm"]),
        "host_total_listings_count": number(frame["host_total_listings_count"]),
        "host_verifications": frame["host_verifications"].fillna("").str.count("'") / 2,
        "host_about_length": frame["host_about"].fillna("").str.len(),
        "neighborhood_overview_length": frame["neighborhood_overview"].fillna("").str.len(),
        "host_in_amsterdam": frame["host_location"].str.contains("Amsterdam", na=False),
    }, index=frame.index).astype({"license_exempt": int, "license_missing": int,
                                  "host_in_amsterdam": int})


def cross_validate(X: pd.DataFrame, price: np.ndarray, texts: np.ndarray | None,
                   blend: bool = False) -> dict:
    """Mean MAE and R^2 in euros; `blend` averages the log-price model with one fitted on
    squared error in euros, the objective R^2 itself rewards."""
    log_price = np.log(price)
    scores = []
    for train, test in KFold(5, shuffle=True, random_state=config.SEED).split(X):
        X_train, X_test = X.iloc[train].copy(), X.iloc[test].copy()
        if texts is not None:
            X_train["text_score"], X_test["text_score"] = text_scores(texts, log_price, train,
                                                                      test)
        model = LGBMRegressor(random_state=config.SEED, n_jobs=2, verbose=-1, **PARAMS)
        predicted = np.exp(model.fit(X_train, log_price[train]).predict(X_test))
        if blend:
            euros = LGBMRegressor(random_state=config.SEED, n_jobs=2, verbose=-1, **PARAMS)
            predicted = (predicted + euros.fit(X_train, price[train]).predict(X_test)) / 2
        scores.append(baselines.holdout_metrics(price[test], predicted))
    return {k: round(float(np.mean([s[k] for s in scores])), 4) for k in ("mae", "r2")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    snapshot = config.DETAILED_FILE.default_snapshot
    loaded = listings.load_listings(sources.resolve_source(args.listings, snapshot=snapshot,
                                                    kind="detailed"))
    # the review columns stay, so the review variants can use them
    frame, _ = cleaning.clean(loaded.frame, cleaning.default_rules(
        *cities.lookup("amsterdam").price_window, drop_reviews=False))
    X, with_reviews = (baselines.native_categoricals(features.feature_table(
        frame, target=None, centre=cities.lookup("amsterdam").centre, feature_set=chosen)) for chosen in (features.DETAILED, features.EXISTING))
    texts = (frame["name"].fillna("") + " " + frame["description"].fillna("")).to_numpy()
    price = frame[config.TARGET].to_numpy(dtype=float)
    result = {
        "issue baseline": cross_validate(X[list(BASELINE)], price, None),
        "detailed": cross_validate(X, price, None),
        "detailed, log + euro blend": cross_validate(X, price, None, blend=True),
        "detailed + other host columns": cross_validate(
            pd.concat([X, other_host_columns(frame, snapshot)], axis=1), price, None),
        "detailed + text": cross_validate(X, price, texts),
        "detailed + reviews": cross_validate(with_reviews, price, None),
        "detailed + reviews + text": cross_validate(with_reviews, price, texts),
    }
    write("detailed_ceiling", {"variants": result, "rows": len(frame), "folds": 5,
                               "data_sha256": loaded.sha256, "params": PARAMS,
                               "targets": {"mae": 36.0, "r2": 0.65},
                               "seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
