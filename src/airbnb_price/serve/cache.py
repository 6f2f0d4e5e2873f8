"""The served models of one store (the endpoint's and batch pricing's single cache): one entry
per model spec, built into an `engine.ServedModel` from the registry on first use and kept for
the process's life; a failed load is not cached (the next request retries).

The store comes from $AIRBNB_MODEL_STORE and version pins from $AIRBNB_MODEL_VERSIONS (both
set by serverless.yml); a model not pinned follows the registry's latest.json at load time.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from airbnb_price.core import config, features, geo, registry, spec
from airbnb_price.core.spec import ModelSpec
from airbnb_price.serve.contract import contract
from airbnb_price.serve.engine import ServedModel
from airbnb_price.serve.settings import ServingSettings


class ModelUnavailable(RuntimeError):
    """No model can be served right now (503); the next request tries to load it again."""


@dataclass
class ModelLoader:
    """Loads one spec's served model once per process, on first use, and says how that went
    (`health`); `Models` is the cache that holds the loaders."""

    spec: ModelSpec
    store_url: str | None = None
    version: str | None = None
    served: ServedModel | None = None
    loaded_at: str | None = None
    last_error: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    def get(self) -> ServedModel:
        """The served model, loading it now if needed; ModelUnavailable says why not."""
        if self.served is not None:
            return self.served
        with self._lock:
            if self.served is None:
                self._load()
        return self.served

    def _load(self) -> None:
        if not self.store_url:
            self.last_error = f"${config.MODEL_STORE_ENV} is not set: no model store configured"
            raise ModelUnavailable(self.last_error)
        try:
            loaded = registry.load(registry.open_store(self.store_url), self.name, self.version)
            served = ServedModel.build(loaded, self.spec, self._check(loaded))
        except (registry.RegistryError, spec.SpecError) as exc:
            self.last_error = str(exc)
            raise ModelUnavailable(self.last_error) from exc
        self.served, self.last_error = served, None
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
        """What /health reports of this model: served (its version, when and from where) or
        unavailable (why)."""
        if self.served is None:
            return {"name": self.name, "status": "unavailable", "error": self.last_error}
        return {"name": self.name, "status": "served", "version": self.served.version,
                "loaded_at": self.loaded_at, "store": self.store_url,
                "pinned": self.version is not None,
                "neighbourhood_map": self.served.neighbourhoods is not None}


class UnknownCity(LookupError):
    """A request for a city no model is published for (422, naming the published cities)."""

    def __init__(self, city: str, available: list[str]):
        super().__init__(f"no model is published for city {city!r}; available: "
                         f"{', '.join(available) or 'none'}")
        self.city, self.available = city, available


class NoSuchModel(LookupError):
    """A request for a model its city does not have (say, summary fields where only the
    detailed model is published): 422 naming the city's models and the fields each needs."""

    def __init__(self, model: ModelSpec, published: list[ModelSpec]):
        kinds = ", ".join(f"{m.feature_set.name} ({m.name})" for m in published)
        super().__init__(f"{model.city!r} has no {model.feature_set.name} model; it has: "
                         f"{kinds}. Send the fields one of them needs.")
        self.model = model
        self.published = {m.feature_set.name: {
            "name": m.name,
            "required": [c for c in m.feature_set.input_columns
                         if contract(m.feature_set).model_fields[c].is_required()]}
            for m in published}


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
    caches: OrderedDict[str, ModelLoader] = field(default_factory=OrderedDict)

    @classmethod
    def from_env(cls) -> Models:
        """The models the function's settings name (serve/settings.py)."""
        settings = ServingSettings.from_env()
        return cls(settings.store_url, dict(settings.pins), settings.max_models,
                   settings.default_city)

    def __getitem__(self, model: ModelSpec) -> ModelLoader:
        if model.name in self.caches:
            self.caches.move_to_end(model.name)
        else:
            self.caches[model.name] = ModelLoader(model, self.store_url, self.pins.get(model.name))
            while len(self.caches) > self.max_models:
                self.caches.popitem(last=False)
        return self.caches[model.name]

    def get(self, model: ModelSpec) -> ServedModel:
        """The served model of `model`; UnknownCity when the store has models of other cities
        but none of this one, NoSuchModel when the city has models but not this feature set's,
        ModelUnavailable (503) when it cannot be loaded (an empty store included: the service
        is not ready, the request may be fine)."""
        entry = self[model]
        try:
            return entry.get()
        except ModelUnavailable:
            published = self.published()
            if published:
                of_city = [m for m in published.values() if m.city == model.city]
                if not of_city:
                    raise UnknownCity(model.city, sorted({m.city for m in published.values()})
                                      ) from None
                if model.name not in published:
                    raise NoSuchModel(model, of_city) from None
            raise

    def published(self) -> dict[str, ModelSpec] | None:
        """The published models by name (None when the store cannot be listed)."""
        if not self.store_url:
            return None
        try:
            return registry.published(registry.open_store(self.store_url))
        except registry.RegistryError:
            return None

    def cities(self) -> list[str] | None:
        """The cities with a published model (None when the store cannot be listed)."""
        published = self.published()
        return None if published is None else sorted({m.city for m in published.values()})

    def health(self) -> dict:
        """/health: "ok" when a model is served (else "unavailable", with the reasons), the
        default city's models by feature set (each "served" with its version or "unavailable"
        with its error), and the cities loaded here and published in the store."""
        reports = {}
        for feature_set in features.FEATURE_SETS:
            entry = self[spec.get(self.default_city, feature_set)]
            try:
                entry.get()
            except ModelUnavailable:
                pass  # reported below
            reports[feature_set] = entry.health()
        served = sorted(e.name for e in self.caches.values() if e.served is not None)
        loaded = sorted({e.spec.city for e in self.caches.values() if e.served is not None})
        return {"status": "ok" if served else "unavailable", "served": served,
                "default_city": self.default_city, "models": reports,
                "cities": {"loaded": loaded, "available": self.cities(),
                           "cache": {"models": len(self.caches), "max_models": self.max_models}}}
