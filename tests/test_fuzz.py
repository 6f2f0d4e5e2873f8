"""Property-based fuzzing of the handler (a few hundred cases per run; benchmarks/fuzz.py runs
>= 10,000): whatever the body, encoding or query, summary, detailed or existing listing, the
answer is 200/400/422/503, never 500, and a 200 carries a finite positive price per listing."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings

from airbnb_price import config, fuzzing, httpapi, local_aws, registry


@pytest.fixture(scope="module")
def handler(model_dir, detailed_run, existing_run, tmp_path_factory):
    """The handler over a store with every feature set's model, so all are priced."""
    store = tmp_path_factory.mktemp("store")
    for model in (model_dir, detailed_run / "model", existing_run / "model"):
        registry.publish(registry.open_store(store), model)
    with (local_aws.environment({config.MODEL_STORE_ENV: str(store)}),
          contextlib.redirect_stdout(io.StringIO())):
        return httpapi.load_handler()


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(event=fuzzing.events())
def test_any_event_gets_an_allowed_status(handler, event):
    with contextlib.redirect_stdout(io.StringIO()):
        fuzzing.check(handler(event, httpapi.LambdaContext()))


def test_the_property_catches_a_500():
    with pytest.raises(AssertionError):
        fuzzing.check({"statusCode": 500, "body": "{}"})
    with pytest.raises(AssertionError):
        fuzzing.check({"statusCode": 200, "body": '{"predictions": [{"price_eur": -1}]}'})
