"""Cleaning by named rules: each rule is a function frame -> frame with keyword parameters;
`clean` applies them in order and reports how many rows and columns each removed (notebook
02's table)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from airbnb_price.core import config


def drop_review_columns(frame: pd.DataFrame,
                        columns: tuple[str, ...] = config.REVIEW_COLUMNS) -> pd.DataFrame:
    """A new host has no reviews yet: drop review history so the model cannot lean on it."""
    return frame.drop(columns=[c for c in columns if c in frame.columns])


def drop_missing_price(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows without a price cannot train a price model (common in recent snapshots)."""
    return frame[frame[config.TARGET].notna()]


def drop_price_outliers(frame: pd.DataFrame, min_price: float = config.MIN_PRICE,
                        max_price: float = config.MAX_PRICE) -> pd.DataFrame:
    """Keep prices in [min_price, max_price): placeholders (0, 1, 9999) and luxury outliers out."""
    price = frame[config.TARGET]
    return frame[(price >= min_price) & (price < max_price)]


Rule = Callable[..., pd.DataFrame]
RULES: dict[str, Rule] = {
    "drop_review_columns": drop_review_columns,
    "drop_missing_price": drop_missing_price,
    "drop_price_outliers": drop_price_outliers,
}


def default_rules(min_price: float = config.MIN_PRICE, max_price: float = config.MAX_PRICE,
                  drop_reviews: bool = True) -> list[tuple[str, dict]]:
    """The cleaning a feature set gets; `drop_reviews=False` only for one that reads review
    history (features.FeatureSet.uses_reviews)."""
    return [
        *([("drop_review_columns", {})] if drop_reviews else []),
        ("drop_missing_price", {}),
        ("drop_price_outliers", {"min_price": min_price, "max_price": max_price}),
    ]


def clean(frame: pd.DataFrame,
          rules: list[tuple[str, dict]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply rules in order; return the cleaned frame and a per-rule report."""
    report = []
    for name, params in rules if rules is not None else default_rules():
        if name not in RULES:
            raise ValueError(f"unknown cleaning rule {name!r}; known: {', '.join(RULES)}")
        before_rows, before_cols = frame.shape
        frame = RULES[name](frame, **params)
        report.append({"rule": name, "params": params, "rows_before": before_rows,
                       "rows_removed": before_rows - len(frame),
                       "columns_removed": before_cols - frame.shape[1], "rows_after": len(frame)})
    return frame.reset_index(drop=True), pd.DataFrame(report)
