"""The real image: the repo's Dockerfile built with podman on a local Debian/Python 3.11 base
(container/build.sh; the public Lambda base cannot be pulled offline), run under the Lambda
Runtime Interface Emulator, predicting with its model on S3 served by moto."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest
from examples import EXAMPLE

from airbnb_price.core import config, registry
from airbnb_price.ops import httpapi, moto

IMAGE = "localhost/airbnb-price-predict:test"
PODMAN = ["podman", "--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
RIE_PORT = 8080  # the emulator's port in AWS's base images
INVOKE = f"http://127.0.0.1:{RIE_PORT}/2015-03-31/functions/function/invocations"


@pytest.fixture(scope="module")
def image() -> str:
    done = subprocess.run(["bash", "container/build.sh", IMAGE], cwd=config.PROJECT_ROOT,
                          capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return IMAGE


def invoke(event: dict) -> dict:
    request = urllib.request.Request(INVOKE, data=json.dumps(event).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_image_has_no_training_stack(image):
    probe = ("import importlib.util as u; print([m for m in ('pandas', 'pycaret', 'shap', "
             "'matplotlib') if u.find_spec(m)])")
    done = subprocess.run([*PODMAN, "run", "--rm", *LIMITS, "--entrypoint", "python3", image,
                           "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def assert_port_free(port: int) -> None:
    """Fail clearly when the emulator's port is taken, instead of talking to a stranger."""
    import socket

    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} is in use"


def test_container_predicts_with_model_from_s3(image, model_dir):
    assert_port_free(RIE_PORT)
    with moto.moto_s3() as s3_url:
        store = f"s3://{config.LOCAL_BUCKET}/{config.MODEL_PREFIX}"
        env = {**httpapi.function_environment(), config.MODEL_STORE_ENV: store,
               "AWS_ENDPOINT_URL": s3_url, **moto.FAKE_CREDENTIALS}
        args = [*PODMAN, "run", "--rm", "-d", "--network", "host", *LIMITS,
                *(f"--env={k}={v}" for k, v in env.items()), image]
        container = subprocess.run(args, capture_output=True, text=True, check=True,
                                   timeout=120).stdout.strip()
        try:
            moto.wait_for_port(RIE_PORT, timeout=60)
            body = json.dumps(EXAMPLE).encode()
            missing = invoke(httpapi.to_event("POST", "/predict", {}, body))
            assert missing["statusCode"] == 503, missing  # nothing published yet
            version = registry.publish(registry.open_store(store), model_dir)
            answer = invoke(httpapi.to_event("POST", "/predict?explain=true", {}, body))
            assert answer["statusCode"] == 200, answer
            payload = json.loads(answer["body"])
            assert payload["model"]["version"] == version
            assert 25 <= payload["predictions"][0]["price_eur"] < 500
            health = invoke(httpapi.to_event("GET", "/health", {}, b""))
            assert json.loads(health["body"])["models"]["summary"]["version"] == version
        finally:
            logs = subprocess.run([*PODMAN, "logs", container], capture_output=True, text=True,
                                  check=False)
            subprocess.run([*PODMAN, "rm", "-f", container], capture_output=True, check=False)
        assert '"message":"predicted"' in logs.stdout, logs.stdout[-2000:]
