"""Property-based fuzzing of the handler (a few hundred cases per run; benchmarks/fuzz.py runs
>= 10,000): whatever the body, encoding or query, summary, detailed or existing listing, the
answer is 200/400/422/503, never 500, and a 200 carries a finite positive price per listing."""

from __future__ import annotations

import contextlib
import io

import pytest
import strategies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airbnb_price.core import config, registry, spec
from airbnb_price.ops import httpapi, moto


@pytest.fixture(scope="module")
def handler(model_dir, detailed_run, existing_run, tmp_path_factory):
    """The handler over a store with every feature set's model, so all are priced, and the
    models' request inputs (levels, coordinate box) the listing strategies draw from."""
    store = tmp_path_factory.mktemp("store")
    inputs = {}
    for model in (model_dir, detailed_run / "model", existing_run / "model"):
        registry.publish(registry.open_store(store), model)
        metadata = registry.run_metadata(model)
        inputs[spec.of_metadata(metadata).name] = metadata["inputs"]
    with (moto.environment({config.MODEL_STORE_ENV: str(store)}),
          contextlib.redirect_stdout(io.StringIO())):
        return httpapi.load_handler(), inputs


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_event_gets_an_allowed_status(handler, data):
    handle, inputs = handler
    event = data.draw(strategies.events(inputs))
    with contextlib.redirect_stdout(io.StringIO()):
        strategies.check(handle(event, httpapi.LambdaContext()))


def test_the_property_catches_a_500():
    with pytest.raises(AssertionError):
        strategies.check({"statusCode": 500, "body": "{}"})
    with pytest.raises(AssertionError):
        strategies.check({"statusCode": 200, "body": '{"predictions": [{"price": -1}]}'})
