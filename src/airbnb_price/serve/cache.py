"""The endpoint's models: one cache entry per model spec, loaded from the registry on first
use and kept for the container's life; a failed load is not cached (the next request retries).

The store comes from $AIRBNB_MODEL_STORE and version pins from $AIRBNB_MODEL_VERSIONS (both
set by serverless.yml); a model not pinned follows the registry's latest.json at load time.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass, field

from airbnb_price.core import config, geo, registry, spec
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


@dataclass
class Models:
    """Every spec's cache entry for one store, created on first use."""

    store_url: str | None = None
    pins: dict[str, str] = field(default_factory=dict)
    caches: dict[str, ModelCache] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Models:
        return cls(os.environ.get(config.MODEL_STORE_ENV),
                   spec.pinned_versions(os.environ.get(config.MODEL_VERSIONS_ENV)))

    def __getitem__(self, model: ModelSpec) -> ModelCache:
        if model.name not in self.caches:
            self.caches[model.name] = ModelCache(model, self.store_url, self.pins.get(model.name))
        return self.caches[model.name]

    def health(self) -> dict:
        """/health: the default city's summary model at the top level (status "ok" when any
        model is loaded), and every feature set's report under "models"."""
        reports = {}
        for model in spec.SPECS.values():
            if model.city != config.DEFAULT_CITY:
                continue
            cache = self[model]
            try:
                cache.get()
            except ModelUnavailable:
                pass  # reported below
            reports[model.feature_set.name] = cache.health()
        default = spec.get().feature_set.name
        ok = any(r["status"] == "ok" for r in reports.values())
        return reports[default] | {"status": "ok" if ok else "unavailable", "models": reports}
