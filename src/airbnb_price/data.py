"""Get an Inside Airbnb listings file, check it, and clean it by named rules.

Source resolution (first hit wins): an explicit path or URL, the AIRBNB_LISTINGS environment
variable, the local cache `data/raw/<city>/<snapshot>/listings.csv`, then a download from
Inside Airbnb. Every failure is a `DataError` subclass whose message names the file, the
column and the number of rows at fault, so a user never has to read a pandas traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from airbnb_price import config, features


class DataError(Exception):
    """Base class for every data problem the project reports by name."""


class DataSourceError(DataError):
    """No listings file could be found or downloaded."""


class SchemaError(DataError):
    """The file exists but is not a listings file this project can use."""


@dataclass(frozen=True)
class Layout:
    """One Inside Airbnb file layout, recognised by the columns that only it has."""

    name: str
    marker_columns: tuple[str, ...]
    #: Column renames that map this layout onto the canonical (summary) names.
    renames: Mapping[str, str] = field(default_factory=dict)


#: Checked in order: the most specific layout first.
LAYOUTS = (
    Layout("detailed", ("neighbourhood_cleansed", "accommodates", "amenities"),
           {"neighbourhood": "neighbourhood_raw", "neighbourhood_cleansed": "neighbourhood"}),
    Layout("summary_ltm", ("number_of_reviews_ltm", "license")),
    Layout("summary", ("calculated_host_listings_count",)),
)

#: Columns every layout must provide (after renaming), with the check that applies.
NUMERIC_COLUMNS: dict[str, tuple[float, float]] = {
    "latitude": (-90.0, 90.0),
    "longitude": (-180.0, 180.0),
    "minimum_nights": (1, 100_000),
    "availability_365": (0, 365),
    "calculated_host_listings_count": (0, 100_000),
}
TEXT_COLUMNS = ("neighbourhood", "room_type")
REQUIRED_COLUMNS = ("id", "name", *TEXT_COLUMNS, *NUMERIC_COLUMNS, config.TARGET)


@dataclass(frozen=True)
class Source:
    """A resolved listings file and how it was found (recorded in run.json)."""

    path: Path
    origin: str  # "argument" | "environment" | "cache" | "download"
    url: str | None = None


@dataclass
class Listings:
    """A validated listings table plus the provenance a run records."""

    frame: pd.DataFrame
    path: Path
    sha256: str
    layout: str

    @property
    def rows(self) -> int:
        return len(self.frame)

    def provenance(self) -> dict:
        return {"path": str(self.path), "sha256": self.sha256, "rows": self.rows,
                "layout": self.layout}


def listings_url(city: str = config.DEFAULT_CITY, snapshot: str = config.DEFAULT_SNAPSHOT,
                 kind: str = "summary") -> str:
    """The Inside Airbnb download URL for a city's `kind` (summary | detailed) listings on a
    snapshot date."""
    if city not in config.CITIES:
        raise DataSourceError(f"unknown city {city!r}; known: {', '.join(sorted(config.CITIES))}")
    return config.INSIDE_AIRBNB_URL.format(
        region=config.CITIES[city].region, city=city, snapshot=snapshot,
        file=config.LISTINGS_FILES[kind])


def cache_path(city: str, snapshot: str, cache_dir: Path | None = None,
               kind: str = "summary") -> Path:
    name = Path(config.LISTINGS_FILES[kind]).name
    return Path(cache_dir or config.DATA_CACHE_DIR) / city / snapshot / name


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def download(url: str, dest: Path, timeout: float = 60.0) -> Path:
    """Download `url` to `dest` atomically: a failed download never leaves a partial file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, suffix=".part", delete=False) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, tmp)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, dest)
    return dest


