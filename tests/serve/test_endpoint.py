"""The prediction endpoint end to end: HTTP on 127.0.0.1 -> API Gateway v2 event -> the real
Lambda handler -> the registry on S3 served by moto's server (its own process)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from examples import CENTRE, EXAMPLE, EXAMPLE_DETAILED, EXAMPLE_EXISTING, RULES

from airbnb_price.core import config, features, registry, spec
from airbnb_price.ops import httpapi, moto
from airbnb_price.serve import engine, request
from airbnb_price.train import compiler

STORE = f"s3://{config.LOCAL_BUCKET}/{config.MODEL_PREFIX}"


http = httpapi.request


@pytest.fixture(scope="module")
def s3():
    with moto.moto_s3() as url:
        yield url


@pytest.fixture
def empty_api(s3, monkeypatch):
    """A fresh endpoint over an empty model prefix (a new prefix per test)."""
    import uuid

    store = f"s3://{config.LOCAL_BUCKET}/{uuid.uuid4().hex}"
    with httpapi.local_endpoint(store) as url:
        yield url, registry.open_store(store)


@pytest.fixture(scope="module")
def api(s3, model_dir):
    version = registry.publish(registry.open_store(STORE), model_dir)
    with httpapi.local_endpoint(STORE) as url:
        yield url, version


@pytest.fixture(scope="module")
def training_rows(model_dir) -> pd.DataFrame:
    """Cleaned listings the model was trained on (inputs as a host would send them)."""
    from airbnb_price.data import cleaning, listings

    metadata = json.loads((model_dir / "metadata.json").read_text())
    cleaned, _ = cleaning.clean(listings.load_listings(metadata["data"]["path"]).frame, RULES)
    return cleaned


def test_single_listing_with_explanation(api):
    url, version = api
    status, body = http(f"{url}/predict?explain=true", EXAMPLE)
    assert status == 200, body
    assert body["model"] == {"name": spec.get().name, "version": version,
                             "feature_set": "summary"}
    (item,) = body["predictions"]
    assert 25 <= item["price_eur"] < 500
    assert len(item["contributions"]) == engine.TOP_CONTRIBUTIONS
    # contributions are euros that add up (within rounding) to price - base
    total = item["base_eur"] + sum(c["eur"] for c in item["contributions"])
    assert abs(total - item["price_eur"]) <= abs(item["price_eur"] - item["base_eur"]) + 0.05


def test_served_prices_equal_training_pipeline(api, model_dir, training_rows):
    """Train/serve parity: 100 real listings over HTTP give the PyCaret pipeline's prices."""
    import joblib

    url, _ = api
    rows = training_rows.sample(100, random_state=config.SEED)
    listings = [{c: (v.item() if hasattr(v, "item") else v) for c, v in row.items()}
                for row in rows[list(features.INPUT_COLUMNS)].to_dict("records")]
    for listing in listings:
        listing["name"] = listing["name"] if isinstance(listing["name"], str) else ""
    status, body = http(f"{url}/predict", listings)
    assert status == 200, body
    served = np.array([p["price_eur"] for p in body["predictions"]])
    pipeline = joblib.load(model_dir / "model.pkl")
    expected = pipeline.predict(features.feature_table(rows, target=None, centre=CENTRE))
    assert np.max(np.abs(served - expected)) <= compiler.TOLERANCE + 0.005  # 2-dp rounding


def test_batch_limit(api):
    url, _ = api
    status, body = http(f"{url}/predict", [EXAMPLE] * request.MAX_BATCH)
    assert status == 200 and len(body["predictions"]) == request.MAX_BATCH
    status, body = http(f"{url}/predict", [EXAMPLE] * (request.MAX_BATCH + 1))
    assert status == 422 and "between 1 and 100" in body["error"]
    assert http(f"{url}/predict", [])[0] == 422


@pytest.mark.parametrize("raw", [b"", b"{oops", b"\xff\xfe", b"[1, 2"])
def test_unreadable_body_is_400(api, raw):
    status, body = http(f"{api[0]}/predict", raw=raw)
    assert status == 400 and "body" in body["error"]


def test_every_bad_field_is_listed(api):
    bad = EXAMPLE | {
        "neighbourhood": "Atlantis", "room_type": "Castle", "latitude": 52.9,
        "longitude": "east", "minimum_nights": 0, "availability_365": 400, "colour": "red"}
    del bad["name"]
    status, body = http(f"{api[0]}/predict", [EXAMPLE, bad, 7])
    assert status == 422
    fields = {tuple(e["loc"]) for e in body["errors"]}
    assert fields == {(1, "neighbourhood"), (1, "room_type"), (1, "latitude"), (1, "longitude"),
                      (1, "minimum_nights"), (1, "availability_365"), (1, "colour"), (2,)}
    messages = " ".join(e["msg"] for e in body["errors"])
    assert "'Atlantis' was not seen in training" in messages
    assert "outside the area the model was trained on" in messages


