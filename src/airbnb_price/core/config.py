"""Every path, URL pattern, default and size the project uses, and the names of the
environment variables that override them, in one place. Constants only: the variables' values
are read by `core/settings.py` (workstation, CI, workers) and `serve/settings.py` (the Lambda).

Other modules import from here instead of spelling out a path, a bucket or a bound, so a
change of city, snapshot or price window is one edit (or one parameter) away. Names derived
per model (registry name, example request, ...) come from `airbnb_price.core.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
#: Where runs go (default runs/) and where downloads are cached (default data/raw/): the
#: values are read by core/settings.py, like every variable named here.
RUNS_DIR_ENV = "AIRBNB_RUNS_DIR"
DATA_CACHE_ENV = "AIRBNB_DATA_DIR"

#: Inside Airbnb publishes each city under country/region/city/date; the summary file sits in
#: `visualisations/`, the detailed one in `data/`. The article's http:// URL is dead: https only.
INSIDE_AIRBNB_URL = "https://data.insideairbnb.com/{path}/{snapshot}/{file}"


@dataclass(frozen=True)
class ListingsFile:
    """One of the two listings files Inside Airbnb publishes per city and snapshot."""

    #: "summary file" (visualisations/listings.csv) or "detailed file" (data/listings.csv.gz).
    label: str
    #: Its path under the snapshot on Inside Airbnb (and its name in the cache).
    path: str
    #: The environment variable naming a local copy.
    env: str

    @property
    def name(self) -> str:
        return Path(self.path).name


SUMMARY_FILE = ListingsFile("summary file", "visualisations/listings.csv", "AIRBNB_LISTINGS")
DETAILED_FILE = ListingsFile("detailed file", "data/listings.csv.gz", "AIRBNB_DETAILED_LISTINGS")
#: Environment variable that points at a local summary listings file.
LISTINGS_ENV = SUMMARY_FILE.env
#: The same for the detailed listings file the `detailed` feature set trains on.
DETAILED_LISTINGS_ENV = DETAILED_FILE.env


#: The city a run, a request or a deployment uses when none is named (cities: core/cities.json);
#: a deployment's own default comes from $AIRBNB_DEFAULT_CITY (serverless.yml's defaultCity).
DEFAULT_CITY = "amsterdam"
DEFAULT_CITY_ENV = "AIRBNB_DEFAULT_CITY"
#: A local folder laid out like Inside Airbnb's site, <city>/<snapshot>/<file> (and
#: <city>/neighbourhoods.geojson): `--data-folder` or this variable.
DATA_FOLDER_ENV = "AIRBNB_DATA_FOLDER"
#: The drift notebook (06) compares the run's snapshot with this one unless told otherwise.
COMPARE_SNAPSHOT = "2024-09-05"
#: Environment variable that points at the city's neighbourhoods.geojson (optional: a model
#: trained with it checks coordinates against the polygons and can derive `neighbourhood`).
NEIGHBOURHOODS_ENV = "AIRBNB_NEIGHBOURHOODS"
#: Environment variable that points at the comparison snapshot's listings file.
COMPARE_LISTINGS_ENV = "AIRBNB_COMPARE_LISTINGS"

#: A file is refused when more than this share of its rows have blank, non-numeric or
#: out-of-range values in the columns the model needs; below it, those rows are dropped by the
#: `drop_invalid_rows` rule and counted. Real files hold a few such rows (26 of 13,306 in one
#: city, 0.2%); 5% is far above that and still refuses a file whose layout was misread (a
#: shifted column makes most rows invalid).
MAX_INVALID_SHARE = 0.05
#: Fewer listings than this after cleaning are too few to model (5 folds of 20 hold-out rows).
MIN_TRAINING_ROWS = 100
#: Cross-validation needs at least this many training rows per fold; smaller cities get
#: fewer folds (never under 2), and the run says so.
MIN_ROWS_PER_FOLD = 60

#: Columns a brand-new host cannot know yet; they leak the listing's history into the model.
REVIEW_COLUMNS = (
    "number_of_reviews", "reviews_per_month", "last_review", "number_of_reviews_ltm",
    # the detailed layout's review history and scores
    "number_of_reviews_l30d", "first_review", "review_scores_rating", "review_scores_accuracy",
    "review_scores_cleanliness", "review_scores_checkin", "review_scores_communication",
    "review_scores_location", "review_scores_value",
)

SEED = 42
TARGET = "price"

#: Registry defaults. The bucket is never hard-coded: it comes from a parameter or this variable.
MODEL_STORE_ENV = "AIRBNB_MODEL_STORE"
DEFAULT_LOCAL_STORE = PROJECT_ROOT / "models"

#: The Jupyter kernel `make setup` registers and papermill runs notebooks with.
KERNEL_NAME = "airbnb-price"

#: The Lambda function: its task root in the repo and the handler the image's CMD names.
LAMBDA_DIR = PROJECT_ROOT / "lambda"
LAMBDA_HANDLER = "handler.handler"
#: Example API Gateway events and request bodies (tests, README, notebook 05, `make serve`).
EVENTS_DIR = LAMBDA_DIR / "events"
#: The function's pinned model versions, "name=version,name=version" (serverless.yml's
#: `modelVersions` parameter); a model not named there follows its latest.json.
MODEL_VERSIONS_ENV = "AIRBNB_MODEL_VERSIONS"
#: Where the function runs and where its model lives (serverless.yml parameters default to these).
AWS_REGION = "eu-west-1"
MODEL_PREFIX = "models"
#: Default model bucket per stage (serverless.yml's `bucket` parameter has the same default).
MODEL_BUCKET = "airbnb-price-models-{stage}"
#: S3 client limits: attempts x (connect + read) = 8 s, so a model load gives up inside the
#: function's 10 s timeout and answers 503 instead of the Lambda being killed mid-request.
#: The model is ~0.3 MB; in-region reads take milliseconds.
S3_CONNECT_TIMEOUT_S = 1.0
S3_READ_TIMEOUT_S = 3.0
S3_MAX_ATTEMPTS = 2
#: Models one function keeps loaded (least recently used out first), $AIRBNB_MAX_MODELS.
#: Measured (benchmarks/cache.py, resident memory per loaded model of the shared cities): up
#: to 23 MB (Valencia's detailed model with its 88 polygons), most 1-10 MB; 12 x 23 MB stays
#: inside the ~310 MB a 512 MB function has beside its libraries.
MAX_CACHED_MODELS = 12
MAX_MODELS_ENV = "AIRBNB_MAX_MODELS"
#: `make serve` and the deploy notebook's dry run: S3 from moto's server in this bucket.
#: Fleet runs and batch pricing: an existing Dask scheduler's address (else an embedded
#: LocalCluster sized to the machine: one single-threaded worker per core, since every
#: training fit runs with n_jobs=1).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
DASHBOARD_ADDRESS = ":8787"
#: A failed fleet task (an exception, not a lost worker: Dask reschedules those) is retried.
FLEET_RETRIES = 1
#: Batch pricing reads a plain CSV in blocks of about this size (~20,000 summary rows), so
#: memory stays bounded whatever the input size; a gzip file is one block (not seekable).
#: 16 MB blocks (~80,000 rows) ran at half the speed with 1.3 GB per worker
#: (benchmarks/fleet.py): the per-row objects of a large block cost more than they save.
BATCH_BLOCK_BYTES = 4 * 2**20

LOCAL_BUCKET = "airbnb-price-local"
LOCAL_PORT = 3000

#: How big each notebook's work is, for the full run and the smoke run (`--smoke`): the one
#: mapping every notebook and the CLI read, so a smoke size is changed in one place.
SIZES = {
    "full": {"profile_rows": None, "folds": 5, "include": ["lightgbm", "ridge", "gbr", "et", "rf"],
             "n_iter": 10, "selection_rows": 10_000, "boruta_iter": 30, "explain_rows": 3000},
    "smoke": {"profile_rows": 1000, "folds": 2, "include": ["lightgbm", "dt", "ridge"],
              "n_iter": 2, "selection_rows": 600, "boruta_iter": 5, "explain_rows": 500},
}


#: A full run's default time budget (`--time-budget`): issue 21's target for a London-size city
#: on 2 cores. Smoke runs have none.
TIME_BUDGET = "15m"


#: compare_models' candidates are listed cheapest first: under a time budget PyCaret starts no
#: model after its share is spent, so the slow ones are what a tight budget leaves out.
#: Candidates left out of a comparison on this many sample rows or more, and why, measured on
#: London (benchmarks/candidates.py: 32,000 sample rows, 5 folds, against an untuned
#: LightGBM): gradient boosting never wins; the forests' full-depth trees grow with the rows
#: (the random forest fitted on London's 66,632 listings compiled to 247 MB, model.pkl
#: 556 MB: ten times what a function keeps per model, see MAX_CACHED_MODELS), for a
#: cross-validated gain under 1% that tuning LightGBM matches.
BIG_SAMPLE_ROWS = 16_000
BIG_SAMPLE_LEFT_OUT = {
    "gbr": "6% worse than LightGBM at 16x its fit time",
    "et": "0.4% better than untuned LightGBM at 32x its fit time; trees grow with the rows",
    "rf": "0.6% better than untuned LightGBM at 52x its fit time; 247 MB compiled on London",
}
#: Threads a single run's tuning and final fits use (LightGBM's and random forest's
#: `n_jobs`): the machine's cores, one per worker in a fleet task ($AIRBNB_THREADS).
#: Cross-validation itself stays sequential: parallel folds plus threaded models
#: oversubscribed 2 cores and stalled tuning.
THREADS_ENV = "AIRBNB_THREADS"


def sizes(smoke: bool) -> dict:
    """The work sizes of a smoke or full run (a copy: callers may override entries)."""
    return dict(SIZES["smoke" if smoke else "full"])
