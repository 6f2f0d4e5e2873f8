"""The standard library's S3 GET (core/s3get.py): its signature equals botocore's, byte for
byte, and a store reads through it from moto's server as Lambda would, errors named."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from airbnb_price.core import registry, s3get
from airbnb_price.ops import moto

BUCKET = "airbnb-price-s3get-test"
LAMBDA_ENV = {"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalr/K7MDENG+bPxRfiCY",
              "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjE//token==", "AWS_REGION": "eu-west-1"}


@pytest.mark.parametrize("env", [LAMBDA_ENV, LAMBDA_ENV | {"AWS_SESSION_TOKEN": ""},
                                 LAMBDA_ENV | {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}],
                         ids=["lambda", "no-token", "endpoint"])
@pytest.mark.parametrize("bucket", ["models-bucket", "models.example.com"])
@pytest.mark.parametrize("key", ["prefix/amsterdam-price/latest.json",
                                 "p/são paulo-price/v 1+2/compiled.pkl", "a~b/c=d&e/ñ%.json"])
def test_the_signature_is_botocores(env, bucket, key):
    reader = s3get.Reader.from_environment(env)
    url = reader.url(bucket, key)
    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"],
                            env["AWS_SESSION_TOKEN"] or None), "s3", "eu-west-1").add_auth(request)
    when = dt.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    ours = reader.headers(url, when)
    assert request.headers["X-Amz-Content-SHA256"] == ours["x-amz-content-sha256"]
    assert request.headers["Authorization"] == ours["authorization"]
    assert ("x-amz-security-token" in ours) == bool(env["AWS_SESSION_TOKEN"])


def test_urls_as_boto3_addresses_them():
    reader = s3get.Reader.from_environment(LAMBDA_ENV)
    assert reader.url("b", "k/a b.json") == "https://b.s3.eu-west-1.amazonaws.com/k/a%20b.json"
    assert reader.url("b.c", "k") == "https://s3.eu-west-1.amazonaws.com/b.c/k"
    local = s3get.Reader.from_environment(LAMBDA_ENV | {"AWS_ENDPOINT_URL": "http://h:1/",
                                                        "AWS_ENDPOINT_URL_S3": "http://s3:2"})
    assert local.url("b", "k") == "http://s3:2/b/k"


def test_without_credentials_or_region_boto3_reads():
    """A profile, SSO or an instance role is boto3's credential chain: no reader then."""
    assert s3get.Reader.from_environment({"AWS_PROFILE": "dev"}) is None
    assert s3get.Reader.from_environment({k: v for k, v in LAMBDA_ENV.items()
                                          if k != "AWS_REGION"}) is None
    assert s3get.Reader.from_environment(LAMBDA_ENV | {"AWS_DEFAULT_REGION": "x",
                                                       "AWS_REGION": ""}).region == "x"


@pytest.fixture(scope="module")
def moto_server():
    with moto.moto_s3(BUCKET) as url:
        yield url


def test_a_store_reads_through_it_from_moto(moto_server, monkeypatch):
    store = registry.open_store(f"s3://{BUCKET}/models")
    assert store._reader is not None and store._client is None
    body = bytes(range(256)) * 1000
    store.put("amsterdam-price/v 1/compiled.pkl", body)  # through boto3
    reading = registry.open_store(f"s3://{BUCKET}/models")
    assert reading.get("amsterdam-price/v 1/compiled.pkl") == body
    assert reading._client is None  # boto3 never imported a client for the read
    with pytest.raises(registry.ModelNotFound,
                       match=r"s3://.*/models/nowhere/latest.json does not exist \(NoSuchKey\)"):
        reading.get("nowhere/latest.json")
    with pytest.raises(registry.ModelNotFound, match="NoSuchBucket"):
        registry.open_store("s3://no-such-bucket-here/m").get("latest.json")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{moto.free_port()}")
    with pytest.raises(registry.RegistryError, match="S3 get_object on .* failed: cannot reach"):
        registry.open_store(f"s3://{BUCKET}/models").get("latest.json")
