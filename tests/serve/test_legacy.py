"""Models published before the package had layers still load and price the same.

tests/fixtures/legacy-store was published by the code of main at d1d13fa (made_by.py, run
with that checkout on PYTHONPATH): its lean.pkl names `airbnb_price.serving.LeanModel`. The
import shim `airbnb_price.serving` keeps such models loading."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from airbnb_price.core import registry, spec
from airbnb_price.ops import httpapi
from airbnb_price.serve import artifact

LEGACY = Path(__file__).parents[1] / "fixtures" / "legacy-store"
EXPECTED = json.loads((LEGACY / "expected.json").read_text())


def test_the_legacy_pickle_names_the_old_module():
    raw = (LEGACY / "amsterdam-price" / EXPECTED["version"] / "lean.pkl").read_bytes()
    assert b"airbnb_price.serving" in raw and b"LeanModel" in raw


def test_a_legacy_model_loads_as_the_lean_artifact():
    loaded = registry.load(registry.open_store(LEGACY), spec.get().name)
    assert loaded.version == EXPECTED["version"]
    assert isinstance(loaded.model, artifact.CompiledModel)
    assert spec.of_metadata(loaded.metadata) == spec.get()


def test_the_endpoint_prices_a_legacy_model_as_it_did(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(LEGACY, store)
    with httpapi.local_endpoint(str(store)) as url:
        status, body = httpapi.request(f"{url}/predict?explain=true", EXPECTED["request"])
    assert status == 200, body
    # the same model, version, currency and euro prices and contributions as before
    expected = EXPECTED["response"]
    assert body["model"] == expected["model"] and body["currency"] == expected["currency"]
    (item,), (was,) = body["predictions"], expected["predictions"]
    assert (item["price_eur"], item["base_eur"]) == (was["price_eur"], was["base_eur"])
    assert [(c["feature"], c["eur"]) for c in item["contributions"]] == [
        (c["feature"], c["eur"]) for c in was["contributions"]]


def test_model_compile_gives_a_legacy_version_its_compiled_artifact(tmp_path):
    """`airbnb-price model compile` adds compiled.pkl to the old version (same version, its
    metadata now names it), and the endpoint then answers exactly as before, contributions
    included, from the compiled trees instead of LightGBM."""
    from airbnb_price.local import cli

    store = tmp_path / "store"
    shutil.copytree(LEGACY, store)
    assert cli.main(["model", "compile", "--store", str(store), "--name", spec.get().name]) == 0
    loaded = registry.load(registry.open_store(store), spec.get().name)
    assert loaded.version == EXPECTED["version"]
    assert loaded.metadata["artifact"] == registry.COMPILED
    assert type(loaded.model.estimator).__module__ == "airbnb_price.serve.trees"
    with httpapi.local_endpoint(str(store)) as url:
        status, body = httpapi.request(f"{url}/predict?explain=true", EXPECTED["request"])
    assert status == 200, body
    (item,), (was,) = body["predictions"], EXPECTED["response"]["predictions"]
    assert (item["price_eur"], item["base_eur"]) == (was["price_eur"], was["base_eur"])
    assert [(c["feature"], c["eur"]) for c in item["contributions"]] == [
        (c["feature"], c["eur"]) for c in was["contributions"]]


def test_a_pickle_naming_the_old_class_name_loads() -> None:
    """Compiled models published while the class was `LeanModel` unpickle as CompiledModel."""
    import pickle

    model = artifact.CompiledModel(["latitude"], [], None, None, ["latitude"])
    artifact.CompiledModel.__qualname__ = "LeanModel"  # how pickles of that time name it
    try:
        data = pickle.dumps(model)
    finally:
        artifact.CompiledModel.__qualname__ = "CompiledModel"
    assert b"LeanModel" in data and b"CompiledModel" not in data
    loaded = pickle.loads(data)
    assert type(loaded) is artifact.CompiledModel and loaded.input_columns == ["latitude"]
