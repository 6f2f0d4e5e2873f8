"""scikit-learn's fitted transformers as numpy formulas, so the served model needs neither
scikit-learn nor SciPy: the fitted state (fill values, means and scales, polynomial powers,
Yeo-Johnson lambdas, quantiles) is copied out at compile time (`airbnb_price.train.compiler`)
and each `transform` repeats scikit-learn 1.4's arithmetic. The compiler's cent check holds
them to the real pipeline; tests/train/test_transforms.py holds each to its original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

#: scikit-learn's QuantileTransformer clips at this distance from 0 and 1.
BOUNDS_THRESHOLD = 1e-7
_EPS = np.spacing(1.0)
_normal_ppf = np.frompyfunc(NormalDist().inv_cdf, 1, 1)
_normal_cdf = np.frompyfunc(NormalDist().cdf, 1, 1)


def missing_value(value: object) -> bool:
    """The imputers' missing test: None or a float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


_missing_each = np.frompyfunc(missing_value, 1, 1)


def _is_missing(X: np.ndarray) -> np.ndarray:
    if X.dtype != object:
        return np.isnan(X)
    return _missing_each(X).astype(bool)


@dataclass
class Impute:
    """SimpleImputer: a fill value per column (mean, median, mode or constant). A column with
    no value in training has no fill, and scikit-learn drops it (`keep`: the others)."""

    fill: np.ndarray  # object: numbers or levels
    keep: np.ndarray | None = None

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=object if self.fill.dtype == object else float)
        missing = _is_missing(X)
        if missing.any():
            X[missing] = np.broadcast_to(self.fill, X.shape)[missing]
        return X if self.keep is None else X[:, self.keep]


@dataclass
class Affine:
    """StandardScaler, MinMaxScaler, MaxAbsScaler and RobustScaler: (x - shift) / divide *
    multiply + add, with the scaler's own order of operations."""

    shift: np.ndarray
    divide: np.ndarray
    multiply: np.ndarray
    add: np.ndarray

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return (X - self.shift) / self.divide * self.multiply + self.add


@dataclass
class Polynomial:
    """PolynomialFeatures: one output column per row of `powers` (the product of the inputs
    raised to them)."""

    powers: np.ndarray

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        out = np.ones((len(X), len(self.powers)))
        for j, row in enumerate(self.powers):
            for i in np.flatnonzero(row):
                out[:, j] *= X[:, i] ** row[i] if row[i] != 1 else X[:, i]
        return out


def _yeo_johnson(x: np.ndarray, lmbda: float) -> np.ndarray:
    out = np.zeros_like(x)
    pos = x >= 0
    if abs(lmbda) < _EPS:
        out[pos] = np.log1p(x[pos])
    else:
        out[pos] = (np.power(x[pos] + 1, lmbda) - 1) / lmbda
    if abs(lmbda - 2) > _EPS:
        out[~pos] = -(np.power(-x[~pos] + 1, 2 - lmbda) - 1) / (2 - lmbda)
    else:
        out[~pos] = -np.log1p(-x[~pos])
    return out


def _yeo_johnson_inverse(x: np.ndarray, lmbda: float) -> np.ndarray:
    """Each branch over every value, then each value's own: the same numbers as computing
    each branch on its own values, without the masked copies (a price is one value). Usually
    every value is in the positive branch with lambda >= 0, where no power has a negative
    base, so neither the other branch nor numpy's error state (2 µs) is needed. (Float
    operands: numpy takes a slower path for a Python int, 0.2 µs an operation on one value.)"""
    positive = x >= 0.0
    if lmbda >= 0 and np.logical_and.reduce(positive):  # without .all()'s Python layer
        return np.exp(x) - 1.0 if lmbda < _EPS else np.power(x * lmbda + 1.0, 1 / lmbda) - 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        if abs(lmbda) < _EPS:
            up = np.exp(x) - 1
        else:
            up = np.power(x * lmbda + 1, 1 / lmbda) - 1
        if abs(lmbda - 2) > _EPS:
            down = 1 - np.power(-(2 - lmbda) * x + 1, 1 / (2 - lmbda))
        else:
            down = 1 - np.exp(-x)
    return np.where(positive, up, down)


@dataclass
class YeoJohnson:
    """PowerTransformer(method="yeo-johnson"), optionally standardized (mean, scale)."""

    lambdas: np.ndarray
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float)
        for i, lmbda in enumerate(self.lambdas):
            with np.errstate(invalid="ignore"):
                X[:, i] = _yeo_johnson(X[:, i], lmbda)
        if self.mean is not None:
            X = (X - self.mean) / self.scale
        return X

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float)
        if self.mean is not None:
            X = X * self.scale + self.mean
        for i, lmbda in enumerate(self.lambdas):
            X[:, i] = _yeo_johnson_inverse(X[:, i], lmbda)
        return X


@dataclass
class Quantile:
    """QuantileTransformer with a uniform or normal output (PyCaret's is normal); the normal
    distribution's cdf and ppf come from the standard library (AS241, double precision)."""

    quantiles: np.ndarray  # (n_quantiles, n_columns)
    references: np.ndarray
    normal: bool

    def _column(self, x: np.ndarray, i: int, inverse: bool) -> np.ndarray:
        quantiles = self.quantiles[:, i]
        if inverse:
            low_x, high_x, low_y, high_y = 0.0, 1.0, quantiles[0], quantiles[-1]
            if self.normal:
                x = _normal_cdf(x).astype(float)
        else:
            low_x, high_x, low_y, high_y = quantiles[0], quantiles[-1], 0.0, 1.0
        with np.errstate(invalid="ignore"):
            if self.normal:
                low, high = x - BOUNDS_THRESHOLD < low_x, x + BOUNDS_THRESHOLD > high_x
            else:
                low, high = x == low_x, x == high_x
        x = np.array(x, dtype=float)
        finite = ~np.isnan(x)
        values = x[finite]
        if inverse:
            x[finite] = np.interp(values, self.references, quantiles)
        else:
            x[finite] = 0.5 * (np.interp(values, quantiles, self.references)
                               - np.interp(-values, -quantiles[::-1], -self.references[::-1]))
        x[high], x[low] = high_y, low_y
        if not inverse and self.normal:
            bound = BOUNDS_THRESHOLD - _EPS  # ppf is monotone: clipping first is the same
            x = _normal_ppf(np.clip(x, bound, 1 - bound)).astype(float)
        return x

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.column_stack([self._column(X[:, i], i, False) for i in range(X.shape[1])])

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.column_stack([self._column(X[:, i], i, True) for i in range(X.shape[1])])
