"""Container and stack, offline: hadolint on the Dockerfile, `serverless print`/`package` for
the CI stage, cfn-lint on the template, and the IAM policy kept to least privilege."""

from __future__ import annotations

import json
import re

import pytest

from airbnb_price.core import config, spec
from airbnb_price.ops import deploy, packager


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return packager.package_offline(tmp_path_factory.mktemp("sls"))


def test_dockerfile_lints_clean():
    packager.lint_dockerfile()


def test_dockerfile_builds_on_the_lambda_python_311_base():
    text = (config.PROJECT_ROOT / "Dockerfile").read_text()
    assert "ARG BASE=public.ecr.aws/lambda/python:3.11" in text
    assert '-c /tmp/build/requirements/constraints.txt "/tmp/build[serving]"' in text
    assert 'CMD ["handler.handler"]' in text and config.LAMBDA_HANDLER == "handler.handler"


def test_template_passes_cfn_lint(template):
    packager.lint_template(template)


def test_iam_grants_only_reading_and_listing_the_model_prefix(template):
    """GetObject under the prefix, ListBucket (to find the published cities) on the bucket
    only with a condition that limits it to the prefix; nothing else in S3."""
    statements = packager.iam_statements(template)
    s3 = [s for s in statements if any(a.startswith("s3:") for a in s["Action"])]
    bucket = config.MODEL_BUCKET.format(stage="ci")
    assert s3 == [
        {"Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": f"arn:aws:s3:::{bucket}/{config.MODEL_PREFIX}/*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": [f"{config.MODEL_PREFIX}/",
                                                    f"{config.MODEL_PREFIX}/*"]}}}]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in statement["Action"]), statement
        assert all(a.startswith(("s3:GetObject", "s3:ListBucket", "logs:"))
                   for a in statement["Action"])
        assert statement["Resource"] != "*"


