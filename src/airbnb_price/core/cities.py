"""The cities the project knows: Inside Airbnb's catalogue (`cities.json`, shipped with the
package) and, for a city outside it, what can be derived from its listings.

A `City` is everything a run and a model need to know of a place besides its listings: where
Inside Airbnb keeps it, its currency, the centre distances are measured from, and (optionally)
its price window. Runs record it in run.json and models in their metadata, so the endpoint
measures distance from the centre the model was trained with, catalogued or derived.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CATALOGUE_FILE = Path(__file__).with_name("cities.json")
#: The currency of a city outside the catalogue when none is given.
UNKNOWN_CURRENCY = "unknown"
#: A city name is an Inside Airbnb slug: lower-case letters, digits and hyphens.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Grid of the densest-cell centre for a city outside the catalogue (~1 km of latitude).
CELL_DEGREES = 0.01


#: ISO 4217 currencies whose minor unit is not the hundredth: none (JPY, KRW, ...) or the
#: thousandth (BHD, KWD, ...). Prices are answered and shown to their currency's own unit.
MINOR_DIGITS = {code: 0 for code in ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                     "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
                                     "XPF")} | {code: 3 for code in ("BHD", "IQD", "JOD", "KWD",
                                                                      "LYD", "OMR", "TND")}


def minor_digits(currency: str) -> int:
    """Decimals of `currency`'s minor unit (2 unless MINOR_DIGITS says otherwise)."""
    return MINOR_DIGITS.get(str(currency).upper(), 2)


def rounded(value: float, digits: int) -> float | int:
    """An amount to `digits` decimals (an int when the currency has no minor unit)."""
    value = round(float(value), digits)
    return int(value) if digits == 0 else value


#: How close to a half a scaled amount may lie before numpy's rounding is not trusted: its
#: `x * 10**digits` is off by at most half an ulp, ~1.1e-16 of it, so this keeps a margin of
#: a thousand times that (plus an absolute one for amounts near zero).
_NEAR_HALF = 1e-13


def rounded_all(values: np.ndarray, digits: int) -> np.ndarray:
    """`round(v, digits)` for every value of an array, as floats (batch pricing: 1.5 µs a
    row saved over a Python call per value). numpy rounds `v * 10**digits` to the nearest
    integer and divides back, which is Python's correctly rounded result unless the scaled
    value lies within a hair of a half, where the multiplication's own error can cross it,
    or beyond 2**52 (or not finite), where the scaling itself is not exact: those few (and only
    those) are rounded by Python."""
    values = np.asarray(values, dtype=float)
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        out = np.round(scaled) / scale
        near = (np.abs(np.abs(scaled - np.floor(scaled)) - 0.5)
                <= _NEAR_HALF * np.abs(scaled) + 1e-9) | ~(np.abs(scaled) < 2.0 ** 52)
    for i in np.flatnonzero(near):
        out[i] = round(float(values[i]), digits)
    return out


def money(value: float, currency: str) -> str:
    """A price as a reader sees it: thousands separated, to the currency's minor unit
    (`11,740 JPY`, `1,234.50 EUR`)."""
    return f"{value:,.{minor_digits(currency)}f} {currency}"


class CityError(ValueError):
    """A city name the catalogue does not know (the message names the closest ones)."""


@dataclass(frozen=True)
class Centre:
    """The point distance_to_centre_km is measured from, and where it comes from."""

    name: str
    lat: float
    lon: float
    #: "catalogue" (a landmark) or "densest cell of listings" (derived from the data).
    source: str = "catalogue"


