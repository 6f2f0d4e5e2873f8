"""Requests made from real listings, typed as a host would send them: a run's example
request (the typical listing of its city, which notebook 05 and deploys send) and the rows
the parity tests and batch checks send."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from airbnb_price.core import config, text_features
from airbnb_price.core.features import FeatureSet
from airbnb_price.serve.contract import contract


def _typed(column: str, annotation: Any) -> Callable[[Any], Any]:
    """How one input column's values become JSON as the contract types them."""
    kinds = set(typing.get_args(annotation)) or {annotation}
    if column == "amenities":
        return text_features.amenity_list
    if bool in kinds:
        return bool
    if int in kinds:  # a fractional count stays a number the contract refuses, not truncated
        return lambda value: int(value) if float(value).is_integer() else float(value)
    return float if float in kinds else _as_written


def _as_written(value: Any) -> Any:
    """Text as the data writes it (the contract strips it)."""
    return value


def requests_of(frame: pd.DataFrame, feature_set: FeatureSet, city: str | None = None
                ) -> list[dict]:
    """Cleaned listings as the endpoint's JSON, one dict per row: their inputs with the
    contract's types (flags as booleans, counts as integers, amenities as a list), missing
    values and columns the file lacks left out (the contract then names them), names and
    text exactly as the data writes them. Batch pricing checks its rows through these."""
    fields = contract(feature_set).model_fields
    present = [c for c in feature_set.input_columns if c in frame]
    columns = [[None if missing else convert(v) for v, missing in
                zip(frame[c].tolist(), frame[c].isna().tolist(), strict=True)]
               for c, convert in ((c, _typed(c, fields[c].annotation)) for c in present)]
    base = {"city": city} if city else {}
    if not present:
        return [dict(base) for _ in range(len(frame))]
    return [base | {c: v for c, v in zip(present, values, strict=True) if v is not None}
            for values in zip(*columns, strict=True)]


def columns_of(frame: pd.DataFrame, feature_set: FeatureSet) -> dict[str, np.ndarray]:
    """Cleaned listings as the engine's table of columns, each value typed as `requests_of`
    types it (numbers as float with NaN where missing, everything else as objects with None);
    columns the file lacks are left out (the engine's checks then name them)."""
    fields = contract(feature_set).model_fields
    columns = {}
    for column in (c for c in feature_set.input_columns if c in frame):
        annotation = fields[column].annotation
        kinds = set(typing.get_args(annotation)) or {annotation}
        if bool not in kinds and kinds & {int, float}:
            columns[column] = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
            continue
        convert = _typed(column, annotation)
        if convert is _as_written:  # text: no value to convert, only missing ones to mark
            columns[column] = frame[column].to_numpy(dtype=object, na_value=None)
            continue
        values = np.empty(len(frame), dtype=object)
        values[:] = [None if missing else convert(v) for v, missing in
                     zip(frame[column].tolist(), frame[column].isna().tolist(), strict=True)]
        columns[column] = values
    return columns


def request_of(row: pd.Series, feature_set: FeatureSet, city: str | None = None) -> dict:
    """One cleaned listing as the endpoint's JSON (`requests_of` for a single row)."""
    return requests_of(row.to_frame().T, feature_set, city)[0]


def typical_request(cleaned: pd.DataFrame, feature_set: FeatureSet, city: str) -> dict:
    """The listing whose price is the city's median (the first of them): what a typical host
    of the city would send."""
    prices = cleaned[config.TARGET]
    row = cleaned.loc[(prices - prices.median()).abs().idxmin()]
    return request_of(row, feature_set, city)
