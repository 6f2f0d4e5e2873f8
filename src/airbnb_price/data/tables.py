"""The feature table a run trains on: listings resolved, loaded, cleaned and turned into
features by the shared feature code (notebook 02 writes it; 03 and 04 read it)."""

from __future__ import annotations

import pandas as pd

from airbnb_price.core import features
from airbnb_price.core.params import RunParams
from airbnb_price.data.cleaning import clean, default_rules
from airbnb_price.data.errors import SchemaError
from airbnb_price.data.listings import Listings, load_listings
from airbnb_price.data.sources import Source, resolve_source


def load_for(params: RunParams) -> tuple[Source, Listings]:
    """The listings file a run's parameters name (resolved, read, validated, checksummed)."""
    params = params.resolved()
    source = resolve_source(params.listings, params.city, params.snapshot,
                            file=params.spec.source)
    return source, load_listings(source)


def prepare(params: RunParams) -> tuple[pd.DataFrame, pd.DataFrame, Listings]:
    """Resolve, load and clean the listings of a run, then build its feature table.

    Returns (feature table, cleaning report, loaded listings): what notebook 02 writes. The
    `detailed` and `existing` sets read the detailed file ($AIRBNB_DETAILED_LISTINGS, or Inside
    Airbnb's data/listings.csv.gz); `existing` keeps the review columns.
    """
    params = params.resolved()
    chosen = params.spec.feature_set
    _, loaded = load_for(params)
    rules = default_rules(params.min_price, params.max_price, drop_reviews=not chosen.uses_reviews)
    cleaned, report = clean(loaded.frame, rules)
    try:
        table = features.feature_table(cleaned, city=params.city, feature_set=chosen)
    except ValueError as exc:
        raise SchemaError(f"{loaded.path}: {exc}") from exc
    return table, report, loaded
