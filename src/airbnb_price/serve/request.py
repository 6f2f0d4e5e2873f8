"""From an HTTP request to the engine's input: the body, the query flags, which model the
listings are for (decided once per request) and the errors a caller gets before any model is
involved (400 unreadable, 413 too large, 422 a bad flag, batch or city)."""

from __future__ import annotations

import json
from typing import Any

from airbnb_price.core import spec
from airbnb_price.core.features import FeatureSet
from airbnb_price.core.spec import ModelSpec
from airbnb_price.serve import ranges

#: Largest batch one request may carry.
MAX_BATCH = 100
#: Largest body read (413 above it): a batch of 100 detailed listings with long descriptions
#: and amenity lists is ~200 kB; this leaves room for 2.5 of them.
MAX_BODY_BYTES = 512 * 1024


class RequestError(ValueError):
    """A request the endpoint refuses; `status` is 400 (unreadable), 413 (too large) or 422
    (invalid fields)."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []

    def body(self) -> dict:
        return {"error": self.message, **({"errors": self.errors} if self.errors else {})}


def _kind(item: Any) -> FeatureSet:
    """The feature set one request item is for (non-objects get the base set: its contract
    then says what is wrong with them)."""
    return spec.feature_set_of(item.keys() if isinstance(item, dict) else ())


def spec_of(payload: Any, default_city: str) -> ModelSpec:
    """The model spec a request is for, decided once: its city (`city`, else the
    deployment's default) and feature set (by the fields sent); a batch must be of one city
    and one kind (422 naming each position otherwise)."""
    items = payload if isinstance(payload, list) else [payload]
    named = [item.get("city") if isinstance(item, dict) else None for item in items]
    cities_sent = [c if c is not None else default_city for c in named]
    if len(set(map(str, cities_sent))) > 1:
        raise RequestError(422, "a batch must be listings of one city; this one mixes "
                                + ", ".join(sorted(set(map(str, cities_sent)))), [
            {"loc": [i, "city"], "type": "mixed_batch", "msg": f"a listing in {city!r}"}
            for i, city in enumerate(cities_sent)])
    city = cities_sent[0] if cities_sent else default_city
    try:
        return spec.get(city, feature_set_of(payload).name)
    except spec.SpecError as exc:
        raise RequestError(422, "invalid city", [{"loc": [0, "city"], "type": "city",
                                                  "msg": str(exc)}]) from exc


def feature_set_of(payload: Any) -> FeatureSet:
    """Which feature set's model a request is for, by the fields its listings carry
    (`spec.feature_set_of`); a batch mixing kinds is refused (422) naming each position's."""
    items = payload if isinstance(payload, list) else [payload]
    kinds = [_kind(x) for x in items] or [_kind(None)]
    if len(set(kinds)) > 1:
        raise RequestError(422, "a batch must be listings of one kind; this one mixes "
                                + ", ".join(sorted({kind.name for kind in kinds})), [
            {"loc": [i], "type": "mixed_batch", "msg": f"a listing for the {kind.name} model"}
            for i, kind in enumerate(kinds)])
    return kinds[0]


def read_json(body: str | None) -> Any:
    """The request's JSON document; RequestError(400) when there is none or it is not JSON.

    Checked before the model is loaded: an unreadable request is the caller's error (400)
    whether or not a model is available.
    """
    if not body:
        raise RequestError(400, "request body is empty: send a listing as JSON")
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise RequestError(413, f"request body is {size:,} bytes; the limit is "
                                f"{MAX_BODY_BYTES:,} (send at most {MAX_BATCH} listings)")
    try:
        payload = json.loads(body, parse_constant=_no_constants)
        if "\\u" in body or not body.isascii():  # the only ways to a lone surrogate
            json.dumps(payload, ensure_ascii=False).encode("utf-8")  # one: not text
    except (ValueError, UnicodeError) as exc:
        raise RequestError(400, f"request body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise RequestError(400, "request body is not valid JSON: nested too deeply") from None
    return payload


def _no_constants(name: str) -> None:
    """NaN and Infinity are not JSON (Python's parser accepts them)."""
    raise ValueError(f"{name} is not a JSON value")


def parse_level(value: str | None) -> float:
    """The `level` query parameter: the price range's coverage (default DEFAULT_LEVEL);
    RequestError(422) naming the parameter when it is no number in [MIN_LEVEL, MAX_LEVEL]."""
    if value is None:
        return ranges.DEFAULT_LEVEL
    try:
        return ranges.check_level(value)
    except ranges.LevelError as exc:
        raise RequestError(422, "invalid query parameter", [
            {"loc": ["query", "level"], "msg": str(exc), "type": "level"}]) from None


def parse_flag(value: str | None, name: str) -> bool:
    """A boolean query parameter: true/false/1/0/yes/no, absent = false."""
    if value is None:
        return False
    flag = value.strip().lower()
    if flag in ("true", "1", "yes"):
        return True
    if flag in ("false", "0", "no", ""):
        return False
    raise RequestError(422, "invalid query parameter",
                       [{"loc": ["query", name], "msg": f"{value!r} is not true or false",
                         "type": "bool_parsing"}])


def items_of(payload: Any) -> list[Any]:
    """The listings of a JSON document: one object or a list of 1 to MAX_BATCH (422 else)."""
    items = payload if isinstance(payload, list) else [payload]
    if not items or len(items) > MAX_BATCH:
        raise RequestError(422, f"send between 1 and {MAX_BATCH} listings, not {len(items)}")
    return items
