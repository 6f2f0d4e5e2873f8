"""What a workstation, a CI job or a Dask worker sets in its environment, read in this one
place (`LocalSettings.from_env`): where runs and the download cache go, the data folder and
local copies of listings files, the model store, the Dask scheduler, training threads.

The Lambda function reads its own, smaller set (`airbnb_price.serve.settings`); the names of
the variables live in `core/config.py` beside their defaults. Settings are read when asked
for, not at import: a fleet worker sets its thread count before its task trains, and tests
set variables per test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from airbnb_price.core import config


@dataclass(frozen=True)
class LocalSettings:
    runs_dir: Path
    data_cache_dir: Path
    #: `<city>/<snapshot>/<file>` like Inside Airbnb's site ($AIRBNB_DATA_FOLDER).
    data_folder: str | None
    #: A city's neighbourhoods.geojson ($AIRBNB_NEIGHBOURHOODS).
    neighbourhoods: str | None
    #: Local copies of listings files by their variable ($AIRBNB_LISTINGS,
    #: $AIRBNB_DETAILED_LISTINGS, $AIRBNB_COMPARE_LISTINGS).
    listings: Mapping[str, str]
    #: The registry the CLI publishes to and serves from by default.
    model_store: str
    #: An existing Dask scheduler's address (None: an embedded LocalCluster).
    scheduler: str | None
    #: Threads of a run's threaded fits: the machine's cores, one per worker in a fleet task.
    threads: int
    #: The port `airbnb-price serve` listens on ($PORT).
    port: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LocalSettings:
        env = os.environ if environ is None else environ
        files = (config.LISTINGS_ENV, config.DETAILED_LISTINGS_ENV, config.COMPARE_LISTINGS_ENV)
        return cls(
            runs_dir=Path(env.get(config.RUNS_DIR_ENV) or config.PROJECT_ROOT / "runs"),
            data_cache_dir=Path(env.get(config.DATA_CACHE_ENV)
                                or config.PROJECT_ROOT / "data" / "raw"),
            data_folder=env.get(config.DATA_FOLDER_ENV) or None,
            neighbourhoods=env.get(config.NEIGHBOURHOODS_ENV) or None,
            listings={name: env[name] for name in files if env.get(name)},
            model_store=str(env.get(config.MODEL_STORE_ENV) or config.DEFAULT_LOCAL_STORE),
            scheduler=env.get(config.SCHEDULER_ENV) or None,
            threads=int(env.get(config.THREADS_ENV) or os.cpu_count() or 1),
            port=int(env.get("PORT") or config.LOCAL_PORT))


def local() -> LocalSettings:
    """This process's settings as its environment holds them now."""
    return LocalSettings.from_env()
