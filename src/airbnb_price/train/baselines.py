"""The bars AutoML must clear, scored the same way: a plain LightGBM on log price with
native categoricals, and the naive neighbourhood x room-type median; hold-out metrics in the
city's currency."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from airbnb_price.core.config import SEED, TARGET
from airbnb_price.core.features import categorical_columns
from airbnb_price.train.experiment import N_JOBS


def holdout_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MAE, RMSE, R^2 and MAPE in the city's currency, rounded to cents/4 decimals for stable reports."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    err = y_pred - y_true
    return {
        "mae": round(float(np.mean(np.abs(err))), 2),
        "rmse": round(float(np.sqrt(np.mean(err**2))), 2),
        "r2": round(float(1 - np.sum(err**2) / np.sum((y_true - y_true.mean()) ** 2)), 4),
        "mape": round(float(np.mean(np.abs(err) / y_true)), 4),
    }


def baseline_lightgbm(X_train: pd.DataFrame, y_train: Any, seed: int = SEED):
    """Plain LightGBM on log price with native categoricals: the bar AutoML must clear."""
    from lightgbm import LGBMRegressor

    model = LGBMRegressor(random_state=seed, n_jobs=N_JOBS, verbose=-1)
    model.fit(native_categoricals(X_train), np.log(np.asarray(y_train, dtype=float)))
    return model


def baseline_predict(model: Any, X: pd.DataFrame) -> np.ndarray:
    return np.exp(model.predict(native_categoricals(X)))


def naive_predict(train: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
    """The naive baseline: the median training price of the listing's neighbourhood and room
    type, else of its room type, else of the city (what a host would guess from the map)."""
    prices = train[TARGET]
    by_both = prices.groupby([train["neighbourhood"], train["room_type"]]).median()
    by_room = prices.groupby(train["room_type"]).median()
    keys = pd.MultiIndex.from_arrays([X["neighbourhood"], X["room_type"]])
    guess = pd.Series(by_both.reindex(keys).to_numpy(), index=X.index)
    guess = guess.fillna(pd.Series(by_room.reindex(X["room_type"]).to_numpy(), index=X.index))
    return guess.fillna(prices.median()).to_numpy(dtype=float)


def native_categoricals(X: pd.DataFrame) -> pd.DataFrame:
    """A copy with the categorical inputs as pandas categories, which LightGBM splits natively."""
    X = X.copy()
    for column in categorical_columns(X):
        X[column] = X[column].astype("category")
    return X
