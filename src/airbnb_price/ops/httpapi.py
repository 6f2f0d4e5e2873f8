"""A local stand-in for API Gateway's HTTP API in front of the real Lambda handler.

Each HTTP request becomes a payload-format-2.0 event, as API Gateway sends it, and goes to
the handler imported the way the Lambda runtime imports it (module `handler` from the
`lambda/` folder, the image's task root); the handler's response dict becomes the HTTP
response. One process keeps the handler warm, like a Lambda container between invocations.
Stdlib only: used by `make serve`, the end-to-end tests and the deploy notebook's dry run.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from airbnb_price.core import config
from airbnb_price.ops import moto

Handler = Callable[[dict, object], dict]


@dataclass
class LambdaContext:
    """The attributes of the runtime's context object that powertools reads."""

    function_name: str = "airbnb-price-local-predict"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def function_environment(template: Path = config.PROJECT_ROOT / "serverless.yml") -> dict[str, str]:
    """The function's fixed environment as serverless.yml sets it on AWS (entries whose value
    holds no `${...}` variable: the powertools service name, metrics namespace, log level)."""
    import yaml

    environment = yaml.safe_load(template.read_text())["provider"]["environment"]
    return {k: str(v) for k, v in environment.items() if "${" not in str(v)}


def load_handler(spec: str = config.LAMBDA_HANDLER, task_root: Path = config.LAMBDA_DIR,
                 environment: dict[str, str] | None = None) -> Handler:
    """Load `module.function` from the task root, as the Lambda runtime does with CMD, in the
    function's environment (default: serverless.yml's, `function_environment`).

    Every call executes the module afresh (a new module object, like a new container): it
    reads the environment again, has no model loaded, and shares no state with earlier loads.
    """
    module_name, _, function = spec.rpartition(".")
    source = importlib.util.spec_from_file_location(module_name, task_root / f"{module_name}.py")
    module = importlib.util.module_from_spec(source)
    with moto.environment(function_environment() if environment is None else environment):
        source.loader.exec_module(module)
    return getattr(module, function)


def to_event(method: str, target: str, headers: dict[str, str], body: bytes) -> dict:
    """An HTTP API payload 2.0 event for one request (route key `$default`)."""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:  # API Gateway passes text bodies as they are and base64-encodes the rest
        text, binary = (body.decode("utf-8") if body else None), False
    except UnicodeDecodeError:
        text, binary = base64.b64encode(body).decode(), True
    now = dt.datetime.now(dt.UTC)
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": parts.path,
        "rawQueryString": parts.query, "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "anonymous", "apiId": "local", "domainName": "127.0.0.1",
            "domainPrefix": "local", "requestId": str(uuid.uuid4()), "routeKey": "$default",
            "stage": "$default", "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
        },
        "body": text, "isBase64Encoded": binary,
    }


def _decode_body(response: dict) -> bytes:
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def make_server(handler: Handler, host: str = "127.0.0.1", port: int = config.LOCAL_PORT,
                log: bool = True) -> ThreadingHTTPServer:
    """An HTTP server that sends every request through `handler`; one invocation at a time,
    as one Lambda container runs them. `log=False` silences the access log (load runs)."""
    invoke = threading.Lock()

    class _Request(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            event = to_event(self.command, self.path, dict(self.headers), self.rfile.read(length))
            with invoke:
                response = handler(event, LambdaContext())
            body = _decode_body(response)
            self.send_response(int(response.get("statusCode", 200)))
            for name, value in (response.get("headers") or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = _dispatch

        def log_message(self, *args: object) -> None:
            if log:
                super().log_message(*args)

    return ThreadingHTTPServer((host, port), _Request)


@contextmanager
def local_endpoint(store_url: str, port: int = 0, log: bool = False) -> Iterator[str]:
    """A fresh handler serving models from `store_url` on 127.0.0.1 in a background thread;
    yields its base URL. The environment is restored and the server stopped on exit."""
    with moto.environment({config.MODEL_STORE_ENV: store_url}):
        server = make_server(load_handler(), port=port, log=log)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def request(url: str, body: object = None, method: str = "POST", raw: bytes | None = None,
            timeout: float = 30) -> tuple[int, dict]:
    """Call the endpoint (local or deployed) with a JSON body, or `raw` bytes as they are;
    (status, JSON answer), error statuses included."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    call = urllib.request.Request(url, data=data, method=method,
                                  headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
