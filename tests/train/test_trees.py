"""The compiled trees' branch-free path (`trees_predict_steps`: eight binned rows descend a
tree together) against the generic walk, on the cases it hands back to the walk: rows with NaN,
LightGBM's zero-as-missing nodes, features with too many thresholds to bin, and rows left over
after the last full group of eight; and on values equal to a threshold, where binning must
send a row left exactly as `x <= threshold` does."""

from __future__ import annotations

import numpy as np
import pytest

from airbnb_price.serve import trees as compiled_trees
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
    plain = trees.steps().plain
    assert plain.all() != zero_as_missing  # zero-as-missing trees take the walk
    clean = np.nan_to_num(X[:1003])  # no row for the generic walk; the last group is partial
    for rows in (X, X[:13], X[:8], X[:1], np.asfortranarray(X), np.asfortranarray(X[:13]),
                 clean, np.asfortranarray(clean)):  # a remainder, one group, one row; columns
        fast = trees.predict(rows)
        np.testing.assert_array_equal(fast, trees.predict_generic(rows))
        np.testing.assert_allclose(fast, model.predict(rows), rtol=0, atol=1e-9)


def test_values_on_a_threshold_go_where_the_walk_sends_them():
    model, X = _fitted(False)
    trees = estimators.estimator(model)
    split = trees.nodes[trees.nodes["feature"] >= 0]
    rows = np.tile(np.nanmedian(X, axis=0), (len(split), 1))
    rows[np.arange(len(split)), split["feature"]] = split["threshold"]  # exactly on a cut
    rows = np.concatenate([rows, np.nextafter(rows, np.inf)])  # and just above it
    np.testing.assert_array_equal(trees.predict(rows), trees.predict_generic(rows))
    np.testing.assert_allclose(trees.predict(rows), model.predict(rows), rtol=0, atol=1e-9)


def test_trees_on_a_feature_with_too_many_thresholds_take_the_walk(monkeypatch):
    model, X = _fitted(False)
    trees = estimators.estimator(model)
    split = trees.nodes[trees.nodes["feature"] >= 0]
    busiest = max(len(np.unique(split["threshold"][split["feature"] == j])) for j in range(6))
    monkeypatch.setattr(compiled_trees, "MAX_CUTS", busiest - 1)  # one feature too many
    form = trees.steps()
    assert not form.plain.all()
    np.testing.assert_array_equal(trees.predict(X), trees.predict_generic(X))
    np.testing.assert_allclose(trees.predict(X), model.predict(X), rtol=0, atol=1e-9)


def test_trees_on_a_feature_past_the_largest_offset_take_the_walk(monkeypatch):
    """A step holds its feature's offset in a group in 16 bits: a tree splitting on a feature
    past MAX_OFFSET (here lowered to the fifth feature's offset) takes the walk."""
    model, X = _fitted(False)
    trees = estimators.estimator(model)
    monkeypatch.setattr(compiled_trees, "MAX_OFFSET", 4 * compiled_trees.LANES)
    form = trees.steps()
    assert not form.plain.all() and form.plain.any()
    np.testing.assert_array_equal(trees.predict(X), trees.predict_generic(X))
    np.testing.assert_allclose(trees.predict(X), model.predict(X), rtol=0, atol=1e-9)


def _renumbered(trees: compiled_trees.Trees, seed: int) -> compiled_trees.Trees:
    """The same trees with each tree's sibling pairs numbered in a random order after its root
    (siblings stay adjacent): children often come before their parents."""
    rng = np.random.default_rng(seed)
    nodes, cover = trees.nodes.copy(), trees.cover.copy()
    for start, end in zip(trees.roots, [*trees.roots[1:], len(nodes)], strict=True):
        split = np.flatnonzero(trees.nodes["feature"][start:end] >= 0)
        lefts = trees.nodes["left"][start + split] - start
        where = np.zeros(end - start, dtype=np.int64)  # old local number -> new
        for pair, left in enumerate(lefts[rng.permutation(len(lefts))]):
            where[left], where[left + 1] = 1 + 2 * pair, 2 + 2 * pair
        nodes[start + where] = trees.nodes[start:end]
        cover[start + where] = trees.cover[start:end]
        moved = nodes[start:end]["feature"] >= 0
        for side in ("left", "right"):
            nodes[side][start:end][moved] = start + where[nodes[side][start:end][moved] - start]
    return compiled_trees.Trees(nodes, cover, trees.roots, trees.base, trees.n_features,
                                trees.max_depth)


