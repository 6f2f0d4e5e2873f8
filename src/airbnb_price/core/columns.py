"""The table of input columns: each model input declared once, with its type, its bounds (one
set for training and serving: a listings row outside them is dropped and counted by
`data.listings`, a request outside them is refused by the contract), its default and what it
is. The request contract (`serve.contract`), the engine's vectorised checks (`serve.engine`)
and the listings validation (`data.listings`) all derive from it; which feature sets use a
column is `core.features`' business.

Where the bounds come from: Airbnb's own limits where it has one (minimum nights 1-1,125,
at most 16 guests, review scores 0-5, availability within its window), else the real range
(a listing's host has at least one listing; bedrooms, beds and baths well above any real home:
the largest in the shared files are far inside them). Every row of the shared files lies
inside them (tests/serve/test_engine.py).
"""

from __future__ import annotations

from typing import Annotated, Any

import annotated_types
from pydantic import Field

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
