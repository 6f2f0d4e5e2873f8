"""Hypothesis strategies over the endpoint's input space, and the property every answer must
hold: status 200, 400, 422 or 503 (never 500), and a 200 carries a finite positive price per
listing. Used by tests/test_fuzz.py (a few hundred cases per run) and benchmarks/fuzz.py
(>= 10,000). Needs the dev extra (hypothesis).
"""

from __future__ import annotations

import base64
import json
import math

from hypothesis import strategies as st

from airbnb_price import deploy, httpapi

ALLOWED = {200, 400, 422, 503}

_json_leaf = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
              | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
json_values = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)


#: Levels every Amsterdam snapshot has; the coordinate box lies inside the training area.
NEIGHBOURHOODS = ["Centrum-West", "Centrum-Oost", "Zuid", "De Pijp - Rivierenbuurt", "Westerpark",
                  "Noord-West", "Bijlmer-Oost"]
ROOM_TYPES = ["Entire home/apt", "Private room", "Hotel room", "Shared room"]

valid_listings = st.fixed_dictionaries(
    {"neighbourhood": st.sampled_from(NEIGHBOURHOODS), "room_type": st.sampled_from(ROOM_TYPES),
     "latitude": st.floats(52.30, 52.42), "longitude": st.floats(4.77, 5.05),
     "minimum_nights": st.integers(1, 1125), "availability_365": st.integers(0, 365)},
    optional={"calculated_host_listings_count": st.integers(1, 10_000),
              "name": st.text(max_size=120)})


#: Property types common to the detailed snapshots; levels the model has not seen get a 422.
PROPERTY_TYPES = ["Entire rental unit", "Private room in rental unit", "Entire condominium (condo)",
                  "Houseboat", "Room in hotel", "Entire loft"]
_optional_count = st.none() | st.integers(0, 50)
valid_detailed_listings = st.builds(
    lambda listing, detailed: listing | detailed, valid_listings, st.fixed_dictionaries(
        {"property_type": st.sampled_from(PROPERTY_TYPES), "accommodates": st.integers(1, 16)},
        optional={"bedrooms": _optional_count, "beds": _optional_count,
                  "bathrooms": st.none() | st.floats(0, 50), "bathrooms_shared": st.booleans(),
                  "maximum_nights": st.none() | st.integers(1, 100_000),
                  "availability_30": st.none() | st.integers(0, 30),
                  "host_response_rate": st.none() | st.floats(0, 100),
                  "host_is_superhost": st.booleans(),
                  "amenities": st.lists(st.text(max_size=40), max_size=60),
                  "description": st.text(max_size=400)}))
_optional_score = st.none() | st.floats(0, 5)
valid_existing_listings = st.builds(
    lambda listing, history: listing | history, valid_detailed_listings, st.fixed_dictionaries(
        {"number_of_reviews": st.integers(0, 1000)},
        optional={"number_of_reviews_ltm": st.none() | st.integers(0, 500),
                  "reviews_per_month": st.none() | st.floats(0, 100),
                  "review_scores_rating": _optional_score,
                  "review_scores_location": _optional_score,
                  "review_scores_value": _optional_score}))
valid_any_listings = valid_listings | valid_detailed_listings | valid_existing_listings


@st.composite
def mutated_listings(draw: st.DrawFn) -> dict:
    """A valid listing (of any feature set) with one field replaced by any JSON value,
    removed, or one added."""
    listing = draw(valid_any_listings)
    key = draw(st.sampled_from([*deploy.EXAMPLE_EXISTING_LISTING, "unexpected"]))
    action = draw(st.sampled_from(["replace", "remove"]))
    if action == "remove":
        listing.pop(key, None)
    else:
        listing[key] = draw(json_values)
    return listing


listing_like = st.one_of(valid_any_listings, mutated_listings(),
                         st.dictionaries(st.text(max_size=12), json_values, max_size=8))
bodies = st.one_of(
    listing_like.map(json.dumps),
    st.lists(listing_like, min_size=0, max_size=120).map(json.dumps),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.text(max_size=200),
)
queries = st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["explain", "x", "EXPLAIN"]),
    st.sampled_from(["true", "false", "1", "0", "yes", "", "maybe", "TRUE"]) | st.text(max_size=8),
    max_size=2))


@st.composite
def events(draw: st.DrawFn) -> dict:
    """A /predict event as API Gateway sends it, with body, encoding and query fuzzed."""
    body = draw(bodies)
    event = httpapi.to_event("POST", "/predict", {"content-type": "application/json"}, b"")
    if draw(st.booleans()):
        event["body"] = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
        event["isBase64Encoded"] = draw(st.booleans()) and draw(st.booleans())  # lies sometimes
    event["queryStringParameters"] = draw(queries)
    return event


def check(response: dict) -> int:
    """Assert the property on one handler response; returns its status."""
    status = response["statusCode"]
    assert status in ALLOWED, (status, response.get("body"))
    payload = json.loads(response["body"])
    if status == 200:
        prices = [p["price_eur"] for p in payload["predictions"]]
        assert prices and all(math.isfinite(p) and p > 0 for p in prices), payload
    else:
        assert "Traceback" not in response["body"]
    return status

