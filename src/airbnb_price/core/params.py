"""A run's parameters and their defaults, resolved in one place.

Notebook parameter cells hold `None` for "the project's default"; the runner and the
notebooks resolve them here (city, feature set) and in `airbnb_price.data.tables.load_run`
(snapshot, currency, price window: they depend on the data), never as a literal in a notebook.
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
    snapshot: str | None = None  # None: the data folder's newest, else the catalogue's default
    feature_set: str | None = None
    data_folder: str | None = None  # <city>/<snapshot>/<file>, like Inside Airbnb's site
    currency: str | None = None  # None: the catalogue's (a city outside it: unknown)
    smoke: bool = False
    min_price: float | None = None  # None: the city's price window (cleaning.price_window)
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
        """A copy with the defaults that need no data filled in (SpecError for a city name
        that is no slug or an unknown feature set)."""
        model = self.spec
        return replace(
            self, city=model.city, feature_set=model.feature_set.name,
            compare_snapshot=(self.compare_snapshot or config.COMPARE_SNAPSHOT) if self.compares
            else None)

    def as_dict(self) -> dict:
        return asdict(self)
