"""Installed size of what the Lambda image adds on top of its base: the Dockerfile's own
`pip install --target` of the package's `serving` extra with the training lock, test suites
pruned, then `du`. The baseline, same run: the training environment, which holds PyCaret.

Usage: python benchmarks/size.py    Writes results/size.json (serving_mb, ...).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import write

from airbnb_price.core import config


def megabytes(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target, source = Path(tmp) / "task", Path(tmp) / "build"
        source.mkdir()
        for name in ("pyproject.toml", "setup.py", "README.md"):  # the Dockerfile's COPY lines
            shutil.copy(config.PROJECT_ROOT / name, source / name)
        for name in ("src", "requirements"):
            shutil.copytree(config.PROJECT_ROOT / name, source / name)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir",
                        "--target", str(target), "-c", str(source / "requirements/constraints.txt"),
                        f"{source}[serving]"], check=True)
        full = megabytes(target)
        for tests in [p for p in target.rglob("tests") if p.is_dir()]:
            shutil.rmtree(tests, ignore_errors=True)
        serving = megabytes(target)
        largest = sorted(((megabytes(p), p.name) for p in target.iterdir() if p.is_dir()),
                         reverse=True)[:8]
        packages = sorted(p.name.split("-")[0] for p in target.glob("*.dist-info"))
    import sysconfig

    training = megabytes(Path(sysconfig.get_paths()["purelib"]))
    write("size", {"serving_mb": serving, "serving_before_pruning_tests_mb": full,
                   "largest": {name: mb for mb, name in largest}, "packages": packages,
                   "baseline_training_env_mb": training,
                   "target_mb": 120, "lambda_zip_limit_unzipped_mb": 250})


if __name__ == "__main__":
    main()
