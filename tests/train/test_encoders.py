"""The compiler against the real PyCaret 3 transformers for every encoder and step this
project's presets can put in a pipeline: one-hot (few levels), ordinal (two levels), target
encoding (more levels than the one-hot limit), rare-level grouping, imputers, renamed columns
(levels with JSON's special characters) and the target transform."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from airbnb_price.serve import fused
from airbnb_price.train import compiler, experiment


def synthetic(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """Listings-like data whose categoricals force each encoder."""
    rng = np.random.default_rng(seed)
    many = [f"district {i}" for i in range(120)]  # > max_encoding_ohe: target encoding
    few = ['Rockland, Fairfield', 'L\'AMISTAT', 'Quote "q"', "Colon: {x}", "plain"]
    frame = pd.DataFrame({
        "neighbourhood": rng.choice(many, rows),
        "room_type": rng.choice(["Entire home/apt", "Private room"], rows),  # 2 levels
        "property_type": rng.choice(few, rows, p=[0.4, 0.3, 0.2, 0.095, 0.005]),
        "latitude": rng.normal(48.42, 0.02, rows),
        "minimum_nights": rng.integers(1, 30, rows).astype(float),
    })
    frame.loc[rng.choice(rows, 40, replace=False), "minimum_nights"] = np.nan  # imputed
    effect = frame["neighbourhood"].str.len() + (frame["room_type"] == "Private room") * -40
    frame["price"] = np.exp(4.5 + effect / 60 + rng.normal(0, 0.2, rows))
    return frame


@pytest.fixture(scope="module", params=["lean", "article"])
def fitted(request):
    table = synthetic()
    # the article preset keeps 30 features by default; this table makes fewer
    extra = {"n_features_to_select": 4} if request.param == "article" else {}
    exp = experiment.setup_experiment(table, request.param, folds=2, **extra)
    model = exp.finalize_model(exp.create_model("lightgbm", n_estimators=30, verbose=False))
    return request.param, table.drop(columns="price"), model


def test_every_step_compiles_and_matches_the_pipeline(fitted):
    preset, X, pipeline = fitted
    lean = compiler.compile_pipeline(pipeline, X)
    kinds = {step.name: step.kind for step in lean.steps}
    assert kinds["ordinal_encoding"] == "lookup" and kinds["rest_encoding"] == "lookup"
    assert kinds["clean_column_names"] == "select"
    assert "numerical_imputer" in kinds and lean.target_transformer is not None
    if preset == "article":
        assert kinds["rare_category_grouping"] == "rare"
    else:
        assert kinds["onehot_encoding"] == "lookup"
    # the model matrix itself, step by step, equals PyCaret's
    expected = pipeline[:-1].transform(X)
    np.testing.assert_allclose(lean.transform(X), expected.to_numpy(dtype=float), atol=1e-9)
    assert lean.feature_names == [str(c) for c in expected.columns]
    assert not any(ch in name for name in lean.feature_names for ch in ',:"{}[]')


def test_unseen_levels_and_missing_numbers_are_encoded_as_pycaret_does(fitted):
    """What a request can carry that training never had: a level no listing had, a number
    left out (categoricals are required or derived, so never missing)."""
    _, X, pipeline = fitted
    lean = compiler.compile_pipeline(pipeline, X)
    odd = X.head(4).copy()
    odd["neighbourhood"] = ["district 999", "district 3", "district 4", "district 5"]
    odd["property_type"] = ["plain", "never seen", "plain", 'Quote "q"']
    odd.loc[odd.index[0], "minimum_nights"] = np.nan
    np.testing.assert_allclose(lean.predict(odd), pipeline.predict(odd), atol=compiler.TOLERANCE)


def test_the_fused_plan_writes_the_matrix_the_steps_do(fitted):
    """The lean pipeline runs as one fused pass (serve/fused.py), the article one (scaling,
    polynomial terms) step by step; fused, the matrix is the steps' own, value for value: on
    the training rows, on a DataFrame and on the engine's numpy columns, one row and many, with
    missing numbers, missing (None, NaN) and unseen levels."""
    preset, X, pipeline = fitted
    lean = compiler.compile_pipeline(pipeline, X)
    plan = fused.fuse(lean.steps, len(lean.input_columns))
    assert (plan is None) == (preset == "article")
    odd = X.head(6).copy()
    odd["neighbourhood"] = ["district 999", None, "district 4", float("nan"), "district 6",
                            "district 7"]
    odd["property_type"] = ["plain", "never seen", None, 'Quote "q"', "plain", "plain"]
    odd.loc[odd.index[:3], "minimum_nights"] = np.nan
    columns = {c: odd[c].to_numpy() for c in odd.columns}
    one = {c: v[:1] for c, v in columns.items()}
    many = {c: np.concatenate([v] * 4) for c, v in columns.items()}  # past artifact._FEW
    for table in (X, odd, columns, one, many):
        np.testing.assert_array_equal(lean.transform(table), lean.transform_steps(table))
