"""The prediction endpoint's contract and model cache, without the Lambda plumbing.

`lambda/handler.py` wires these into aws-lambda-powertools routes; everything it decides
(what a valid listing is, which status a failure gets, how a model is loaded and retried)
lives here so it is tested as plain Python. Imports: numpy, pydantic and the registry; never
pandas or PyCaret (the serving image has neither).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from airbnb_price import config, explain, features, geo, registry

#: Largest batch one request may carry.
MAX_BATCH = 100
#: Contributions returned per listing with ?explain=true.
TOP_CONTRIBUTIONS = 5
#: Environment of the function per feature set, (name, pinned version) (set by serverless.yml;
#: `make serve` leaves them unset: the config names, latest versions).
MODEL_ENVS = {"summary": ("AIRBNB_MODEL_NAME", "AIRBNB_MODEL_VERSION"),
              "detailed": ("AIRBNB_DETAILED_MODEL_NAME", "AIRBNB_DETAILED_MODEL_VERSION"),
              "existing": ("AIRBNB_EXISTING_MODEL_NAME", "AIRBNB_EXISTING_MODEL_VERSION")}


class RequestError(ValueError):
    """A request the endpoint refuses; `status` is 400 (unreadable) or 422 (invalid fields)."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []

    def body(self) -> dict:
        return {"error": self.message, **({"errors": self.errors} if self.errors else {})}


class ModelUnavailable(RuntimeError):
    """No model can be served right now (503); the next request tries to load it again."""


class Listing(BaseModel):
    """One listing as a host describes it before it has any history.

    Static bounds are the real ranges of each field; the bounds that depend on the model
    (neighbourhood and room type levels, the coordinate box seen in training) come from the
    model's metadata, passed as validation context.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    neighbourhood: str | None = Field(None, min_length=1, max_length=100,
                                      description="derived from the coordinates when omitted")
    room_type: str = Field(min_length=1, max_length=50)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    minimum_nights: int = Field(ge=1, le=1125, description="Airbnb allows at most 1125")
    availability_365: int = Field(ge=0, le=365)
    calculated_host_listings_count: int = Field(1, ge=1, le=10_000)
    name: str = Field("", max_length=500, description="the listing's title")

    @field_validator("neighbourhood", "room_type")
    @classmethod
    def _seen_level(cls, value: str | None, info: ValidationInfo) -> str | None:
        levels = (info.context or {}).get("levels", {}).get(info.field_name)
        if value is not None and levels and value not in levels:
            raise ValueError(f"{value!r} was not seen in training; one of: {', '.join(levels)}")
        return value

    @field_validator("latitude", "longitude")
    @classmethod
    def _inside_training_box(cls, value: float, info: ValidationInfo) -> float:
        bounds = (info.context or {}).get("ranges", {}).get(info.field_name)
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise ValueError(f"{value} is outside the area the model was trained on "
                             f"[{bounds[0]}, {bounds[1]}]")
        return value


class DetailedListing(Listing):
    """A listing with the detailed model's fields: the home, the host and the text a host
    writes. Unknown values may be left out (the model was trained with missing values)."""

    property_type: str = Field(min_length=1, max_length=100)
    accommodates: int = Field(ge=1, le=16, description="Airbnb allows at most 16 guests")
    bedrooms: int | None = Field(None, ge=0, le=50)
    beds: int | None = Field(None, ge=0, le=100)
    bathrooms: float | None = Field(None, ge=0, le=50, allow_inf_nan=False)
    bathrooms_shared: bool = False
    maximum_nights: int | None = Field(None, ge=1, le=100_000)
    availability_30: int | None = Field(None, ge=0, le=30)
    availability_90: int | None = Field(None, ge=0, le=90)
    host_listings_count: int | None = Field(None, ge=0, le=10_000)
    calculated_host_listings_count_entire_homes: int | None = Field(None, ge=0, le=10_000)
    calculated_host_listings_count_private_rooms: int | None = Field(None, ge=0, le=10_000)
    host_response_rate: float | None = Field(None, ge=0, le=100, description="percent")
    host_acceptance_rate: float | None = Field(None, ge=0, le=100, description="percent")
    host_is_superhost: bool = False
    host_identity_verified: bool = False
    instant_bookable: bool = False
    amenities: list[str] = Field(default_factory=list, max_length=500)
    description: str = Field("", max_length=10_000)

    @field_validator("property_type")
    @classmethod
    def _seen_property_type(cls, value: str, info: ValidationInfo) -> str:
        return cls._seen_level(value, info)


#: A review score on Airbnb's 0-5 scale; absent while a listing has no reviews.
ReviewScore = Annotated[float | None, Field(ge=0, le=5, allow_inf_nan=False)]


class ExistingListing(DetailedListing):
    """A live listing with its review history (the "existing listing" variant): the detailed
    fields plus review counts and scores (0-5); scores are left out while it has no reviews."""

    number_of_reviews: int = Field(ge=0, le=100_000)
    number_of_reviews_ltm: int | None = Field(None, ge=0, le=100_000,
                                              description="reviews in the last 12 months")
    reviews_per_month: float | None = Field(None, ge=0, le=1_000, allow_inf_nan=False)
    review_scores_rating: ReviewScore = None
    review_scores_accuracy: ReviewScore = None
    review_scores_cleanliness: ReviewScore = None
    review_scores_checkin: ReviewScore = None
    review_scores_communication: ReviewScore = None
    review_scores_location: ReviewScore = None
    review_scores_value: ReviewScore = None


#: The contract per feature set, the most specific first: a request is of the first kind whose
#: own fields (those its parent contract lacks) it carries any of, else summary.
CONTRACTS: dict[str, type[Listing]] = {"existing": ExistingListing, "detailed": DetailedListing,
                                       "summary": Listing}
OWN_FIELDS = {name: frozenset(contract.model_fields) - frozenset(contract.__base__.model_fields)
              for name, contract in CONTRACTS.items() if contract is not Listing}


def _kind(item: Any) -> str:
    """The feature set one request item is for (non-objects are summary: their contract then
    says what is wrong with them)."""
    if isinstance(item, dict):
        for name, fields in OWN_FIELDS.items():
            if fields & item.keys():
                return name
    return "summary"


def feature_set_of(payload: Any) -> str:
    """Which model a request is for, by the fields its listings carry (CONTRACTS); a batch
    mixing kinds is refused (422) naming each position's kind."""
    items = payload if isinstance(payload, list) else [payload]
    kinds = [_kind(x) for x in items]
    if len(set(kinds)) > 1:
        raise RequestError(422, "a batch must be listings of one kind; this one mixes "
                                + ", ".join(sorted(set(kinds))), [
            {"loc": [i], "type": "mixed_batch", "msg": f"a listing for the {kind} model"}
            for i, kind in enumerate(kinds)])
    return kinds[0] if kinds else "summary"


