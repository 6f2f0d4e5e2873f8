"""Cleaning by named rules: each rule is a function frame -> frame with keyword parameters;
`clean` applies them in order and reports how many rows and columns each removed (notebook
02's table)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from airbnb_price.core import cities, config
from airbnb_price.data.listings import INVALID

#: Columns Inside Airbnb computes from price and bookings (newer detailed files): a model
#: that read them would be reading the answer.
COMPUTED_FROM_PRICE = ("estimated_occupancy_l365d", "estimated_revenue_l365d")
#: Percentiles of a city's prices that bound its derived window.
WINDOW_QUANTILES = (0.01, 0.99)


def _round_out(value: float, up: bool) -> float:
    """`value` rounded to two significant figures, away from the window's inside."""
    if value <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(value)) - 1)
    return float((math.ceil if up else math.floor)(value / scale) * scale)


def price_window(prices: pd.Series, city: cities.City) -> tuple[float, float, str]:
    """A city's price window [min, max) in its currency and where it comes from: the
    catalogue's when it has one (Amsterdam: the article's [25, 500)), else the 1st and 99th
    percentiles of the file's positive prices rounded outwards to two significant figures,
    which drops placeholders (0, 1, 99999) and the luxury tail in any currency."""
    if city.price_window:
        return (*map(float, city.price_window), "catalogue")
    positive = prices[prices > 0].dropna()
    if positive.empty:
        raise ValueError(f"{city.name}: no listing has a price: nothing to model")
    low, high = (float(positive.quantile(q)) for q in WINDOW_QUANTILES)
    low = _round_out(low, up=False)
    return (low, max(_round_out(high, up=True), low + 1),
            "1st-99th percentile of the file's prices")


def drop_invalid_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a blank, non-numeric or out-of-range value the model needs (validation gave
    each its reason); a file with more than a few is refused when it is read."""
    if INVALID not in frame:
        return frame
    return frame[frame[INVALID].isna()].drop(columns=INVALID)


def drop_computed_columns(frame: pd.DataFrame,
                          columns: tuple[str, ...] = COMPUTED_FROM_PRICE) -> pd.DataFrame:
    """Inside Airbnb's occupancy and revenue estimates are computed from the price: never
    model inputs."""
    return frame.drop(columns=[c for c in columns if c in frame.columns])


def drop_review_columns(frame: pd.DataFrame,
                        columns: tuple[str, ...] = config.REVIEW_COLUMNS) -> pd.DataFrame:
    """A new host has no reviews yet: drop review history so the model cannot lean on it."""
    return frame.drop(columns=[c for c in columns if c in frame.columns])


def drop_missing_price(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows without a price cannot train a price model (common in recent snapshots)."""
    return frame[frame[config.TARGET].notna()]


def drop_price_outliers(frame: pd.DataFrame, min_price: float, max_price: float
                        ) -> pd.DataFrame:
    """Keep prices in [min_price, max_price): placeholders (0, 1, 9999) and luxury outliers out."""
    price = frame[config.TARGET]
    return frame[(price >= min_price) & (price < max_price)]


Rule = Callable[..., pd.DataFrame]
RULES: dict[str, Rule] = {
    "drop_invalid_rows": drop_invalid_rows,
    "drop_computed_columns": drop_computed_columns,
    "drop_review_columns": drop_review_columns,
    "drop_missing_price": drop_missing_price,
    "drop_price_outliers": drop_price_outliers,
}


def default_rules(min_price: float, max_price: float, drop_reviews: bool = True
                  ) -> list[tuple[str, dict]]:
    """The cleaning a feature set gets, within the city's price window (no default: each
    city has its own, `price_window`); `drop_reviews=False` only for one that reads review
    history (features.FeatureSet.uses_reviews)."""
    return [
        ("drop_invalid_rows", {}),
        ("drop_computed_columns", {}),
        *([("drop_review_columns", {})] if drop_reviews else []),
        ("drop_missing_price", {}),
        ("drop_price_outliers", {"min_price": min_price, "max_price": max_price}),
    ]


def clean(frame: pd.DataFrame, rules: list[tuple[str, dict]]
          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply rules in order; return the cleaned frame and a per-rule report."""
    report = []
    for name, params in rules:
        if name not in RULES:
            raise ValueError(f"unknown cleaning rule {name!r}; known: {', '.join(RULES)}")
        before_rows, before_cols = frame.shape
        frame = RULES[name](frame, **params)
        report.append({"rule": name, "params": params, "rows_before": before_rows,
                       "rows_removed": before_rows - len(frame),
                       "columns_removed": before_cols - frame.shape[1], "rows_after": len(frame)})
    return frame.reset_index(drop=True), pd.DataFrame(report)
