"""A run's parameters and their defaults, resolved in one place.

Notebook parameter cells hold `None` for "the project's default"; the runner and the
notebooks resolve them here (city, feature set) and in `airbnb_price.data.tables.load_run`
(snapshot, currency, price window: they depend on the data), never as a literal in a notebook.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from airbnb_price.core import config, spec
from airbnb_price.core.spec import ModelSpec

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
#: A time budget that means "no limit" (`--time-budget none`).
NO_BUDGET = "none"


class BudgetError(ValueError):
    """A time budget that is no duration (`15m`, `900s`, `1.5h`, `900`, `none`)."""


def parse_duration(text: str | float | None) -> float | None:
    """Seconds in `15m`, `90s`, `1.5h` or a plain number of seconds; None and "none": no
    limit."""
    if text is None or str(text).strip().lower() == NO_BUDGET:
        return None
    match = _DURATION.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise BudgetError(f"time_budget {text!r} is no positive duration (e.g. 15m, 900s, "
                          f"1.5h, or {NO_BUDGET!r} for no limit)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


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
    #: The whole run's wall-clock limit ("15m"); None: config.TIME_BUDGET for a full run, no
    #: limit for a smoke run; "none": no limit.
    time_budget: str | None = None

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
        parse_duration(self.time_budget)  # BudgetError now, not when training starts
        return replace(
            self, city=model.city, feature_set=model.feature_set.name,
            compare_snapshot=(self.compare_snapshot or config.COMPARE_SNAPSHOT) if self.compares
            else None,
            time_budget=self.time_budget or (None if self.smoke else config.TIME_BUDGET))

    @property
    def budget_seconds(self) -> float | None:
        """The run's time budget in seconds (None: no limit); BudgetError when malformed."""
        return parse_duration(self.time_budget)

    def as_dict(self) -> dict:
        return asdict(self)
