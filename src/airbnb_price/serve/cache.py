"""The endpoint's models: one cache entry per model spec, loaded from the registry on first
use and kept for the container's life; a failed load is not cached (the next request retries).

The store comes from $AIRBNB_MODEL_STORE and version pins from $AIRBNB_MODEL_VERSIONS (both
set by serverless.yml); a model not pinned follows the registry's latest.json at load time.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from airbnb_price.core import config, features, geo, registry, spec
from airbnb_price.core.spec import ModelSpec


class ModelUnavailable(RuntimeError):
    """No model can be served right now (503); the next request tries to load it again."""


@dataclass
class ModelCache:
    """One spec's model, loaded once per container on first use."""

    spec: ModelSpec
    store_url: str | None = None
    version: str | None = None
    loaded: registry.LoadedModel | None = None
    neighbourhoods: geo.NeighbourhoodMap | None = None
    loaded_at: str | None = None
    last_error: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    def get(self) -> registry.LoadedModel:
        """The loaded model, loading it now if needed; ModelUnavailable says why not."""
        if self.loaded is not None:
            return self.loaded
        with self._lock:
            if self.loaded is None:
                self._load()
        return self.loaded

    def _load(self) -> None:
        if not self.store_url:
            self.last_error = f"${config.MODEL_STORE_ENV} is not set: no model store configured"
            raise ModelUnavailable(self.last_error)
        try:
            loaded = registry.load(registry.open_store(self.store_url), self.name, self.version)
            neighbourhoods = self._check(loaded)
        except (registry.RegistryError, spec.SpecError) as exc:
            self.last_error = str(exc)
            raise ModelUnavailable(self.last_error) from exc
        self.loaded, self.neighbourhoods, self.last_error = loaded, neighbourhoods, None
        self.loaded_at = dt.datetime.now(dt.UTC).isoformat()

    def _check(self, loaded: registry.LoadedModel) -> geo.NeighbourhoodMap | None:
        """The model's map; RegistryError unless the object is a serving artifact made for
        this very spec (a request is never validated against one contract and priced by a
        model of another)."""
        where = f"{self.store_url}/{self.name}/{loaded.version}"
        if not hasattr(loaded.model, "predict") or "inputs" not in loaded.metadata:
            raise registry.RegistryError(f"{where} is not a serving artifact")
        made_for = spec.of_metadata(loaded.metadata)
        if made_for != self.spec:
            raise registry.RegistryError(f"{where} is a model for {made_for.name!r} "
                                         f"(its metadata), not {self.name!r}")
        try:
            return geo.load_map(loaded.geometry, f"{where}/{geo.FILE}") if loaded.geometry \
                else None
        except geo.GeometryError as exc:
            raise registry.RegistryError(str(exc)) from exc

    def health(self) -> dict:
        """What /health reports: the loaded version, when and from where, or the last error."""
        model = None
        if self.loaded is not None:
            model = {"name": self.name, "version": self.loaded.version,
                     "loaded_at": self.loaded_at, "store": self.store_url,
                     "pinned": self.version is not None,
                     "neighbourhood_map": self.neighbourhoods is not None}
        return {"status": "ok" if model else "unavailable", "model": model,
                "error": self.last_error}


class UnknownCity(LookupError):
    """A request for a city no model is published for (422, naming the published cities)."""

    def __init__(self, city: str, available: list[str]):
        super().__init__(f"no model is published for city {city!r}; available: "
                         f"{', '.join(available) or 'none'}")
        self.city, self.available = city, available


@dataclass
class Models:
    """The models of one store, each loaded on its first request and kept in a cache bounded
    by count (least recently used out first): a deployment serves every published city
    without holding all of them. `max_models` comes from $AIRBNB_MAX_MODELS."""

    store_url: str | None = None
    pins: dict[str, str] = field(default_factory=dict)
    max_models: int = config.MAX_CACHED_MODELS
    #: The city of a request that names none ($AIRBNB_DEFAULT_CITY).
    default_city: str = config.DEFAULT_CITY
    caches: OrderedDict[str, ModelCache] = field(default_factory=OrderedDict)

    @classmethod
    def from_env(cls) -> Models:
        return cls(os.environ.get(config.MODEL_STORE_ENV),
                   spec.pinned_versions(os.environ.get(config.MODEL_VERSIONS_ENV)),
                   int(os.environ.get(config.MAX_MODELS_ENV) or config.MAX_CACHED_MODELS),
                   os.environ.get(config.DEFAULT_CITY_ENV) or config.DEFAULT_CITY)

    def __getitem__(self, model: ModelSpec) -> ModelCache:
        if model.name in self.caches:
            self.caches.move_to_end(model.name)
        else:
            self.caches[model.name] = ModelCache(model, self.store_url, self.pins.get(model.name))
            while len(self.caches) > self.max_models:
                self.caches.popitem(last=False)
        return self.caches[model.name]

    def get(self, model: ModelSpec) -> ModelCache:
        """The loaded cache entry of `model`; UnknownCity when the store has models of other
        cities but none of this one, ModelUnavailable (503) when this one cannot be loaded
        (an empty store included: the service is not ready, the request may be fine)."""
        entry = self[model]
        try:
            entry.get()
        except ModelUnavailable:
            available = self.cities()
            if available and model.city not in available:
                raise UnknownCity(model.city, available) from None
            raise
        return entry

    def cities(self) -> list[str] | None:
        """The cities with a published model (None when the store cannot be listed)."""
        if not self.store_url:
            return None
        try:
            published = registry.published(registry.open_store(self.store_url))
        except registry.RegistryError:
            return None
        return sorted({model.city for model in published.values()})

    def health(self) -> dict:
        """/health: the default city's summary model at the top level (status "ok" when any
        model is loaded), the default city's models by feature set under "models", and the
        cities loaded in this container and published in the store."""
        reports = {}
        for feature_set in features.FEATURE_SETS:
            entry = self[spec.get(self.default_city, feature_set)]
            try:
                entry.get()
            except ModelUnavailable:
                pass  # reported below
            reports[feature_set] = entry.health()
        ok = any(entry.loaded is not None for entry in self.caches.values())
        loaded = sorted({e.spec.city for e in self.caches.values() if e.loaded is not None})
        return reports[features.SUMMARY.name] | {
            "status": "ok" if ok else "unavailable", "models": reports,
            "cities": {"loaded": loaded, "available": self.cities(),
                       "cache": {"models": len(self.caches), "max_models": self.max_models}}}