@dataclass(frozen=True)
class City:
    name: str
    currency: str
    centre: Centre
    #: Inside Airbnb's folder (country/region/city); None for a city outside the catalogue.
    path: str | None = None
    #: [min, max) in the city's currency; None: derived from the data (cleaning.price_window).
    price_window: tuple[float, float] | None = None
    #: Snapshot used when none is given and no data folder has the city, by file name.
    default_snapshots: dict[str, str] = field(default_factory=dict)

    @property
    def in_catalogue(self) -> bool:
        return self.path is not None

    def record(self) -> dict:
        """What run.json and model metadata keep of the city."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> City:
        window = record.get("price_window")
        return cls(record["name"], record["currency"], Centre(**record["centre"]),
                   record.get("path"), tuple(window) if window else None,
                   dict(record.get("default_snapshots") or {}))


def _load(path: Path = CATALOGUE_FILE) -> dict[str, City]:
    cities = json.loads(path.read_text(encoding="utf-8"))["cities"]
    return {name: City(name, entry["currency"], Centre(**entry["centre"]), entry["path"],
                       tuple(entry["price_window"]) if entry.get("price_window") else None,
                       entry.get("default_snapshots", {}))
            for name, entry in cities.items()}


#: Every catalogued city by its Inside Airbnb slug.
CATALOGUE: dict[str, City] = _load()


def check_slug(name: str) -> str:
    """`name` when it is a usable city slug; CityError saying what one looks like."""
    if not isinstance(name, str) or not SLUG.match(name):
        raise CityError(f"city {name!r} is not a city slug (lower-case letters, digits and "
                        "hyphens, as in Inside Airbnb's paths: 'new-york-city')")
    return name


def lookup(name: str) -> City:
    """The catalogued city; CityError naming the closest catalogued names otherwise."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    close = difflib.get_close_matches(str(name).lower(), CATALOGUE, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise CityError(f"unknown city {name!r}{hint} The catalogue has {len(CATALOGUE)} cities "
                    f"(airbnb_price/core/cities.json); a city outside it needs its listings file "
                    f"(--listings PATH --city NAME [--currency CODE]).")


def densest_cell(latitudes: Any, longitudes: Any, cell: float = CELL_DEGREES) -> tuple[float, float]:
    """The mean position of the listings in the most crowded `cell`-degree grid cell: where a
    city's listings cluster, which for a city is its centre (tourist cores are where hosts
    list), robust to suburbs and outliers in a way the mean position is not."""
    lat = np.asarray(latitudes, dtype=float)
    lon = np.asarray(longitudes, dtype=float)
    keep = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[keep], lon[keep]
    if not len(lat):
        raise CityError("no listing has coordinates: cannot place the city's centre")
    cells = np.stack([np.floor(lat / cell), np.floor(lon / cell)], axis=1)
    _, inverse, counts = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    densest = np.ravel(inverse) == int(np.argmax(counts))
    return round(float(lat[densest].mean()), 6), round(float(lon[densest].mean()), 6)


def derived(name: str, latitudes: Any, longitudes: Any,
            currency: str | None = None) -> City:
    """A city outside the catalogue: its centre from the listings (`densest_cell`), its
    currency as given (else unknown), its price window from the data."""
    lat, lon = densest_cell(latitudes, longitudes)
    return City(check_slug(name), currency.upper() if currency else UNKNOWN_CURRENCY,
                Centre("densest cell of listings", lat, lon, source="densest cell of listings"))


def resolve(name: str, latitudes: Any = None, longitudes: Any = None,
            currency: str | None = None) -> City:
    """The catalogued city, or (with its listings' coordinates) a derived one; a currency
    given for a catalogued city must agree with the catalogue."""
    if name in CATALOGUE:
        city = CATALOGUE[name]
        if currency and currency.upper() != city.currency:
            raise CityError(f"{name} prices are in {city.currency} (catalogue), not "
                            f"{currency.upper()}")
        return city
    if latitudes is None:
        lookup(name)  # raises with the closest names
    return derived(name, latitudes, longitudes, currency)


def of_metadata(metadata: dict, default: str) -> City:
    """The city a model was trained for: its metadata's record, else (models made before
    cities were recorded) the catalogue entry of its city name."""
    record = metadata.get("city_record")
    return City.from_record(record) if record else lookup(metadata.get("city", default))
