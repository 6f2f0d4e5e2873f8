"""AWS Lambda entry point of the prediction endpoint (HTTP API, payload format 2.0).

    POST /predict[?explain=true]   one listing (JSON object) or a list of up to 100; listings
                                   with the detailed fields go to the detailed model, those
                                   with review history too to the existing-listing model
    GET  /health                   which models are loaded, when and from where

The model is loaded on the first request, not at import time, so a missing or broken model
costs a 503 with the reason instead of a crashed container, and the next request retries.
The request contract and the model cache live in `airbnb_price.endpoint`; this file only
wires them to aws-lambda-powertools.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from airbnb_price import endpoint

logger = Logger(service="airbnb-price")
metrics = Metrics(namespace="AirRent", service="airbnb-price")
app = APIGatewayHttpResolver()
models = endpoint.Models.from_env()


def _json(status: int, payload: dict) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(payload))


@app.post("/predict")
def predict() -> Response:
    event = app.current_event
    with_explain = endpoint.parse_flag((event.query_string_parameters or {}).get("explain"),
                                       "explain")
    payload = endpoint.read_json(endpoint.request_body(event.body, event.is_base64_encoded))
    feature_set = endpoint.feature_set_of(payload)
    cache = models[feature_set]
    loaded = cache.get()
    listings = endpoint.parse_listings(payload, loaded.metadata["inputs"], cache.neighbourhoods,
                                       feature_set)
    result = endpoint.predict(loaded, listings, with_explain)
    metrics.add_metric(name="Listings", unit=MetricUnit.Count, value=len(listings))
    logger.info("predicted", extra={"listings": len(listings), "explain": with_explain,
                                    "feature_set": feature_set, "model_version": loaded.version})
    return _json(200, result)


@app.get("/health")
def health() -> Response:
    report = models.health()
    return _json(200 if report["status"] == "ok" else 503, report)


@app.exception_handler(endpoint.RequestError)
def _bad_request(exc: endpoint.RequestError) -> Response:
    logger.info("rejected", extra={"status": exc.status, "reason": exc.message})
    metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
    return _json(exc.status, exc.body())


@app.exception_handler(endpoint.ModelUnavailable)
def _no_model(exc: endpoint.ModelUnavailable) -> Response:
    logger.warning("model unavailable", extra={"reason": str(exc)})
    metrics.add_metric(name="ModelUnavailable", unit=MetricUnit.Count, value=1)
    return _json(503, {"error": "model unavailable", "reason": str(exc)})


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    """Last resort: log the trace for us, never send it to the caller."""
    logger.exception("unhandled error")
    return _json(500, {"error": "internal error", "request_id": logger.get_correlation_id()})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
