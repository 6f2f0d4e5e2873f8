"""Settings come from the environment in one place per side: core/settings.py for
workstations, CI and workers, serve/settings.py for the Lambda function."""

import re
from pathlib import Path

from airbnb_price.core import config
from airbnb_price.core.settings import LocalSettings
from airbnb_price.serve.settings import ServingSettings

PACKAGE = config.PROJECT_ROOT / "src" / "airbnb_price"
READERS = {PACKAGE / "core" / "settings.py", PACKAGE / "serve" / "settings.py",
           # sets the AWS variables of moto's server for a block and puts back what was there
           PACKAGE / "ops" / "moto.py"}


def test_local_settings_have_defaults_and_take_the_environment() -> None:
    empty = LocalSettings.from_env({})
    assert empty.runs_dir == config.PROJECT_ROOT / "runs" and empty.data_folder is None
    assert empty.listings == {} and empty.scheduler is None and empty.threads >= 1
    given = LocalSettings.from_env({config.RUNS_DIR_ENV: "/tmp/r", config.THREADS_ENV: "1",
                                    config.LISTINGS_ENV: "/x.csv", config.SCHEDULER_ENV: "tcp://s:8786",
                                    config.DATA_FOLDER_ENV: "/data", "PORT": "8080"})
    assert (given.runs_dir, given.threads, given.scheduler, given.port) == (
        Path("/tmp/r"), 1, "tcp://s:8786", 8080)
    assert given.listings == {config.LISTINGS_ENV: "/x.csv"} and given.data_folder == "/data"


def test_serving_settings_read_what_serverless_yml_sets() -> None:
    assert ServingSettings.from_env({}) == ServingSettings()
    set_ = ServingSettings.from_env({config.MODEL_STORE_ENV: "s3://b/models",
                                     config.MODEL_VERSIONS_ENV: "albany-price=v1",
                                     config.MAX_MODELS_ENV: "3", config.DEFAULT_CITY_ENV: "albany"})
    assert (set_.store_url, dict(set_.pins), set_.max_models, set_.default_city) == (
        "s3://b/models", {"albany-price": "v1"}, 3, "albany")


def test_nothing_else_reads_the_environment() -> None:
    reading = re.compile(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[[^\]]+\](?!\s*=)")
    readers = {path for path in PACKAGE.rglob("*.py") if reading.search(path.read_text())}
    assert readers - READERS == set()