def resolve_source(
    listings: str | os.PathLike | None = None,
    city: str = config.DEFAULT_CITY,
    snapshot: str = config.DEFAULT_SNAPSHOT,
    *,
    environ: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    allow_download: bool = True,
    env_var: str | None = None,
    kind: str = "summary",
) -> Source:
    """Find the `kind` (summary | detailed) listings file, trying argument, environment
    (`env_var`, default: the kind's variable), cache and download in turn."""
    environ = os.environ if environ is None else environ
    env_var = env_var or config.LISTINGS_ENVS[kind]
    tried: list[str] = []
    candidates = [("argument", listings), ("environment", environ.get(env_var))]
    for origin, value in candidates:
        if not value:
            tried.append(f"{origin}: not given" if origin == "argument"
                         else f"${env_var}: not set")
            continue
        value = str(value)
        if _is_url(value):
            return _download_source(value, cache_path(city, snapshot, cache_dir, kind), origin)
        path = Path(value).expanduser()
        if not path.is_file():
            raise DataSourceError(f"listings file {path} (from {origin}) does not exist")
        return Source(path, origin)
    cached = cache_path(city, snapshot, cache_dir, kind)
    if cached.is_file():
        return Source(cached, "cache")
    tried.append(f"cache: {cached} does not exist")
    url = listings_url(city, snapshot, kind)
    if allow_download:
        try:
            return _download_source(url, cached, "download")
        except DataSourceError as exc:
            tried.append(str(exc))
    else:
        tried.append(f"download of {url}: disabled")
    raise DataSourceError(
        "no listings file found. Tried:\n  - " + "\n  - ".join(tried)
        + f"\nPass a local file (`airbnb-price run --listings PATH`, or --compare-listings for "
        f"the drift snapshot) or set {env_var}=PATH."
    )


def _download_source(url: str, dest: Path, origin: str) -> Source:
    try:
        download(url, dest)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataSourceError(f"download of {url} failed: {exc}") from exc
    return Source(dest, origin, url)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_price(values: pd.Series) -> pd.Series:
    """Parse both price forms Inside Airbnb uses: `120` (summary) and `"$1,234.00"` (detailed).

    Blank stays NaN (recent files leave price blank); anything else unparsable also becomes NaN,
    and `validate` counts those rows separately from the blanks.
    """
    text = values.astype("string").str.strip().str.replace(r"^\$", "", regex=True)
    parsed = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    return parsed.astype("float64")


def detect_layout(columns: list[str], path: Path) -> Layout:
    for layout in LAYOUTS:
        if all(c in columns for c in layout.marker_columns):
            return layout
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    hint = ""
    if len(columns) == 1:
        hint = f" (the header parsed as a single column {columns[0][:60]!r}: is the delimiter ','?)"
    raise SchemaError(
        f"{path}: unknown listings layout, missing columns: {', '.join(missing) or 'none'}; "
        f"known layouts: {', '.join(l.name for l in LAYOUTS)}{hint}")


def read_listings(path: Path) -> pd.DataFrame:
    """Read the CSV as text (gzip by extension); typing happens in `validate`."""
    if not path.is_file():
        raise DataSourceError(f"listings file {path} does not exist")
    if path.stat().st_size == 0:
        raise SchemaError(f"{path}: file is empty")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           compression="infer")
    except pd.errors.EmptyDataError as exc:
        raise SchemaError(f"{path}: file has no header or rows") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
        raise SchemaError(f"{path}: not a readable CSV (truncated or corrupt?): {exc}") from exc


def validate(raw: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, Layout]:
    """Check columns, types and ranges; return the typed, canonically named table.

    Blank prices are allowed here (recent files have them) and removed by the
    `drop_missing_price` rule; a price that is present but not a number is an error.
    """
    layout = detect_layout(list(raw.columns), path)
    frame = raw.rename(columns=dict(layout.renames))
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(f"{path}: missing required columns: {', '.join(missing)}")
    if frame.empty:
        raise SchemaError(f"{path}: has a header but no rows")
    problems: list[str] = []
    for column in TEXT_COLUMNS:
        blank = int(frame[column].isna().sum())
        if blank:
            problems.append(f"column {column!r}: {blank} rows are blank")
    price = parse_price(frame[config.TARGET])
    problems.extend(unparsed(config.TARGET, frame[config.TARGET], price, "a number"))
    frame[config.TARGET] = price
    for column, (low, high) in NUMERIC_COLUMNS.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        not_numeric = int(values.isna().sum())
        out_of_range = int(((values < low) | (values > high)).sum())
        if not_numeric:
            problems.append(f"column {column!r}: {not_numeric} rows are blank or not a number")
        if out_of_range:
            problems.append(f"column {column!r}: {out_of_range} rows outside [{low}, {high}]")
        frame[column] = values
    if layout.name == "detailed":
        problems.extend(type_detailed(frame))
    if problems:
        raise SchemaError(f"{path}: " + "; ".join(problems))
    return frame, layout


