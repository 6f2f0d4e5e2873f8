"""Every city of ../shared/data end to end: notebooks 01-05 (smoke) for its summary and
detailed file, each ending with a price from the local endpoint in the city's currency; one
endpoint serving several cities; train/serve parity over HTTP for a non-euro city."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pytest
from examples import OTHER_CITIES

from airbnb_price.core import cities, config, features, registry, spec
from airbnb_price.data import cleaning, listings
from airbnb_price.ops import httpapi, moto
from airbnb_price.runs import examples
from airbnb_price.train import compiler

http = httpapi.request


@pytest.mark.parametrize("feature_set", ["summary", "detailed"])
@pytest.mark.parametrize("city", OTHER_CITIES)
def test_every_shared_city_runs_and_is_priced_in_its_currency(city_runs, city, feature_set):
    run_dir = city_runs(city, feature_set)
    record = json.loads((run_dir / "run.json").read_text())
    currency = cities.lookup(city).currency
    assert record["status"] == "ok" and record["model"] == spec.get(city, feature_set).name
    assert record["city"]["currency"] == currency and record["data"]["origin"] == "data folder"
    assert record["parameters"]["snapshot"] == record["data"]["snapshot"]
    assert record["neighbourhoods"].endswith(f"{city}/neighbourhoods.geojson")
    window = record["price_window"]
    deployed = json.loads((run_dir / "deploy.json").read_text())
    assert deployed["status"] == 200, deployed["response"]
    answer = deployed["response"]
    assert answer["city"] == city and answer["currency"] == currency
    assert answer["model"]["name"] == spec.get(city, feature_set).name
    (item,) = answer["predictions"]
    assert window["min"] * 0.5 <= item["price"] <= window["max"] * 1.5
    assert ("price_eur" in item) == (currency == "EUR")  # euro names only for euros
    metadata = json.loads((run_dir / "model" / "metadata.json").read_text())
    assert metadata["currency"] == currency and metadata["price_window"]["rule"]


@pytest.fixture(scope="module")
def cities_api(city_runs, model_dir):
    """One endpoint over a store with Amsterdam's, Victoria's and Albany's summary models."""
    with moto.moto_s3():
        store = f"s3://{config.LOCAL_BUCKET}/{config.MODEL_PREFIX}"
        for run in (model_dir.parent, city_runs("victoria"), city_runs("albany")):
            registry.publish(registry.open_store(store), run / "model")
        with httpapi.local_endpoint(store) as url:
            yield url


def test_one_endpoint_prices_every_published_city(cities_api, city_runs):
    example = json.loads((city_runs("victoria") / "example.json").read_text())
    status, body = http(f"{cities_api}/predict?explain=true", example)
    assert status == 200, body
    assert body["city"] == "victoria" and body["currency"] == "CAD"
    item = body["predictions"][0]
    assert item["price"] > 0 and "price_eur" not in item and item["contributions"]
    # a request without a city is the deployment's default city, as before
    status, body = http(f"{cities_api}/predict", spec.get().example())
    assert status == 200 and body["city"] == "amsterdam" and body["currency"] == "EUR"
    assert body["predictions"][0]["price_eur"] == body["predictions"][0]["price"]


@pytest.mark.parametrize("city", ["atlantis", "paris"])
def test_an_unpublished_city_is_422_naming_the_available_ones(cities_api, city):
    status, body = http(f"{cities_api}/predict", spec.get().example() | {"city": city})
    assert status == 422, body
    assert body["available_cities"] == ["albany", "amsterdam", "victoria"]
    assert f"no model is published for city {city!r}" in body["error"]


def test_a_batch_of_two_cities_is_422(cities_api):
    status, body = http(f"{cities_api}/predict", [spec.get().example(),
                                                  spec.get().example() | {"city": "victoria"}])
    assert status == 422 and "one city" in body["error"]


def test_a_feature_set_the_city_lacks_is_422_naming_its_models(cities_api):
    """Victoria is published with its summary model only: a detailed request names it and the
    fields it needs instead of a 503 about a missing latest.json."""
    detailed = spec.get(feature_set="detailed").example() | {"city": "victoria"}
    status, body = http(f"{cities_api}/predict", detailed)
    assert status == 422, body
    assert "'victoria' has no detailed model" in body["error"]
    assert body["models"]["summary"]["name"] == "victoria-price"
    assert "room_type" in body["models"]["summary"]["required"]


def test_health_lists_loaded_and_available_cities(cities_api):
    http(f"{cities_api}/predict", spec.get().example())
    status, body = http(f"{cities_api}/health", method="GET")
    assert status == 200 and body["status"] == "ok" and "error" not in body
    assert "amsterdam-price" in body["served"]
    assert body["models"]["detailed"]["status"] == "unavailable"
    assert body["cities"]["available"] == ["albany", "amsterdam", "victoria"]
    assert "amsterdam" in body["cities"]["loaded"]


def test_served_victoria_prices_equal_the_training_pipeline(cities_api, city_runs):
    """Train/serve parity for a non-euro city: 50 real Victoria listings over HTTP (names as
    the data writes them) get the PyCaret pipeline's prices in CAD, to the cent."""
    run = city_runs("victoria")
    record = json.loads((run / "run.json").read_text())
    window = record["price_window"]
    frame = listings.load_listings(record["data"]["path"]).frame
    rows, _ = cleaning.clean(frame, cleaning.default_rules(window["min"], window["max"]))
    rows = rows.sample(50, random_state=config.SEED)
    requests = [examples.request_of(row, features.SUMMARY, "victoria") for _, row in rows.iterrows()]
    status, body = http(f"{cities_api}/predict", requests)
    assert status == 200, body
    served = np.array([p["price"] for p in body["predictions"]])
    centre = cities.lookup("victoria").centre
    pipeline = joblib.load(run / "model" / "model.pkl")
    expected = pipeline.predict(features.feature_table(rows, target=None, centre=centre))
    assert np.max(np.abs(served - expected)) <= compiler.TOLERANCE + 0.005
