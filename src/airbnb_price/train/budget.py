"""How much work a training run does: sizes, the learning-curve sample and the time budget.

The rule (issue 21, measured on London's 67,903 listings, see README "Time against listings"):
model selection, tuning and the feature-selection comparison run on a sample of the training
split sized by a learning curve (the rows beyond which a plain LightGBM's hold-out MAE stops
improving by more than `CURVE_GAIN`); the final fit uses every row. A time budget caps what
cannot be sized in advance: `compare_models` gets PyCaret's own `budget_time`, tuning gets as
many iterations as the budget left pays for (timed on one fit of the model), and the run says
what it cut.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from airbnb_price.core import config
from airbnb_price.core.config import SEED
from airbnb_price.core.params import parse_duration

#: The learning curve starts here and doubles: below it every city trains on all its rows.
CURVE_START = 4000
#: A doubling of the sample that improves hold-out MAE by less than this share ends the curve.
#: Measured (benchmarks/model_quality.py, Amsterdam 2021-07-04, 5-fold CV, tuning as notebook
#: 03 tunes): 1% stopped three folds of 10,519 training rows at 8,000 and cost 0.1% MAE
#: (41.17 against 41.12 at 0.5%); 0.5% keeps those rows for the time London can afford.
CURVE_GAIN = 0.005
#: Shares of the time left that each budgeted step may take when it starts (the final fits
#: and the notebooks after 03 take the rest).
COMPARE_SHARE = 0.45
TUNE_SHARE = 0.6
#: Time kept for the notebooks after training (SHAP on `explain_rows`, the deploy check):
#: measured at 40-70 s on London; kept generous so the run ends inside its budget.
AFTER_TRAINING_S = 90.0

@dataclass
class Budget:
    """Wall-clock time left until a deadline (epoch seconds; None: no budget), and the cuts
    made to stay inside it, in words, for run.json and the notebook."""

    deadline: float | None
    cuts: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, duration: str | float | None, started: float | None = None) -> Budget:
        """A budget of `duration` ("15m", seconds, None or "none": no limit) from `started`
        (default: now)."""
        seconds = parse_duration(duration)
        return cls(None if seconds is None else (started or time.time()) + seconds)

    def left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.time()

    def share(self, fraction: float, keep: float = 0.0) -> float:
        """Seconds a step may take: `fraction` of what is left after `keep` seconds."""
        return max(0.0, self.left() - keep) * fraction


@dataclass(frozen=True)
class Sizes:
    """The sizes of one training run: config.SIZES with the caller's values on top, and the
    folds its table can take."""

    folds: int
    include: list[str]
    n_iter: int
    boruta_iter: int
    selection_rows: int | None
    folds_note: str = ""


class TooSmall(ValueError):
    """Too few listings to train and evaluate a model."""


def fold_count(rows: int, folds: int, train_size: float = 0.8) -> int:
    """The folds a table of `rows` listings can take: as asked, fewer when each fold would
    hold under config.MIN_ROWS_PER_FOLD training rows (never under 2); TooSmall under
    config.MIN_TRAINING_ROWS listings."""
    if rows < config.MIN_TRAINING_ROWS:
        raise TooSmall(f"{rows} listings after cleaning are too few to model (at least "
                       f"{config.MIN_TRAINING_ROWS}): use a bigger snapshot or a wider price "
                       "window (min_price, max_price)")
    return max(2, min(folds, int(rows * train_size) // config.MIN_ROWS_PER_FOLD))


def sizes(smoke: bool, rows: int, folds: int | None = None,
          include: list[str] | None = None, n_iter: int | None = None) -> Sizes:
    """Experiment sizes (`config.SIZES`) with explicit values on top, and the folds a table
    of `rows` listings can take (`fold_count`; `folds_note` says when fewer)."""
    explicit = {"folds": folds, "include": include, "n_iter": n_iter}
    chosen = config.sizes(smoke) | {k: v for k, v in explicit.items() if v}
    fitted = fold_count(rows, chosen["folds"])
    note = (f"{fitted} folds instead of {chosen['folds']}: {rows} listings"
            if fitted < chosen["folds"] else "")
    return Sizes(fitted, list(chosen["include"]), chosen["n_iter"], chosen["boruta_iter"],
                 chosen["selection_rows"], note)


def split(table: pd.DataFrame, holdout: float = 0.2,
          seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training rows (shuffled) and the hold-out rows no step of training sees."""
    shuffled = table.sample(frac=1.0, random_state=seed)
    cut = len(shuffled) - max(1, round(len(shuffled) * holdout))
    return shuffled.iloc[:cut], shuffled.iloc[cut:]


@dataclass(frozen=True)
class Curve:
    """A learning curve: hold-out MAE of a plain LightGBM by training rows, and the rows the
    run's model selection uses (where a doubling stopped paying `CURVE_GAIN`)."""

    points: list[dict]
    rows: int

    def note(self, total: int) -> str:
        if self.rows >= total:
            return f"model selection on all {total:,} training rows"
        return (f"model selection on {self.rows:,} of {total:,} training rows (learning curve: "
                f"doubling them improved hold-out MAE by under {CURVE_GAIN:.0%})")


def learning_curve(train: pd.DataFrame, holdout: pd.DataFrame,
                   score: Callable[[pd.DataFrame, pd.DataFrame], float]) -> Curve:
    """Score `train`'s first CURVE_START rows, then twice as many, ... until a doubling
    improves the score (a hold-out MAE) by less than CURVE_GAIN or every row is in."""
    points: list[dict] = []
    rows = min(CURVE_START, len(train))
    while True:
        points.append({"rows": rows, "mae": round(score(train.iloc[:rows], holdout), 2)})
        if len(points) > 1 and points[-1]["mae"] > points[-2]["mae"] * (1 - CURVE_GAIN):
            return Curve(points, points[-2]["rows"])
        if rows == len(train):
            return Curve(points, rows)
        rows = min(2 * rows, len(train))