#: The detailed layout's host-known columns and how each is written in the file. Blank is
#: allowed (NaN: the model handles missing values); anything else unparsable is an error.
DETAILED_COUNTS = ("accommodates", "bedrooms", "beds", "maximum_nights", "availability_30",
                   "availability_90", "host_listings_count",
                   "calculated_host_listings_count_entire_homes",
                   "calculated_host_listings_count_private_rooms")
DETAILED_FLAGS = ("host_is_superhost", "host_identity_verified", "instant_bookable")  # "t"/"f"
DETAILED_RATES = ("host_response_rate", "host_acceptance_rate")  # "97%", or "N/A"
_BATHROOMS = re.compile(r"(\d+(?:\.\d+)?)")


def parse_bathrooms(text: object) -> tuple[float, float]:
    """`bathrooms_text` ("1.5 shared baths", "Half-bath", "Private half-bath") -> (number,
    shared 0/1); (NaN, NaN) when blank. The file's own `bathrooms` column is empty."""
    if not isinstance(text, str) or not text.strip():
        return np.nan, np.nan
    lowered = text.lower()
    match = _BATHROOMS.search(lowered)
    number = float(match.group(1)) if match else (0.5 if "half" in lowered else np.nan)
    return number, float("shared" in lowered)


def unparsed(column: str, raw: pd.Series, parsed: pd.Series, what: str = "valid") -> list[str]:
    """The problem (as a one-item list) when values present in `raw` did not parse: how many
    rows, and the first one as an example; [] when all parsed."""
    failed = parsed.isna() & raw.notna()
    if not failed.any():
        return []
    example = raw[failed].iloc[0]
    return [f"column {column!r}: {int(failed.sum())} rows are not {what} (e.g. {example!r})"]


def type_detailed(frame: pd.DataFrame) -> list[str]:
    """Type the detailed layout's extra columns in place; the problems found, by column.

    Older detailed files lack some of these columns; that is not an error here (the summary
    feature set does not need them) and `features.feature_table` names them if asked for."""
    problems = []
    # and the review counts and scores (0-5 in this layout) the "existing" variant reads
    present = [c for c in (*DETAILED_COUNTS, *DETAILED_FLAGS, *DETAILED_RATES,
                           *features.REVIEW_INPUTS) if c in frame]
    for column in present:
        raw = frame[column]
        if column in DETAILED_RATES:
            raw = raw.replace("N/A", np.nan)  # the file's "no data yet"
        if column in DETAILED_FLAGS:
            values = raw.map({"t": 1.0, "f": 0.0})
        else:
            values = pd.to_numeric(raw.str.rstrip("%"), errors="coerce")
        problems.extend(unparsed(column, raw, values))
        frame[column] = values
    if "bathrooms_text" in frame:
        baths = [parse_bathrooms(t) for t in frame["bathrooms_text"]]
        frame["bathrooms"] = [b[0] for b in baths]
        frame["bathrooms_shared"] = [b[1] for b in baths]
    return problems


def load_listings(source: Source | str | os.PathLike) -> Listings:
    """Read, validate and checksum a listings file."""
    path = source.path if isinstance(source, Source) else Path(source)
    frame, layout = validate(read_listings(path), path)
    return Listings(frame=frame, path=path, sha256=sha256_of(path), layout=layout.name)


# --- cleaning rules ---------------------------------------------------------------------------
# Each rule is a named function frame -> frame with keyword parameters; `clean` applies them in
# order and reports how many rows and columns each removed.

def drop_review_columns(frame: pd.DataFrame,
                        columns: tuple[str, ...] = config.REVIEW_COLUMNS) -> pd.DataFrame:
    """A new host has no reviews yet: drop review history so the model cannot lean on it."""
    return frame.drop(columns=[c for c in columns if c in frame.columns])


