"""The name of every file a run folder holds, and which step writes it: one table that the
notebooks, `airbnb-price train`, the runner, the reports, the fleet and the benchmarks read,
so no file name is typed twice. (The model folder inside it holds what the registry
publishes: `registry.COMPILED`, `registry.METADATA`, ...)

Here in `core` rather than beside the run-folder helpers in `local` because training
(`train.training`, `train.explain`) writes these files too and may not import the top layer.
"""

from __future__ import annotations

from airbnb_price.core.registry import COMPILED, METADATA

#: The run's record: parameters, data checksum, notebooks and their status, time budget.
RUN = "run.json"
#: The stakeholder page linking every report.
INDEX = "index.html"
FEATURES = "features.parquet"
CLEANING = "cleaning.json"
#: The run's example request: a typical listing of the city.
EXAMPLE = "example.json"
#: Each feature-table row's Airbnb listing id (text: ids pass 2^53), for room links.
LISTING_IDS = "listing_ids.parquet"
MODEL_DIR = "model"
METRICS = "metrics.json"
#: The hold-out listings' price range, for the map of listings below and above theirs.
RANGE_CHECK = "range_check.parquet"
DRIVERS = "drivers.json"
DEPLOY = "deploy.json"
FIGURES = "figures"
RANGE_MAP = "range_map"

#: The outputs each notebook's downstream steps read, by the notebook that writes them.
MADE_BY = {FEATURES: "02_features", CLEANING: "02_features", EXAMPLE: "02_features",
           f"{MODEL_DIR}/{COMPILED}": "03_automl", f"{MODEL_DIR}/{METADATA}": "03_automl",
           METRICS: "03_automl", RANGE_CHECK: "03_automl"}
#: What each notebook needs from earlier steps (the run folder's contract).
NEEDS = {"03_automl": (FEATURES, CLEANING), "04_explain": (f"{MODEL_DIR}/{COMPILED}", FEATURES),
         "05_deploy": (f"{MODEL_DIR}/{METADATA}", EXAMPLE)}


def figure(name: str) -> str:
    """A figure's path inside the run folder (notebooks save them, reports link them)."""
    return f"{FIGURES}/{name}.png"
