"""A run's parameters and their defaults, resolved in one place.

Notebook parameter cells hold `None` for "the project's default"; the runner and the
notebooks both call `RunParams.resolved()`, so a default (city, snapshot, price window) lives
in `config` and the model spec only, never as a literal in a notebook.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from airbnb_price.core import config, spec
from airbnb_price.core.spec import ModelSpec


@dataclass(frozen=True)
class RunParams:
    """Parameters shared by the notebooks; each notebook receives those it declares."""

    listings: str | None = None
    city: str | None = None
    snapshot: str | None = None  # None: the default snapshot of the spec's listings file
    feature_set: str | None = None
    smoke: bool = False
    min_price: float | None = None
    max_price: float | None = None
    compare_listings: str | None = None
    compare_snapshot: str | None = None

    @property
    def compares(self) -> bool:
        """A second snapshot was asked for, so the run includes the drift notebook."""
        return bool(self.compare_listings or self.compare_snapshot)

    @property
    def spec(self) -> ModelSpec:
        return spec.get(self.city or config.DEFAULT_CITY, self.feature_set or "summary")

    def resolved(self) -> RunParams:
        """A copy with every default filled in (SpecError for an unknown city or set)."""
        model = self.spec
        return replace(
            self, city=model.city, feature_set=model.feature_set.name,
            snapshot=self.snapshot or model.source.default_snapshot,
            min_price=config.MIN_PRICE if self.min_price is None else self.min_price,
            max_price=config.MAX_PRICE if self.max_price is None else self.max_price,
            compare_snapshot=(self.compare_snapshot or config.COMPARE_SNAPSHOT) if self.compares
            else None)

    def as_dict(self) -> dict:
        return asdict(self)
