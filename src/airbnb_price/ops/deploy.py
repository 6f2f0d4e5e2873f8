"""Deploying the endpoint: publish the model, `sls deploy` the image, call the deployed URL.

The real path needs AWS credentials and a Docker daemon with buildx. It builds and pushes the
image itself (`ImagePlan`): Serverless v3 would run a plain `docker build`, and since Docker 23
BuildKit adds provenance attestations that turn the pushed image into an OCI image index,
which Lambda refuses (serverless/serverless#12933; v3 has no option for it). The image is
built for linux/amd64 with `--provenance=false --sbom=false` and deployed by ECR uri and
digest, as the offline `ci` stage packages it. Where anything is missing, `preflight` says
which, plainly, and the dry run takes the same steps locally: publish to S3 on moto's
server, lint the Dockerfile, `serverless package` the stack offline and validate its
template, then serve the real handler on 127.0.0.1 and call it with the example listing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from airbnb_price.core import config, registry, runfiles, spec
from airbnb_price.core.spec import ModelSpec

#: Stage whose image is a prebuilt ECR uri, so `serverless package` runs without Docker/STS.
OFFLINE_STAGE = "ci"
#: A syntactically valid image reference for offline packaging; nothing is pulled.
PLACEHOLDER_IMAGE = ("000000000000.dkr.ecr.eu-west-1.amazonaws.com/airbnb-price@sha256:"
                     + "0" * 64)
#: cfn-lint W3005: Serverless adds DependsOn entries its Refs already imply; harmless.
CFN_LINT_IGNORED = ("W3005",)

class DeployError(RuntimeError):
    """A deploy step failed; the message names the step and what it printed."""


@dataclass
class Preflight:
    """What the real deploy needs, and what is missing here."""

    missing: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.missing


def preflight() -> Preflight:
    """Check for AWS credentials, a Docker daemon and the pinned Serverless CLI."""
    check = Preflight()
    try:
        import boto3

        if boto3.Session().get_credentials() is None:
            check.missing.append("AWS credentials (none in the environment, ~/.aws or a role)")
    except Exception as exc:  # a broken profile is as good as none  # noqa: BLE001
        check.missing.append(f"AWS credentials ({exc})")
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "info"], capture_output=True,
                                    check=False).returncode != 0:
        check.missing.append("a Docker daemon (the image is built and pushed with it)")
    elif subprocess.run([docker, "buildx", "version"], capture_output=True,
                        check=False).returncode != 0:
        check.missing.append("docker buildx (builds the single-platform image Lambda takes)")
    if not serverless_bin().exists():
        check.missing.append("the Serverless CLI (npm ci installs the pinned 3.40.0)")
    return check


def serverless_bin() -> Path:
    return config.PROJECT_ROOT / "node_modules" / ".bin" / "serverless"


def _tool(command: list[str], what: str, timeout: float = 300, **kwargs: object) -> str:
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
    return _tool(command, f"serverless {args[0]}", timeout, env=env)


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
        _tool([*pip, "wheel", "--no-deps", "-w", str(wheels), str(config.PROJECT_ROOT)],
              "building the package's wheel", timeout=600)
        (wheel,) = wheels.glob("airbnb_price-*.whl")
        _tool([*pip, "install", "--target", str(task), "--only-binary=:all:",
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
    _tool([_python_tool("cfn-lint"), "--ignore-checks", *CFN_LINT_IGNORED, "--", str(template)],
          f"cfn-lint of {template}")


def lint_dockerfile(dockerfile: Path = config.PROJECT_ROOT / "Dockerfile") -> None:
    _tool([_python_tool("hadolint"), str(dockerfile)], f"hadolint of {dockerfile}")


def _python_tool(name: str) -> str:
    """A console script installed beside this Python (dev extra), else one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def iam_statements(template: Path) -> list[dict]:
    """The IAM statements the function's role grants, from a packaged template."""
    resources = json.loads(Path(template).read_text())["Resources"]
    return [statement for policy in resources["IamRoleLambdaExecution"]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]]


#: serverless.yml's parameter holding the function's version pins ($AIRBNB_MODEL_VERSIONS).
VERSIONS_PARAM = "modelVersions"


@dataclass(frozen=True)
class ImagePlan:
    """The function's image in ECR: the exact commands that build and push it, and the
    reference (uri@digest) the stack deploys."""

    registry: str  # <account>.dkr.ecr.<region>.amazonaws.com
    repository: str
    tag: str
    metadata_file: Path

    @property
    def uri(self) -> str:
        return f"{self.registry}/{self.repository}"

    def login(self) -> list[str]:
        """`docker login` to ECR; the password (an ECR token) goes on stdin."""
        return ["docker", "login", "--username", "AWS", "--password-stdin", self.registry]

    def build(self) -> list[str]:
        """One single-platform image manifest, no attestations (no OCI index), pushed."""
        return ["docker", "buildx", "build", "--provenance=false", "--sbom=false",
                "--platform", "linux/amd64", "--file", "Dockerfile",
                "--tag", f"{self.uri}:{self.tag}", "--metadata-file", str(self.metadata_file),
                "--push", "."]

    def pushed(self) -> str:
        """uri@digest of the pushed image, from the build's metadata file."""
        try:
            digest = json.loads(Path(self.metadata_file).read_text())["containerimage.digest"]
        except (OSError, ValueError, KeyError) as exc:
            raise DeployError(f"the image build left no digest in {self.metadata_file}: "
                              f"{exc}") from exc
        return f"{self.uri}@{digest}"


