"""The detailed feature set and its "existing listing" variant end to end: papermill runs on
the detailed file, every feature set's model in one registry, and the endpoint choosing the
model by the fields a request carries."""

from __future__ import annotations

import json

import numpy as np
import pytest
from examples import CENTRE, EXAMPLE, EXAMPLE_DETAILED, EXAMPLE_EXISTING

from airbnb_price.core import cities, config, features, registry, spec
from airbnb_price.ops import deploy, httpapi, moto
from airbnb_price.runs import examples
from airbnb_price.train import compiler

http = httpapi.request

STORE = f"s3://{config.LOCAL_BUCKET}/every-model"


def test_detailed_run_records_its_feature_set(detailed_run):
    record = json.loads((detailed_run / "run.json").read_text())
    assert record["status"] == "ok" and record["parameters"]["feature_set"] == "detailed"
    assert record["data"]["layout"] == "detailed"
    assert record["parameters"]["snapshot"] == "2022-01-07"
    metadata = json.loads((detailed_run / "model" / "metadata.json").read_text())
    assert metadata["feature_set"] == "detailed"
    assert set(features.DETAILED.input_columns) - {"name", "amenities", "description"} <= \
        set(metadata["input_columns"])
    assert "property_type" in metadata["inputs"]["levels"]
    # no review history reaches the model
    assert not [c for c in metadata["feature_names"] if "review" in c]
    for report in ("02_features", "03_automl", "04_explain"):
        assert (detailed_run / "reports" / f"{report}.html").is_file()


@pytest.fixture(scope="module")
def s3():
    with moto.moto_s3() as url:
        yield url


def test_existing_run_keeps_the_review_history(existing_run):
    record = json.loads((existing_run / "run.json").read_text())
    assert record["status"] == "ok" and record["parameters"]["feature_set"] == "existing"
    assert record["parameters"]["snapshot"] == "2022-01-07"
    cleaning = json.loads((existing_run / "cleaning.json").read_text())
    assert "drop_review_columns" not in [r["rule"] for r in cleaning["rules"]]
    metadata = json.loads((existing_run / "model" / "metadata.json").read_text())
    assert metadata["feature_set"] == "existing"
    assert set(features.REVIEW_INPUTS) <= set(metadata["input_columns"])


@pytest.fixture(scope="module")
def served(s3, model_dir, detailed_run, existing_run):
    """moto S3 with every feature set's model published under its own name."""
    store = registry.open_store(STORE)
    versions = {"summary": registry.publish(store, model_dir),
                "detailed": registry.publish(store, detailed_run / "model"),
                "existing": registry.publish(store, existing_run / "model")}
    with httpapi.local_endpoint(STORE) as url:
        yield url, versions, store


def test_registry_holds_every_model_under_its_name(served):
    _, versions, store = served
    for feature_set, version in versions.items():
        assert registry.latest_version(store, spec.get(feature_set=feature_set).name) == version


def test_endpoint_picks_the_model_by_the_fields_sent(served):
    url, versions, _ = served
    status, summary = http(f"{url}/predict", EXAMPLE)
    assert status == 200, summary
    assert summary["model"] == {"name": spec.get(feature_set="summary").name,
                                "version": versions["summary"], "feature_set": "summary"}
    status, detailed = http(f"{url}/predict?explain=true", EXAMPLE_DETAILED)
    assert status == 200, detailed
    assert detailed["model"] == {"name": spec.get(feature_set="detailed").name,
                                 "version": versions["detailed"], "feature_set": "detailed"}
    assert 25 <= detailed["predictions"][0]["price_eur"] < 500
    # more guests and bedrooms cost more in the detailed model
    bigger = EXAMPLE_DETAILED | {"accommodates": 8, "bedrooms": 4, "beds": 5}
    assert http(f"{url}/predict", bigger)[1]["predictions"][0]["price_eur"] > \
        detailed["predictions"][0]["price_eur"]
    status, existing = http(f"{url}/predict", EXAMPLE_EXISTING)
    assert status == 200, existing
    assert existing["model"] == {"name": spec.get(feature_set="existing").name,
                                 "version": versions["existing"], "feature_set": "existing"}
    status, body = http(f"{url}/health", method="GET")
    assert status == 200
    for feature_set, version in versions.items():
        assert body["models"][feature_set]["version"] == version


