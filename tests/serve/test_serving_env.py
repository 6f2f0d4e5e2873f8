"""The handler in an environment built like the Lambda image: `pip install -c
requirements/constraints.txt '.[serving]'` (make serving-env), with the handler loaded from
lambda/ and the model from S3 on moto's server. No pandas, PyCaret or shap there."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from examples import EXAMPLE

from airbnb_price.core import config, registry, spec
from airbnb_price.ops import httpapi, moto
from airbnb_price.serve import artifact, engine

SERVING_PYTHON = config.PROJECT_ROOT / ".venv-serving" / "bin" / "python"

PROBE = """
import importlib.util, json, sys
from pathlib import Path
from airbnb_price.ops import httpapi  # stdlib only: the same adapter as `make serve`
handler = httpapi.load_handler(task_root=Path(sys.argv[2]), environment={})  # set by the test
event = httpapi.to_event("POST", "/predict?explain=true", {"content-type": "application/json"},
                         sys.argv[1].encode())
response = handler(event, httpapi.LambdaContext())
absent = [m for m in ("pandas", "pycaret", "shap", "matplotlib", "sklearn", "scipy",
                      "lightgbm", "joblib")
          if importlib.util.find_spec(m) is not None]
print(json.dumps({"response": response, "installed": absent,
                  "loaded": sorted(m for m in ("pandas", "pycaret") if m in sys.modules)}))
"""


@pytest.fixture(scope="module")
def serving_python():
    assert SERVING_PYTHON.exists(), f"{SERVING_PYTHON} is missing: run `make serving-env`"
    return SERVING_PYTHON


def test_handler_predicts_in_the_serving_env(serving_python, model_dir):
    with moto.moto_s3():
        store = f"s3://{config.LOCAL_BUCKET}/{config.MODEL_PREFIX}"
        version = registry.publish(registry.open_store(store), model_dir)
        done = subprocess.run(
            [str(serving_python), "-c", PROBE, json.dumps(EXAMPLE),
             str(config.LAMBDA_DIR)],
            capture_output=True, text=True, timeout=120, cwd=config.PROJECT_ROOT,
            env=os.environ | httpapi.function_environment() | {config.MODEL_STORE_ENV: store}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["installed"] == [] and result["loaded"] == []
    response = result["response"]
    assert response["statusCode"] == 200, response
    (served,) = json.loads(response["body"])["predictions"]
    # the price the training environment computes from the same artifact and listing
    model = spec.get()
    loaded = registry.LoadedModel("run", artifact.load(model_dir), registry.run_metadata(model_dir))
    here = engine.ServedModel.build(loaded, model, None)
    assert served["price_eur"] == round(float(here.price(here.listings([EXAMPLE]))[0]), 2)
    assert json.loads(response["body"])["model"]["version"] == version
