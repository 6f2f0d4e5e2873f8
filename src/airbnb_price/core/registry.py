"""Versioned model registry in a local folder or S3.

Layout under the store root (`/path/to/dir` or `s3://bucket/prefix`):

    <model-name>/<version>/model.pkl       the PyCaret pipeline (training side, explanation)
    <model-name>/<version>/compiled.pkl    the served artifact (airbnb_price.serve.artifact):
                                           numpy tables and compiled trees; versions published
                                           before the compiled engine have lean.pkl instead
                                           (scikit-learn objects; `airbnb-price model compile`
                                           adds their compiled.pkl)
    <model-name>/<version>/metadata.json   metrics, data sha256, inputs seen in training, versions
    <model-name>/latest.json               {"version": ...}: written last, so it only ever names
                                           a version whose files are all in place

S3 access goes through boto3, which honours AWS_ENDPOINT_URL (moto's server in tests), except
reads where the environment holds credentials and a region, as in Lambda: those are a signed
GET from the standard library (core/s3get.py), which spares a cold start boto3's import and
client. This module never imports pandas or PyCaret: the Lambda handler loads models through it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airbnb_price.core import config, geo, s3get, settings, spec

#: The served artifact's file, and the one of models published before the compiled engine.
COMPILED = "compiled.pkl"
LEGACY = "lean.pkl"
PIPELINE = "model.pkl"
#: Published when the run's model folder has them (metadata names them).
OPTIONAL_ARTIFACTS = (geo.FILE,)
METADATA = "metadata.json"
LATEST = "latest.json"


class RegistryError(RuntimeError):
    """The registry cannot serve the request (missing object, corrupt file, S3 failure)."""


class ModelNotFound(RegistryError):
    """No model, version or pointer at the requested key."""


class LocalStore:
    """A folder on disk; writes go through a temp file + rename, so readers never see halves."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.url = str(self.root)

    def put(self, key: str, body: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError as exc:
            raise ModelNotFound(f"{self.url}/{key} does not exist") from exc
        except OSError as exc:
            raise RegistryError(f"cannot read {self.url}/{key}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


class S3Store:
    """`s3://bucket/prefix`; needs only s3:GetObject to load (ListBucket for `list`)."""

    def __init__(self, url: str, client: Any = None):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise RegistryError(f"store URL {url!r} has no bucket name")
        self.bucket, self.prefix, self.url = bucket, prefix.strip("/"), url.rstrip("/")
        self._client = client
        #: Reads without boto3 when the environment allows (not with a client given).
        self._reader = None if client is not None else s3get.Reader.from_environment()

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("s3", config=Config(
                connect_timeout=config.S3_CONNECT_TIMEOUT_S, read_timeout=config.S3_READ_TIMEOUT_S,
                retries={"max_attempts": config.S3_MAX_ATTEMPTS}))
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, body: bytes) -> None:
        self._call("put_object", key, Body=body)

    def get(self, key: str) -> bytes:
        if self._reader is None:
            return self._call("get_object", key)["Body"].read()
        where = f"s3://{self.bucket}/{self._key(key)}"
        try:
            return self._reader.get(self.bucket, self._key(key), config.S3_READ_TIMEOUT_S,
                                    config.S3_MAX_ATTEMPTS)
        except s3get.S3Failed as exc:
            if exc.missing:
                raise ModelNotFound(f"{where} does not exist ({exc.code})") from exc
            raise RegistryError(f"S3 get_object on {where} failed: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        """The folders under `prefix` ("" for the store's root); needs s3:ListBucket, which the
        function's role grants for the model prefix only."""
        folder = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        response = self._call("list_objects_v2", None,
                              Prefix=self._key(folder) if folder else
                              (f"{self.prefix}/" if self.prefix else ""), Delimiter="/")
        return sorted(p["Prefix"].rstrip("/").rsplit("/", 1)[-1]
                      for p in response.get("CommonPrefixes", []))

    def _call(self, operation: str, key: str | None, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        if key is not None:
            kwargs["Key"] = self._key(key)
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            where = f"s3://{self.bucket}/{kwargs.get('Key', kwargs.get('Prefix', ''))}"
            if code in ("NoSuchKey", "404", "NoSuchBucket"):
                raise ModelNotFound(f"{where} does not exist ({code})") from exc
            raise RegistryError(f"S3 {operation} on {where} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise RegistryError(f"S3 {operation} on s3://{self.bucket} failed: {exc}") from exc


Store = LocalStore | S3Store


def open_store(url: str | os.PathLike | None = None) -> Store:
    """A store from a URL or path; default: $AIRBNB_MODEL_STORE, then ./models."""
    url = str(url or settings.local().model_store)
    return S3Store(url) if url.startswith("s3://") else LocalStore(url)


@dataclass
class LoadedModel:
    version: str
    model: Any
    metadata: dict
    geometry: bytes | None = None  # the neighbourhoods GeoJSON, when the model has one


def new_version() -> str:
    """Sortable to the microsecond, unique by its random suffix (publishes never collide)."""
    return dt.datetime.now(dt.UTC).strftime("v%Y%m%dT%H%M%S%fZ-") + secrets.token_hex(3)


def run_metadata(model_dir: Path) -> dict:
    """metadata.json of a run's model folder."""
    try:
        return json.loads((Path(model_dir) / METADATA).read_text())
    except (OSError, ValueError) as exc:
        raise RegistryError(f"cannot read {Path(model_dir) / METADATA}: {exc}") from exc


def publish(store: Store, model_dir: Path, name: str | None = None,
            version: str | None = None) -> str:
    """Upload a run's model folder as a new version, then point latest.json at it. The name
    defaults to its spec's (`spec.of_metadata`)."""
    model_dir = Path(model_dir)
    metadata = run_metadata(model_dir) if (model_dir / METADATA).is_file() else {}
    artifacts = (PIPELINE, metadata.get("artifact", LEGACY))
    missing = [f for f in (*artifacts, METADATA) if not (model_dir / f).is_file()]
    if missing:
        raise ModelNotFound(f"{model_dir} lacks {', '.join(missing)}: did notebook 03 finish?")
    version = version or new_version()
    name = name or spec.of_metadata(metadata).name
    metadata |= {"version": version, "name": name,
                 "published_at": dt.datetime.now(dt.UTC).isoformat()}
    present = [a for a in OPTIONAL_ARTIFACTS if (model_dir / a).is_file()]
    for artifact in (*artifacts, *present):
        store.put(f"{name}/{version}/{artifact}", (model_dir / artifact).read_bytes())
    store.put(f"{name}/{version}/{METADATA}", json.dumps(metadata, indent=2).encode())
    promote(store, version, name)
    return version


def promote(store: Store, version: str, name: str) -> None:
    """Point latest.json at an existing, complete version (also how to roll back)."""
    metadata = read_metadata(store, version, name)
    pointer = {"version": version, "promoted_at": dt.datetime.now(dt.UTC).isoformat(),
               "metrics": metadata.get("metrics", {})}
    store.put(f"{name}/{LATEST}", json.dumps(pointer, indent=2).encode())


def latest_version(store: Store, name: str) -> str:
    raw = store.get(f"{name}/{LATEST}")
    try:
        return json.loads(raw)["version"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"{store.url}/{name}/{LATEST} is corrupt: {exc}") from exc


def read_metadata(store: Store, version: str, name: str) -> dict:
    raw = store.get(f"{name}/{version}/{METADATA}")
    try:
        metadata = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"{store.url}/{name}/{version}/{METADATA} is corrupt: {exc}") from exc
    if metadata.get("version") != version:
        raise RegistryError(f"{store.url}/{name}/{version}/{METADATA} describes version "
                            f"{metadata.get('version')!r}, not {version!r}")
    return metadata


def published(store: Store) -> dict[str, spec.ModelSpec]:
    """Every model name in the store with a latest.json, by name, with its spec."""
    found = {}
    for name in store.list(""):
        model = spec.parse_name(name)
        if model is not None:
            try:
                latest_version(store, name)
            except ModelNotFound:
                continue
            found[name] = model
    return found


def list_versions(store: Store, name: str) -> list[dict]:
    """Every version with its metrics, marking the one latest.json points at."""
    try:
        current = latest_version(store, name)
    except ModelNotFound:
        current = None
    return [{"version": v, "latest": v == current,
             "metrics": read_metadata(store, v, name).get("metrics", {})}
            for v in store.list(name)]


def _unpickle(raw: bytes, where: str) -> Any:
    """A compiled artifact is a plain pickle of numpy arrays; a model published before the
    compiled engine needs joblib and scikit-learn, which the serving install leaves out."""
    if where.endswith(COMPILED):
        import pickle

        return pickle.loads(raw)
    try:
        import joblib

        return joblib.load(io.BytesIO(raw))
    except ImportError as exc:
        raise RegistryError(
            f"{where} was published before the compiled engine and needs {exc.name} to load; "
            f"`airbnb-price model compile {where.rsplit('/', 3)[-3]} --version "
            f"{where.rsplit('/', 2)[-2]}` adds its {COMPILED}") from exc


def load(store: Store, name: str, version: str | None = None,
         artifact: str | None = None) -> LoadedModel:
    """Load a version (default: latest) of `artifact` (default: the one its metadata names,
    the compiled artifact for every model published since the compiled engine); errors name
    the key and the cause."""
    version = version or latest_version(store, name)
    metadata = read_metadata(store, version, name)
    artifact = artifact or metadata.get("artifact", LEGACY)
    where = f"{store.url}/{name}/{version}/{artifact}"
    raw = store.get(f"{name}/{version}/{artifact}")
    try:
        model = _unpickle(raw, where)
    except RegistryError:
        raise
    except Exception as exc:
        raise RegistryError(f"{where} is corrupt: {type(exc).__name__}: {exc}") from exc
    geometry = store.get(f"{name}/{version}/{metadata['geometry']}") if metadata.get(
        "geometry") else None
    return LoadedModel(version, model, metadata, geometry)


def add_artifact(store: Store, name: str, version: str, artifact: str, body: bytes) -> None:
    """Add a file to a published version and name it in its metadata (the artifact first,
    the metadata last: a reader sees the old or the new version, never half of one)."""
    metadata = read_metadata(store, version, name)
    store.put(f"{name}/{version}/{artifact}", body)
    store.put(f"{name}/{version}/{METADATA}",
              json.dumps(metadata | {"artifact": artifact}, indent=2).encode())
