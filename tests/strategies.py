"""Hypothesis strategies over the endpoint's input space, and the property every answer must
hold: status 200, 400, 404, 405, 413, 422 or 503 (never 500), and a 200 from /predict carries a
finite positive price per listing. The valid listings are derived from each model spec's contract and its model's
metadata, so a new feature set or city is fuzzed without a new strategy. Used by
tests/serve/test_fuzz.py (a few hundred cases per run) and benchmarks/fuzz.py (>= 10,000).
"""

from __future__ import annotations

import base64
import json
import math
import typing
from collections.abc import Mapping

from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from airbnb_price.core import features, spec
from airbnb_price.core.spec import ModelSpec
from airbnb_price.ops import httpapi
from airbnb_price.serve import contract

ALLOWED = {200, 400, 404, 405, 413, 422, 503}

_json_leaf = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
              | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
json_values = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)


def _bounds(field: FieldInfo) -> dict:
    """The numeric bounds and length limit pydantic holds for a contract field."""
    found = {}
    for rule in field.metadata:
        for name in ("ge", "le", "min_length", "max_length"):
            if getattr(rule, name, None) is not None:
                found[name] = getattr(rule, name)
    return found


def field_values(column: str, field: FieldInfo, inputs: dict) -> st.SearchStrategy:
    """Valid values of one contract field: the model's levels and coordinate box (its
    metadata "inputs") where it has them, else the field's own type and bounds."""
    kinds = set(typing.get_args(field.annotation)) or {field.annotation}
    bounds = _bounds(field)
    levels = inputs.get("levels", {}).get(column)
    box = inputs.get("ranges", {}).get(column)
    if levels:
        values = st.sampled_from(levels)
    elif box and column in contract.BOXED:
        values = st.floats(*box)
    elif bool in kinds:
        values = st.booleans()
    elif int in kinds:
        values = st.integers(bounds.get("ge", 0), bounds.get("le", 10_000))
    elif float in kinds:
        values = st.floats(bounds.get("ge", 0), bounds.get("le", 1e6))
    elif field.annotation == list[str]:
        values = st.lists(st.text(max_size=40), max_size=60)
    else:
        shortest = bounds.get("min_length", 0)
        values = st.text(max_size=min(bounds.get("max_length", 400), 400)).filter(
            lambda text: len(text.strip()) >= shortest)
    return st.none() | values if type(None) in kinds else values


def valid_listings(model: ModelSpec, inputs: dict) -> st.SearchStrategy:
    """Listings the contract of `model` accepts, derived from its fields: required fields
    always, optional ones sometimes."""
    fields = contract.contract(model.feature_set).model_fields
    required = {c: field_values(c, f, inputs) for c, f in fields.items() if f.is_required()}
    optional = {c: field_values(c, f, inputs) for c, f in fields.items() if not f.is_required()}
    return st.fixed_dictionaries(required, optional=optional)


def any_valid_listing(inputs_by_spec: Mapping[str, dict]) -> st.SearchStrategy:
    """A valid listing for any of the served specs (`inputs_by_spec`: name -> metadata
    "inputs" of its model)."""
    return st.one_of(*(valid_listings(spec.SPECS[name], inputs)
                       for name, inputs in sorted(inputs_by_spec.items())))


#: Every field any contract has, and one no contract has.
FIELD_NAMES = sorted({c for f in features.FEATURE_SETS.values() for c in f.input_columns}
                     | {"unexpected"})


@st.composite
def mutated_listings(draw: st.DrawFn, inputs_by_spec: Mapping[str, dict]) -> dict:
    """A valid listing (of any spec) with one field replaced by any JSON value, removed, or
    one added."""
    listing = draw(any_valid_listing(inputs_by_spec))
    key = draw(st.sampled_from(FIELD_NAMES))
    if draw(st.sampled_from(["replace", "remove"])) == "remove":
        listing.pop(key, None)
    else:
        listing[key] = draw(json_values)
    return listing


def bodies(inputs_by_spec: Mapping[str, dict]) -> st.SearchStrategy:
    """Request bodies: valid, mutated and arbitrary listings, batches of them, any JSON,
    bytes and text."""
    listing_like = st.one_of(any_valid_listing(inputs_by_spec), mutated_listings(inputs_by_spec),
                             st.dictionaries(st.text(max_size=12), json_values, max_size=8))
    return st.one_of(
        listing_like.map(json.dumps),
        st.lists(listing_like, min_size=0, max_size=120).map(json.dumps),
        json_values.map(lambda v: json.dumps(v, allow_nan=True)),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        st.text(max_size=200),
        structural,
    )


#: Bodies that attack the parser rather than the contract: depth, width, numbers Python
#: reads but JSON has not (or that overflow), duplicate keys, sizes over the limit.
structural = st.one_of(
    st.integers(1, 200_000).map(lambda n: "[" * n),
    st.integers(1, 5_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(1, 60_000).map(lambda n: "[" + ",".join(["{}"] * n) + "]"),
    st.sampled_from(["1e400", "-1e400", "[1e999]", "1" * 5000, "NaN", "[Infinity]",
                     '{"latitude": -Infinity}', '"\\ud800"', '{"name": "\\udfff"}',
                     '{"room_type": "a", "room_type": "b"}']),
)
#: Every method on every path the API has, and paths it has not.
methods = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
paths = st.sampled_from(["/predict", "/predict", "/predict", "/health", "/", "/nope"])
content_types = st.sampled_from(["application/json", "text/plain", "application/xml", ""])


queries = st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["explain", "x", "EXPLAIN"]),
    st.sampled_from(["true", "false", "1", "0", "yes", "", "maybe", "TRUE"]) | st.text(max_size=8),
    max_size=2))


@st.composite
def events(draw: st.DrawFn, inputs_by_spec: Mapping[str, dict]) -> dict:
    """An event as API Gateway sends it, mostly POST /predict, with method, path, content
    type, body, encoding and query fuzzed; the listings are derived from the contracts of the
    served specs."""
    body = draw(bodies(inputs_by_spec))
    event = httpapi.to_event(draw(methods), draw(paths), {"content-type": draw(content_types)},
                             b"")
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
    if status == 200 and "predictions" in payload:
        prices = [p["price"] for p in payload["predictions"]]
        assert prices and all(math.isfinite(p) and p > 0 for p in prices), payload
    elif status == 200:  # GET /health
        assert payload["status"] == "ok", payload
    else:
        assert "Traceback" not in response["body"]
    return status

