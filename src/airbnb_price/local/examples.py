"""Requests made from real listings, typed as a host would send them: a run's example
request (the typical listing of its city, which notebook 05 and deploys send) and the rows
the parity tests and batch checks send."""

from __future__ import annotations

import typing
from typing import Any

import numpy as np
import pandas as pd

from airbnb_price.core import config, features
from airbnb_price.core.features import FeatureSet
from airbnb_price.serve.contract import contract


def request_of(row: pd.Series, feature_set: FeatureSet, city: str | None = None) -> dict:
    """One cleaned listing as the endpoint's JSON: its inputs with the contract's types
    (flags as booleans, counts as integers, amenities as a list), missing values left out,
    names and text exactly as the data writes them."""
    fields = contract(feature_set).model_fields
    listing: dict[str, Any] = {"city": city} if city else {}
    for column in feature_set.input_columns:
        value = row[column]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        annotation = fields[column].annotation
        kinds = set(typing.get_args(annotation)) or {annotation}
        if column == "amenities":
            value = features.amenity_list(value)
        elif bool in kinds:
            value = bool(value)
        elif int in kinds:
            value = int(value)
        elif float in kinds:
            value = float(value)
        listing[column] = value
    return listing


def typical_request(cleaned: pd.DataFrame, feature_set: FeatureSet, city: str) -> dict:
    """The listing whose price is the city's median (the first of them): what a typical host
    of the city would send."""
    prices = cleaned[config.TARGET]
    row = cleaned.loc[(prices - prices.median()).abs().idxmin()]
    return request_of(row, feature_set, city)
