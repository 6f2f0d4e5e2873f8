"""Explanation figures (notebook 04): SHAP values of the served artifact in the city's currency, as a
shap.Explanation for shap's plots, and the listings the waterfalls show. The contributions
themselves are the endpoint's (`airbnb_price.serve.contributions`), so the report and the API
explain a price the same way."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from airbnb_price.core import labels, runfiles
from airbnb_price.core.config import SEED
from airbnb_price.core.files import write_json
from airbnb_price.serve.artifact import CompiledModel
from airbnb_price.serve.contributions import price_contributions, raw_contributions

#: Seconds notebook 04 gives SHAP values. Exact tree SHAP costs leaves x depth^2 per tree and
#: row: 3,000 listings took 17 s on Amsterdam's LightGBM but 1,442 s on Valencia's full-depth
#: random forest (benchmarks/results/pipeline.json), so the explained sample is sized by time.
EXPLAIN_SECONDS = 40.0
#: Listings timed to size the sample, and the fewest explained whatever the cost.
PROBE_ROWS = 20
MIN_EXPLAIN_ROWS = 100


@dataclass(frozen=True)
class ExplainSample:
    """The listings notebook 04 explains, and why that many."""

    table: pd.DataFrame
    note: str


def explain_sample(model: CompiledModel, table: pd.DataFrame, rows: int,
                   seconds: float = EXPLAIN_SECONDS) -> ExplainSample:
    """A random sample of up to `rows` listings whose SHAP values take about `seconds`:
    the cost per listing is timed on PROBE_ROWS of them first. The count depends on the
    machine's speed only when the model is too slow to explain `rows` in time."""
    sample = table.sample(min(len(table), rows), random_state=SEED)
    started = time.perf_counter()
    raw_contributions(model, model.transform(sample.iloc[:PROBE_ROWS]))
    per_row = (time.perf_counter() - started) / min(PROBE_ROWS, len(sample))
    fits = max(MIN_EXPLAIN_ROWS, int(seconds / max(per_row, 1e-9)))
    if fits >= len(sample):
        return ExplainSample(sample, f"explaining {len(sample):,} listings")
    return ExplainSample(sample.iloc[:fits], (
        f"explaining {fits:,} of {len(sample):,} sampled listings: tree SHAP on this model "
        f"takes {per_row:.2f} s a listing, and notebook 04 gives it about {seconds:.0f} s"))


def price_explanation(model: CompiledModel, table: Any) -> Any:
    """A shap.Explanation whose values are contributions in the model's currency, its
    features named as a reader says them (core/labels.py), for shap's plots."""
    import shap

    X = model.transform(table)
    moves, base = price_contributions(model, *raw_contributions(model, X))
    return shap.Explanation(values=moves, base_values=base, data=X,
                            feature_names=[labels.label(f) for f in model.feature_names])


def example_rows(prices: np.ndarray) -> dict[str, int]:
    """Row positions of a cheap (5th percentile), typical (median) and expensive (95th) price."""
    prices = np.asarray(prices)
    return {label: int(np.argmin(np.abs(prices - np.quantile(prices, q))))
            for label, q in (("cheap", 0.05), ("typical", 0.5), ("expensive", 0.95))}



def write_drivers(run_dir: Path, explanation: Any, top: int = 5) -> list[dict]:
    """The `top` features that move prices most (mean absolute contribution over the
    explained listings, in the city's currency), written to the run folder for its page."""
    strength = np.abs(np.asarray(explanation.values)).mean(axis=0)
    order = np.argsort(-strength)[:top]
    found = [{"label": explanation.feature_names[i], "mean_abs": round(float(strength[i]), 2)}
             for i in order]
    write_json(Path(run_dir) / runfiles.DRIVERS, {"drivers": found, "listings": len(explanation.values)})
    return found