@pytest.mark.parametrize("feature_set", ["detailed", "existing"])
def test_detailed_prices_equal_the_training_pipeline(served, feature_set, request):
    """Train/serve parity for the detailed and existing-listing models: 50 real listings sent
    as a host would (JSON amenities as a list, flags as booleans, missing values left out)
    reach that model and get the pipeline's prices."""
    import joblib

    from airbnb_price.data import cleaning, listings

    url, _, _ = served
    run = request.getfixturevalue(f"{feature_set}_run")
    chosen = features.by_name(feature_set)
    rows = cleaning.clean(listings.load_listings(
        json.loads((run / "run.json").read_text())["data"]["path"]).frame,
        cleaning.default_rules(*cities.lookup("amsterdam").price_window,
                               drop_reviews=not chosen.uses_reviews))[0]
    rows = rows.sample(50, random_state=config.SEED)
    listings = [examples.request_of(row, chosen) for _, row in rows.iterrows()]
    status, body = http(f"{url}/predict", listings)
    assert status == 200, body
    assert body["model"]["feature_set"] == feature_set
    prices = np.array([p["price_eur"] for p in body["predictions"]])
    pipeline = joblib.load(run / "model" / "model.pkl")
    expected = pipeline.predict(features.feature_table(rows, target=None, centre=CENTRE,
                                                      feature_set=chosen))
    assert np.max(np.abs(prices - expected)) <= compiler.TOLERANCE + 0.005


def test_mixed_batch_is_422_naming_positions(served):
    url, _, _ = served
    status, body = http(f"{url}/predict", [EXAMPLE, EXAMPLE_DETAILED,
                                           EXAMPLE_EXISTING])
    assert status == 422 and "mixes detailed, existing, summary" in body["error"]
    assert [(e["loc"], e["msg"]) for e in body["errors"]] == [
        ([0], "a listing for the summary model"), ([1], "a listing for the detailed model"),
        ([2], "a listing for the existing model")]


def test_detailed_fields_are_validated(served):
    url, _, _ = served
    bad = EXAMPLE_DETAILED | {"property_type": "Spaceship", "accommodates": 0,
                                             "amenities": "Wifi", "host_response_rate": 120}
    status, body = http(f"{url}/predict", bad)
    assert status == 422
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        (0, "property_type"), (0, "accommodates"), (0, "amenities"), (0, "host_response_rate")}
    assert "'Spaceship' was not seen in training" in json.dumps(body)
    # review history is checked too: scores are 0-5, counts never negative
    bad = EXAMPLE_EXISTING | {"review_scores_rating": 97, "number_of_reviews": -1}
    status, body = http(f"{url}/predict", bad)
    assert status == 422, body
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        (0, "review_scores_rating"), (0, "number_of_reviews")}


def test_detailed_request_without_a_detailed_model_is_422_naming_the_citys_models(s3, model_dir):
    """The city has a model, just not this feature set's: the caller's request can be fixed
    (send the summary fields), so 422 naming the models and fields, not 503."""
    store = f"s3://{config.LOCAL_BUCKET}/summary-only"
    registry.publish(registry.open_store(store), model_dir)
    with httpapi.local_endpoint(store) as url:
        assert http(f"{url}/predict", EXAMPLE)[0] == 200
        status, body = http(f"{url}/predict", EXAMPLE_DETAILED)
        assert status == 422 and "'amsterdam' has no detailed model" in body["error"]
        assert list(body["models"]) == ["summary"]
        status, health = http(f"{url}/health", method="GET")
        assert status == 200 and health["models"]["detailed"]["status"] == "unavailable"


def test_deploy_dry_run_of_the_detailed_model_calls_it(detailed_run, tmp_path):
    """Notebook 05 / `make deploy ARGS=--dry-run` on a detailed run: published under its own
    name, called with the detailed example, answered by the detailed model."""
    result = deploy.dry_run(detailed_run / "model", tmp_path)
    assert result["status"] == 200, result["response"]
    assert result["response"]["model"]["name"] == spec.get(feature_set="detailed").name
    assert result["response"]["model"]["version"] == result["model_version"]


def test_a_model_made_for_another_spec_is_503_not_a_mixed_contract(s3, model_dir):
    """The handler decides the spec from the request once; a registry entry whose metadata
    names another spec (here the summary model published under the detailed name) is refused
    with the reason instead of validating against one contract and pricing with another."""
    store = f"s3://{config.LOCAL_BUCKET}/mislabelled"
    detailed = spec.get(feature_set="detailed").name
    registry.publish(registry.open_store(store), model_dir, name=detailed)
    with httpapi.local_endpoint(store) as url:
        status, body = http(f"{url}/predict", EXAMPLE_DETAILED)
    assert status == 503, body
    assert f"is a model for 'amsterdam-price' (its metadata), not '{detailed}'" in body["reason"]
