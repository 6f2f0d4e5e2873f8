"""The compiled serving artifact: a fitted PyCaret pipeline as plain numpy steps, its
estimator as compiled trees (`trees.Trees`) or a linear formula.

`airbnb_price.train.compiler` builds it from a fitted pipeline; this module holds what a
loaded artifact is and does, so the Lambda image unpickles and runs it with numpy alone
(never PyCaret, pandas, scikit-learn, SciPy or LightGBM). Models published before the
compiled engine (`lean.pkl`) hold scikit-learn objects in the same classes: they load where
scikit-learn is installed, and `airbnb-price model compile` gives them a compiled.pkl.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from airbnb_price.core import registry
from airbnb_price.serve import fused
from airbnb_price.serve.transforms import missing_value

#: The artifact's file name in a model folder and in the registry.
FILE = registry.COMPILED


#: Fewer values than this (a request's listings) are placed by the rule alone: numpy's calls
#: cost more than they save there.
_FEW = 16


def _row(value: Any, get: Any, unseen: int, missing: int, imputed: int | None) -> int:
    """One value's row in a lookup table: with `imputed` (the row of a level imputer's fill),
    a value the imputer takes as missing (`missing_value`, as `fused._fill`) takes that row;
    otherwise a missing value (None or unequal to itself) the `missing` row, others their
    level's, or `unseen`."""
    if imputed is not None and missing_value(value):
        return imputed
    return missing if value is None or value != value else get(value, unseen)  # noqa: PLR0124


def _positions(values: np.ndarray, probe: dict[Any, int], unseen: int, missing: int,
               imputed: int | None) -> np.ndarray | list[int]:
    """Each value's row (`_row`). `probe` maps the levels (and None) to their rows, probed
    for every value in C (`map`: a comprehension cost twice as much, and its list as much
    again to index with); what it does not hold (an unseen level, a NaN) is placed again by
    `_row`."""
    get = probe.get
    if len(values) < _FEW:
        return [_row(v, get, unseen, missing, imputed) for v in values]
    rows = np.fromiter(map(get, values, itertools.repeat(unseen, len(values))),
                       dtype=np.intp, count=len(values))
    again = np.flatnonzero(rows == unseen)
    if len(again):
        rows[again] = [_row(v, get, unseen, missing, imputed) for v in values[again]]
    return rows


@dataclass
class Lookup:
    """One categorical column's encoding tabulated from the fitted encoder (one-hot, ordinal,
    target encoding alike): its output values per level seen in training, for a level it
    never saw and for a missing value, exactly as the encoder computes them."""

    column: int
    names: list[str]
    table: dict[Any, np.ndarray]
    unseen: np.ndarray
    missing: np.ndarray

    def rows(self) -> np.ndarray:
        """The table as one array: a row per level seen in training, then the unseen row and
        the missing row (built once per loaded model, not pickled)."""
        if "_rows" not in self.__dict__:
            levels = list(self.table)
            self._index = {level: i for i, level in enumerate(levels)}
            self._probes: dict[Any, tuple[dict[Any, int], int | None]] = {}
            self._rows = np.vstack([*(self.table[v] for v in levels), self.unseen,
                                    self.missing]).reshape(len(levels) + 2, -1)
        return self._rows

    def positions(self, values: np.ndarray, fill: Any = None) -> np.ndarray | list[int]:
        """Each value's row in `rows()` (`values`: a column of levels). With `fill` (a level
        imputer's, not missing itself), a value the imputer takes as missing gets the fill's
        row: the fill and the lookup in one pass (`fused.Plan.matrix`)."""
        n = len(self.rows()) - 2
        if fill not in self._probes:  # made once per loaded model and fill
            imputed = None if fill is None else self._index.get(fill, n)
            probe = {k: i for k, i in self._index.items() if k == k}  # noqa: PLR0124
            probe[None] = n + 1 if imputed is None else imputed  # no NaN key: `again`
            self._probes[fill] = probe, imputed
        probe, imputed = self._probes[fill]
        return _positions(values, probe, n, n + 1, imputed)

    def encode(self, values: np.ndarray) -> np.ndarray:
        return self.rows()[self.positions(values)]

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items()
                if k not in ("_rows", "_index", "_probes")}


