"""What the Lambda function reads from its environment (serverless.yml sets it), once per cold
start: the model store, pinned model versions, how many models to keep loaded and the city of
a request that names none. Nothing else in serving reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from airbnb_price.core import config, spec


@dataclass(frozen=True)
class ServingSettings:
    #: s3://bucket/prefix or a folder ($AIRBNB_MODEL_STORE; None: the registry's default).
    store_url: str | None = None
    #: Registry name -> pinned version ($AIRBNB_MODEL_VERSIONS); others follow latest.json.
    pins: Mapping[str, str] = field(default_factory=dict)
    #: Models kept loaded, least recently used out first ($AIRBNB_MAX_MODELS).
    max_models: int = config.MAX_CACHED_MODELS
    #: The city of a request that names none ($AIRBNB_DEFAULT_CITY).
    default_city: str = config.DEFAULT_CITY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServingSettings:
        env = os.environ if environ is None else environ
        return cls(env.get(config.MODEL_STORE_ENV) or None,
                   spec.pinned_versions(env.get(config.MODEL_VERSIONS_ENV)),
                   int(env.get(config.MAX_MODELS_ENV) or config.MAX_CACHED_MODELS),
                   env.get(config.DEFAULT_CITY_ENV) or config.DEFAULT_CITY)