#: The build's environment: no default attestations, whatever the Docker version.
BUILD_ENV = {"BUILDX_NO_DEFAULT_ATTESTATIONS": "1", "DOCKER_BUILDKIT": "1"}


def image_plan(account: str, region: str, stage: str, tag: str, work_dir: Path) -> ImagePlan:
    return ImagePlan(f"{account}.dkr.ecr.{region}.amazonaws.com", f"airbnb-price-{stage}", tag,
                     Path(work_dir) / "image-metadata.json")


def deploy_params(bucket: str, pins: str, image_uri: str) -> dict[str, str]:
    """serverless.yml parameters of a deploy: the model store, the version pins and the
    prebuilt image by digest (what the `ci` stage packages offline). An empty value is left
    out: Serverless refuses `--param=key=` and serverless.yml's default applies."""
    chosen = {"bucket": bucket, VERSIONS_PARAM: pins, "image": "prebuilt", "imageUri": image_uri}
    return {key: value for key, value in chosen.items() if value}


def push_image(plan: ImagePlan, region: str) -> str:
    """Create the ECR repository if needed, log in, build and push; uri@digest."""
    import base64

    import boto3

    ecr = boto3.client("ecr", region_name=region)
    try:
        ecr.create_repository(repositoryName=plan.repository,
                              imageScanningConfiguration={"scanOnPush": True})
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().split(":", 1)[1]
    _tool(plan.login(), "docker login to ECR", input=password)
    _tool(plan.build(), "docker buildx build", timeout=1800, env=os.environ | BUILD_ENV)
    return plan.pushed()


def deploy(stage: str, bucket: str, model: ModelSpec, region: str = config.AWS_REGION,
           model_version: str = "", work_dir: Path | None = None) -> str:
    """Build and push the image, `serverless deploy` it by digest, then the HTTP API's base
    URL. A `model_version` pins `model`'s version; "" follows latest.json."""
    import datetime as dt
    import tempfile

    import boto3

    account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    tag = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    plan = image_plan(account, region, stage, tag, Path(work_dir or tempfile.mkdtemp()))
    pins = f"{model.name}={model_version}" if model_version else ""
    params = deploy_params(bucket, pins, push_image(plan, region))
    serverless("deploy", stage=stage, region=region, params=params, timeout=1800)
    info = serverless("info", "--verbose", stage=stage, region=region, params=params)
    match = re.search(r"HttpApiUrl:\s*(\S+)", info)
    if not match:
        raise DeployError(f"deployed, but `serverless info` shows no HttpApiUrl:\n{info}")
    return match.group(1)


def call(base_url: str, listing: dict, explain: bool = True,
         timeout: float = 30) -> tuple[int, dict]:
    """POST one listing to `<base_url>/predict`; (status, JSON body), errors included."""
    from airbnb_price.ops import httpapi

    url = f"{base_url.rstrip('/')}/predict" + ("?explain=true" if explain else "")
    return httpapi.request(url, listing, timeout=timeout)


def _spec(model_dir: Path) -> ModelSpec:
    return spec.of_metadata(registry.run_metadata(model_dir))


def example_for(model_dir: Path) -> dict:
    """The request a deploy sends: the model's run's own example (notebook 02's typical
    listing of the city), else (a run made before runs had one) its spec's example body."""
    from airbnb_price.runs import runfolder

    run = Path(model_dir).parent
    if (run / runfiles.EXAMPLE).is_file():
        return runfolder.example(run)
    return _spec(model_dir).example()


def publish_model(model_dir: Path, bucket: str, prefix: str = config.MODEL_PREFIX) -> str:
    """Publish a run's model to s3://bucket/prefix (the endpoint's store); returns the version."""
    return registry.publish(registry.open_store(f"s3://{bucket}/{prefix}"), model_dir)


def dry_run(model_dir: Path, work_dir: Path, bucket: str = config.LOCAL_BUCKET) -> dict:
    """The deploy's steps without AWS: lint the Dockerfile, package and lint the stack,
    publish to S3 on moto, serve the handler locally and call it with the run's example."""
    from airbnb_price.ops import httpapi, moto

    lint_dockerfile()
    template = package_offline(Path(work_dir) / "serverless")
    lint_template(template)
    # The handler's JSON log lines would land in the notebook's report; CloudWatch is their
    # place, and locally they are dropped (`make serve` shows them).
    with moto.moto_s3(bucket), contextlib.redirect_stdout(io.StringIO()):
        version = publish_model(model_dir, bucket)
        with httpapi.local_endpoint(f"s3://{bucket}/{config.MODEL_PREFIX}") as url:
            status, body = call(url, example_for(model_dir))
    return {"mode": "dry run (moto S3 + local endpoint)", "model_version": version,
            "template": str(template), "iam": iam_statements(template), "url": url,
            "status": status, "response": body}


def real_run(model_dir: Path, stage: str, bucket: str | None = None,
             region: str = config.AWS_REGION, model_version: str = "") -> dict:
    """Publish the model (unless a version is pinned), `sls deploy`, call the deployed URL."""
    bucket = bucket or config.MODEL_BUCKET.format(stage=stage)
    version = model_version or publish_model(model_dir, bucket)
    model = _spec(model_dir)
    url = deploy(stage, bucket, model, region, model_version)
    status, body = call(url, example_for(model_dir))
    return {"mode": f"deployed to AWS ({stage}, {region})", "model_version": version,
            "url": url, "status": status, "response": body}
