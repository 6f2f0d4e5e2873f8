"""The layers are a tool's contract (import-linter, run by `make lint`), not a docstring: the
contracts hold on the package, and break when serving code imports a training library."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airbnb_price.core import config

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml")],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
                          env={"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent)})


def copy_project(tmp_path: Path) -> Path:
    shutil.copytree(config.PROJECT_ROOT / "src", tmp_path / "src")
    shutil.copy(config.PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_its_contracts():
    done = lint_imports(config.PROJECT_ROOT / "src", config.PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("library", ["pandas", "sklearn", "lightgbm", "scipy"])
def test_serving_code_importing_a_training_library_breaks_the_build(tmp_path, library):
    project = copy_project(tmp_path)
    engine = project / "src" / "airbnb_price" / "serve" / "engine.py"
    engine.write_text(engine.read_text().replace("import numpy as np",
                                                 f"import numpy as np\nimport {library}"))
    done = lint_imports(project / "src", project)
    assert done.returncode != 0
    assert "the Lambda image's code (serve, core) never imports training code" in done.stdout
    assert f"airbnb_price.serve.engine -> {library}" in done.stdout


def test_core_importing_the_training_layer_breaks_the_build(tmp_path):
    project = copy_project(tmp_path)
    spec_module = project / "src" / "airbnb_price" / "core" / "spec.py"
    spec_module.write_text(spec_module.read_text() + "\nfrom airbnb_price.train import experiment\n")
    done = lint_imports(project / "src", project)
    assert done.returncode != 0 and "BROKEN" in done.stdout
    assert "airbnb_price.core.spec -> airbnb_price.train.experiment" in done.stdout


def notebook_imports(path: Path) -> set[str]:
    """The airbnb_price modules a notebook's code cells import."""
    cells = json.loads(path.read_text())["cells"]
    tree = ast.parse("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("airbnb_price"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("airbnb_price")}
    return found


@pytest.mark.parametrize("path", sorted((config.PROJECT_ROOT / "notebooks").glob("0*.ipynb")),
                         ids=lambda p: p.stem)
def test_notebooks_never_import_the_layer_that_runs_them(path: Path) -> None:
    imported = notebook_imports(path)
    assert imported, path.name
    assert not {m for m in imported if m.startswith("airbnb_price.local")}, path.name