@pytest.mark.parametrize("body", [{}, {"latitude": None}, "a listing", 3.5, None])
def test_wrong_shapes_are_422(api, body):
    status, answer = http(f"{api[0]}/predict", raw=json.dumps(body).encode())
    assert status == 422, answer


def test_neighbourhood_is_derived_from_the_coordinates(api):
    listing = {k: v for k, v in EXAMPLE.items() if k != "neighbourhood"}
    status, body = http(f"{api[0]}/predict", [EXAMPLE, listing])
    assert status == 200, body
    given, derived = (p["price_eur"] for p in body["predictions"])
    assert derived == given  # the example lies in Centrum-West, the neighbourhood it names


def test_coordinates_outside_the_city_polygons_are_422(api):
    # inside the training box (lat/lon ranges) but in the water west of the city
    outside = EXAMPLE | {"latitude": 52.40, "longitude": 4.76}
    status, body = http(f"{api[0]}/predict", outside)
    assert status == 422 and body["errors"][0]["loc"] == [0, "latitude"], body
    assert "lies in none of the city's neighbourhoods" in body["errors"][0]["msg"]


def test_every_price_has_a_range_at_the_level_asked(api):
    """80% by default; a wider level gives a wider range around the same price; the range's
    width adapts to the listing (not a constant band)."""
    url, _ = api
    status, default = http(f"{url}/predict", EXAMPLE)
    assert status == 200, default
    status, wide = http(f"{url}/predict?level=0.95&explain=true", EXAMPLE)
    assert status == 200, wide
    (item,), (wider,) = default["predictions"], wide["predictions"]
    assert item["range"]["level"] == 0.8 and wider["range"]["level"] == 0.95
    assert item["range"]["low"] < item["price"] < item["range"]["high"]
    assert wider["price"] == item["price"]
    assert wider["range"]["low"] < item["range"]["low"] < item["range"]["high"] < \
        wider["range"]["high"]
    other = EXAMPLE | {"room_type": "Private room", "name": "Small room", "minimum_nights": 30}
    status, body = http(f"{url}/predict", [EXAMPLE, other])
    ratios = {round(p["range"]["high"] / p["price"], 3) for p in body["predictions"]}
    assert status == 200 and len(ratios) == 2, body  # each listing its own width


@pytest.mark.parametrize("level", ["0.4", "0.99", "high", "nan", ""])
def test_a_level_outside_half_to_95_percent_is_422_naming_it(api, level):
    status, body = http(f"{api[0]}/predict?level={level}", EXAMPLE)
    assert status == 422 and body["errors"][0]["loc"] == ["query", "level"], body
    assert "between 0.5 and 0.95" in body["errors"][0]["msg"]


def test_explain_flag_must_be_boolean(api):
    status, body = http(f"{api[0]}/predict?explain=maybe", EXAMPLE)
    assert status == 422 and body["errors"][0]["loc"] == ["query", "explain"]


def test_health_names_the_loaded_model(api):
    status, body = http(f"{api[0]}/health", method="GET")
    model = body["models"]["summary"]
    assert status == 200 and body["status"] == "ok" and model["version"] == api[1]
    assert model["status"] == "served" and model["store"] == STORE and model["loaded_at"]
    assert model["neighbourhood_map"] is True


def test_missing_model_is_503_until_published(empty_api, model_dir):
    url, store = empty_api
    assert http(f"{url}/predict", raw=b"{oops")[0] == 400  # the caller's error comes first
    status, body = http(f"{url}/predict", EXAMPLE)
    assert status == 503 and "latest.json does not exist" in body["reason"]
    assert http(f"{url}/health", method="GET")[0] == 503
    version = registry.publish(store, model_dir)  # no restart: the next request loads it
    status, body = http(f"{url}/predict", EXAMPLE)
    assert status == 200 and body["model"]["version"] == version


def test_corrupt_model_is_503_then_recovers(empty_api, model_dir):
    url, store = empty_api
    version = registry.publish(store, model_dir)
    store.put(f"{spec.get().name}/{version}/compiled.pkl", b"not a pickle")
    status, body = http(f"{url}/predict", EXAMPLE)
    assert status == 503 and "compiled.pkl is corrupt" in body["reason"]
    fixed = registry.publish(store, model_dir)
    assert http(f"{url}/predict", EXAMPLE)[1]["model"]["version"] == fixed


