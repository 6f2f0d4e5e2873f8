"""Prices (and their explanations) for validated listings, on the lean artifact: the same
feature functions training used, on a dict of numpy arrays instead of a DataFrame."""

from __future__ import annotations

from typing import Any

import numpy as np

from airbnb_price.core import cities, features, registry
from airbnb_price.core.cities import Centre
from airbnb_price.core.spec import ModelSpec
from airbnb_price.serve import contributions
from airbnb_price.serve.request import RequestError

#: Contributions returned per listing with ?explain=true.
TOP_CONTRIBUTIONS = 5


def _column(values: list[Any]) -> np.ndarray:
    """A 1-D object array, also when every value is a list of the same length."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def feature_rows(listings: list[Any], model: ModelSpec,
                 centre: Centre = features.DEFAULT_CENTRE) -> dict[str, np.ndarray]:
    """The model's input table for validated listings: the same `features.add_features` call
    training makes, on a dict of arrays instead of a DataFrame (missing values -> NaN), with
    distances from the `centre` the model was trained with."""
    chosen = model.feature_set
    table = {c: _column([getattr(x, c) for x in listings]) for c in chosen.input_columns}
    for column in chosen.numeric:
        table[column] = np.array([np.nan if v is None else float(v) for v in table[column]])
    return features.add_features(table, centre, chosen)


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


def prices(loaded: registry.LoadedModel, table: dict[str, np.ndarray]) -> list[float]:
    """Prices of a feature table in the model's currency, rounded to the cent as answered."""
    return [round(float(p), 2) for p in loaded.model.predict(table)]


def predict(loaded: registry.LoadedModel, model: ModelSpec, listings: list[Any],
            with_explain: bool) -> dict:
    """Prices in the city's currency for validated listings, and their top contributions when
    asked; the response names the model (registry name, version, feature set), the city and
    the currency."""
    city = cities.of_metadata(loaded.metadata, model.city)
    table = feature_rows(listings, model, city.centre)
    if with_explain:
        try:
            items = contributions.explain(loaded.model, table, top=TOP_CONTRIBUTIONS)
        except contributions.NotExplainable as exc:
            raise RequestError(422, "explain is not available for the served model", [
                {"loc": ["query", "explain"], "msg": str(exc), "type": "not_explainable"}]) from exc
    else:
        items = [{"price": p} for p in prices(loaded, table)]
    return {"model": {"name": loaded.metadata.get("name"), "version": loaded.version,
                      "feature_set": model.feature_set.name},
            "city": city.name, "currency": city.currency,
            "predictions": [in_currency(item, city.currency) for item in items]}
