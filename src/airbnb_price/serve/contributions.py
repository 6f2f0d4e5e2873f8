"""Per-prediction contributions in the model's currency, shared by notebook 04 and the endpoint.

Tree SHAP values live in the model's target space (here a Yeo-Johnson transform of price),
where they add up to the transformed prediction, not to prices. `price_contributions` walks
the features from the largest |contribution| down, inverse-transforming the running total at
each step: every feature gets the price change it causes along that path (in the city's
currency), and those add up exactly to (prediction - base price). The order is a convention, stated in the reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from airbnb_price.serve.artifact import CompiledModel


class NotExplainable(TypeError):
    """The model's estimator has no tree SHAP implementation available here."""


def raw_contributions(model: CompiledModel, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(contributions per feature, base value) in target space for a transformed matrix X.

    A compiled model computes exact TreeSHAP from its own trees' structure and cover (the C
    evaluator, no shap or LightGBM needed); a LightGBM model published before the compiled
    engine uses LightGBM's own TreeSHAP; any other older model is compiled first
    (`airbnb-price model compile`).
    """
    estimator = model.estimator
    if hasattr(estimator, "contributions"):
        return estimator.contributions(X)
    if type(estimator).__module__.startswith("lightgbm"):
        out = estimator.predict(X, pred_contrib=True)
        return out[:, :-1], out[:, -1]
    raise NotExplainable(f"{type(estimator).__name__} was published before the compiled engine: "
                         "`airbnb-price model compile` gives it compiled trees that explain")


def price_contributions(model: CompiledModel, contributions: np.ndarray,
                        base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert target-space contributions to the city's currency (see module docstring);
    returns (price contributions with the same shape, base price per row)."""
    order = np.argsort(-np.abs(contributions), axis=1)
    ordered = np.take_along_axis(contributions, order, axis=1)
    path = np.concatenate([base[:, None], base[:, None] + np.cumsum(ordered, axis=1)], axis=1)
    prices_path = model.to_prices(path.ravel()).reshape(path.shape)
    moves = np.empty_like(contributions)
    np.put_along_axis(moves, order, np.diff(prices_path, axis=1), axis=1)
    return moves, prices_path[:, 0]


def explain(model: CompiledModel, table: Any, top: int = 5) -> list[dict]:
    """For each row: price, base price and the `top` largest contributions, in the model's
    currency."""
    X = model.transform(table)
    raw, base = raw_contributions(model, X)
    moves, base = price_contributions(model, raw, base)
    prices = base + moves.sum(axis=1)  # contributions add up to the price: no second predict
    names = model.feature_names
    result = []
    for i in range(len(X)):
        idx = np.argsort(-np.abs(moves[i]))[:top]
        result.append({"price": round(float(prices[i]), 2),
                       "base": round(float(base[i]), 2),
                       "contributions": [{"feature": names[j], "value": round(float(moves[i, j]), 2)}
                                         for j in idx]})
    return result