def request_body(body: str | None, is_base64: bool) -> bytes:
    """The raw bytes of an HTTP API event's body (API Gateway base64-encodes non-text ones)."""
    if not body:
        return b""
    if not is_base64:
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII text
        raise RequestError(400, f"request body is not valid base64: {exc}") from exc


def read_json(body: bytes | str | None) -> Any:
    """The request's JSON document; RequestError(400) when there is none or it is not JSON.

    Checked before the model is loaded: an unreadable request is the caller's error (400)
    whether or not a model is available.
    """
    if not body:
        raise RequestError(400, "request body is empty: send a listing as JSON")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"request body is not valid JSON: {exc}") from exc


def parse_listings(payload: Any, schema: dict,
                   neighbourhoods: geo.NeighbourhoodMap | None = None,
                   feature_set: str = "summary") -> list[Listing]:
    """Listings from a JSON document: one object or a list of up to MAX_BATCH.

    Raises RequestError(422) naming every bad field (`loc` is [item, field]). `schema` is the
    model's metadata["inputs"]; with the model's `neighbourhoods` map, coordinates must lie in
    the city and a missing neighbourhood is derived from them. `feature_set` picks the
    contract (CONTRACTS).
    """
    contract = CONTRACTS[feature_set]
    items = payload if isinstance(payload, list) else [payload]
    if not items or len(items) > MAX_BATCH:
        raise RequestError(422, f"send between 1 and {MAX_BATCH} listings, not {len(items)}")
    listings, positions, errors = [], [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"loc": [index], "msg": "a listing must be a JSON object",
                           "type": "object_type"})
            continue
        try:
            listings.append(contract.model_validate(item, context=schema))
            positions.append(index)
        except ValidationError as exc:
            errors.extend({"loc": [index, *e["loc"]], "msg": e["msg"], "type": e["type"]}
                          for e in exc.errors(include_url=False, include_context=False,
                                              include_input=False))
    errors.extend(_place(listings, positions, neighbourhoods))
    if errors:
        raise RequestError(422, f"{len(errors)} invalid field(s)", errors)
    return listings


def _place(listings: list[Listing], positions: list[int],
           neighbourhoods: geo.NeighbourhoodMap | None) -> list[dict]:
    """Check the coordinates against the city's polygons (one query for the whole batch) and
    fill in missing neighbourhoods; the errors found, at the listings' request positions."""
    if neighbourhoods is None:
        return [{"loc": [index, "neighbourhood"], "type": "missing",
                 "msg": "Field required (the served model has no map to derive it from "
                        "coordinates)"}
                for listing, index in zip(listings, positions, strict=True)
                if not listing.neighbourhood]
    found = neighbourhoods.locate_many([x.latitude for x in listings],
                                       [x.longitude for x in listings])
    errors = []
    for listing, index, name in zip(listings, positions, found, strict=True):
        if name is None:
            errors.append({"loc": [index, "latitude"], "type": "outside_city",
                           "msg": f"({listing.latitude}, {listing.longitude}) lies in none of "
                                  "the city's neighbourhoods"})
        listing.neighbourhood = listing.neighbourhood or name
    return errors


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


