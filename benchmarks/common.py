"""Helpers the benchmark scripts share: where results go, percentiles, a served model.

Benchmarks print figures and write `benchmarks/results/<name>.json`; they are not tests and
assert nothing about speed (machines here are noisy). Ratios are measured against a baseline
in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from airbnb_price.core import config, settings, spec
from airbnb_price.runs import runfolder

RESULTS = Path(__file__).parent / "results"
SERVING_PYTHON = config.PROJECT_ROOT / ".venv-serving" / "bin" / "python"
STORE = f"s3://{config.LOCAL_BUCKET}/{config.MODEL_PREFIX}"


def write(name: str, result: dict) -> Path:
    """Write results/<name>.json with the machine it was measured on, and print it."""
    result = result | {"machine": {"python": platform.python_version(),
                                   "cpu_count": os.cpu_count(),
                                   "platform": platform.platform()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    print(f"wrote {path}", file=sys.stderr)
    return path


def rss_mb() -> float:
    """This process's resident memory (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "mean_ms": round(float(ms.mean()), 3), "n": len(ms)}


def newest_model_dir() -> Path:
    """The summary model of the newest run that has one (make run / make smoke), else a
    clear error."""
    models = runfolder.newest_model_dirs()
    if spec.get().name not in models:
        raise FileNotFoundError(f"no summary model under {settings.local().runs_dir}: run `make smoke`")
    return models[spec.get().name]


@contextmanager
def served_model() -> Iterator[str]:
    """S3 on moto's server with the newest run's model of each feature set published (as
    `make serve` does); yields the store URL."""
    from airbnb_price.core import registry
    from airbnb_price.ops import moto

    with moto.moto_s3():
        for model_dir in runfolder.newest_model_dirs().values():
            registry.publish(registry.open_store(STORE), model_dir)
        yield STORE
