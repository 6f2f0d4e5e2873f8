"""Deploying the endpoint: publish the model, `sls deploy` the image, call the deployed URL
(packaging and linting: `ops/packager`).

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
from dataclasses import dataclass, field
from pathlib import Path

from airbnb_price.core import config, registry, runfiles, spec
from airbnb_price.core.spec import ModelSpec
from airbnb_price.ops.packager import (
    DeployError,
    iam_statements,
    lint_dockerfile,
    lint_template,
    package_offline,
    run_tool,
    serverless,
    serverless_bin,
)


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
    run_tool(plan.login(), "docker login to ECR", input=password)
    run_tool(plan.build(), "docker buildx build", timeout=1800, env=os.environ | BUILD_ENV)
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
