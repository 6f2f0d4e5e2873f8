"""The lean artifact against the PyCaret pipeline, and the explanation maths."""

from __future__ import annotations

import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

from airbnb_price.core import features
from airbnb_price.serve import artifact, contributions
from airbnb_price.train import compiler


@pytest.fixture(scope="module")
def table(smoke_run):
    return pd.read_parquet(smoke_run / "features.parquet")


@pytest.fixture(scope="module")
def lean(model_dir):
    return artifact.load(model_dir)


def test_lean_matches_pycaret_on_every_training_row(model_dir, table, lean):
    pipeline = joblib.load(model_dir / "model.pkl")
    X = table.drop(columns="price")
    diff = np.abs(lean.predict(X) - np.asarray(pipeline.predict(X)))
    assert diff.max() <= compiler.TOLERANCE_EUR
    assert len(diff) == len(table)


def test_dict_input_matches_frame_input(table, lean):
    """Serving builds a dict from the request with the same feature functions."""
    raw = {"name": ["Cosy studio near the canals"], "neighbourhood": ["Centrum-West"],
           "room_type": ["Entire home/apt"], "latitude": [52.3738], "longitude": [4.8910],
           "minimum_nights": [2], "availability_365": [100], "calculated_host_listings_count": [1]}
    as_dict = features.add_features(dict(raw))
    as_frame = features.feature_table(pd.DataFrame(raw), target=None)
    assert lean.predict(as_dict)[0] == pytest.approx(lean.predict(as_frame)[0], abs=1e-9)
    assert 25 <= lean.predict(as_dict)[0] <= 500


def test_compile_refuses_a_mismatch(model_dir, table):
    pipeline = joblib.load(model_dir / "model.pkl")
    X = table.drop(columns="price").head(200)
    lean = compiler.compile_pipeline(pipeline, X)
    lean.target_transformer = None  # sabotage: predictions stay in transformed space
    with pytest.raises(compiler.ArtifactMismatch, match="differs from the pipeline"):
        compiler.check_equivalence(lean, pipeline, X)


def test_euro_contributions_add_up(table, lean):
    sample = table.drop(columns="price").head(50)
    out = contributions.explain(lean, sample, top=len(lean.feature_names))
    prices = lean.predict(sample)
    for row, price in zip(out, prices, strict=True):
        total = row["base"] + sum(c["value"] for c in row["contributions"])
        rounding = 0.005 * (len(row["contributions"]) + 1)  # each value is rounded to cents
        assert total == pytest.approx(price, abs=rounding)
        assert row["price"] == pytest.approx(price, abs=0.01)


def test_lightgbm_contributions_equal_shap_treeexplainer(table, lean):
    import shap

    if not type(lean.estimator).__module__.startswith("lightgbm"):
        pytest.fail(f"smoke model is {type(lean.estimator).__name__}; expected LightGBM")
    X = lean.transform(table.drop(columns="price").head(30))
    native, _ = contributions.raw_contributions(lean, X)
    reference = shap.TreeExplainer(lean.estimator).shap_values(X)
    np.testing.assert_allclose(native, reference, atol=1e-6)


def test_serving_modules_do_not_import_training_stack(model_dir):
    """Loading and predicting must not pull PyCaret, shap, papermill or ydata-profiling.

    (LightGBM imports pandas and matplotlib when they are installed, as they are here; the
    serving requirements leave both out.)"""
    code = (
        "import sys, joblib; from airbnb_price.core import features, registry;"
        "from airbnb_price.serve import artifact, contributions;"
        f"m = joblib.load({str(model_dir / 'lean.pkl')!r});"
        "row = features.add_features({'name': ['x'], 'neighbourhood': ['Centrum-West'],"
        "'room_type': ['Private room'], 'latitude': [52.37], 'longitude': [4.89],"
        "'minimum_nights': [2], 'availability_365': [0], 'calculated_host_listings_count': [1]});"
        "m.predict(row); contributions.explain(m, row);"
        "bad = [k for k in ('pycaret', 'shap', 'papermill', 'ydata_profiling')"
        " if k in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
