"""The model spec: one record per model variant (city x feature set), the single source of
every per-model name.

Everything that differs between models derives from a `ModelSpec`: its registry name, the
Inside Airbnb file it trains on, the request contract the endpoint validates against (built
from the feature set's inputs by `airbnb_price.serve.contract`), its example request
(`lambda/events/bodies/<name>.json`), the version pin the function reads (by name, from
$AIRBNB_MODEL_VERSIONS) and the CLI's choices. Adding a variant is one entry in
`features.FEATURE_SETS` plus its example request; a city is one entry in core/cities.json (or
its own listings file).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from airbnb_price.core import cities, config, features
from airbnb_price.core.features import FeatureSet

#: The registry name's stem; the summary model of a city is `<city>-price`.
NAME_STEM = "price"


class SpecError(ValueError):
    """No model spec matches the city / feature set asked for; the message lists the choices."""


@dataclass(frozen=True)
class ModelSpec:
    """One model variant: a city's prices from one feature set."""

    city: str
    feature_set: FeatureSet

    @property
    def name(self) -> str:
        """Registry name: `<city>-price` for the summary set, `<city>-price-<set>` otherwise."""
        suffix = "" if self.feature_set.extends is None else f"-{self.feature_set.name}"
        return f"{self.city}-{NAME_STEM}{suffix}"

    @property
    def source(self) -> config.ListingsFile:
        """The Inside Airbnb listings file it trains on."""
        return self.feature_set.source

    @property
    def example_path(self) -> Any:
        return config.EVENTS_DIR / "bodies" / f"{self.name}.json"

    def example(self) -> dict:
        """The example request this model answers (README, notebook 05, tests, deploys)."""
        return json.loads(self.example_path.read_text(encoding="utf-8"))


#: Every model variant the project can train and serve.
SPECS: dict[str, ModelSpec] = {
    spec.name: spec for spec in (ModelSpec(city, feature_set) for city in cities.CATALOGUE
                                 for feature_set in features.FEATURE_SETS.values())
}
#: Feature set names, for the CLI's choices and the notebooks' parameter docs.
FEATURE_SET_NAMES = tuple(features.FEATURE_SETS)


def get(city: str = config.DEFAULT_CITY, feature_set: str = "summary") -> ModelSpec:
    """The spec of a city (any city slug: the catalogue's, or one trained from its own file)
    and feature set; SpecError names the known feature sets."""
    if feature_set not in features.FEATURE_SETS:
        raise SpecError(f"unknown feature_set {feature_set!r}; one of: "
                        f"{', '.join(FEATURE_SET_NAMES)}")
    try:
        cities.check_slug(city)
    except cities.CityError as exc:
        raise SpecError(str(exc)) from None
    return ModelSpec(city, features.FEATURE_SETS[feature_set])


def parse_name(name: str) -> ModelSpec | None:
    """The spec a registry name is for (`<city>-price[-<set>]`), or None for another name."""
    for feature_set in features.FEATURE_SETS.values():
        suffix = "" if feature_set.extends is None else f"-{feature_set.name}"
        city = name.removesuffix(f"-{NAME_STEM}{suffix}")
        if city != name and cities.SLUG.match(city):
            return ModelSpec(city, feature_set)
    return None


def of_metadata(metadata: Mapping[str, Any]) -> ModelSpec:
    """The spec a trained model was made for, from its metadata; models published before
    specs existed are Amsterdam summary models unless their metadata says otherwise."""
    return get(metadata.get("city", config.DEFAULT_CITY), metadata.get("feature_set", "summary"))


def feature_set_of(fields: Collection[str]) -> FeatureSet:
    """The feature set a request's fields are for: the most specific set (the longest chain of
    `extends`) whose own inputs the fields carry any of, else the base set."""
    keys = frozenset(fields)
    for feature_set, own in _by_depth():
        if feature_set.extends is not None and own & keys:
            return feature_set
    return _by_depth()[-1][0]


@functools.cache
def _by_depth() -> list[tuple[FeatureSet, frozenset[str]]]:
    """The feature sets, most specific first (the longest chain of `extends`; the base set
    last), each with its own inputs: decided once, read on every request."""
    def depth(feature_set: FeatureSet) -> int:
        return 0 if feature_set.extends is None else 1 + depth(
            features.FEATURE_SETS[feature_set.extends])

    ordered = sorted(features.FEATURE_SETS.values(), key=depth, reverse=True)
    return [(s, s.own_inputs) for s in ordered]


def pinned_versions(value: str | None) -> dict[str, str]:
    """$AIRBNB_MODEL_VERSIONS ("name=version,name=version") as {name: version}; blank entries
    follow latest.json. A malformed entry is named."""
    pins = {}
    for entry in filter(None, (part.strip() for part in (value or "").split(","))):
        name, sep, version = entry.partition("=")
        if not sep or not name.strip():
            raise SpecError(f"{config.MODEL_VERSIONS_ENV}: {entry!r} is not name=version")
        if version.strip():
            pins[name.strip()] = version.strip()
    return pins