@dataclass
class Step:
    """One compiled step: transform the `include` columns, then gather the output columns.

    `gather` indexes into the current columns followed by the step's new columns, which
    reproduces the PyCaret wrapper's column order exactly.
    """

    name: str
    #: "transform" (numpy form of a scikit-learn transformer) | "rare" | "lookup" | "select";
    #: before the compiled engine "sklearn" (the fitted object itself) and, before 0.2, "onehot".
    kind: str
    include: np.ndarray
    gather: np.ndarray
    columns: list[str]
    transformer: Any = None
    rare: dict[int, tuple[frozenset, str]] = field(default_factory=dict)
    onehot: list[tuple[int, dict[Any, np.ndarray], int]] = field(default_factory=list)
    lookup: list[Lookup] = field(default_factory=list)

    def apply(self, columns: list[np.ndarray]) -> list[np.ndarray]:
        """The step on a list of columns (numbers stay float arrays, levels object arrays: no
        two-dimensional object matrix is ever built)."""
        include, gather = self.indices()
        if self.kind == "select":
            return [columns[i] for i in gather]
        if self.kind == "rare":
            columns = list(columns)
            for col, (levels, value) in self.rare.items():
                grouped = np.empty(len(columns[col]), dtype=object)
                grouped[:] = [value if v in levels else v for v in columns[col]]
                columns[col] = grouped
            return [columns[i] for i in gather]
        if self.kind == "lookup":
            new = [c for entry in self.lookup for c in entry.encode(columns[entry.column]).T]
        elif self.kind == "onehot":  # compiled before lookups existed (legacy pickles)
            new = [c for col, table, width in self.onehot
                   for c in self._encode(columns[col], table, width).T]
        else:
            # rows of columns, transposed: np.column_stack's matrix in a third of its time
            block = self.transformer.transform(np.array([columns[i] for i in include]).T)
            new = list(np.asarray(block).T)
        everything = [*columns, *new]
        return [everything[i] for i in gather]

    def indices(self) -> tuple[list[int], list[int]]:
        """`include` and `gather` as lists of ints, made once per loaded model (indexing a
        list by numpy integers costs five times as much: a one-listing price indexes ~200
        times)."""
        if "_lists" not in self.__dict__:
            self._lists = ([int(i) for i in self.include], [int(i) for i in self.gather])
        return self._lists

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_lists"}

    @staticmethod
    def _encode(values: np.ndarray, table: dict[Any, np.ndarray], width: int) -> np.ndarray:
        zeros = np.zeros(width)  # unseen level: all zeros, as category_encoders does
        return np.vstack([table.get(v, zeros) for v in values])


@dataclass
class CompiledModel:
    """Everything serving needs: input columns, compiled steps, estimator, target inverse."""

    input_columns: list[str]
    steps: list[Step]
    estimator: Any
    target_transformer: Any
    feature_names: list[str]
    metadata: dict = field(default_factory=dict)
    #: The price range's calibration (serve.ranges); None in models published before ranges.
    calibration: Any = None

    def transform(self, table: Mapping[str, Any]) -> np.ndarray:
        """Model-space feature matrix for a table of input columns (DataFrame or dict): in one
        pass when every step works column by column (`fused`), else step by step."""
        if "_plan" not in self.__dict__:  # traced once per loaded model, not pickled
            self._plan = fused.fuse(self.steps, len(self.input_columns))
        if self._plan is not None:
            return self._plan.matrix(table, self.input_columns)
        return self.transform_steps(table)

    def transform_steps(self, table: Mapping[str, Any]) -> np.ndarray:
        """`transform` through every step in turn (what the fused plan is held equal to)."""
        columns = [fused.as_column(table[c]) for c in self.input_columns]
        for step in self.steps:
            columns = step.apply(columns)
        # rows of columns, transposed: the same matrix as np.column_stack in a quarter of its
        # time for one listing (every column is numeric after the last step)
        return np.ascontiguousarray(np.array(columns, dtype=float).T)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_plan"}

    def to_prices(self, transformed: np.ndarray) -> np.ndarray:
        """Map predictions in the (possibly transformed) target space back to prices in the
        model's currency."""
        transformed = np.asarray(transformed, dtype=float)
        if self.target_transformer is None:
            return transformed
        return self.target_transformer.inverse_transform(transformed.reshape(-1, 1)).ravel()

    def predict(self, table: Mapping[str, Any]) -> np.ndarray:
        """Price per row, in the model's currency."""
        return self.to_prices(self.estimator.predict(self.transform(table)))

    def predict_ranges(self, table: Mapping[str, Any],
                       level: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Prices and their calibrated range at `level` ((None, None) for a model published
        before ranges), from one feature matrix."""
        matrix = self.transform(table)
        prices = self.to_prices(self.estimator.predict(matrix))
        if self.calibration is None:
            return prices, None, None
        low, high = self.calibration.bounds(matrix, prices, level)
        return prices, low, high


def load(model_dir: str | Path) -> CompiledModel:
    """Load the compiled artifact from a run's model folder."""
    import pickle

    with open(Path(model_dir) / FILE, "rb") as file:
        return pickle.load(file)


#: The name of CompiledModel in pickles made before it was renamed (a model's artifact is
#: "compiled"; "lean" names the preprocessing preset): unpickling looks it up here.
LeanModel = CompiledModel
