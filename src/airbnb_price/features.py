"""Model features derived from a listing, shared by training and serving.

Every function takes a *table*: anything indexable by column name that returns array-likes,
so the same code runs on a pandas DataFrame in notebook 02 and on a dict of numpy arrays in the
Lambda handler (which never imports pandas). This module imports numpy only.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import numpy as np

from airbnb_price.config import CITIES, DEFAULT_CITY

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


def add_geo_features(table: MutableMapping, city: str = DEFAULT_CITY) -> MutableMapping:
    """Add the geo columns of GEO_FEATURES to `table` in place and return it.

    Works on a DataFrame (training) and on a dict of arrays (serving) alike.
    """
    centre = CITIES[city]
    x, y, z = unit_sphere(table["latitude"], table["longitude"])
    table["geo_x"], table["geo_y"], table["geo_z"] = x, y, z
    table["distance_to_centre_km"] = haversine_km(
        table["latitude"], table["longitude"], centre.centre_lat, centre.centre_lon
    )
    return table


#: Words in a listing's title that move its price; a host writes the title before any booking.
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
TITLE_FEATURES = (*(f"title_{k}" for k in TITLE_KEYWORDS), "title_length", "title_bedrooms",
                  "title_guests")


def _first_number(pattern: re.Pattern, text: str) -> float:
    match = pattern.search(text)
    return float(match.group(1)) if match else np.nan


def add_title_features(table: MutableMapping) -> MutableMapping:
    """Add TITLE_FEATURES from the `name` column: keyword flags, length, numbers of
    bedrooms/guests the title states (NaN when it states none)."""
    titles = [n.lower() if isinstance(n, str) else "" for n in table["name"]]
    for key, pattern in _KEYWORDS.items():
        table[f"title_{key}"] = np.array([float(bool(pattern.search(t))) for t in titles])
    table["title_length"] = np.array([float(len(t)) for t in titles])
    table["title_bedrooms"] = np.array([_first_number(_BEDROOMS, t) for t in titles])
    table["title_guests"] = np.array([_first_number(_GUESTS, t) for t in titles])
    return table


def add_features(table: MutableMapping, city: str = DEFAULT_CITY) -> MutableMapping:
    """Every derived feature, in place: the one call training and serving both make."""
    return add_title_features(add_geo_features(table, city))


#: What a host fills in when listing; the model sees these (minus the title text itself)
#: plus GEO_FEATURES and TITLE_FEATURES.
CATEGORICAL_INPUTS = ("neighbourhood", "room_type")
NUMERIC_INPUTS = (
    "latitude", "longitude", "minimum_nights", "availability_365",
    "calculated_host_listings_count",
)
INPUT_COLUMNS = ("name", *CATEGORICAL_INPUTS, *NUMERIC_INPUTS)
MODEL_FEATURES = (*CATEGORICAL_INPUTS, *NUMERIC_INPUTS, *GEO_FEATURES, *TITLE_FEATURES)


def feature_table(frame: Any, target: str | None = "price", city: str = DEFAULT_CITY) -> Any:
    """The model's table from a cleaned listings DataFrame: features in MODEL_FEATURES order,
    then the target."""
    table = add_features(frame[list(INPUT_COLUMNS)].copy(), city)
    if target:
        table[target] = frame[target]
    return table[[*MODEL_FEATURES, *([target] if target else [])]]
