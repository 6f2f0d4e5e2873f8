"""AWS Lambda entry point of the prediction endpoint (HTTP API, payload format 2.0).

    POST /predict[?explain=true][&level=0.9]
                                   one listing (JSON object) or a list of up to 100, priced in
                                   its city's currency, each with its calibrated range at
                                   `level` (0.5-0.95, default 0.8); `city` (default: the deployment's
                                   default city) and the fields sent pick the model (detailed
                                   fields: the detailed model, review history too: the
                                   existing-listing model)
    GET  /health                   which models are served (and which not, and why), the
                                   cities loaded here and published in the store

Examples: `lambda/events/*.json` (API Gateway events) and `lambda/events/bodies/*.json`.
The model is loaded on the first request, not at import time, so a missing or broken model
costs a 503 with the reason instead of a crashed container, and the next request retries.
Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (serverless.yml's environment). The pricing engine
(`airbnb_price.serve.engine`: contract, checks, compiled model) and its cache live in the
package; this file only wires them to powertools and maps their errors to HTTP.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from airbnb_price.serve import cache, engine, request

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()
models = cache.Models.from_env()


def _json(status: int, payload: dict) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=payload)


def _payload() -> Any:
    """The request's JSON document, from powertools' decoded body (base64 undone)."""
    try:
        body = app.current_event.decoded_body
    except ValueError as exc:  # bad base64, or bytes that are not UTF-8
        raise request.RequestError(400, f"request body is not valid base64 text: {exc}") from exc
    return request.read_json(body)


@app.post("/predict")
def predict_route() -> Response:
    explain = request.parse_flag(app.current_event.get_query_string_value("explain"), "explain")
    level = request.parse_level(app.current_event.get_query_string_value("level"))
    payload = _payload()
    served = models.get(request.spec_of(payload, models.default_city))
    columns = served.listings(request.items_of(payload))
    metrics.add_metric(name="Listings", unit=MetricUnit.Count, value=len(columns["latitude"]))
    logger.info("predicted", extra={"listings": len(columns["latitude"]), "explain": explain,
                                    "model": served.spec.name, "model_version": served.version})
    return _json(200, served.answer(columns, explain, level))


@app.get("/health")
def health() -> Response:
    report = models.health()
    return _json(200 if report["status"] == "ok" else 503, report)


#: The API's routes and methods, for 405 answers (powertools reports both as not found).
ROUTES = {"/predict": ("POST",), "/health": ("GET",)}


@app.not_found
def _not_found(exc: Exception) -> Response:
    """404 for a path the API does not have, 405 (with Allow) for a method its path lacks."""
    path, method = app.current_event.path, app.current_event.http_method
    if path in ROUTES:
        return Response(status_code=405, content_type=content_types.APPLICATION_JSON,
                        headers={"Allow": ", ".join(ROUTES[path])},
                        body={"error": f"{method} is not allowed on {path}; use "
                                       f"{' or '.join(ROUTES[path])}"})
    return _json(404, {"error": f"no route {path}; the API has {', '.join(ROUTES)}"})


@app.exception_handler(request.RequestError)
def _bad_request(exc: request.RequestError) -> Response:
    logger.info("rejected", extra={"status": exc.status, "reason": exc.message})
    metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
    return _json(exc.status, exc.body())


@app.exception_handler(cache.UnknownCity)
def _unknown_city(exc: cache.UnknownCity) -> Response:
    logger.info("unknown city", extra={"city": exc.city})
    metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
    return _json(422, {"error": str(exc), "available_cities": exc.available,
                       "errors": [{"loc": [0, "city"], "type": "unknown_city", "msg": str(exc)}]})


def _rejected(status: int, body: dict, reason: str) -> Response:
    logger.info("rejected", extra={"status": status, "reason": reason})
    metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
    return _json(status, body)


@app.exception_handler(engine.InvalidListings)
def _invalid(exc: engine.InvalidListings) -> Response:
    return _rejected(422, {"error": str(exc), "errors": exc.errors}, str(exc))


@app.exception_handler(engine.NotExplainable)
def _not_explainable(exc: engine.NotExplainable) -> Response:
    return _rejected(422, {"error": "explain is not available for the served model", "errors": [
        {"loc": ["query", "explain"], "msg": str(exc), "type": "not_explainable"}]}, str(exc))


@app.exception_handler(cache.NoSuchModel)
def _no_such_model(exc: cache.NoSuchModel) -> Response:
    return _rejected(422, {"error": str(exc), "models": exc.published, "errors": [
        {"loc": [0], "type": "no_such_model", "msg": str(exc)}]}, str(exc))


@app.exception_handler(cache.ModelUnavailable)
def _no_model(exc: cache.ModelUnavailable) -> Response:
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
