"""The request contract: what a valid listing is, per feature set, derived from the spec.

Each input column has one rule in `airbnb_price.core.columns` (its type, bounds and default,
shared with the listings files' validation); a feature set's contract
is the pydantic model of exactly its `input_columns`, so a new feature set or a new input
needs no new class. Bounds that depend on the model (the categorical levels and the coordinate
box seen in training) come from the model's metadata, passed as validation context.
"""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from airbnb_price.core import features
from airbnb_price.core.columns import BOXED, FIELDS
from airbnb_price.core.features import FeatureSet


class ListingBase(BaseModel):
    """What every contract shares: no unknown fields, strings stripped, and the optional
    `city` every request may name (each contract adds `_seen_in_training`: categorical
    levels and the coordinate box the model saw)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    city: str | None = Field(None, max_length=100, description="the city's slug, e.g. "
                             "'victoria' (default: the deployment's default city); picks the "
                             "model, not a model input")



def _seen_in_training(cls: type, value: Any, info: ValidationInfo) -> Any:
    """Levels the model saw in training (text fields) and its coordinate box (BOXED)."""
    context = info.context or {}
    levels = context.get("levels", {}).get(info.field_name)
    if levels and isinstance(value, str) and value not in levels:
        raise ValueError(f"{value!r} was not seen in training; one of: {', '.join(levels)}")
    bounds = context.get("ranges", {}).get(info.field_name) if info.field_name in BOXED \
        else None
    if bounds and not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{value} is outside the area the model was trained on "
                         f"[{bounds[0]}, {bounds[1]}]")
    return value


def _checked(columns: list[str]) -> list[str]:
    """The fields `_seen_in_training` can refuse: text fields (levels are text) and BOXED;
    the others skip a Python call per field per listing (batch pricing runs millions)."""
    return [c for c in columns if c in BOXED or str in (get_args(FIELDS[c][0]) or (
        FIELDS[c][0],))]


@cache
def contract(feature_set: FeatureSet) -> type[ListingBase]:
    """The pydantic model of a feature set's inputs (one class per set, built once)."""
    fields = {column: FIELDS[column] for column in feature_set.input_columns}
    check = field_validator(*_checked(list(fields)))(_seen_in_training)
    return create_model(f"{feature_set.name.title()}Listing", __base__=ListingBase,
                        __doc__=f"A listing for the {feature_set.name!r} feature set's model.",
                        __validators__={"_seen_in_training": check}, **fields)


def contract_of(feature_set_name: str) -> type[ListingBase]:
    """The contract of a feature set by name (tests, documentation)."""
    return contract(features.by_name(feature_set_name))
