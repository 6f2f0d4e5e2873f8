"""The contract's rules for whole columns: each input column's rule (type, whether it may be
missing, bounds, lengths, the levels and coordinate box the model saw) applied to an array at
once with numpy, for the engine's `check`. Verdicts equal the pydantic contract's, row for
row (tests/serve/test_engine.py, on generated rows and every row of every shared file).
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any

import numpy as np

from airbnb_price.core.columns import constraints
from airbnb_price.serve.contract import BOXED


@dataclass(frozen=True)
class Rule:
    """One input column's rule as the contract declares it: its type, whether it may be
    missing (and what it then is) and its bounds."""

    column: str
    kind: type  # int, float, str, bool or list
    required: bool
    default: Any
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None

    @classmethod
    def of(cls, column: str, field: Any) -> Rule:
        annotation = field.annotation
        union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
        kinds = [k for k in (typing.get_args(annotation) if union else (annotation,))
                 if k is not type(None)]
        kind = typing.get_origin(kinds[0]) or kinds[0]  # list[str] -> list
        required = field.is_required()
        return cls(column, kind, required,
                   None if required else field.get_default(call_default_factory=True),
                   **constraints(field))

    def prepared(self, values: Any) -> np.ndarray:
        """The column as the contract reads it, made once for its check and its filling:
        numbers and flags as float (NaN: missing), text stripped (None: missing), lists as
        they are, in an array. Always a new array for text (filling writes into it)."""
        if self.kind in (int, float):
            return np.asarray(values, dtype=float)
        if self.kind is bool:
            return _floats(values)
        if self.kind is str:
            return strip(values)
        return values if isinstance(values, np.ndarray) else _cells(values)

    def refused(self, values: np.ndarray, schema: dict) -> np.ndarray:
        """Rows whose value (`prepared`) the contract refuses (missing counts only when
        required)."""
        if self.kind in (int, float):
            return self._numbers(values, schema)
        if self.kind is str:
            return self._texts(values, schema)
        if self.kind is list:
            if self.max_length is None:
                return np.zeros(len(values), dtype=bool)
            return np.array([0 if v is None else len(v) for v in values]) > self.max_length
        return np.isnan(values) & self.required

    def _numbers(self, x: np.ndarray, schema: dict) -> np.ndarray:
        missing = np.isnan(x)
        bad = missing & self.required
        with np.errstate(invalid="ignore"):
            bad |= ~missing & ~np.isfinite(x)
            if self.kind is int:
                bad |= np.isfinite(x) & (x != np.floor(x))
            if self.ge is not None:
                bad |= x < self.ge
            if self.le is not None:
                bad |= x > self.le
            box = schema.get("ranges", {}).get(self.column) if self.column in BOXED else None
            if box:
                bad |= ~missing & ((x < box[0]) | (x > box[1]))
        return bad

    def _texts(self, text: np.ndarray, schema: dict) -> np.ndarray:
        try:  # every value a text: one C loop
            sizes = np.fromiter(map(len, text), dtype=np.int64, count=len(text))
        except TypeError:  # a missing value (None) among them: -1
            sizes = np.fromiter((-1 if v is None else len(v) for v in text), dtype=np.int64,
                                count=len(text))
        missing = sizes < 0
        bad = missing & self.required
        if self.min_length is not None:
            bad |= ~missing & (sizes < self.min_length)
        if self.max_length is not None:
            bad |= ~missing & (sizes > self.max_length)
        levels = schema.get("levels", {}).get(self.column)
        if levels:  # a set probe per value: a column's repeated levels are one object each
            seen = _level_set(tuple(levels))
            bad |= ~missing & ~np.fromiter(map(seen.__contains__, text), dtype=bool,
                                           count=len(text))
        return bad

    def typed(self, values: list) -> np.ndarray:
        """The column of listings the contract has validated, as `filled` makes it: the
        contract has already applied the defaults and stripped the text, so only the type is
        left (numbers as float, NaN: unknown; a list stays one cell)."""
        return _floats(values) if self.kind in (int, float, bool) else _cells(values)

    def filled(self, values: np.ndarray) -> np.ndarray:
        """The `prepared` column as the model reads it: defaults where missing (flags are
        numbers to the model, as in training)."""
        if self.kind in (int, float, bool):
            return values if self.default is None else \
                np.where(np.isnan(values), float(self.default), values)
        if self.kind is str:
            if self.default is not None:  # in place: `prepared` made this array
                values[np.equal(values, None)] = self.default
            return values
        out = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):
            out[i] = self.default if value is None else value  # a list stays one cell
        return out


@functools.lru_cache(maxsize=64)
def _level_set(levels: tuple[str, ...]) -> frozenset[str]:
    """A column's levels as a set, made once per model (np.isin sorted a block's values as
    fixed-width text at every check: a quarter of a batch block's checks)."""
    return frozenset(levels)


def _floats(values: Any) -> np.ndarray:
    """Numbers or flags as float, None as NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _cells(values: Any) -> np.ndarray:
    """Values as an object array, one cell each (a list stays one cell: assigning a list of
    equal-length lists at once would make a matrix)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def strip(values: np.ndarray) -> np.ndarray:
    """Text with surrounding whitespace removed, as the contract reads it (missing: None)."""
    out = np.empty(len(values), dtype=object)
    try:  # every value a text: one C loop (a comprehension's type test per value cost as much)
        out[:] = list(map(str.strip, values))
    except TypeError:  # a missing value (NaN, None) among them
        out[:] = [v.strip() if isinstance(v, str) else None for v in values]
    return out
