"""Shared fixtures. The real listings come from AIRBNB_LISTINGS (set by .ci/run) or the
shared data folder beside the repo; a missing file fails loudly instead of skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airbnb_price.core import config

SHARED_DATA = config.PROJECT_ROOT.parent / "shared" / "data" / "amsterdam"
# Models trained by the tests carry the city's polygons, as `make run` does.
os.environ.setdefault(config.NEIGHBOURHOODS_ENV, str(SHARED_DATA / "neighbourhoods.geojson"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"tests need the shared data folder at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def listings_path(shared_data: Path) -> Path:
    path = Path(os.environ.get(config.LISTINGS_ENV) or shared_data / "2021-07-04" / "listings.csv")
    assert path.is_file(), f"tests need the 2021-07-04 listings at {path} (set {config.LISTINGS_ENV})"
    return path


@pytest.fixture(scope="session")
def smoke_run(listings_path, tmp_path_factory) -> Path:
    """One `airbnb-price run --smoke` of every notebook, shared by the tests that read it."""
    from airbnb_price.local import cli

    runs = tmp_path_factory.mktemp("runs")
    assert cli.main(["run", "--smoke", "--listings", str(listings_path),
                     "--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    return run_dir


@pytest.fixture(scope="session")
def model_dir(smoke_run) -> Path:
    return smoke_run / "model"


@pytest.fixture(scope="session")
def detailed_listings_path(shared_data: Path) -> Path:
    path = Path(os.environ.get(config.DETAILED_LISTINGS_ENV)
                or shared_data / "2022-01-07" / "listings.csv.gz")
    assert path.is_file(), (f"tests need the 2022-01-07 detailed listings at {path} "
                            f"(set {config.DETAILED_LISTINGS_ENV})")
    return path


@pytest.fixture(scope="session")
def detailed_run(detailed_listings_path, tmp_path_factory) -> Path:
    """`airbnb-price run --feature-set detailed --smoke`: notebooks 01-05 on the detailed file."""
    from airbnb_price.local import cli

    runs = tmp_path_factory.mktemp("detailed-runs")
    assert cli.main(["run", "--smoke", "--feature-set", "detailed", "--listings",
                     str(detailed_listings_path), "--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    return run_dir


@pytest.fixture(scope="session")
def existing_run(detailed_listings_path, tmp_path_factory) -> Path:
    """`airbnb-price run --feature-set existing --smoke` of notebooks 02-03: the model that
    also reads review history."""
    from airbnb_price.local import cli

    runs = tmp_path_factory.mktemp("existing-runs")
    assert cli.main(["run", "--smoke", "--feature-set", "existing", "--listings",
                     str(detailed_listings_path), "--runs-dir", str(runs), "--notebooks",
                     "02_features.ipynb", "03_automl.ipynb"]) == 0
    (run_dir,) = runs.iterdir()
    return run_dir


@pytest.fixture(scope="session")
def city_runs(shared_data: Path, tmp_path_factory):
    """`airbnb-price run --smoke --city CITY [--feature-set detailed] --data-folder
    ../shared/data`: notebooks 01-05, each made on first use and shared by the tests."""
    from airbnb_price.local import cli

    made: dict[tuple[str, str], Path] = {}

    def run(city: str, feature_set: str = "summary") -> Path:
        if (city, feature_set) not in made:
            runs = tmp_path_factory.mktemp(f"{city}-{feature_set}-runs")
            assert cli.main(["run", "--smoke", "--city", city, "--feature-set", feature_set,
                             "--data-folder", str(shared_data.parent),
                             "--runs-dir", str(runs)]) == 0
            (made[city, feature_set],) = runs.iterdir()
        return made[city, feature_set]

    return run


#: Fixtures that run notebooks, build the container or start servers: a test using any of them
#: is marked `slow` (still part of `make test`; `make unit` skips them).
SLOW_FIXTURES = {"smoke_run", "model_dir", "detailed_run", "existing_run", "image", "served",
                 "api", "empty_api", "handler", "s3", "moto_server", "serving_python",
                 "city_runs", "cities_api", "dask_cluster", "batch_store"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
