"""Explanation figures (notebook 04): SHAP values of the served artifact in the city's currency, as a
shap.Explanation for shap's plots, and the listings the waterfalls show. The contributions
themselves are the endpoint's (`airbnb_price.serve.contributions`), so the report and the API
explain a price the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from airbnb_price.core import labels, runfiles
from airbnb_price.core.files import write_json
from airbnb_price.serve.artifact import LeanModel
from airbnb_price.serve.contributions import price_contributions, raw_contributions


def price_explanation(model: LeanModel, table: Any) -> Any:
    """A shap.Explanation whose values are contributions in the model's currency, its
    features named as a reader says them (core/labels.py), for shap's plots."""
    import shap

    X = model.transform(table)
    euros, base_eur = price_contributions(model, *raw_contributions(model, X))
    return shap.Explanation(values=euros, base_values=base_eur, data=X,
                            feature_names=[labels.label(f) for f in model.feature_names])


def example_rows(prices: np.ndarray) -> dict[str, int]:
    """Row positions of a cheap (5th percentile), typical (median) and expensive (95th) price."""
    prices = np.asarray(prices)
    return {label: int(np.argmin(np.abs(prices - np.quantile(prices, q))))
            for label, q in (("cheap", 0.05), ("typical", 0.5), ("expensive", 0.95))}


#: What the run's index page lists as the price drivers.


def write_drivers(run_dir: Path, explanation: Any, top: int = 5) -> list[dict]:
    """The `top` features that move prices most (mean absolute contribution over the
    explained listings, in the city's currency), written to the run folder for its page."""
    strength = np.abs(np.asarray(explanation.values)).mean(axis=0)
    order = np.argsort(-strength)[:top]
    found = [{"label": explanation.feature_names[i], "mean_abs": round(float(strength[i]), 2)}
             for i in order]
    write_json(Path(run_dir) / runfiles.DRIVERS, {"drivers": found, "listings": len(explanation.values)})
    return found
