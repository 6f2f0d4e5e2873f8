"""Model features derived from a listing, shared by training and serving.

Every function takes a *table*: anything indexable by column name that returns array-likes,
so the same code runs on a pandas DataFrame in notebook 02 and on a dict of numpy arrays in the
Lambda handler (which never imports pandas). This module imports numpy (and, through the
table of input columns, pydantic) only.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from airbnb_price.core.cities import Centre
from airbnb_price.core.columns import inputs
from airbnb_price.core.config import (
    DETAILED_FILE,
    REVIEW_COLUMNS,
    SUMMARY_FILE,
    ListingsFile,
)
from airbnb_price.core.text_features import (
    CARD_FEATURES,
    CARD_RATING,
    CARD_SHARE,
    DETAIL_FEATURES,
    TITLE_FEATURES,
    add_card_features,
    add_detail_features,
    add_title_features,
    card_share,
)

EARTH_RADIUS_KM = 6371.0088

#: Columns this module adds, in the order it adds them.
GEO_FEATURES = ("geo_x", "geo_y", "geo_z", "distance_to_centre_km")


def unit_sphere(lat_deg: Any, lon_deg: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude/longitude in degrees -> (x, y, z) on the unit sphere.

    The article fed degrees straight into cos/sin, which makes the features wrap every ~6.3
    degrees of arc and lose their geometric meaning; trig functions take radians.
    """
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    cos_lat = np.cos(lat)
    return cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km; accurate to ~0.5% anywhere, which is plenty for a city."""
    p1, p2 = np.radians(np.asarray(lat1, dtype=float)), np.radians(np.asarray(lat2, dtype=float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    # 2.0, not 2: numpy's path for an int operand costs 0.2 µs more on one listing's value
    a = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def add_geo_features(table: MutableMapping, centre: Centre) -> MutableMapping:
    """Add the geo columns of GEO_FEATURES to `table` in place and return it; distance is
    measured from the city's `centre` (its landmark, or the densest cell of its listings).

    Works on a DataFrame (training) and on a dict of arrays (serving) alike.
    """
    x, y, z = unit_sphere(table["latitude"], table["longitude"])
    table["geo_x"], table["geo_y"], table["geo_z"] = x, y, z
    table["distance_to_centre_km"] = haversine_km(
        table["latitude"], table["longitude"], centre.lat, centre.lon
    )
    return table


@dataclass(frozen=True)
class FeatureSet:
    """What the model sees: a host's inputs (text ones are only read by derived features) and
    the features derived from them. `summary` works on every listings file; `detailed` and
    `existing` need the detailed listings file (`source`) or a request carrying their fields."""

    name: str
    text: tuple[str, ...]
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    derived: tuple[str, ...]
    #: The Inside Airbnb file it trains on.
    source: ListingsFile = SUMMARY_FILE
    #: The feature set whose inputs this one adds to (None: the base set). A request carrying
    #: any input of this set that its base lacks is a request for this set.
    extends: str | None = None

    @property
    def input_columns(self) -> tuple[str, ...]:
        return (*self.text, *self.categorical, *self.numeric)

    @property
    def model_features(self) -> tuple[str, ...]:
        return (*self.categorical, *self.numeric, *self.derived)

    @property
    def uses_reviews(self) -> bool:
        """Whether the model reads review history, which a new listing does not have (so its
        cleaning keeps the review columns the other sets drop)."""
        return any(c in REVIEW_COLUMNS for c in self.numeric)

    @property
    def own_inputs(self) -> frozenset[str]:
        """The inputs this set adds to the one it extends (all of them for the base set)."""
        base = FEATURE_SETS[self.extends].input_columns if self.extends else ()
        return frozenset(self.input_columns) - frozenset(base)


#: What a host fills in when listing (core/columns.py declares each column and the feature
#: set that introduces it); the model sees these (minus the text itself) plus GEO_FEATURES and
#: TITLE_FEATURES.
CATEGORICAL_INPUTS = inputs("summary", "categorical")
NUMERIC_INPUTS = inputs("summary", "numeric")
SUMMARY = FeatureSet("summary", inputs("summary", "text"), CATEGORICAL_INPUTS, NUMERIC_INPUTS,
                     (*GEO_FEATURES, *TITLE_FEATURES))
#: The detailed file's columns a host knows before the first booking (no review history):
#: the home itself, the calendar and rules they set, and facts about themselves as host.
DETAILED = FeatureSet("detailed", (*SUMMARY.text, *inputs("detailed", "text")),
                      (*CATEGORICAL_INPUTS, *inputs("detailed", "categorical")),
                      (*NUMERIC_INPUTS, *inputs("detailed", "numeric")),
                      (*GEO_FEATURES, *TITLE_FEATURES, *DETAIL_FEATURES), DETAILED_FILE,
                      extends="summary")
#: The "existing listing" variant: the detailed set plus the review history a listing has
#: gathered, for re-pricing a listing that is already live (never for a new one).
REVIEW_INPUTS = inputs("existing", "numeric")
EXISTING = FeatureSet("existing", DETAILED.text, DETAILED.categorical,
                      (*DETAILED.numeric, *REVIEW_INPUTS), DETAILED.derived, DETAILED_FILE,
                      extends="detailed")
FEATURE_SETS = {s.name: s for s in (SUMMARY, DETAILED, EXISTING)}
INPUT_COLUMNS = SUMMARY.input_columns


def new_listing_set(source: ListingsFile) -> FeatureSet:
    """The feature set a listings file of this kind feeds unless told otherwise: the richest
    one that prices a new listing (no review history) from that file."""
    return [s for s in FEATURE_SETS.values() if s.source == source and not s.uses_reviews][-1]
MODEL_FEATURES = SUMMARY.model_features


def categorical_columns(table: Any) -> list[str]:
    """The categorical columns (of any feature set, and the card's property type) a table
    has, for PyCaret and LightGBM."""
    return [c for c in (*DETAILED.categorical, CARD_FEATURES[0]) if c in table]


def card_columns(feature_set: FeatureSet) -> tuple[str, ...]:
    """The columns a model of `feature_set` reads from listing cards, when its file has them."""
    return (*CARD_FEATURES, *((CARD_RATING,) if feature_set.uses_reviews else ()))


def reads_cards(columns: Any) -> bool:
    """Whether a model with these input columns was trained on listing cards."""
    return CARD_FEATURES[1] in columns


def by_name(name: str) -> FeatureSet:
    """The named feature set; the error lists the known names."""
    try:
        return FEATURE_SETS[name]
    except KeyError:
        raise ValueError(f"unknown feature_set {name!r}; one of: {', '.join(FEATURE_SETS)}") \
            from None


def add_features(table: MutableMapping, centre: Centre,
                 feature_set: FeatureSet = SUMMARY, cards: bool = False) -> MutableMapping:
    """Every derived feature of `feature_set` (and the listing card's, for a model trained on
    cards), in place: the one call training and serving both make."""
    add_title_features(add_geo_features(table, centre))
    if cards:
        add_card_features(table, rating=feature_set.uses_reviews)
    return add_detail_features(table) if "amenities" in feature_set.text else table


def check_inputs(frame: Any, feature_set: FeatureSet) -> None:
    """ValueError naming the input columns of `feature_set` that `frame` lacks."""
    missing = [c for c in feature_set.input_columns if c not in frame]
    if missing:
        raise ValueError(f"the {feature_set.name!r} feature set needs columns the listings lack: "
                         f"{', '.join(missing)} (is this the {feature_set.source.label}?)")


def feature_table(frame: Any, target: str | None = "price", *, centre: Centre,
                  feature_set: FeatureSet = SUMMARY) -> Any:
    """The model's table from a cleaned listings DataFrame, distances from the city's
    `centre` (no default: every city has its own): features in `model_features` order, the card's when the file carries listing cards (CARD_SHARE), then the target."""
    check_inputs(frame, feature_set)
    cards = card_share(frame["name"]) >= CARD_SHARE
    table = add_features(frame[list(feature_set.input_columns)].copy(), centre, feature_set,
                         cards)
    if target:
        table[target] = frame[target]
    columns = [*feature_set.model_features, *(card_columns(feature_set) if cards else ())]
    return table[[*columns, *([target] if target else [])]]