def test_trees_numbering_a_child_before_its_parent_take_the_walk():
    """A group of lanes stops when the sum of their node numbers stays the same, which holds
    only if every move goes to a higher number: trees that number a child before its parent
    take the walk (on this model, without that rule, lanes moving both ways stop early)."""
    model, X = _fitted(False)
    trees = _renumbered(estimators.estimator(model), seed=0)
    np.testing.assert_array_equal(trees.predict_generic(X), estimators.estimator(model)
                                  .predict_generic(X))  # the same trees, numbered otherwise
    assert not trees.steps().plain.any()
    np.testing.assert_array_equal(trees.predict(X), trees.predict_generic(X))
    np.testing.assert_allclose(trees.predict(X), model.predict(X), rtol=0, atol=1e-9)


def test_a_tree_that_is_one_leaf_prices_its_value():
    """A boosting round that found no split (a single leaf) takes zero steps."""
    import lightgbm

    X = np.zeros((50, 2))
    model = lightgbm.LGBMRegressor(n_estimators=3, verbose=-1, n_jobs=1).fit(X, np.arange(50.0))
    trees = estimators.estimator(model)
    assert (trees.steps().depths == 0).all()
    np.testing.assert_allclose(trees.predict(X[:9]), model.predict(X[:9]), atol=1e-9)


def test_rows_are_walked_alike_rows_together_whatever_their_order():
    """The walk takes rows sorted by their bins of the most split-on features (`order`): a
    permutation, the most used feature's bins ascending; and each row's sum is the same
    however the rows come."""
    model, X = _fitted(False)
    trees = estimators.estimator(model)
    key = trees.steps().key
    used = np.bincount(trees.nodes["feature"][trees.nodes["feature"] >= 0], minlength=6)
    assert key[0][0] == int(np.argmax(used)) and sum(bits for _, bits in key) <= 64
    binned = np.stack([np.searchsorted(trees.steps().cuts[trees.steps().offsets[j]:
                                                          trees.steps().offsets[j + 1]],
                                       np.nan_to_num(X[:, j]), side="left") for j in range(6)],
                      axis=1).astype(np.uint16)
    order = trees.order(binned)
    assert sorted(order.tolist()) == list(range(len(X)))
    assert (np.diff(binned[order, key[0][0]].astype(int)) >= 0).all()
    shuffled = np.random.default_rng(1).permutation(len(X))
    np.testing.assert_array_equal(trees.predict(X[shuffled]), trees.predict(X)[shuffled])


def test_a_value_bin_counts_the_cuts_below_it():
    """`binned` (the C library's branch-free binary search) equals numpy's searchsorted on
    every feature: values on a cut, between, below and above all cuts, NaN as 0 (its row
    flagged), from a row-major matrix and from a column-major one (the fused plan's)."""
    model, X = _fitted(False)
    trees = estimators.estimator(model)
    steps = trees.steps()
    cuts = [steps.cuts[steps.offsets[j]:steps.offsets[j + 1]] for j in range(X.shape[1])]
    rng = np.random.default_rng(3)
    columns = []
    for found in cuts:
        edges = np.concatenate([found, found - 1e-9, found + 1e-9, [-1e300, 1e300, np.nan]])
        columns.append(rng.choice(edges, size=500))
    values = trees._matrix(np.stack(columns, axis=1))
    expected = np.stack([np.searchsorted(c, np.nan_to_num(values[:, j], nan=-np.inf))
                         for j, c in enumerate(cuts)], axis=1)
    for matrix in (values, np.asfortranarray(values)):
        binned, has_nan = trees.binned(matrix)
        np.testing.assert_array_equal(binned, expected)
        np.testing.assert_array_equal(has_nan, np.isnan(values).any(axis=1))
