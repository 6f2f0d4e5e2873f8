"""The request contract: what a valid listing is, per feature set, derived from the spec.

Each input column has one rule here (its type, bounds and default); a feature set's contract
is the pydantic model of exactly its `input_columns`, so a new feature set or a new input
needs no new class. Bounds that depend on the model (the categorical levels and the coordinate
box seen in training) come from the model's metadata, passed as validation context.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from airbnb_price.core import features
from airbnb_price.core.features import FeatureSet

#: A review score on Airbnb's 0-5 scale; absent while a listing has no reviews.
ReviewScore = Annotated[float | None, Field(ge=0, le=5, allow_inf_nan=False)]
_OptionalCount = Annotated[int | None, Field(ge=0, le=10_000)]

#: The one rule per input column: (type, pydantic Field with bounds and default). Static
#: bounds are each field's real range; unknown values a model can do without default to None.
FIELDS: dict[str, tuple[Any, Any]] = {
    # what every listing has (the summary feature set)
    "neighbourhood": (str | None, Field(None, min_length=1, max_length=100,
                                        description="derived from the coordinates when omitted")),
    "room_type": (str, Field(min_length=1, max_length=50)),
    "latitude": (float, Field(ge=-90, le=90, allow_inf_nan=False)),
    "longitude": (float, Field(ge=-180, le=180, allow_inf_nan=False)),
    "minimum_nights": (int, Field(ge=1, le=1125, description="Airbnb allows at most 1125")),
    "availability_365": (int, Field(ge=0, le=365)),
    "calculated_host_listings_count": (int, Field(1, ge=1, le=10_000)),
    "name": (str, Field("", max_length=500, description="the listing's title")),
    # the home, the host and the text a host writes (the detailed file's host-known columns)
    "property_type": (str, Field(min_length=1, max_length=100)),
    "accommodates": (int, Field(ge=1, le=16, description="Airbnb allows at most 16 guests")),
    "bedrooms": (int | None, Field(None, ge=0, le=50)),
    "beds": (int | None, Field(None, ge=0, le=100)),
    "bathrooms": (float | None, Field(None, ge=0, le=50, allow_inf_nan=False)),
    "bathrooms_shared": (bool, Field(False)),
    "maximum_nights": (int | None, Field(None, ge=1, le=100_000)),
    "availability_30": (int | None, Field(None, ge=0, le=30)),
    "availability_90": (int | None, Field(None, ge=0, le=90)),
    "host_listings_count": (_OptionalCount, None),
    "calculated_host_listings_count_entire_homes": (_OptionalCount, None),
    "calculated_host_listings_count_private_rooms": (_OptionalCount, None),
    "host_response_rate": (float | None, Field(None, ge=0, le=100, description="percent")),
    "host_acceptance_rate": (float | None, Field(None, ge=0, le=100, description="percent")),
    "host_is_superhost": (bool, Field(False)),
    "host_identity_verified": (bool, Field(False)),
    "instant_bookable": (bool, Field(False)),
    "amenities": (list[str], Field(default_factory=list, max_length=500)),
    "description": (str, Field("", max_length=10_000)),
    # a live listing's review history (the existing-listing variant)
    "number_of_reviews": (int, Field(ge=0, le=100_000)),
    "number_of_reviews_ltm": (int | None, Field(None, ge=0, le=100_000,
                                                description="reviews in the last 12 months")),
    "reviews_per_month": (float | None, Field(None, ge=0, le=1_000, allow_inf_nan=False)),
    **{f"review_scores_{aspect}": (ReviewScore, None) for aspect in (
        "rating", "accuracy", "cleanliness", "checkin", "communication", "location", "value")},
}
#: Coordinates must lie in the box the model saw in training (metadata "ranges").
BOXED = ("latitude", "longitude")


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
