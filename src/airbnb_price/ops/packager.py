"""Packaging the endpoint without AWS: `serverless package` of the stack (offline stage: a
prebuilt image uri, no Docker or STS), the plain Lambda zip, and the linters that check what
is packaged (cfn-lint on the template, hadolint on the Dockerfile). The deploy (`ops/deploy`)
and the dry run build on these; nothing here needs credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from airbnb_price.core import config

#: Stage whose image is a prebuilt ECR uri, so `serverless package` runs without Docker/STS.
OFFLINE_STAGE = "ci"
#: A syntactically valid image reference for offline packaging; nothing is pulled.
PLACEHOLDER_IMAGE = ("000000000000.dkr.ecr.eu-west-1.amazonaws.com/airbnb-price@sha256:"
                     + "0" * 64)
#: cfn-lint W3005: Serverless adds DependsOn entries its Refs already imply; harmless.
CFN_LINT_IGNORED = ("W3005",)


class DeployError(RuntimeError):
    """A deploy step failed; the message names the step and what it printed."""


def serverless_bin() -> Path:
    return config.PROJECT_ROOT / "node_modules" / ".bin" / "serverless"


def run_tool(command: list[str], what: str, timeout: float = 300, **kwargs: object) -> str:
    """Run a tool in the project root; its stdout, or DeployError quoting what it printed."""
    done = subprocess.run(command, cwd=config.PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False, **kwargs)
    if done.returncode != 0:
        raise DeployError(f"{what} failed ({done.returncode}):\n"
                          f"{(done.stdout + done.stderr).strip()[-2000:]}")
    return done.stdout


def serverless(*args: str, stage: str, params: dict[str, str] | None = None,
               region: str = config.AWS_REGION, timeout: float = 900) -> str:
    """Run the pinned Serverless CLI in the project root; returns its stdout."""
    command = [str(serverless_bin()), *args, "--stage", stage, "--region", region,
               *(f"--param={k}={v}" for k, v in (params or {}).items())]
    env = os.environ | {"SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off"}
    return run_tool(command, f"serverless {args[0]}", timeout, env=env)


def package_offline(out_dir: Path, image_uri: str = PLACEHOLDER_IMAGE,
                    params: dict[str, str] | None = None, stage: str = OFFLINE_STAGE) -> Path:
    """`serverless package` for a stage whose image is prebuilt (the offline stage, or any
    stage given `deploy_params`); returns the CloudFormation template."""
    serverless("package", "--package", str(out_dir), stage=stage,
               params={"imageUri": image_uri} | (params or {}))
    return Path(out_dir) / "cloudformation-template-update-stack.json"


@dataclass(frozen=True)
class ZipPackage:
    path: Path
    zipped_mb: float
    unzipped_mb: float


#: What the zip is built for: Lambda's Python 3.11 on x86_64 (the evaluator is compiled here,
#: and links glibc 2.2.5 symbols only, so it loads on Amazon Linux 2 and 2023).
ZIP_PLATFORMS = ("manylinux2014_x86_64", "linux_x86_64")


def build_zip(out_dir: Path) -> ZipPackage:
    """The function as a plain Lambda zip: the package (with its compiled evaluator) and the
    serving install, versions from the lock, wheels for Lambda's platform, test suites pruned,
    handler.py at the root. Written to a temp name and renamed: never half a zip."""
    import tempfile
    import zipfile

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        wheels, task = Path(tmp) / "wheels", Path(tmp) / "task"
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
        run_tool([*pip, "wheel", "--no-deps", "-w", str(wheels), str(config.PROJECT_ROOT)],
              "building the package's wheel", timeout=600)
        (wheel,) = wheels.glob("airbnb_price-*.whl")
        run_tool([*pip, "install", "--target", str(task), "--only-binary=:all:",
               *(f"--platform={p}" for p in ZIP_PLATFORMS), "--python-version", "3.11",
               "--implementation", "cp", "-c",
               str(config.PROJECT_ROOT / "requirements" / "constraints.txt"),
               f"{wheel}[serving]"], "installing the serving requirements", timeout=900)
        for tests in [p for p in task.rglob("tests") if p.is_dir()]:
            shutil.rmtree(tests)
        shutil.copy(config.LAMBDA_DIR / "handler.py", task / "handler.py")
        files = sorted(p for p in task.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        partial = Path(tmp) / "predict.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
            for file in files:
                bundle.write(file, file.relative_to(task))
        unzipped = sum(p.stat().st_size for p in files)
        target = out_dir / "predict.zip"
        os.replace(partial, target)
    return ZipPackage(target, round(target.stat().st_size / 2**20, 1), round(unzipped / 2**20, 1))


def lint_template(template: Path) -> None:
    """cfn-lint the generated template; any error or unexpected warning raises DeployError."""
    run_tool([_python_tool("cfn-lint"), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(template)],
          f"cfn-lint of {template}")


def lint_dockerfile(dockerfile: Path = config.PROJECT_ROOT / "Dockerfile") -> None:
    run_tool([_python_tool("hadolint"), str(dockerfile)], f"hadolint of {dockerfile}")


def _python_tool(name: str) -> str:
    """A console script installed beside this Python (dev extra), else one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def iam_statements(template: Path) -> list[dict]:
    """The IAM statements the function's role grants, from a packaged template."""
    resources = json.loads(Path(template).read_text())["Resources"]
    return [statement for policy in resources["IamRoleLambdaExecution"]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]]
