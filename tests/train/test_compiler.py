"""The lean artifact against the PyCaret pipeline, and the explanation maths."""

from __future__ import annotations

import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from examples import CENTRE

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
    assert diff.max() <= compiler.TOLERANCE
    assert len(diff) == len(table)


def test_dict_input_matches_frame_input(table, lean):
    """Serving builds a dict from the request with the same feature functions."""
    raw = {"name": ["Cosy studio near the canals"], "neighbourhood": ["Centrum-West"],
           "room_type": ["Entire home/apt"], "latitude": [52.3738], "longitude": [4.8910],
           "minimum_nights": [2], "availability_365": [100], "calculated_host_listings_count": [1]}
    as_dict = features.add_features(dict(raw), CENTRE)
    as_frame = features.feature_table(pd.DataFrame(raw), target=None, centre=CENTRE)
    assert lean.predict(as_dict)[0] == pytest.approx(lean.predict(as_frame)[0], abs=1e-9)
    assert 25 <= lean.predict(as_dict)[0] <= 500


def test_compile_refuses_a_mismatch(model_dir, table):
    pipeline = joblib.load(model_dir / "model.pkl")
    X = table.drop(columns="price").head(200)
    lean = compiler.compile_pipeline(pipeline, X)
    lean.target_transformer = None  # sabotage: predictions stay in transformed space
    with pytest.raises(compiler.ArtifactMismatch, match="differs from the pipeline"):
        compiler.check_equivalence(lean, pipeline, X)


def test_price_contributions_add_up(table, lean):
    sample = table.drop(columns="price").head(50)
    out = contributions.explain(lean, sample, top=len(lean.feature_names))
    prices = lean.predict(sample)
    for row, price in zip(out, prices, strict=True):
        total = row["base"] + sum(c["value"] for c in row["contributions"])
        rounding = 0.005 * (len(row["contributions"]) + 1)  # each value is rounded to cents
        assert total == pytest.approx(price, abs=rounding)
        assert row["price"] == pytest.approx(price, abs=0.01)


def test_compiled_treeshap_equals_shap_treeexplainer(model_dir, table, lean):
    """The compiled trees' own TreeSHAP (C, from structure and cover) against shap's on the
    pipeline's fitted estimator, and its base value against shap's expected value."""
    import shap

    estimator = joblib.load(model_dir / "model.pkl").steps[-1][1]
    X = lean.transform(table.drop(columns="price").head(30))
    native, base = contributions.raw_contributions(lean, X)
    explainer = shap.TreeExplainer(estimator)
    np.testing.assert_allclose(native, explainer.shap_values(X), atol=1e-9)
    np.testing.assert_allclose(base, float(np.ravel(explainer.expected_value)[0]), atol=1e-9)


@pytest.mark.parametrize(("name", "preset"), [("rf", "lean"), ("et", "lean"), ("gbr", "lean"),
                                              ("dt", "lean"), ("ridge", "lean"),
                                              ("lightgbm", "article")])
def test_every_candidate_estimator_compiles_to_the_cent(table, name, preset):
    """Whichever model compare_models picks (random forest won on a full London run) and
    either preset (the article's: polynomial terms, quantile transform, scaling, selection)
    compiles and prices every training row within a cent; tree models also explain exactly."""
    from airbnb_price.train import experiment

    sample = table.sample(600, random_state=0)
    exp = experiment.setup_experiment(sample, preset, folds=2)
    pipeline = exp.finalize_model(exp.create_model(name, verbose=False))
    X = sample.drop(columns="price")
    compiled = compiler.compile_pipeline(pipeline, X)  # raises ArtifactMismatch otherwise
    assert compiler.check_equivalence(compiled, pipeline, X) <= compiler.TOLERANCE
    if name != "ridge":
        import shap

        Xt = compiled.transform(X.head(20))
        native, _ = contributions.raw_contributions(compiled, Xt)
        reference = shap.TreeExplainer(pipeline.steps[-1][1]).shap_values(Xt)
        np.testing.assert_allclose(native, reference, atol=1e-6)


def test_a_column_without_any_value_compiles_to_the_cent(table):
    """scikit-learn's imputer drops a column no training row has a value in (a listing-card
    file's title_guests: cards never state guests); the compiled imputer drops it too."""
    from airbnb_price.train import experiment

    sample = table.sample(600, random_state=0).assign(title_guests=np.nan)
    exp = experiment.setup_experiment(sample, "lean", folds=2)
    pipeline = exp.finalize_model(exp.create_model("lightgbm", verbose=False))
    X = sample.drop(columns="price")
    assert compiler.check_equivalence(compiler.compile_pipeline(pipeline, X), pipeline, X) \
        <= compiler.TOLERANCE


def test_serving_modules_do_not_import_training_stack(model_dir):
    """Loading, pricing and explaining a compiled model pulls none of PyCaret, shap,
    papermill, ydata-profiling, pandas, scikit-learn, SciPy or LightGBM, even where they are
    installed (as here)."""
    code = (
        "import sys; from airbnb_price.core import cities, features, registry;"
        "from airbnb_price.serve import artifact, contributions;"
        f"m = artifact.load({str(model_dir)!r});"
        "row = features.add_features({'name': ['x'], 'neighbourhood': ['Centrum-West'],"
        "'room_type': ['Private room'], 'latitude': [52.37], 'longitude': [4.89],"
        "'minimum_nights': [2], 'availability_365': [0], 'calculated_host_listings_count': [1]},"
        "cities.lookup('amsterdam').centre);"
        "m.predict(row); contributions.explain(m, row);"
        "bad = [k for k in ('pycaret', 'shap', 'papermill', 'ydata_profiling', 'pandas',"
        " 'sklearn', 'scipy', 'lightgbm', 'joblib') if k in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
