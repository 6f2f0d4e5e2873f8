"""Exploratory summaries: the ydata-profiling report and compact tables for the EDA notebook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from airbnb_price.config import SEED, TARGET

#: Smoke runs profile a sample: the full report takes ~1 min, the sample a few seconds.
SMOKE_SAMPLE_ROWS = 1_000


def profile_report(frame: pd.DataFrame, dest: Path, smoke: bool = False, title: str = "") -> Path:
    """Write a ydata-profiling HTML report of `frame` to `dest` (minimal and sampled on smoke)."""
    from ydata_profiling import ProfileReport

    if smoke and len(frame) > SMOKE_SAMPLE_ROWS:
        frame = frame.sample(SMOKE_SAMPLE_ROWS, random_state=SEED)
    report = ProfileReport(frame, title=title or "Listings profile", minimal=smoke,
                           progress_bar=False)
    dest.parent.mkdir(parents=True, exist_ok=True)
    report.to_file(dest, silent=True)
    return dest


def column_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """dtype, blank count and distinct count per column: the schema as the data has it."""
    return pd.DataFrame({
        "dtype": frame.dtypes.astype(str),
        "blank": frame.isna().sum(),
        "distinct": frame.nunique(),
    })


def price_summary(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Listing count and median/mean price per level of `by`, most expensive first."""
    return (frame.groupby(by)[TARGET].agg(listings="size", median="median", mean="mean")
            .round(1).sort_values("median", ascending=False))