def drop_missing_price(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows without a price cannot train a price model (common in recent snapshots)."""
    return frame[frame[config.TARGET].notna()]


def drop_price_outliers(frame: pd.DataFrame, min_price: float = config.MIN_PRICE,
                        max_price: float = config.MAX_PRICE) -> pd.DataFrame:
    """Keep prices in [min_price, max_price): placeholders (0, 1, 9999) and luxury outliers out."""
    price = frame[config.TARGET]
    return frame[(price >= min_price) & (price < max_price)]


Rule = Callable[..., pd.DataFrame]
RULES: dict[str, Rule] = {
    "drop_review_columns": drop_review_columns,
    "drop_missing_price": drop_missing_price,
    "drop_price_outliers": drop_price_outliers,
}


def default_rules(min_price: float = config.MIN_PRICE, max_price: float = config.MAX_PRICE,
                  drop_reviews: bool = True) -> list[tuple[str, dict]]:
    """The cleaning a feature set gets; `drop_reviews=False` only for one that reads review
    history (features.FeatureSet.uses_reviews)."""
    return [
        *([("drop_review_columns", {})] if drop_reviews else []),
        ("drop_missing_price", {}),
        ("drop_price_outliers", {"min_price": min_price, "max_price": max_price}),
    ]


def clean(frame: pd.DataFrame,
          rules: list[tuple[str, dict]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply rules in order; return the cleaned frame and a per-rule report."""
    report = []
    for name, params in rules if rules is not None else default_rules():
        if name not in RULES:
            raise ValueError(f"unknown cleaning rule {name!r}; known: {', '.join(RULES)}")
        before_rows, before_cols = frame.shape
        frame = RULES[name](frame, **params)
        report.append({"rule": name, "params": params, "rows_before": before_rows,
                       "rows_removed": before_rows - len(frame),
                       "columns_removed": before_cols - frame.shape[1], "rows_after": len(frame)})
    return frame.reset_index(drop=True), pd.DataFrame(report)


def prepare(listings: str | os.PathLike | None = None, city: str = config.DEFAULT_CITY,
            snapshot: str | None = None, min_price: float = config.MIN_PRICE,
            max_price: float = config.MAX_PRICE,
            feature_set: str = "summary") -> tuple[pd.DataFrame, pd.DataFrame, Listings]:
    """Resolve, load and clean listings, then build the `feature_set` feature table.

    Returns (feature table, cleaning report, loaded listings): what notebook 02 writes, and what
    03 rebuilds when it is run on its own. The `detailed` and `existing` sets read the detailed
    file ($AIRBNB_DETAILED_LISTINGS, or Inside Airbnb's data/listings.csv.gz); `existing` keeps
    the review columns.
    """
    chosen = features.feature_set(feature_set)
    snapshot = snapshot or config.DEFAULT_SNAPSHOTS[chosen.listings]
    loaded = load_listings(resolve_source(listings, city, snapshot, kind=chosen.listings))
    cleaned, report = clean(loaded.frame, default_rules(min_price, max_price,
                                                        drop_reviews=not chosen.uses_reviews))
    try:
        table = features.feature_table(cleaned, city=city, features=chosen)
    except ValueError as exc:
        raise SchemaError(f"{loaded.path}: {exc}") from exc
    return table, report, loaded


def load_feature_table(feature_table: str | os.PathLike | None, output_dir: Path,
                       **prepare_args) -> tuple[pd.DataFrame, dict]:
    """The feature table and its data provenance: an explicit parquet, else notebook 02's
    output in `output_dir`, else built afresh from the listings (standalone runs)."""
    import json

    path = Path(feature_table) if feature_table else Path(output_dir) / "features.parquet"
    if path.is_file():
        cleaning = path.parent / "cleaning.json"
        provenance = json.loads(cleaning.read_text())["data"] if cleaning.is_file() else {}
        return pd.read_parquet(path), provenance
    if feature_table:
        raise DataSourceError(f"feature table {path} does not exist")
    table, _, loaded = prepare(**prepare_args)
    return table, loaded.provenance()
