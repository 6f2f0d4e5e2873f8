"""A calibrated price range with every price: normalised split-conformal prediction.

Why this method: it has a finite-sample coverage guarantee (for a new listing exchangeable
with the calibration rows, P(price inside its level-a range) >= a) without assuming a
distribution, its width adapts to the listing (a difficulty model predicts how far off the
price model usually is for listings like it: narrow for an ordinary flat, wide for a villa),
and it travels as a few numpy arrays and one compiled tree ensemble (no MAPIE or scikit-learn
at serving time). Conformalised quantile regression would need two more LightGBM models fitted
per run and per level; normalised conformal serves every level from one sorted score list.

Scores live in log-price space, |log price - log predicted| / difficulty, so a range is
`price * exp(+-q * difficulty)`: asymmetric in currency, as prices are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The level every price's range has unless a request asks for another.
DEFAULT_LEVEL = 0.8
#: The levels a request may ask for (`?level=`): below 0.5 a "range" says little; above 0.95
#: it rests on the few largest scores of a small city's calibration rows.
MIN_LEVEL, MAX_LEVEL = 0.5, 0.95


class LevelError(ValueError):
    """A range level outside [MIN_LEVEL, MAX_LEVEL] or no number."""


def check_level(value: Any) -> float:
    """The level as a float; LevelError naming the bounds otherwise."""
    try:
        level = float(value)
    except (TypeError, ValueError):
        raise LevelError(f"level must be a number between {MIN_LEVEL} and {MAX_LEVEL}, "
                         f"not {value!r}") from None
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise LevelError(f"level must be between {MIN_LEVEL} and {MAX_LEVEL}, not {level:g}")
    return level


@dataclass
class Calibration:
    """The difficulty model (compiled trees on the price model's feature matrix, predicting
    |log price - log predicted|), the sorted conformity scores of the calibration rows and the
    smallest difficulty used (so no range has zero width)."""

    difficulty: Any
    scores: np.ndarray
    floor: float

    def quantile(self, level: float) -> float:
        """The conformal quantile: the ceil((n + 1) * level)-th smallest score (the largest
        when that exceeds n: a small city's high levels rest on its largest score)."""
        n = len(self.scores)
        return float(self.scores[min(n, math.ceil((n + 1) * level)) - 1])

    def widths(self, matrix: np.ndarray) -> np.ndarray:
        return np.maximum(self.difficulty.predict(matrix), self.floor)

    def bounds(self, matrix: np.ndarray, prices: np.ndarray,
               level: float) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) per row for prices predicted from `matrix`."""
        spread = np.exp(self.quantile(level) * self.widths(matrix))
        return prices / spread, prices * spread