def _column(values: list[Any]) -> np.ndarray:
    """A 1-D object array, also when every value is a list of the same length."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def feature_rows(listings: list[Listing], feature_set: str = "summary") -> dict[str, np.ndarray]:
    """The model's input table for validated listings: the same `features.add_features` call
    training makes, on a dict of arrays instead of a DataFrame (missing values -> NaN)."""
    chosen = features.feature_set(feature_set)
    table = {c: _column([getattr(x, c) for x in listings]) for c in chosen.input_columns}
    for column in chosen.numeric:
        table[column] = np.array([np.nan if v is None else float(v) for v in table[column]])
    return features.add_features(table, features=chosen)


def predict(loaded: registry.LoadedModel, listings: list[Listing], with_explain: bool) -> dict:
    """Prices (EUR) for validated listings, and their top contributions when asked; the
    response names the model (registry name, version, feature set) that answered."""
    feature_set = registry.feature_set(loaded.metadata)
    table = feature_rows(listings, feature_set)
    if with_explain:
        try:
            items = explain.explain(loaded.model, table, top=TOP_CONTRIBUTIONS)
        except explain.NotExplainable as exc:
            raise RequestError(422, "explain is not available for the served model", [
                {"loc": ["query", "explain"], "msg": str(exc), "type": "not_explainable"}]) from exc
    else:
        items = [{"price_eur": round(float(p), 2)} for p in loaded.model.predict(table)]
    return {"model": {"name": loaded.metadata.get("name"), "version": loaded.version,
                      "feature_set": feature_set},
            "currency": "EUR", "predictions": items}


@dataclass
class ModelCache:
    """Loads the model once per container, on first use; a failed load is not cached.

    The store, name and optional pinned version come from the environment (serverless.yml);
    without a pinned version it follows the registry's latest.json at load time.
    """

    store_url: str | None = None
    name: str = config.MODEL_NAME
    version: str | None = None
    loaded: registry.LoadedModel | None = None
    neighbourhoods: geo.NeighbourhoodMap | None = None
    loaded_at: str | None = None
    last_error: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, feature_set: str = "summary") -> ModelCache:
        name_env, version_env = MODEL_ENVS[feature_set]
        return cls(store_url=os.environ.get(config.MODEL_STORE_ENV),
                   name=os.environ.get(name_env) or config.MODEL_NAMES[feature_set],
                   version=os.environ.get(version_env) or None)

    def get(self) -> registry.LoadedModel:
        """The loaded model, loading it now if needed; ModelUnavailable says why not."""
        if self.loaded is not None:
            return self.loaded
        with self._lock:
            if self.loaded is None:
                self._load()
        return self.loaded

    def _load(self) -> None:
        if not self.store_url:
            self.last_error = f"${config.MODEL_STORE_ENV} is not set: no model store configured"
            raise ModelUnavailable(self.last_error)
        try:
            loaded = registry.load(registry.open_store(self.store_url), self.version, self.name)
            where = f"{self.store_url}/{self.name}/{loaded.version}"
            if not hasattr(loaded.model, "predict") or "inputs" not in loaded.metadata:
                raise registry.RegistryError(f"{where} is not a serving artifact")
            try:
                neighbourhoods = (geo.load_map(loaded.geometry, f"{where}/{geo.FILE}")
                                  if loaded.geometry else None)
            except geo.GeometryError as exc:
                raise registry.RegistryError(str(exc)) from exc
        except registry.RegistryError as exc:
            self.last_error = str(exc)
            raise ModelUnavailable(self.last_error) from exc
        self.loaded, self.neighbourhoods, self.last_error = loaded, neighbourhoods, None
        self.loaded_at = dt.datetime.now(dt.UTC).isoformat()

    def health(self) -> dict:
        """What /health reports: the loaded version, when and from where, or the last error."""
        model = None
        if self.loaded is not None:
            model = {"name": self.name, "version": self.loaded.version,
                     "loaded_at": self.loaded_at, "store": self.store_url,
                     "pinned": self.version is not None,
                     "neighbourhood_map": self.neighbourhoods is not None}
        return {"status": "ok" if model else "unavailable", "model": model,
                "error": self.last_error}


@dataclass
class Models:
    """One ModelCache per feature set; each loads on its first request."""

    caches: dict[str, ModelCache]

    @classmethod
    def from_env(cls) -> Models:
        return cls({name: ModelCache.from_env(name) for name in MODEL_ENVS})

    def __getitem__(self, feature_set: str) -> ModelCache:
        return self.caches[feature_set]

    def health(self) -> dict:
        """/health: the summary model's report at the top level (status "ok" when any model
        is loaded), and every feature set's under "models"."""
        for cache in self.caches.values():
            try:
                cache.get()
            except ModelUnavailable:
                pass  # reported below
        reports = {name: cache.health() for name, cache in self.caches.items()}
        ok = any(r["status"] == "ok" for r in reports.values())
        return reports["summary"] | {"status": "ok" if ok else "unavailable", "models": reports}
