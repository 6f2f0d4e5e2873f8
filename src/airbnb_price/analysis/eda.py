"""Exploratory summaries: the ydata-profiling report and compact tables for the EDA notebook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from airbnb_price.core.config import SEED, TARGET, sizes

#: Full report settings. ydata-profiling's defaults took 189 s on 2,000 of these rows (phi_k
#: and pairwise interactions over high-cardinality columns); with one "auto" correlation and
#: no interaction grid the report of all 16,724 rows takes ~6 s.
FULL_REPORT = {
    "interactions": None,
    "correlations": {"auto": {"calculate": True},
                     **{kind: {"calculate": False}
                        for kind in ("pearson", "spearman", "kendall", "phi_k", "cramers")}},
}


#: Word clouds of text columns fail on some cities' files ("Couldn't find space to draw" from
#: wordcloud, on Albany's detailed file); the common-words tables stay.
NO_WORD_CLOUDS = {"text": {"words": False}}


def profile_report(frame: pd.DataFrame, dest: Path, smoke: bool = False, title: str = "") -> Path:
    """Write a ydata-profiling HTML report of `frame` to `dest` (minimal and on a sample of
    `config.SIZES["smoke"]["profile_rows"]` rows on smoke: a few seconds)."""
    from ydata_profiling import ProfileReport

    rows = sizes(smoke)["profile_rows"]
    if rows and len(frame) > rows:
        frame = frame.sample(rows, random_state=SEED)
    report = ProfileReport(frame, title=title or "Listings profile", progress_bar=False,
                           vars=NO_WORD_CLOUDS, **({"minimal": True} if smoke else FULL_REPORT))
    dest.parent.mkdir(parents=True, exist_ok=True)
    report.to_file(dest, silent=True)
    return dest


def column_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """dtype, blank count and distinct count per column: the schema as the data has it."""
    return pd.DataFrame({
        "dtype": frame.dtypes.astype(str),
        "blank": frame.isna().sum(),
        "distinct": frame.nunique(),
    })


def price_stats(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Listing count and median/mean price per level of `by`, most expensive first."""
    return (frame.groupby(by)[TARGET].agg(listings="size", median="median", mean="mean")
            .round(1).sort_values("median", ascending=False))
