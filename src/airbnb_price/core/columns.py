"""The table of input columns: each model input declared once, with its type, its bounds (one
set for training and serving: a listings row outside them is dropped and counted by
`data.listings`, a request outside them is refused by the contract), its default and what it
is. The request contract (`serve.contract`), the engine's vectorised checks (`serve.engine`)
and the listings validation (`data.listings`) all derive from it, and so do the feature
sets' input columns (`core.features`) and the reports' names for them (`core.labels`).

Where the bounds come from: Airbnb's own limits where it has one (minimum nights 1-1,125,
at most 16 guests, review scores 0-5, availability within its window), else the real range
(a listing's host has at least one listing; bedrooms, beds and baths well above any real home:
the largest in the shared files are far inside them). Every row of the shared files lies
inside them (tests/serve/test_engine.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import annotated_types
from pydantic import Field

#: A review score on Airbnb's 0-5 scale; absent while a listing has no reviews.
ReviewScore = Annotated[float | None, Field(ge=0, le=5, allow_inf_nan=False)]
_OptionalCount = Annotated[int | None, Field(ge=0, le=10_000)]

@dataclass(frozen=True)
class Column:
    """One input column: its type and pydantic Field (bounds, default, description), the
    feature set that first uses it (the sets extending that one use it too), its role in the
    model (free text it derives features from, a category, or a number) and its name as a
    reader says it (the price drivers on the reports)."""

    annotation: Any
    field: Any
    feature_set: str
    role: str
    label: str


def _columns(feature_set: str, **rows: tuple[Any, Any, str, str]) -> dict[str, Column]:
    return {name: Column(annotation, field, feature_set, role, label)
            for name, (annotation, field, role, label) in rows.items()}


#: The one rule per input column, grouped by the feature set that introduces it, in the
#: model's column order. Static bounds are each field's real range; unknown values a model can
#: do without default to None. A new input column is one row here.
COLUMNS: dict[str, Column] = {
    # what every listing has (the summary file)
    **_columns(
        "summary",
        name=(str, Field("", max_length=500, description="the listing's title"), "text",
              "Title"),
        neighbourhood=(str | None, Field(None, min_length=1, max_length=100, description=(
            "derived from the coordinates when omitted")), "categorical", "Neighbourhood"),
        room_type=(str, Field(min_length=1, max_length=50), "categorical", "Room type"),
        latitude=(float, Field(ge=-90, le=90, allow_inf_nan=False), "numeric", "Latitude"),
        longitude=(float, Field(ge=-180, le=180, allow_inf_nan=False), "numeric", "Longitude"),
        minimum_nights=(int, Field(ge=1, le=1125, description="Airbnb allows at most 1125"),
                        "numeric", "Minimum nights"),
        availability_365=(int, Field(ge=0, le=365), "numeric",
                          "Nights available in the next year"),
        calculated_host_listings_count=(int, Field(1, ge=1, le=10_000), "numeric",
                                        "Listings the host has"),
    ),
    # the home, the host and the text a host writes (the detailed file's host-known columns)
    **_columns(
        "detailed",
        amenities=(list[str], Field(default_factory=list, max_length=500), "text",
                   "Amenities"),
        description=(str, Field("", max_length=10_000), "text", "Description"),
        property_type=(str, Field(min_length=1, max_length=100), "categorical",
                       "Property type"),
        accommodates=(int, Field(ge=1, le=16, description="Airbnb allows at most 16 guests"),
                      "numeric", "Guests it sleeps"),
        bedrooms=(int | None, Field(None, ge=0, le=50), "numeric", "Bedrooms"),
        beds=(int | None, Field(None, ge=0, le=100), "numeric", "Beds"),
        bathrooms=(float | None, Field(None, ge=0, le=50, allow_inf_nan=False), "numeric",
                   "Bathrooms"),
        bathrooms_shared=(bool, Field(False), "numeric", "Shared bathroom"),
        maximum_nights=(int | None, Field(None, ge=1, le=100_000), "numeric",
                        "Maximum nights"),
        availability_30=(int | None, Field(None, ge=0, le=30), "numeric",
                         "Nights available in the next 30"),
        availability_90=(int | None, Field(None, ge=0, le=90), "numeric",
                         "Nights available in the next 90"),
        host_listings_count=(_OptionalCount, None, "numeric",
                             "Listings the host has (Airbnb's count)"),
        host_response_rate=(float | None, Field(None, ge=0, le=100, description="percent"),
                            "numeric", "Host response rate (%)"),
        host_acceptance_rate=(float | None, Field(None, ge=0, le=100, description="percent"),
                              "numeric", "Host acceptance rate (%)"),
        host_is_superhost=(bool, Field(False), "numeric", "Superhost"),
        host_identity_verified=(bool, Field(False), "numeric", "Host identity verified"),
        instant_bookable=(bool, Field(False), "numeric", "Instant booking"),
        calculated_host_listings_count_entire_homes=(_OptionalCount, None, "numeric",
                                                     "Entire homes the host lists"),
        calculated_host_listings_count_private_rooms=(_OptionalCount, None, "numeric",
                                                      "Private rooms the host lists"),
    ),
    # a live listing's review history (the existing-listing variant)
    **_columns(
        "existing",
        number_of_reviews=(int, Field(ge=0, le=100_000), "numeric", "Reviews"),
        number_of_reviews_ltm=(int | None, Field(None, ge=0, le=100_000, description=(
            "reviews in the last 12 months")), "numeric", "Reviews in the last year"),
        reviews_per_month=(float | None, Field(None, ge=0, le=1_000, allow_inf_nan=False),
                           "numeric", "Reviews per month"),
        **{f"review_scores_{aspect}": (ReviewScore, None, "numeric", words) for aspect, words in (
            ("rating", "Rating"), ("accuracy", "Rating: accuracy"),
            ("cleanliness", "Rating: cleanliness"), ("checkin", "Rating: check-in"),
            ("communication", "Rating: communication"), ("location", "Rating: location"),
            ("value", "Rating: value"))},
    ),
}
#: Each column's (type, Field): what the pydantic contract is built from.
FIELDS: dict[str, tuple[Any, Any]] = {name: (c.annotation, c.field) for name, c in COLUMNS.items()}


def inputs(feature_set: str, role: str) -> tuple[str, ...]:
    """The columns `feature_set` introduces in `role`, in the table's order."""
    return tuple(n for n, c in COLUMNS.items() if c.feature_set == feature_set and c.role == role)


#: Coordinates must lie in the box the model saw in training (metadata "ranges").
BOXED = ("latitude", "longitude")


def constraints(field: Any) -> dict[str, Any]:
    """A pydantic FieldInfo's bounds and lengths (ge, le, min_length, max_length), where set."""
    found = {}
    for item in field.metadata:
        for name, kind in (("ge", annotated_types.Ge), ("le", annotated_types.Le),
                           ("min_length", annotated_types.MinLen),
                           ("max_length", annotated_types.MaxLen)):
            if isinstance(item, kind):
                found[name] = getattr(item, name)
    return found


def field_info(column: str) -> Any:
    """The column's rule as one pydantic FieldInfo (its Annotated type's constraints merged)."""
    from pydantic.fields import FieldInfo

    annotation, field = FIELDS[column]
    return FieldInfo.from_annotated_attribute(annotation, field)


def bounds(column: str) -> tuple[float, float]:
    """A numeric column's [ge, le] from its rule (-inf/inf where it has none)."""
    found = constraints(field_info(column))
    return float(found.get("ge", float("-inf"))), float(found.get("le", float("inf")))
