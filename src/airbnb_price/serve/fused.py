"""A compiled pipeline whose every step works column by column, run as one pass into the
model's matrix instead of step after step.

The lean preset's pipeline (imputers, lookup encoders, column selection) never mixes
columns: each model column is one input column with an imputer's fill applied, then, for a
level column, one output of a lookup. `fuse` traces the steps once, on
column provenance instead of data, and the plan writes each model column straight from its
input: the numbers in one vectorised fill, each level column through its fill and its lookup
once. Stepping through a list of columns costs a numpy call per column per step: for
one listing that was a quarter of the engine's time (28 of ~120 µs), here it is a few calls.

The values are the steps' own: the same fills (the imputer's missing test) and lookup rows,
copied, never recomputed (tests/train/test_encoders.py holds the plan equal to
the steps on both presets' pipelines, with missing values and unseen levels). A pipeline with
any other step (rare-level grouping, scaling, polynomial terms, quantile transforms: the
article preset) has no plan and runs step by step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from airbnb_price.serve.transforms import Impute, missing_value


@dataclass(frozen=True)
class _Chain:
    """Where a column comes from: an input column, the imputers' fills applied to it in order
    (("fill", value, numeric)), and (for an encoded column) the lookup and which of its
    outputs."""

    source: int
    ops: tuple = ()
    lookup: Any = None
    output: int = 0

    def then(self, op: tuple) -> _Chain | None:
        """This column with one more fill; None after a lookup (no pipeline this project
        builds does that: such a pipeline runs step by step)."""
        return None if self.lookup is not None else _Chain(self.source, (*self.ops, op))

    def encoded(self, lookup: Any, output: int) -> _Chain | None:
        return None if self.lookup is not None else _Chain(self.source, self.ops, lookup, output)


def _fill(op: tuple, values: np.ndarray) -> np.ndarray:
    """One imputer's fill on one column, as the imputer does it on its block of columns (its
    missing test, `transforms.missing_value`, value by value for levels: one comprehension costs
    less than numpy's object ufuncs, for one listing and for a block alike)."""
    _, fill, numeric = op
    if not numeric:  # `missing_value` written out: a call per value was half the fill's time
        column = np.empty(len(values), dtype=object)
        column[:] = [fill if v is None or (isinstance(v, float) and v != v)  # noqa: PLR0124
                     else v for v in values.tolist()]
        return column
    column = np.array(values, dtype=float)
    missing = np.isnan(column)
    if missing.any():
        column[missing] = fill
    return column


_FLOAT, _OBJECT = np.dtype(float), np.dtype(object)
_NUMERIC = object()


def _level_fill(ops: tuple) -> Any:
    """What a level column's fills leave in place of a missing value, for the lookup to take
    in the same pass: the first fill that is not missing itself (a fill of NaN leaves a value
    missing for the next one), None when none is; _NUMERIC when a fill is numeric."""
    if any(numeric for _, _, numeric in ops):
        return _NUMERIC
    return next((fill for _, fill, _ in ops if not missing_value(fill)), None)


def as_column(values: Any) -> np.ndarray:
    """An input column as numbers when it holds only numbers, else as objects. An array
    already in either form is taken as it is (no step writes into its input columns)."""
    if isinstance(values, np.ndarray) and values.dtype in (_FLOAT, _OBJECT):
        return values
    column = np.asarray(values)
    if column.dtype.kind in "fiub":
        return column.astype(float)
    out = np.empty(len(column), dtype=object)
    out[:] = list(column)
    return out


def _trace(steps: Sequence[Any], inputs: int) -> list[_Chain] | None:
    """Each output column's chain, or None when a step is not column by column."""
    chains: list[_Chain | None] = [_Chain(i) for i in range(inputs)]
    for step in steps:
        include, gather = step.indices()
        new: list[_Chain | None] = []
        if step.kind == "lookup":
            new = [chains[entry.column].encoded(entry, k) for entry in step.lookup
                   for k in range(len(entry.names))]
            if any(np.asarray(entry.missing).size != len(entry.names) for entry in step.lookup):
                return None
        elif step.kind == "transform" and isinstance(step.transformer, Impute):
            imputer = step.transformer
            kept = range(len(include)) if imputer.keep is None else imputer.keep
            numeric = imputer.fill.dtype != object
            new = [chains[include[k]].then(("fill", imputer.fill[k], numeric)) for k in kept]
        elif step.kind != "select":
            return None
        everything = [*chains, *new]
        chains = [everything[i] for i in gather]
        if any(chain is None for chain in chains):
            return None
    return chains


@dataclass
class Plan:
    """The model matrix written column group by column group (see module docstring)."""

    width: int
    #: numeric model columns: their input, fill (NaN: none) and position
    sources: list[int]
    fills: np.ndarray
    numbers_at: np.ndarray
    #: encoded columns, per input and its fills: the lookups of that column, each with its
    #: table's columns for the outputs taken (a row per output) and their positions
    #: (and what their fills leave in place of a missing value: `_level_fill`)
    levels: list[tuple[int, tuple, Any, list[tuple[Any, np.ndarray, np.ndarray]]]]

    def matrix(self, table: Mapping[str, Any], columns: Sequence[str]) -> np.ndarray:
        """The model matrix, column-major: each model column is written whole (into a
        row-major matrix its writes were strided: 1.65x on London's 66 columns; the compiled
        trees bin either, and row-major copies are made where rows are read)."""
        rows = len(table[columns[0]])
        out = np.empty((self.width, rows))
        if self.sources:
            numbers = np.array([table[columns[i]] for i in self.sources],
                               dtype=float).reshape(len(self.sources), rows)
            out[self.numbers_at] = np.where(np.isnan(numbers), self.fills[:, None], numbers)
        for source, ops, fill, lookups in self.levels:
            values = as_column(table[columns[source]])
            if fill is _NUMERIC or values.dtype != _OBJECT:  # fill first, then look up
                for op in ops:
                    values = _fill(op, values)
                fill = None
            for lookup, taken, at in lookups:
                out[at] = taken[:, lookup.positions(values, fill)]
        return out.T


def fuse(steps: Sequence[Any], inputs: int) -> Plan | None:
    """The plan of a pipeline whose steps all work column by column, else None."""
    chains = _trace(steps, inputs)
    if chains is None:
        return None
    sources, fills, numbers_at = [], [], []
    groups: dict[tuple[int, int], tuple[tuple, dict[int, tuple[Any, list[int], list[int]]]]] = {}
    for position, chain in enumerate(chains):
        if chain.lookup is None:
            if any(op[0] != "fill" or not op[2] for op in chain.ops) or len(chain.ops) > 1:
                return None  # a level column left unencoded, or fills over fills
            sources.append(chain.source)
            fills.append(float(chain.ops[0][1]) if chain.ops else np.nan)
            numbers_at.append(position)
            continue
        # a lookup's outputs share their chain's ops (`_Chain.encoded`): one pass per input
        _, lookups = groups.setdefault((chain.source, id(chain.ops)), (chain.ops, {}))
        _, outputs, at = lookups.setdefault(id(chain.lookup), (chain.lookup, [], []))
        outputs.append(chain.output)
        at.append(position)
    levels = [(source, ops, _level_fill(ops),
               [(lookup, np.ascontiguousarray(lookup.rows()[:, outputs].T), np.array(at))
                for lookup, outputs, at in lookups.values()])
              for (source, _), (ops, lookups) in groups.items()]
    return Plan(len(chains), sources, np.array(fills, dtype=float), np.array(numbers_at, int),
                levels)
