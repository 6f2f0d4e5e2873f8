"""A run's parameters and their defaults, resolved in one place.

Notebook parameter cells hold `None` for "the project's default"; the runner and the
notebooks resolve them here (city, feature set) and in `airbnb_price.data.tables.load_run`
(snapshot, currency, price window: they depend on the data), never as a literal in a notebook.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

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


#: Commands whose arguments a run parameter is (`airbnb-price run`, `train`, `fleet`).
SINGLE = ("run", "train")
EVERY = ("run", "train", "fleet")


def _param(default: Any, help: str, commands: tuple[str, ...] = SINGLE,
           **argument: Any) -> Any:
    """A run parameter: its default and its command-line argument (help, type, choices; a
    False default makes a switch), declared once for the CLI (`add_arguments`) and the
    notebooks (`RunParams.of`)."""
    return field(default=default, metadata={"help": help, "commands": commands, **argument})


@dataclass(frozen=True)
class RunParams:
    """Parameters shared by the notebooks; each notebook receives those it declares in its
    `parameters` cell (tests/local/test_params.py holds the cells to these names)."""

    listings: str | None = _param(
        None, f"listings CSV path or URL (default: ${config.LISTINGS_ENV}, then the cache, "
        "then a download from Inside Airbnb)")
    city: str | None = _param(
        None, f"Inside Airbnb city slug, e.g. victoria (default {config.DEFAULT_CITY}); one of "
        "the cities in core/cities.json, or any city whose listings file you give")
    snapshot: str | None = _param(
        None, "Inside Airbnb date (default: the data folder's newest, else the catalogue's "
        "default, e.g. amsterdam 2021-07-04)")
    feature_set: str | None = _param(
        None, "summary: any listings file; detailed: the detailed file's host facts, "
        f"amenities and description (default source: ${config.DETAILED_LISTINGS_ENV}); "
        "existing: detailed plus the review history, for re-pricing a live listing "
        "(default: summary)", EVERY, choices=spec.FEATURE_SET_NAMES)
    data_folder: str | None = _param(
        None, "a folder laid out <city>/<snapshot>/<file> like Inside Airbnb's site "
        f"(default: ${config.DATA_FOLDER_ENV}); a fleet sends its files to the workers", EVERY)
    currency: str | None = _param(
        None, "ISO 4217 code of a city outside the catalogue (default: the catalogue's; else "
        "recorded as unknown)")
    smoke: bool = _param(False, "small, fast parameter set", EVERY)
    min_price: float | None = _param(
        None, "lowest price kept, in the city's currency (default: the catalogue's window, "
        "else the 1st percentile of the file's prices)", type=float)
    max_price: float | None = _param(
        None, "prices from here up are dropped (default: the catalogue's window, else the "
        "99th percentile)", type=float)
    compare_listings: str | None = _param(
        None, "a second snapshot's listings (path or URL): adds the drift notebook (default "
        f"source: ${config.COMPARE_LISTINGS_ENV})", ("run",))
    compare_snapshot: str | None = _param(
        None, "the second snapshot's Inside Airbnb date (default "
        f"{config.COMPARE_SNAPSHOT}); adds the drift notebook", ("run",))
    time_budget: str | None = _param(
        None, f"the wall-clock limit of a run (a fleet: of each city's), e.g. 15m, 900s, 1.5h "
        f"(default: {config.TIME_BUDGET} for a full run, none for --smoke; none: no limit); "
        "training sizes its steps to it and says what it cut", EVERY)

    @classmethod
    def of(cls, namespace: Mapping[str, Any]) -> RunParams:
        """The run parameters among `namespace`'s names (a notebook's `globals()` after its
        parameters cell, or parsed arguments' `vars`); the others keep their defaults."""
        return cls(**{f.name: namespace[f.name] for f in fields(cls) if f.name in namespace})

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


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The command-line arguments of `command` (run, train, fleet): one per run parameter
    it takes, from the parameter's declaration above."""
    for declared in fields(RunParams):
        meta = dict(declared.metadata)
        if command not in meta.pop("commands"):
            continue
        flag = "--" + declared.name.replace("_", "-")
        if declared.default is False:
            parser.add_argument(flag, action="store_true", **meta)
        else:
            parser.add_argument(flag, default=None, **meta)