def test_metadata_of_another_version_is_503(empty_api, model_dir):
    url, store = empty_api
    first, second = registry.publish(store, model_dir), registry.publish(store, model_dir)
    store.put(f"{spec.get().name}/{second}/metadata.json",
              store.get(f"{spec.get().name}/{first}/metadata.json"))
    status, body = http(f"{url}/predict", EXAMPLE)
    assert status == 503 and f"describes version '{first}'" in body["reason"]


def test_unreachable_s3_is_503(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{moto.free_port()}")
    for key, value in moto.FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    with httpapi.local_endpoint(STORE) as url:
        status, body = http(f"{url}/predict", EXAMPLE)
    assert status == 503 and "S3 get_object" in body["reason"]


def test_s3_that_never_answers_is_503(monkeypatch):
    """A socket that accepts and stays silent: the read timeout turns into a 503, not a hang."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    monkeypatch.setattr(config, "S3_READ_TIMEOUT_S", 0.5)
    monkeypatch.setattr(config, "S3_MAX_ATTEMPTS", 1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
    for key, value in moto.FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    with httpapi.local_endpoint(STORE) as url:
        status, body = http(f"{url}/predict", EXAMPLE)
    listener.close()
    assert status == 503 and "timeout" in body["reason"].lower(), body


def test_unexpected_error_hides_the_trace(api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(engine.ServedModel, "answer", boom)
    status, body = http(f"{api[0]}/predict", EXAMPLE)
    assert status == 500 and "secret" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert body["error"] == "internal error"


def test_event_adapter_matches_http_api_v2():
    event = httpapi.to_event("POST", "/predict?explain=true&x=", {"Content-Type": "a/b"}, b"{}")
    assert event["version"] == "2.0" and event["requestContext"]["http"]["method"] == "POST"
    assert event["queryStringParameters"] == {"explain": "true", "x": ""}
    assert event["headers"] == {"content-type": "a/b"} and event["body"] == "{}"
    assert httpapi.to_event("GET", "/health", {}, b"")["body"] is None


@pytest.mark.parametrize(("payload", "expected"), [
    (EXAMPLE, "summary"),
    (EXAMPLE_DETAILED, "detailed"),
    (EXAMPLE_EXISTING, "existing"),
    # one field of a contract's own is enough; the contract then names what else is missing
    (EXAMPLE | {"accommodates": 2}, "detailed"),
    (EXAMPLE | {"review_scores_rating": 4.5}, "existing"),
    ([EXAMPLE_EXISTING] * 3, "existing"),
    ("not a listing", "summary"),
])
def test_the_fields_sent_pick_the_model(payload, expected):
    assert request.feature_set_of(payload).name == expected


def test_make_serve_answers_the_readme_request(smoke_run):
    """`airbnb-price serve` (what `make serve` runs): moto S3, the run's model published, the
    handler on a local port; the README's curl body gets a price; Ctrl-C stops it cleanly."""
    import signal
    import subprocess
    import sys
    import time

    port = moto.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "airbnb_price.local.cli", "serve", "--port",
                             str(port), "--run", str(smoke_run)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        moto.wait_for_port(port, timeout=60)
        deadline = time.monotonic() + 30
        while http(f"http://127.0.0.1:{port}/health", method="GET")[0] != 200:
            assert time.monotonic() < deadline, "the served model never became healthy"
            time.sleep(0.2)
        status, body = http(f"http://127.0.0.1:{port}/predict?explain=true",
                            EXAMPLE)
        assert status == 200 and body["predictions"][0]["contributions"], body
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output[-2000:]
    assert f"serving handler.handler on http://127.0.0.1:{port}" in output


@pytest.mark.parametrize(("raw", "status"), [
    (b"[" * 100_000, 400),  # nesting that overflows Python's parser
    (b'{"latitude": NaN}', 400), (b"Infinity", 400),  # not JSON, though Python reads them
    (b"1" * 5000, 400),  # an integer longer than Python converts
    (b'{"name": "\\ud800"}', 400),  # a lone surrogate is no text
    (b"[" + b"1," * 300_000 + b"1]", 413),  # over the body limit
])
def test_unreadable_or_oversized_bodies_are_4xx(api, raw, status):
    answer_status, body = http(f"{api[0]}/predict", raw=raw)
    assert answer_status == status and body["error"], body


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nope", 404), ("POST", "/", 404), ("GET", "/predict", 405),
    ("DELETE", "/health", 405), ("PUT", "/predict", 405),
])
def test_unknown_routes_and_methods_are_json_404_and_405(api, method, path, status):
    answer_status, body = http(f"{api[0]}{path}", method=method, raw=b"")
    assert answer_status == status and body["error"], body
