"""A run's data: the listings file resolved, read and validated, the city it belongs to
(catalogued, or derived from the listings), the price window, and the feature table the run
trains on, built by the shared feature code (notebook 02 writes it; 03 and 04 read it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from airbnb_price.core import cities, config, features, geo, settings
from airbnb_price.core.params import RunParams
from airbnb_price.data.cleaning import clean, default_rules, price_window
from airbnb_price.data.errors import DataSourceError, SchemaError
from airbnb_price.data.listings import INVALID, Listings, load_listings
from airbnb_price.data.sources import Source, resolve_source

#: Share of a city's listings its neighbourhood polygons must hold to be its map.
MIN_COVERAGE = 0.9


@dataclass(frozen=True)
class RunData:
    """What a run's parameters resolve to; `params` has every value filled in (the file's
    path, snapshot, currency and price window), so a notebook given them resolves the same."""

    params: RunParams
    source: Source
    listings: Listings
    city: cities.City
    window_rule: str

    def record(self) -> dict:
        """What run.json and cleaning.json keep: the file, the city, the price window, the
        neighbourhood polygons."""
        return {"data": self.listings.provenance() | self.source.record(),
                "city": self.city.record(),
                "price_window": {"min": self.params.min_price, "max": self.params.max_price,
                                 "currency": self.city.currency, "rule": self.window_rule},
                "neighbourhoods": self.neighbourhoods()}

    def neighbourhoods(self, given: str | os.PathLike | None = None) -> str | None:
        """The city's neighbourhoods.geojson: the one given (DataSourceError unless it covers
        the listings), else the one found beside the city's files (`found_neighbourhoods`)."""
        if not given:
            return self.found_neighbourhoods
        if not self._covers(Path(given)):
            raise DataSourceError(f"neighbourhoods file {given} does not exist or does not "
                                  f"cover {self.city.name}'s listings")
        return str(given)

    @cached_property
    def found_neighbourhoods(self) -> str | None:
        """Beside the city's snapshots in the data folder or the listings file's city folder,
        else $AIRBNB_NEIGHBOURHOODS; a file whose polygons hold under MIN_COVERAGE of the
        listings is another city's and is not used (None: no map; the endpoint then needs
        `neighbourhood` in requests). Found once per run."""
        candidates = [*maps_beside(self.params.data_folder, self.city.name, self.listings.path),
                      settings.local().neighbourhoods]
        return next((str(path) for path in map(Path, filter(None, candidates))
                     if self._covers(path)), None)

    def _covers(self, path: Path) -> bool:
        """Whether `path` is a map holding MIN_COVERAGE of (a sample of) the listings."""
        if not path.is_file():
            return False
        frame = self.listings.frame.dropna(subset=["latitude", "longitude"]).head(2000)
        return geo.coverage(geo.read(path), frame["latitude"], frame["longitude"]) \
            >= MIN_COVERAGE


def maps_beside(data_folder: str | None, city: str, listings: Path) -> list[Path]:
    """Where a city's neighbourhoods.geojson sits beside its files: the data folder's
    `<city>/` and the listings file's city folder (Inside Airbnb's layout)."""
    folder = [Path(data_folder) / city / geo.FILE] if data_folder else []
    return [*folder, Path(listings).parent.parent / geo.FILE]


def check_city(params: RunParams) -> None:
    """A city outside the catalogue needs its own file (`--listings`, or a data folder that
    has it); otherwise its name is probably a typo: DataSourceError with the closest names."""
    folder = params.data_folder or settings.local().data_folder
    if params.city in cities.CATALOGUE or params.listings or (
            folder and (Path(folder) / str(params.city)).is_dir()):
        return
    try:
        cities.lookup(str(params.city))
    except cities.CityError as exc:
        raise DataSourceError(str(exc)) from None


#: A catalogued city's listings lie around its centre; a file whose median listing is further
#: than this is another city's (a wrong path, or $AIRBNB_LISTINGS left set for another city).
MAX_MEDIAN_KM = 50.0


def check_place(city: cities.City, frame: pd.DataFrame, source: Source) -> None:
    """DataSourceError when a catalogued city's file holds another city's listings."""
    if not city.in_catalogue or frame.empty:
        return
    km = float(np.median(features.haversine_km(frame["latitude"], frame["longitude"],
                                               city.centre.lat, city.centre.lon)))
    if km > MAX_MEDIAN_KM:
        raise DataSourceError(
            f"{source.path} (from {source.origin}) holds listings a median {km:,.0f} km from "
            f"{city.name}'s centre ({city.centre.name}): another city's file? Pass that "
            "city's file (--listings, --data-folder) or unset the variable that names it.")


def load_run(params: RunParams) -> RunData:
    """Resolve and validate a run's listings file and its city before anything is trained."""
    params = params.resolved()
    check_city(params)
    source = resolve_source(params.listings, params.city, params.snapshot,
                            data_folder=params.data_folder, file=params.spec.source)
    listings = load_listings(source)
    frame = listings.frame[listings.frame[INVALID].isna()]
    try:
        city = cities.resolve(params.city, frame["latitude"], frame["longitude"],
                              params.currency)
    except cities.CityError as exc:
        raise DataSourceError(f"{source.path}: {exc}") from exc
    check_place(city, frame, source)
    low, high, rule = price_window(frame[config.TARGET], city)
    if params.min_price is not None or params.max_price is not None:
        low, high, rule = (params.min_price if params.min_price is not None else low,
                           params.max_price if params.max_price is not None else high, "given")
    params = replace(params, listings=str(source.path), snapshot=source.snapshot,
                     currency=city.currency, min_price=low, max_price=high)
    return RunData(params, source, listings, city, rule)


@dataclass(frozen=True)
class Prepared:
    """Notebook 02's work: the feature table, the cleaning report, the cleaned listings the
    table was built from, and the run's data."""

    table: pd.DataFrame
    report: pd.DataFrame
    cleaned: pd.DataFrame
    run: RunData


def prepare(params: RunParams) -> Prepared:
    """Resolve, load and clean the listings of a run, then build its feature table. The
    `detailed` and `existing` sets read the detailed file ($AIRBNB_DETAILED_LISTINGS, or Inside
    Airbnb's data/listings.csv.gz); `existing` keeps the review columns."""
    return prepare_run(load_run(params))


def prepare_run(run: RunData) -> Prepared:
    """`prepare` for a run whose listings are already loaded (the runner's check)."""
    chosen = run.params.spec.feature_set
    rules = default_rules(run.params.min_price, run.params.max_price,
                          drop_reviews=not chosen.uses_reviews)
    cleaned, report = clean(run.listings.frame, rules)
    try:
        table = features.feature_table(cleaned, centre=run.city.centre, feature_set=chosen)
    except ValueError as exc:
        raise SchemaError(f"{run.listings.path}: {exc}") from exc
    return Prepared(table, report, cleaned, run)
