"""Model features derived from a listing, shared by training and serving.

Every function takes a *table*: anything indexable by column name that returns array-likes,
so the same code runs on a pandas DataFrame in notebook 02 and on a dict of numpy arrays in the
Lambda handler (which never imports pandas). This module imports numpy only.
"""

from __future__ import annotations

import json
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from airbnb_price.core.cities import Centre
from airbnb_price.core.config import (
    DETAILED_FILE,
    REVIEW_COLUMNS,
    SUMMARY_FILE,
    ListingsFile,
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
    return np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km; accurate to ~0.5% anywhere, which is plenty for a city."""
    p1, p2 = np.radians(np.asarray(lat1, dtype=float)), np.radians(np.asarray(lat2, dtype=float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
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


#: Words in a listing's title or description that move its price; a host writes both before
#: any booking.
TITLE_KEYWORDS = {
    "luxury": r"luxur", "penthouse": r"penthouse", "house": r"\bhouse\b|home\b",
    "boat": r"boat", "studio": r"studio", "room": r"\broom\b", "loft": r"loft",
    "family": r"family|kids", "canal": r"canal", "garden": r"garden",
    "spacious": r"spacious|large|big", "small": r"cos[yi]|coz[yi]|small|tiny",
    "breakfast": r"b&b|bed and breakfast|breakfast", "suite": r"suite",
    "outdoor": r"terrace|balcony|roof", "view": r"view", "design": r"design|stylish|modern",
}
_KEYWORDS = {k: re.compile(v) for k, v in TITLE_KEYWORDS.items()}
_BEDROOMS = re.compile(r"(\d+)\s*(?:-\s*)?(?:bed|br\b|bdr|bedroom|slaapkamer)")
_GUESTS = re.compile(r"(\d+)\s*(?:p\b|pers|people|guests|ppl)")
_SQUARE_METRES = re.compile(r"(\d{2,3})\s*(?:m2|m²|sqm|square met|sq\.? ?m)")
_HTML_TAG = re.compile(r"<[^>]+>")
TITLE_FEATURES = (*(f"title_{k}" for k in TITLE_KEYWORDS), "title_length", "title_bedrooms",
                  "title_guests")


def _first_number(pattern: re.Pattern, text: str) -> float:
    match = pattern.search(text)
    return float(match.group(1)) if match else np.nan


def _texts(values: Any) -> list[str]:
    """Lower-cased, stripped text per row without HTML tags, "" for missing values (NaN,
    None). Stripped because the endpoint strips request strings: a trailing space in the file
    would otherwise make title and description lengths differ between training and serving."""
    return [_HTML_TAG.sub(" ", v).strip().lower() if isinstance(v, str) else "" for v in values]


def _keyword_flags(table: MutableMapping, texts: list[str], prefix: str) -> None:
    """A flag per keyword: 1.0 where `pattern.search(text)` matches. Each pattern scans all
    texts joined by newlines once (one C loop instead of a Python call per text); no keyword
    pattern can match a newline, so no match spans two texts and every flag equals the
    per-text search (tests/core/test_features.py holds the two equal on real titles)."""
    joined = "\n".join(texts)
    starts = np.cumsum([0, *(len(t) + 1 for t in texts[:-1])]) if texts else np.zeros(0)
    for key, pattern in _KEYWORDS.items():
        flags = np.zeros(len(texts))
        hits = [match.start() for match in pattern.finditer(joined)]
        if hits:
            flags[np.searchsorted(starts, hits, side="right") - 1] = 1.0
        table[f"{prefix}_{key}"] = flags
    table[f"{prefix}_length"] = np.array([float(len(t)) for t in texts])


def add_title_features(table: MutableMapping) -> MutableMapping:
    """Add TITLE_FEATURES from the `name` column: keyword flags, length, numbers of
    bedrooms/guests the title states (NaN when it states none)."""
    titles = _texts(table["name"])
    _keyword_flags(table, titles, "title")
    table["title_bedrooms"] = np.array([_first_number(_BEDROOMS, t) for t in titles])
    table["title_guests"] = np.array([_first_number(_GUESTS, t) for t in titles])
    return table


#: Airbnb's listing card, which Inside Airbnb's files of about 2023 to early 2024 carry in
#: `name` instead of the host's title, the same English card in every city:
#: "Rental unit in Austin · ★4.85 · 2 bedrooms · 3 beds · 1.5 shared baths". A name is a card
#: when its first part is "<property type> in <place>" and a later part is a rating, bedrooms,
#: beds or baths; a file carries cards when at least CARD_SHARE of its names are cards.
CARD_SHARE = 0.5
CARD_SEPARATOR = " · "
_CARD_HEAD = re.compile(r"^(?P<kind>.+?) in .+$")
_CARD_PARTS = {
    "rating": re.compile(r"^★(?P<n>\d(?:\.\d+)?|new)$"),
    "bedrooms": re.compile(r"^(?P<n>\d+) bedrooms?$|^(?P<studio>studio)$"),
    "beds": re.compile(r"^(?P<n>\d+) beds?$"),
    "baths": re.compile(r"^(?:(?P<n>\d+(?:\.\d+)?) )?(?P<kind>shared |private )?"
                        r"(?P<half>half-)?baths?$"),
}
#: What the model reads from a card. The rating reflects reviews, so only a feature set that
#: uses review history (`existing`) reads it; property type is categorical.
CARD_FEATURES = ("card_property_type", "card_bedrooms", "card_beds", "card_baths",
                 "card_shared_bath")
CARD_RATING = "card_rating"


def parse_card(name: Any) -> dict[str, Any] | None:
    """The facts of one listing card (None when `name` is no card): property type, bedrooms
    (a studio has 0), beds, baths (a half-bath is 0.5), whether they are shared, and the
    rating (NaN for "★New")."""
    if not isinstance(name, str) or CARD_SEPARATOR not in name:
        return None
    head, *parts = name.strip().split(CARD_SEPARATOR)
    kind = _CARD_HEAD.match(head)
    facts: dict[str, Any] = {"card_property_type": kind.group("kind").strip() if kind else None,
                             "card_bedrooms": np.nan, "card_beds": np.nan, "card_baths": np.nan,
                             "card_shared_bath": np.nan, CARD_RATING: np.nan}
    found = False
    for part in (p.strip().lower() for p in parts):
        for key, pattern in _CARD_PARTS.items():
            match = pattern.match(part)
            if match:
                found = True
                _read_card_part(facts, key, match)
                break
    return facts if kind and found else None


def _read_card_part(facts: dict[str, Any], key: str, match: re.Match) -> None:
    number = match.group("n")
    if key == "rating":
        facts[CARD_RATING] = np.nan if number == "new" else float(number)
    elif key == "bedrooms":
        facts["card_bedrooms"] = 0.0 if match.group("studio") else float(number)
    elif key == "beds":
        facts["card_beds"] = float(number)
    else:
        facts["card_baths"] = 0.5 if match.group("half") and not number else float(number or 1)
        facts["card_shared_bath"] = 1.0 if match.group("kind") == "shared " else 0.0


def card_share(names: Any) -> float:
    """The share of `names` that are listing cards (how a file is recognised as carrying them)."""
    names = list(names)
    return sum(parse_card(n) is not None for n in names) / len(names) if names else 0.0


def add_card_features(table: MutableMapping, rating: bool = False) -> MutableMapping:
    """Add CARD_FEATURES (and CARD_RATING when `rating`) from the `name` column: None/NaN for
    a name that is no card (an ordinary title: the model's imputers fill it)."""
    cards = [parse_card(n) or {} for n in table["name"]]
    table["card_property_type"] = np.array([c.get("card_property_type") for c in cards],
                                           dtype=object)
    for column in (*CARD_FEATURES[1:], *((CARD_RATING,) if rating else ())):
        table[column] = np.array([c.get(column, np.nan) for c in cards], dtype=float)
    return table


#: Amenities that move the price most on the 2022-01-07 detailed file (absolute correlation
#: with log price among amenities 2-98% of listings have), as patterns on the lower-cased
#: amenity, because Airbnb's wording varies ("Fast wifi – 52 Mbps", "TV with standard cable").
AMENITY_FLAGS = {
    "kitchen": r"^kitchen$", "bedroom_lock": r"lock on bedroom door", "dishwasher": r"dishwasher",
    "oven": r"\boven\b", "cooking_basics": r"cooking basics", "dryer": r"^dryer|\bdryer\b",
    "washer": r"^washer|\bwasher\b", "bathtub": r"bathtub", "stove": r"stove",
    "children": r"high chair|children|crib|changing table|baby",
    "cable_tv": r"cable", "fireplace": r"fireplace", "bbq": r"bbq|barbecue",
    "private_entrance": r"private entrance", "microwave": r"microwave",
    "coffee_maker": r"coffee maker|espresso|nespresso", "patio": r"patio|balcony",
    "workspace": r"workspace", "freezer": r"freezer", "games": r"board games|game console",
    "outdoor": r"outdoor furniture|outdoor dining|garden|backyard", "mini_fridge": r"mini fridge",
    "paid_parking": r"paid parking", "tv": r"\btv\b", "elevator": r"elevator",
    "air_conditioning": r"air conditioning", "sauna": r"sauna|hot tub|pool",
}
_AMENITIES = {k: re.compile(v) for k, v in AMENITY_FLAGS.items()}
DETAIL_FEATURES = ("amenities_count", *(f"amenity_{k}" for k in AMENITY_FLAGS),
                   *(f"description_{k}" for k in TITLE_KEYWORDS), "description_length",
                   "description_m2")


def amenity_list(value: Any) -> list[str]:
    """Amenities as lower-cased strings, from a list (a request) or the JSON text the detailed
    file holds; missing or unreadable -> no amenities."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list | tuple | np.ndarray):
        return []
    return [str(a).strip().lower() for a in value]


def add_detail_features(table: MutableMapping) -> MutableMapping:
    """Add DETAIL_FEATURES from `amenities` and `description`: amenity count and flags,
    description keyword flags and length, and the floor area the description states (m²)."""
    lists = [amenity_list(v) for v in table["amenities"]]
    table["amenities_count"] = np.array([float(len(a)) for a in lists])
    for key, pattern in _AMENITIES.items():
        table[f"amenity_{key}"] = np.array([float(any(pattern.search(a) for a in amenities))
                                            for amenities in lists])
    descriptions = _texts(table["description"])
    _keyword_flags(table, descriptions, "description")
    area = np.array([_first_number(_SQUARE_METRES, t) for t in descriptions])
    table["description_m2"] = np.where(area < 1000, area, np.nan)
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


#: What a host fills in when listing; the model sees these (minus the title text itself)
#: plus GEO_FEATURES and TITLE_FEATURES.
CATEGORICAL_INPUTS = ("neighbourhood", "room_type")
NUMERIC_INPUTS = (
    "latitude", "longitude", "minimum_nights", "availability_365",
    "calculated_host_listings_count",
)
SUMMARY = FeatureSet("summary", ("name",), CATEGORICAL_INPUTS, NUMERIC_INPUTS,
                     (*GEO_FEATURES, *TITLE_FEATURES))
#: The detailed file's columns a host knows before the first booking (no review history):
#: the home itself, the calendar and rules they set, and facts about themselves as host.
DETAILED_NUMERIC = (
    "accommodates", "bedrooms", "beds", "bathrooms", "bathrooms_shared", "maximum_nights",
    "availability_30", "availability_90", "host_listings_count", "host_response_rate",
    "host_acceptance_rate", "host_is_superhost", "host_identity_verified", "instant_bookable",
    "calculated_host_listings_count_entire_homes", "calculated_host_listings_count_private_rooms",
)
DETAILED = FeatureSet("detailed", ("name", "amenities", "description"),
                      (*CATEGORICAL_INPUTS, "property_type"), (*NUMERIC_INPUTS, *DETAILED_NUMERIC),
                      (*GEO_FEATURES, *TITLE_FEATURES, *DETAIL_FEATURES), DETAILED_FILE,
                      extends="summary")
#: The "existing listing" variant: the detailed set plus the review history a listing has
#: gathered, for re-pricing a listing that is already live (never for a new one).
REVIEW_INPUTS = (
    "number_of_reviews", "number_of_reviews_ltm", "reviews_per_month", "review_scores_rating",
    "review_scores_accuracy", "review_scores_cleanliness", "review_scores_checkin",
    "review_scores_communication", "review_scores_location", "review_scores_value",
)
EXISTING = FeatureSet("existing", DETAILED.text, DETAILED.categorical,
                      (*DETAILED.numeric, *REVIEW_INPUTS), DETAILED.derived, DETAILED_FILE,
                      extends="detailed")
FEATURE_SETS = {s.name: s for s in (SUMMARY, DETAILED, EXISTING)}
INPUT_COLUMNS = SUMMARY.input_columns
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
