"""Prices (and their explanations) for validated listings, on the lean artifact: the same
feature functions training used, on a dict of numpy arrays instead of a DataFrame."""

from __future__ import annotations

from typing import Any

import numpy as np

from airbnb_price.core import features, registry
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


def feature_rows(listings: list[Any], model: ModelSpec) -> dict[str, np.ndarray]:
    """The model's input table for validated listings: the same `features.add_features` call
    training makes, on a dict of arrays instead of a DataFrame (missing values -> NaN)."""
    chosen = model.feature_set
    table = {c: _column([getattr(x, c) for x in listings]) for c in chosen.input_columns}
    for column in chosen.numeric:
        table[column] = np.array([np.nan if v is None else float(v) for v in table[column]])
    return features.add_features(table, model.city, chosen)


def predict(loaded: registry.LoadedModel, model: ModelSpec, listings: list[Any],
            with_explain: bool) -> dict:
    """Prices (EUR) for validated listings, and their top contributions when asked; the
    response names the model (registry name, version, feature set) that answered."""
    table = feature_rows(listings, model)
    if with_explain:
        try:
            items = contributions.explain(loaded.model, table, top=TOP_CONTRIBUTIONS)
        except contributions.NotExplainable as exc:
            raise RequestError(422, "explain is not available for the served model", [
                {"loc": ["query", "explain"], "msg": str(exc), "type": "not_explainable"}]) from exc
    else:
        items = [{"price_eur": round(float(p), 2)} for p in loaded.model.predict(table)]
    return {"model": {"name": loaded.metadata.get("name"), "version": loaded.version,
                      "feature_set": model.feature_set.name},
            "currency": "EUR", "predictions": items}
