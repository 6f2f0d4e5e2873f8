"""Each numpy form of a scikit-learn transformer (serve/transforms.py, made by
train/estimators.transformer) against the fitted original, on values that reach every branch:
negatives and positives for Yeo-Johnson (and its lambda 0 and 2 special cases), missing
values, values beyond the quantiles' ends, one row as the endpoint sends and many as batch
pricing does."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from airbnb_price.serve import transforms
from airbnb_price.train import estimators


def _data(rows: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.normal(0, 3, rows), rng.lognormal(3, 1, rows),
                            rng.uniform(-50, 50, rows)])


def _both(fitted, X: np.ndarray, inverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    mine = estimators.transformer(fitted)
    if inverse:
        return mine.inverse_transform(X), fitted.inverse_transform(X)
    return mine.transform(X), fitted.transform(X)


@pytest.mark.parametrize("standardize", [False, True])
def test_yeo_johnson_both_ways_equals_scikit_learn(standardize):
    X = _data()
    fitted = PowerTransformer(standardize=standardize).fit(X)
    fitted.lambdas_ = np.array([0.0, 2.0, fitted.lambdas_[2]])  # both special cases
    fitted = _refit_scaler(fitted, X) if standardize else fitted
    probe = np.vstack([X, [[-0.0, 0.0, 1e-12]], [[np.nan, -3.0, 7.0]]])
    for rows in (probe, probe[:1], probe[-1:]):  # many rows, one positive, one with NaN
        mine, theirs = _both(fitted, rows)
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
        back, theirs_back = _both(fitted, theirs, inverse=True)
        np.testing.assert_allclose(back, theirs_back, rtol=1e-12, atol=1e-12)


def _refit_scaler(fitted: PowerTransformer, X: np.ndarray) -> PowerTransformer:
    """The standardizing scaler refitted after the lambdas were set by hand."""
    fitted._scaler.fit(fitted._yeo_johnson_transform_all(X) if hasattr(
        fitted, "_yeo_johnson_transform_all") else np.column_stack([
            fitted._yeo_johnson_transform(X[:, i], lmbda)
            for i, lmbda in enumerate(fitted.lambdas_)]))
    return fitted


def test_one_target_value_inverts_as_scikit_learn_does():
    """The served model's target transform: one price at a time, both signs of the
    transformed value."""
    y = np.random.default_rng(1).lognormal(4.5, 0.6, (500, 1))
    fitted = PowerTransformer(standardize=False).fit(y)
    for lmbda in (fitted.lambdas_[0], 0.0, -0.5, 2.0):  # the fitted one, and each branch
        fitted.lambdas_ = np.array([lmbda])
        for value in (-1.5, 0.0, 1.2, 4.2):
            mine, theirs = _both(fitted, np.array([[value]]), inverse=True)
            np.testing.assert_allclose(mine, theirs, rtol=1e-13, err_msg=f"{lmbda} {value}")


@pytest.mark.parametrize("output", ["normal", "uniform"])
def test_quantile_equals_scikit_learn(output):
    X = _data()
    fitted = QuantileTransformer(n_quantiles=100, output_distribution=output).fit(X)
    probe = np.vstack([X, X.min(axis=0) - 1, X.max(axis=0) + 1, [[np.nan, 1.0, 2.0]]])
    mine, theirs = _both(fitted, probe)
    np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-9)
    back, theirs_back = _both(fitted, np.nan_to_num(theirs), inverse=True)
    np.testing.assert_allclose(back, theirs_back, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler(), MaxAbsScaler(),
                                    RobustScaler(), PolynomialFeatures(degree=2)])
def test_affine_and_polynomial_equal_scikit_learn(scaler):
    X = _data()
    missing = not isinstance(scaler, PolynomialFeatures)  # the scalers pass NaN through
    probe = np.vstack([X, [[np.nan if missing else 0.5, 0.0, -1.0]]])
    mine, theirs = _both(scaler.fit(X), probe)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
def test_imputer_equals_scikit_learn(strategy):
    X = _data()
    X[::7, 0] = np.nan
    X[:, 2] = np.nan  # no value in training: scikit-learn drops the column
    fitted = SimpleImputer(strategy=strategy, fill_value=-1.0).fit(X)
    mine, theirs = _both(fitted, X)
    np.testing.assert_array_equal(mine, theirs)
    levels = np.array([["a", None], [None, "b"], ["a", "b"]], dtype=object)
    fitted = SimpleImputer(strategy="most_frequent", missing_values=None).fit(levels)
    mine, theirs = _both(fitted, levels)
    assert mine.tolist() == theirs.tolist()
    assert isinstance(estimators.transformer(fitted), transforms.Impute)
