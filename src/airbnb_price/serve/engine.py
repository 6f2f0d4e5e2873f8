"""The pricing engine: one served model, built once when it loads, that checks and prices
tables of columns. The endpoint's route and batch pricing are thin layers over it.

A `ServedModel` holds everything a price needs, decided at load time: the spec, the compiled
artifact, the input rules (the contract of its feature set with the levels and coordinate box
the model saw), the neighbourhood map and the city record (currency, centre, price window).

- `listings(items)`: request items (JSON objects) checked one by one by the pydantic contract,
  the endpoint's documented schema, into a table of columns as the model reads them
  (`Filled`: the contract has applied defaults and stripped text); `InvalidListings` names
  each bad field.
- `check(columns)`: the same verdicts for a whole table of columns at once (numpy), from the
  same contract's field rules; the refused rows' reasons come from the contract itself, so
  they read exactly as the endpoint's (tests/serve/test_engine.py compares both on every row
  of every shared file and on generated rows). `accepted(columns)` also gives the accepted
  rows as a `Filled` table, each column read once for its check and for the model.
- `price(columns)`, `answer(columns, explain)`: prices in the city's currency, and the
  response body the endpoint sends.

A table of columns is a mapping of numpy arrays or an Arrow table (`as_columns`).

Errors are domain errors (`InvalidListings`, `NotExplainable`); the handler maps them to HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from airbnb_price.core import cities, geo, registry
from airbnb_price.core.spec import ModelSpec
from airbnb_price.serve import contributions, ranges
from airbnb_price.serve.artifact import CompiledModel
from airbnb_price.serve.checks import Rule
from airbnb_price.serve.contract import ListingBase, contract

#: Contributions returned per listing with explain.
TOP_CONTRIBUTIONS = 5
Columns = Mapping[str, np.ndarray]


def as_columns(table: Any) -> Columns:
    """A table of columns as the engine reads it: a mapping of arrays as it is, an Arrow table
    (pyarrow.Table or RecordBatch: anything with `column_names` and `column()`) as numpy
    arrays, numbers as float with NaN where null, everything else as objects with None, lists
    (amenities) as Python lists. pyarrow is never imported here: the Lambda does not install
    it, and a caller holding an Arrow table has it."""
    if isinstance(table, Mapping):
        return table
    if not (hasattr(table, "column_names") and hasattr(table, "column")):
        raise TypeError(f"expected a mapping of arrays or an Arrow table, got {type(table)}")
    columns = {}
    for name in table.column_names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        if values.dtype.kind in "iuf":
            values = values.astype(float)
        elif values.dtype == object and any(isinstance(v, np.ndarray) for v in values):
            values = _objects([None if v is None else v.tolist() for v in values])
        columns[name] = values
    return columns


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class Filled(dict):
    """A table of columns as the model reads them (`Rule.filled`: defaults, stripped text,
    numbers as float), as `listings` makes it from validated requests and `accepted` from
    checked columns; `features` takes it as it is instead of filling it again."""


class InvalidListings(ValueError):
    """Listings the model cannot price; `errors` name each one's position, field and reason
    (pydantic's error format: loc, msg, type)."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


class NotExplainable(contributions.NotExplainable):
    """The served model has no explanation (a model published before the compiled engine)."""


@dataclass
class ServedModel:
    """A published model ready to price: built once per load (see module docstring)."""

    spec: ModelSpec
    version: str
    model: CompiledModel
    metadata: dict
    city: cities.City
    neighbourhoods: geo.NeighbourhoodMap | None
    contract: type[ListingBase]
    rules: dict[str, Rule]

    @classmethod
    def build(cls, loaded: registry.LoadedModel, model: ModelSpec,
              neighbourhoods: geo.NeighbourhoodMap | None) -> ServedModel:
        chosen = contract(model.feature_set)
        rules = {c: Rule.of(c, chosen.model_fields[c]) for c in model.feature_set.input_columns}
        return cls(model, loaded.version, loaded.model, loaded.metadata,
                   cities.of_metadata(loaded.metadata, model.city), neighbourhoods, chosen,
                   rules)

    @property
    def schema(self) -> dict:
        """What the model saw in training: categorical levels, coordinate box."""
        return self.metadata["inputs"]

    # --- checking -------------------------------------------------------------------------
    def listings(self, items: list[Any]) -> Filled:
        """Request items as a table of columns as the model reads them; InvalidListings
        names every bad field."""
        listings, _, errors = self.validate(items)
        if errors:
            raise InvalidListings(errors)
        return Filled({c: rule.typed([getattr(x, c) for x in listings])
                       for c, rule in self.rules.items()})

    def validate(self, items: list[Any]) -> tuple[list[ListingBase], list[int], list[dict]]:
        """Each item checked by the contract and the map: the valid listings, their positions
        and every error (`loc` starts with the item's position)."""
        from pydantic import ValidationError

        listings, positions, errors = [], [], []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                errors.append({"loc": [index], "msg": "a listing must be a JSON object",
                               "type": "object_type"})
                continue
            try:
                listings.append(self.contract.model_validate(item, context=self.schema))
                positions.append(index)
            except ValidationError as exc:
                errors.extend({"loc": [index, *e["loc"]], "msg": e["msg"], "type": e["type"]}
                              for e in exc.errors(include_url=False, include_context=False,
                                                  include_input=False))
        found = self._locate([x.latitude for x in listings], [x.longitude for x in listings],
                             [x.neighbourhood for x in listings])
        placed = []
        for listing, index, (name, error) in zip(listings, positions, found, strict=True):
            if error:
                placed.append({"loc": [index, *error["loc"]], **{
                    k: v for k, v in error.items() if k != "loc"}})
            listing.neighbourhood = listing.neighbourhood or name
        refused = {e["loc"][0] for e in placed}
        kept = [(x, i) for x, i in zip(listings, positions, strict=True) if i not in refused]
        return [x for x, _ in kept], [i for _, i in kept], errors + placed

    def check(self, columns: Columns) -> np.ndarray:
        """Which rows of a table of columns the contract and the map accept, for the whole
        table at once (a column the table lacks is missing in every row)."""
        return self.accepted(columns)[0]

    def accepted(self, columns: Columns) -> tuple[np.ndarray, Filled]:
        """`check`'s verdicts, and the accepted rows as the model reads them (`Filled`:
        defaults, neighbourhoods found on the map), which `price` takes as they are. Each
        column is typed and its text stripped once, for its rule and for the model (stripping
        every text column twice was a fifth of a batch block's checks)."""
        columns = as_columns(columns)
        rows = len(next(iter(columns.values())))
        ok = np.ones(rows, dtype=bool)
        prepared = {}
        for column, rule in self.rules.items():
            values = columns.get(column)
            if values is None:
                if rule.required:
                    ok[:] = False
                values = np.full(rows, None, dtype=object)
            prepared[column] = values = rule.prepared(values)
            ok &= ~rule.refused(values, self.schema)
        index = np.flatnonzero(ok)
        hood = prepared.get("neighbourhood")
        if len(index) and self.neighbourhoods is None:
            # no map: `_locate`'s rule for the whole column (a row must give its neighbourhood)
            ok[index] = False if hood is None else np.fromiter(
                map(bool, hood[index]), dtype=bool, count=len(index))
        elif len(index):
            given = hood[index] if hood is not None else [None] * len(index)
            found = self._locate(prepared["latitude"][index], prepared["longitude"][index],
                                 given)
            ok[index] = [error is None for _, error in found]
            if hood is not None:
                hood[index] = [g or name for g, (name, _) in zip(given, found, strict=True)]
        return ok, Filled({c: rule.filled(prepared[c][ok]) for c, rule in self.rules.items()})

    def _locate(self, lat: Any, lon: Any, given: Any) -> list[tuple[str | None, dict | None]]:
        """Each listing's neighbourhood from the map (or the one given), and the error when
        it lies in none of the city's neighbourhoods or there is no map to derive it from."""
        if self.neighbourhoods is None:
            return [(g, None if g else {"loc": ["neighbourhood"], "type": "missing",
                                        "msg": "Field required (the served model has no map "
                                               "to derive it from coordinates)"})
                    for g in given]
        found = self.neighbourhoods.locate_many(list(lat), list(lon))
        return [(name, None if name is not None else {
            "loc": ["latitude"], "type": "outside_city",
            "msg": f"({y}, {x}) lies in none of the city's neighbourhoods"})
            for name, y, x in zip(found, lat, lon, strict=True)]

    # --- pricing --------------------------------------------------------------------------
    def features(self, columns: Columns) -> dict[str, np.ndarray]:
        """The model's input table: defaults filled in, then the very feature functions
        training used, with distances from the model's own city centre. A neighbourhood
        still missing (columns `check` could not fill in place) is found on the map."""
        from airbnb_price.core import features

        columns = as_columns(columns)
        table = dict(columns) if isinstance(columns, Filled) else {
            c: rule.filled(rule.prepared(columns[c] if c in columns else np.full(
                len(next(iter(columns.values()))), None, dtype=object)))
            for c, rule in self.rules.items()}
        hood = table.get("neighbourhood")
        missing = np.zeros(0, int) if hood is None else np.flatnonzero(np.equal(hood, None))
        if len(missing) and self.neighbourhoods is not None:
            found = self.neighbourhoods.locate_many(list(table["latitude"][missing]),
                                                    list(table["longitude"][missing]))
            hood[missing] = found
        return features.add_features(table, self.city.centre, self.spec.feature_set,
                                     features.reads_cards(self.model.input_columns))

    def price(self, columns: Columns) -> np.ndarray:
        """Prices in the city's currency (unrounded), one per row of checked columns."""
        return self.model.predict(self.features(columns))

    def price_ranges(self, columns: Columns, level: float = ranges.DEFAULT_LEVEL
                     ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Prices and their calibrated range at `level` (None for a model published before
        ranges), in the city's currency, unrounded."""
        return self.model.predict_ranges(self.features(columns), level)

    def answer(self, columns: Columns, explain: bool = False,
               level: float = ranges.DEFAULT_LEVEL) -> dict:
        """The endpoint's response body for checked columns: prices rounded to the cent, each
        with its range at `level` (and top contributions when asked), the model, city and
        currency."""
        table = self.features(columns)  # once, for the prices, ranges and explanations
        prices, low, high = self.model.predict_ranges(table, level)
        digits = cities.minor_digits(self.city.currency)  # 11,740 JPY, not 11740.41
        if explain:
            try:
                items = contributions.explain(self.model, table, top=TOP_CONTRIBUTIONS)
            except contributions.NotExplainable as exc:
                raise NotExplainable(str(exc)) from exc
        else:
            items = [{"price": cities.rounded(p, digits)} for p in prices]
        if digits != 2:
            items = [_rounded(item, digits) for item in items]
        if low is not None:
            for item, lo, hi in zip(items, low, high, strict=True):
                item["range"] = {"low": cities.rounded(lo, digits),
                                 "high": cities.rounded(hi, digits), "level": level}
        return {"model": {"name": self.metadata.get("name"), "version": self.version,
                          "feature_set": self.spec.feature_set.name},
                "city": self.city.name, "currency": self.city.currency,
                "predictions": [in_currency(item, self.city.currency) for item in items]}


def _rounded(item: dict, digits: int) -> dict:
    """An answer's amounts (price, base, contributions) to a currency's minor unit."""
    item = item | {"price": cities.rounded(item["price"], digits)}
    if "base" in item:
        item["base"] = cities.rounded(item["base"], digits)
        item["contributions"] = [c | {"value": cities.rounded(c["value"], digits)}
                                 for c in item["contributions"]]
    return item


def in_currency(item: dict, currency: str) -> dict:
    """A prediction as the API answers it: `price` (and `base`, contributions' `value`) in the
    city's currency; a euro model's answer also keeps the `price_eur`, `base_eur` and `eur`
    names of the first, Amsterdam-only API, so its clients keep working."""
    if currency != "EUR":
        return item
    euro = {"price_eur": item["price"]}
    if "base" in item:
        euro |= {"base_eur": item["base"], "contributions": [
            c | {"eur": c["value"]} for c in item["contributions"]]}
    return item | euro
