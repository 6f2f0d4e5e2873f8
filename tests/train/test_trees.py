"""The compiled trees' branch-free path (`trees_predict_steps`: eight rows descend a tree
together) against the generic walk, on the cases it hands back to the walk: rows with NaN,
LightGBM's zero-as-missing nodes, and rows left over after the last full group of eight."""

from __future__ import annotations

import numpy as np
import pytest

from airbnb_price.train import estimators


def _fitted(zero_as_missing: bool):
    import lightgbm

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6))
    X[rng.random(X.shape) < 0.05] = np.nan
    X[rng.random(X.shape) < 0.05] = 0.0
    y = np.nan_to_num(X[:, 0]) * 3 + np.nan_to_num(X[:, 1]) ** 2 + rng.normal(size=len(X))
    model = lightgbm.LGBMRegressor(n_estimators=60, num_leaves=31, zero_as_missing=zero_as_missing,
                                   verbose=-1, n_jobs=1).fit(X, y)
    return model, X


@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_the_branch_free_path_equals_the_walk_and_lightgbm(zero_as_missing):
    model, X = _fitted(zero_as_missing)
    trees = estimators.estimator(model)
    _, _, plain = trees.steps()
    assert plain.all() != zero_as_missing  # zero-as-missing trees take the walk
    for rows in (X, X[:13], X[:8], X[:1]):  # full groups, a remainder, one group, one row
        fast = trees.predict(rows)
        np.testing.assert_array_equal(fast, trees.predict_generic(rows))
        np.testing.assert_allclose(fast, model.predict(rows), rtol=0, atol=1e-9)


def test_a_tree_that_is_one_leaf_prices_its_value():
    """A boosting round that found no split (a single leaf) takes zero steps."""
    import lightgbm

    X = np.zeros((50, 2))
    model = lightgbm.LGBMRegressor(n_estimators=3, verbose=-1, n_jobs=1).fit(X, np.arange(50.0))
    trees = estimators.estimator(model)
    assert (trees.steps()[1] == 0).all()
    np.testing.assert_allclose(trees.predict(X[:9]), model.predict(X[:9]), atol=1e-9)
