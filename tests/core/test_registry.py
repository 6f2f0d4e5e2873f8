"""Registry: a local folder and moto's server over HTTP (reads as Lambda makes them: a signed
GET from the standard library, core/s3get.py; writes and listings through boto3)."""

from __future__ import annotations

import json
import shutil
import threading

import boto3
import pytest

from airbnb_price.core import registry, spec
from airbnb_price.local import cli
from airbnb_price.ops import moto

BUCKET = "airbnb-price-test-models"
NAME = spec.get().name  # amsterdam-price


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="module")
def moto_server():
    """S3 from moto's server in its own process, reached over HTTP via AWS_ENDPOINT_URL."""
    with moto.moto_s3(BUCKET) as url:
        yield url


@pytest.fixture
def s3_store(moto_server, request):
    """A store of its own per test (a prefix no other test writes) on the module's server."""
    return registry.open_store(f"s3://{BUCKET}/{request.node.name.replace('[', '-').strip(']')}")


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return registry.open_store(tmp_path / "store")
    return request.getfixturevalue("s3_store")


def test_publish_load_list_rollback(store, model_dir):
    first = registry.publish(store, model_dir)
    second = registry.publish(store, model_dir)
    assert first != second
    assert registry.latest_version(store, NAME) == second
    loaded = registry.load(store, NAME)
    assert loaded.version == second and loaded.metadata["version"] == second
    assert loaded.metadata["data"]["sha256"]
    assert loaded.metadata["inputs"]["levels"]["room_type"]
    versions = registry.list_versions(store, NAME)
    assert [v["version"] for v in versions] == sorted([first, second])
    assert [v["latest"] for v in versions] == [False, True]
    registry.promote(store, first, NAME)  # rollback
    assert registry.load(store, NAME).version == first


def test_missing_and_corrupt_objects_are_named(store, model_dir):
    with pytest.raises(registry.ModelNotFound, match="latest.json"):
        registry.load(store, NAME)
    version = registry.publish(store, model_dir)
    store.put(f"amsterdam-price/{version}/compiled.pkl", b"not a pickle")
    with pytest.raises(registry.RegistryError, match=r"compiled.pkl is corrupt"):
        registry.load(store, NAME)
    store.put("amsterdam-price/latest.json", b"{oops")
    with pytest.raises(registry.RegistryError, match=r"latest.json is corrupt"):
        registry.load(store, NAME)
    with pytest.raises(registry.ModelNotFound, match="v-none"):
        registry.promote(store, "v-none", NAME)


def test_metadata_of_another_version_is_refused(store, model_dir):
    v1, v2 = registry.publish(store, model_dir), registry.publish(store, model_dir)
    store.put(f"amsterdam-price/{v2}/metadata.json",
              store.get(f"amsterdam-price/{v1}/metadata.json"))
    with pytest.raises(registry.RegistryError, match=f"describes version '{v1}'"):
        registry.load(store, NAME, v2)


def test_crash_before_pointer_leaves_latest_on_complete_model(store, model_dir, monkeypatch):
    good = registry.publish(store, model_dir)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed between upload and pointer write")

    monkeypatch.setattr(registry, "promote", crash)
    with pytest.raises(KeyboardInterrupt):
        registry.publish(store, model_dir)
    monkeypatch.undo()
    assert registry.latest_version(store, NAME) == good
    assert registry.load(store, NAME).version == good


def test_concurrent_publishes_leave_consistent_latest(tmp_path, model_dir):
    store = registry.open_store(tmp_path / "store")
    versions: list[str] = []
    threads = [threading.Thread(target=lambda: versions.append(registry.publish(store, model_dir)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latest = registry.latest_version(store, NAME)
    assert latest in versions and len(set(versions)) == 6
    assert registry.load(store, NAME).version == latest


def test_publish_refuses_incomplete_model_dir(tmp_path, model_dir):
    partial = tmp_path / "partial"
    shutil.copytree(model_dir, partial)
    (partial / "compiled.pkl").unlink()
    with pytest.raises(registry.ModelNotFound, match="lacks compiled.pkl"):
        registry.publish(registry.open_store(tmp_path / "store"), partial)


def test_cli_against_moto_server(moto_server, smoke_run, capsys):
    store = f"s3://{BUCKET}/prefix"
    assert cli.main(["model", "publish", "--run", str(smoke_run), "--store", store]) == 0
    first = capsys.readouterr().out.split()[1]
    assert cli.main(["model", "publish", "--run", str(smoke_run), "--store", store]) == 0
    assert cli.main(["model", "promote", first, "--store", store]) == 0
    capsys.readouterr()
    assert cli.main(["model", "list", "--store", store]) == 0
    listing = capsys.readouterr().out
    assert f"* {first}" in listing and listing.count("\n") >= 2
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert f"prefix/amsterdam-price/{first}/compiled.pkl" in keys
    assert json.loads(boto3.client("s3").get_object(
        Bucket=BUCKET, Key="prefix/amsterdam-price/latest.json")["Body"].read())["version"] == first


def test_cli_names_a_missing_model(tmp_path, capsys):
    assert cli.main(["model", "list", "--store", str(tmp_path / "empty")]) == 0
    assert cli.main(["model", "promote", "v1", "--store", str(tmp_path / "empty")]) == 2
    assert "v1/metadata.json does not exist" in capsys.readouterr().err


def test_unreachable_s3_is_a_registry_error(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{moto.free_port()}")
    with pytest.raises(registry.RegistryError, match="S3 get_object"):
        registry.load(registry.open_store(f"s3://{BUCKET}/models"), NAME)


def test_store_url_needs_bucket():
    with pytest.raises(registry.RegistryError, match="no bucket"):
        registry.open_store("s3://")


