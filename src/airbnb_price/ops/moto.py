"""S3 on 127.0.0.1 from moto's server: the stand-in for AWS in `make serve`, the end-to-end
tests, benchmarks and the deploy notebook's dry run.

moto runs in its own process and is reached over HTTP through AWS_ENDPOINT_URL, exactly as
boto3 reaches S3, so the code under test makes the same calls it makes in AWS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from airbnb_price.core import config

#: Credentials moto accepts; set only when none are configured, and only for the block.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": config.AWS_REGION}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
            time.sleep(0.1)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block and restore the previous values (or absence)
    on exit: the local stand-ins for AWS are configured the way Lambda configures a function."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def moto_s3(bucket: str = config.LOCAL_BUCKET, port: int | None = None) -> Iterator[str]:
    """Start moto's server, create `bucket`, point boto3 at it; yields the endpoint URL.

    The environment (AWS_ENDPOINT_URL, fake credentials) is restored on exit.
    """
    import boto3

    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    credentials = {k: v for k, v in FAKE_CREDENTIALS.items() if not os.environ.get(k)}
    try:
        wait_for_port(port)
        with environment(credentials | {"AWS_ENDPOINT_URL": url}):
            boto3.client("s3").create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.AWS_REGION})
            yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
