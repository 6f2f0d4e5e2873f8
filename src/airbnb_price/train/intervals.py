"""Calibrating the price range (serve.ranges) and measuring it.

The difficulty model learns how far off a price usually is for listings alike from the
training rows' out-of-fold errors (`DIFFICULTY_FOLDS` plain LightGBMs, each scoring the rows it
did not see: cheap, and every training row teaches it). The conformity scores come from every
hold-out row, priced by the model fitted on the training rows only: the more calibration rows,
the steadier the coverage (a few hundred listings give a few dozen), and the less the
conformal quantile's rounding up adds (ceil((n + 1) x 0.8) / (n + 1): 82% at n = 38, 80.4% at
n = 55). The run measures the range by cross-fitting: each half of the hold-out (seeded) gets
the range calibrated on the other half's scores, so no row is measured by a range its own
score helped set: coverage overall, by room type and by price decile, width against the naive
range (the 10th-90th percentile of training prices in the listing's neighbourhood x room type).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from airbnb_price.core.config import SEED, TARGET
from airbnb_price.serve.ranges import DEFAULT_LEVEL, Calibration
from airbnb_price.train import baselines, estimators

DIFFICULTY_FOLDS = 5
#: The difficulty model: small and smooth (it predicts an error's size, not a price).
DIFFICULTY_PARAMS = {"n_estimators": 300, "learning_rate": 0.03, "num_leaves": 15,
                     "min_child_samples": 40, "subsample": 0.8, "subsample_freq": 1,
                     "verbose": -1, "random_state": SEED, "n_jobs": 1}
#: Room types with at least this many measured listings get their own coverage figure.
GROUP_MIN = 30


def _halves(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two halves of a hold-out of `n` rows, drawn at random (seeded)."""
    order = np.random.default_rng(seed).permutation(n)
    return order[:n // 2], order[n // 2:]


def _log_errors(prices: Any, predicted: Any) -> np.ndarray:
    return np.abs(np.log(np.asarray(prices, dtype=float)) - np.log(np.asarray(predicted)))


def out_of_fold_errors(train: pd.DataFrame) -> np.ndarray:
    """Each training row's |log price - log predicted| by a plain LightGBM that did not see it."""
    from sklearn.model_selection import KFold

    errors = np.empty(len(train))
    X, y = train.drop(columns=TARGET), train[TARGET]
    folds = KFold(min(DIFFICULTY_FOLDS, len(train)), shuffle=True, random_state=SEED)
    for fit_rows, score_rows in folds.split(X):
        model = baselines.baseline_lightgbm(X.iloc[fit_rows], y.iloc[fit_rows])
        errors[score_rows] = _log_errors(y.iloc[score_rows],
                                         baselines.baseline_predict(model, X.iloc[score_rows]))
    return errors


def calibrate(compiled: Any, train: pd.DataFrame, holdout: pd.DataFrame,
              predicted: np.ndarray) -> Calibration:
    """The range's calibration: a difficulty model from the training rows' out-of-fold errors,
    conformity scores from every hold-out row and its honest prediction."""
    from lightgbm import LGBMRegressor

    errors = out_of_fold_errors(train)
    model = LGBMRegressor(**DIFFICULTY_PARAMS).fit(
        compiled.transform(train.drop(columns=TARGET)), errors)
    floor = max(float(np.quantile(errors, 0.05)), 1e-3)
    unscored = Calibration(estimators.estimator(model), np.empty(0), floor)
    matrix = compiled.transform(holdout.drop(columns=TARGET))
    return replace(unscored, scores=np.sort(_scores(unscored, matrix, holdout, predicted)))


def _scores(calibration: Calibration, matrix: np.ndarray, rows: pd.DataFrame,
            predicted: np.ndarray) -> np.ndarray:
    """Each row's conformity score: |log price - log predicted| over its difficulty (`matrix`:
    the rows' feature matrix)."""
    return _log_errors(rows[TARGET], predicted) / calibration.widths(matrix)


def naive_ranges(train: pd.DataFrame, X: pd.DataFrame, level: float) -> np.ndarray:
    """The naive range per row: the central `level` of training prices in the listing's
    neighbourhood x room type (of its room type when the pair has under 10 listings)."""
    tails = ((1 - level) / 2, (1 + level) / 2)
    by_both = train.groupby(["neighbourhood", "room_type"])[TARGET]
    by_room = train.groupby("room_type")[TARGET]
    pair = by_both.quantile(tails).unstack()[by_both.size() >= 10]
    room = by_room.quantile(tails).unstack()
    keys = pd.MultiIndex.from_arrays([X["neighbourhood"], X["room_type"]])
    out = pair.reindex(keys).to_numpy()
    fallback = room.reindex(X["room_type"]).to_numpy()
    out = np.where(np.isnan(out), fallback, out)
    whole = train[TARGET].quantile(list(tails)).to_numpy()
    return np.where(np.isnan(out), whole, out)


def checked(compiled: Any, calibration: Calibration, holdout: pd.DataFrame,
            predicted: np.ndarray, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Every hold-out row with its price, range and side ("inside", "below": the asking price
    under the range, "above"), indexed as `holdout`; each half's range is calibrated on the
    other half's scores only (the served range rests on both halves: twice the rows)."""
    matrix = compiled.transform(holdout.drop(columns=TARGET))
    scores = _scores(calibration, matrix, holdout, predicted)
    low, high = np.empty(len(holdout)), np.empty(len(holdout))
    first, second = _halves(len(holdout))
    for measured, scoring in ((first, second), (second, first)):
        half = replace(calibration, scores=np.sort(scores[scoring]))
        low[measured], high[measured] = half.bounds(matrix[measured], predicted[measured], level)
    y = holdout[TARGET].to_numpy(dtype=float)
    side = np.where(y < low, "below", np.where(y > high, "above", "inside"))
    return pd.DataFrame({"latitude": holdout["latitude"], "longitude": holdout["longitude"],
                         "room_type": holdout["room_type"],
                         "neighbourhood": holdout["neighbourhood"], "asking": y,
                         "predicted": predicted, "low": low, "high": high, "side": side},
                        index=holdout.index)


def measure(rows: pd.DataFrame, train: pd.DataFrame, level: float = DEFAULT_LEVEL) -> dict:
    """The range on `checked` rows: coverage and mean width (the range's and the naive
    range's) overall and by room type, neighbourhood and price decile; a typical range."""
    y, low, high = (rows[c].to_numpy(dtype=float) for c in ("asking", "low", "high"))
    inside = (rows["side"] == "inside").to_numpy()
    naive = naive_ranges(train, rows, level)
    widths = np.column_stack([high - low, naive[:, 1] - naive[:, 0]])
    deciles = pd.qcut(y, 10, labels=False, duplicates="drop") if len(y) >= 10 else np.zeros(len(y))
    return {
        "level": level, "listings": len(y), "coverage": round(float(inside.mean()), 4),
        "mean_width": round(float(np.mean(widths[:, 0])), 2),
        "naive_mean_width": round(float(np.mean(widths[:, 1])), 2),
        "naive_coverage": round(float(np.mean((naive[:, 0] <= y) & (y <= naive[:, 1]))), 4),
        "typical": [round(float(np.median(low)), 2), round(float(np.median(high)), 2)],
        "by_room_type": _groups(inside, widths, rows["room_type"].to_numpy()),
        "by_neighbourhood": _groups(inside, widths, rows["neighbourhood"].astype(str).to_numpy()),
        "by_price_decile": _groups(inside, widths, np.asarray(deciles) + 1),
    }


#: An Airbnb listing's public page.
ROOM_URL = "https://www.airbnb.com/rooms/{id}"


def furthest(rows: pd.DataFrame, holdout: pd.DataFrame, compiled: Any, ids: pd.Series | None,
             top: int = 10) -> dict[str, list[dict]]:
    """The `top` listings priced furthest below and above their own range (by the log ratio
    of asking price to the nearer bound): what AirRent acts on, with their room link, asking
    price, range and the three biggest drivers of their predicted price."""
    from airbnb_price.core import labels
    from airbnb_price.serve import contributions

    gap = np.where(rows["side"] == "below", np.log(rows["low"] / rows["asking"]),
                   np.log(rows["asking"] / rows["high"]))
    found: dict[str, list[dict]] = {}
    for side in ("below", "above"):
        chosen = rows[(rows["side"] == side).to_numpy()].assign(gap=gap[rows["side"] == side])
        chosen = chosen.sort_values("gap", ascending=False).head(top)
        explained = contributions.explain(compiled, holdout.loc[chosen.index].drop(
            columns=TARGET), top=3) if len(chosen) else []
        found[side] = [{
            "id": None if ids is None else str(ids.loc[key]),
            "url": None if ids is None else ROOM_URL.format(id=ids.loc[key]),
            "asking": round(float(row.asking), 2), "low": round(float(row.low), 2),
            "high": round(float(row.high), 2), "room_type": row.room_type,
            "neighbourhood": str(row.neighbourhood),
            "drivers": [f"{labels.label(c['feature'])} {c['value']:+,.0f}"
                        for c in why["contributions"]]}
            for key, row, why in zip(chosen.index, chosen.itertuples(), explained, strict=True)]
    return found


def _groups(inside: np.ndarray, widths: np.ndarray, groups: np.ndarray) -> dict[str, dict]:
    """Coverage and mean widths (the range's, the naive range's) per group: every group when
    there are at most ten, else those with GROUP_MIN listings or more (a share of a handful
    of listings says nothing)."""
    out = {}
    for group in pd.unique(groups):
        chosen = groups == group
        if chosen.sum() >= GROUP_MIN or len(pd.unique(groups)) <= 10:
            out[str(group)] = {"listings": int(chosen.sum()),
                               "coverage": round(float(inside[chosen].mean()), 4),
                               "mean_width": round(float(widths[chosen, 0].mean()), 2),
                               "naive_mean_width": round(float(widths[chosen, 1].mean()), 2)}
    return dict(sorted(out.items(), key=lambda kv: (not kv[0].isdigit(),  # deciles: 2 before 10
                                                    int(kv[0]) if kv[0].isdigit() else 0, kv[0])))