def test_function_is_an_http_api_image_with_measured_sizing(template):
    resources = json.loads(template.read_text())["Resources"]
    function = resources["PredictLambdaFunction"]["Properties"]
    assert function["PackageType"] == "Image"
    assert function["Code"]["ImageUri"] == packager.PLACEHOLDER_IMAGE
    assert function["MemorySize"] == 512 and function["Timeout"] == 10
    # a model load that cannot reach S3 gives up (503) before Lambda kills the invocation
    worst = config.S3_MAX_ATTEMPTS * (config.S3_CONNECT_TIMEOUT_S + config.S3_READ_TIMEOUT_S)
    assert worst < function["Timeout"]
    variables = function["Environment"]["Variables"]
    assert variables[config.MODEL_STORE_ENV] == (
        f"s3://{config.MODEL_BUCKET.format(stage='ci')}/{config.MODEL_PREFIX}")
    # every model follows its latest.json unless pinned by name
    assert variables[config.MODEL_VERSIONS_ENV] == ""
    assert variables["POWERTOOLS_SERVICE_NAME"] == "airbnb-price"
    routes = sorted(r["Properties"]["RouteKey"] for r in resources.values()
                    if r["Type"] == "AWS::ApiGatewayV2::Route")
    assert routes == ["GET /health", "POST /predict"]
    api = next(r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["CorsConfiguration"]["AllowMethods"] == ["GET", "POST"]
    assert resources["PredictLogGroup"]["Properties"]["RetentionInDays"] == 14


def test_the_version_parameter_pins_each_model_by_its_spec_name(tmp_path):
    """`make deploy` pins a model through serverless.yml's one versions parameter; the
    function reads the pin of each spec by the spec's registry name, and no other."""
    pins = {name: f"20260101T00000{i}Z-pin" for i, name in enumerate(spec.SPECS)}
    value = ",".join(f"{name}={version}" for name, version in pins.items())
    template = packager.package_offline(tmp_path, params={deploy.VERSIONS_PARAM: value})
    variables = json.loads(template.read_text())["Resources"]["PredictLambdaFunction"][
        "Properties"]["Environment"]["Variables"]
    assert spec.pinned_versions(variables[config.MODEL_VERSIONS_ENV]) == pins


def test_serverless_is_pinned_to_v3():
    package = json.loads((config.PROJECT_ROOT / "package.json").read_text())
    assert package["devDependencies"]["serverless"] == "3.40.0"
    assert 'frameworkVersion: "3"' in (config.PROJECT_ROOT / "serverless.yml").read_text()


def test_no_account_ids_or_keys_in_the_repo():
    """Nothing that looks like an AWS access key or a real 12-digit account id is committed
    (the all-zero placeholder account of offline packaging and the local context is fine)."""
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=config.PROJECT_ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    offenders = []
    for name in files:
        if name.endswith((".ipynb", ".json", ".lock")) and "package" not in name:
            continue  # notebook outputs and results hold base64 and hashes, not config
        text = (config.PROJECT_ROOT / name).read_text(errors="ignore")
        keys = re.findall(r"AKIA[0-9A-Z]{16}", text)
        accounts = re.findall(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):|(\d{12})\.dkr\.ecr", text)
        offenders += [(name, k) for k in keys]
        offenders += [(name, a) for pair in accounts for a in pair if a and set(a) != {"0"}]
    assert offenders == []


def test_deploy_without_credentials_stops_with_a_clear_message(monkeypatch, capsys, model_dir):
    from airbnb_price.local import cli

    monkeypatch.setattr(deploy, "preflight", lambda: deploy.Preflight(["AWS credentials"]))
    assert cli.main(["deploy", "--run", str(model_dir.parent), "--stage", "dev"]) == 2
    err = capsys.readouterr().err
    assert "cannot deploy from here, missing: AWS credentials" in err and "Traceback" not in err


def test_preflight_reports_what_is_missing_here(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    check = deploy.preflight()
    assert not check.ready and any("AWS credentials" in m for m in check.missing)


def test_dry_run_deploys_to_moto_and_the_local_endpoint(tmp_path, model_dir):
    result = deploy.dry_run(model_dir, tmp_path)
    assert result["status"] == 200, result
    assert result["response"]["model"]["version"] == result["model_version"]
    assert 25 <= result["response"]["predictions"][0]["price_eur"] < 500


def test_the_image_lambda_takes_is_built_without_attestations_and_deployed_by_digest(
        tmp_path, monkeypatch):
    """`make deploy` and notebook 05 build and push the image themselves (Serverless v3's
    plain `docker build` pushes an OCI index with provenance, which Lambda refuses): the exact
    commands, run here against moto's ECR with a recording stand-in for the Docker CLI, then
    the deploy's own parameters packaged and linted."""
    from moto import mock_aws

    plan = deploy.image_plan("000000000000", "eu-west-1", "dev", "20261202T000000Z", tmp_path)
    ran = []

    def docker(command, what, timeout=300, **kwargs):
        ran.append((command, kwargs))
        if "buildx" in command:
            digest = {"containerimage.digest": "sha256:" + "ab" * 32}
            plan.metadata_file.write_text(json.dumps(digest))
        return ""

    monkeypatch.setattr(deploy, "run_tool", docker)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        uri = deploy.push_image(plan, "eu-west-1")
    (login, login_kwargs), (build, build_kwargs) = ran
    assert login == ["docker", "login", "--username", "AWS", "--password-stdin",
                     "000000000000.dkr.ecr.eu-west-1.amazonaws.com"] and login_kwargs["input"]
    assert build[:3] == ["docker", "buildx", "build"] and build[-2:] == ["--push", "."]
    assert "--provenance=false" in build and "--sbom=false" in build
    assert build[build.index("--platform") + 1] == "linux/amd64"
    assert build_kwargs["env"]["BUILDX_NO_DEFAULT_ATTESTATIONS"] == "1"
    assert uri == f"{plan.uri}@sha256:{'ab' * 32}"

    params = deploy.deploy_params("airbnb-price-models-dev", "", uri)
    assert deploy.VERSIONS_PARAM not in params  # `--param=modelVersions=` is refused
    monkeypatch.undo()  # the real serverless and cfn-lint from here
    template = packager.package_offline(tmp_path / "sls", params=params, stage="dev")
    function = json.loads(template.read_text())["Resources"]["PredictLambdaFunction"]
    assert function["Properties"]["Code"]["ImageUri"] == uri
    packager.lint_template(template)


@pytest.fixture(scope="module")
def zip_package(tmp_path_factory):
    return packager.build_zip(tmp_path_factory.mktemp("zip"))


def test_the_zip_package_fits_lambda_and_packages_clean(zip_package, tmp_path):
    """`--param=packaging=zip`: the function from the zip `airbnb-price package-zip` builds,
    Lambda's Python 3.11 runtime, same routes and role; under the 250 MB unzipped limit."""
    assert zip_package.unzipped_mb < 250, zip_package
    template = packager.package_offline(tmp_path / "sls", params={
        "packaging": "zip", "zipArtifact": str(zip_package.path)})
    packager.lint_template(template)
    resources = json.loads(template.read_text())["Resources"]
    function = resources["PredictLambdaFunction"]["Properties"]
    assert function["Runtime"] == "python3.11" and function["Handler"] == config.LAMBDA_HANDLER
    assert "PackageType" not in function and "S3Key" in function["Code"]
    routes = sorted(r["Properties"]["RouteKey"] for r in resources.values()
                    if r["Type"] == "AWS::ApiGatewayV2::Route")
    assert routes == ["GET /health", "POST /predict"]


def test_the_zip_prices_a_listing_with_nothing_but_its_own_files(zip_package, tmp_path,
                                                                 model_dir):
    """Unzipped as Lambda unzips it, run by a bare Python 3.11 (no site-packages, only the
    zip's folder on the path), against the model on moto's S3."""
    import os
    import subprocess
    import zipfile

    from examples import EXAMPLE

    from airbnb_price.core import registry
    from airbnb_price.ops import httpapi, moto

    task = tmp_path / "task"
    zipfile.ZipFile(zip_package.path).extractall(task)
    probe = (
        "import json, sys; from airbnb_price.ops import httpapi;"
        "handler = httpapi.load_handler(task_root=__import__('pathlib').Path(sys.argv[2]),"
        " environment={});"
        "event = httpapi.to_event('POST', '/predict?explain=true',"
        " {'content-type': 'application/json'}, sys.argv[1].encode());"
        "print(json.dumps(handler(event, httpapi.LambdaContext())))")
    with moto.moto_s3():
        store = f"s3://{config.LOCAL_BUCKET}/{config.MODEL_PREFIX}"
        registry.publish(registry.open_store(store), model_dir)
        done = subprocess.run(
            ["python3.11", "-S", "-c", probe, json.dumps(EXAMPLE), str(task)],
            capture_output=True, text=True, timeout=120, check=False,
            env=os.environ | httpapi.function_environment()
            | {"PYTHONPATH": str(task), config.MODEL_STORE_ENV: store})
    assert done.returncode == 0, done.stderr[-3000:]
    response = json.loads(done.stdout.strip().splitlines()[-1])
    assert response["statusCode"] == 200, response
    item = json.loads(response["body"])["predictions"][0]
    assert item["price"] > 0 and item["contributions"]
