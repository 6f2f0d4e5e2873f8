"""The lean serving artifact: a fitted PyCaret pipeline compiled to numpy steps.

Unpickling a PyCaret pipeline needs PyCaret and its dependency tree (~470 MB, ~1.3 s to load)
and `predict_model` costs ~160 ms per row. `compile_pipeline` walks the fitted pipeline once,
keeps the fitted scikit-learn transformers and the final estimator, and replaces PyCaret's own
pieces (column wrappers, rare-level grouping, one-hot encoding, column selection) by plain
arrays. Column order is traced from the pipeline itself, not re-derived, and the build refuses
to return an artifact whose predictions differ from the pipeline's by more than a cent.

This module imports numpy only; loading an artifact needs scikit-learn and LightGBM, which
the serving image has, and never PyCaret or pandas.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: scikit-learn transformers kept as they are (fitted state only, applied to numpy arrays).
SKLEARN_TRANSFORMERS = {
    "SimpleImputer", "PolynomialFeatures", "QuantileTransformer", "PowerTransformer",
    "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler",
}
#: Steps that only drop or reorder columns; the traced column list is all they need.
SELECTORS = {"SelectFromModel", "RemoveMulticollinearity", "SequentialFeatureSelector",
             "SelectKBest", "BorutaSelector"}
#: Euro tolerance between the lean artifact and the PyCaret pipeline.
TOLERANCE_EUR = 0.01


class UnsupportedStep(TypeError):
    """The pipeline has a step this compiler does not know; serve the PyCaret pipeline instead."""


class ArtifactMismatch(AssertionError):
    """The compiled artifact does not reproduce the pipeline's predictions."""


@dataclass
class Step:
    """One compiled step: transform the `include` columns, then gather the output columns.

    `gather` indexes into the current columns followed by the step's new columns, which
    reproduces the PyCaret wrapper's column order exactly.
    """

    name: str
    kind: str  # "sklearn" | "rare" | "onehot" | "select"
    include: np.ndarray
    gather: np.ndarray
    columns: list[str]
    transformer: Any = None
    rare: dict[int, tuple[frozenset, str]] = field(default_factory=dict)
    onehot: list[tuple[int, dict[Any, np.ndarray], int]] = field(default_factory=list)

    def apply(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "select":
            return X[:, self.gather]
        if self.kind == "rare":
            X = X.copy()
            for col, (levels, value) in self.rare.items():
                X[:, col] = [value if v in levels else v for v in X[:, col]]
            return X[:, self.gather]
        if self.kind == "onehot":
            new = np.hstack([self._encode(X[:, col], table, width)
                             for col, table, width in self.onehot])
        else:
            new = self.transformer.transform(X[:, self.include])
        return np.hstack([X, new.astype(X.dtype)])[:, self.gather]

    @staticmethod
    def _encode(values: np.ndarray, table: dict[Any, np.ndarray], width: int) -> np.ndarray:
        zeros = np.zeros(width)  # unseen level: all zeros, as category_encoders does
        return np.vstack([table.get(v, zeros) for v in values])


@dataclass
class LeanModel:
    """Everything serving needs: input columns, compiled steps, estimator, target inverse."""

    input_columns: list[str]
    steps: list[Step]
    estimator: Any
    target_transformer: Any
    feature_names: list[str]
    metadata: dict = field(default_factory=dict)

    def transform(self, table: Mapping[str, Any]) -> np.ndarray:
        """Model-space feature matrix for a table of input columns (DataFrame or dict)."""
        X = np.column_stack([np.asarray(table[c], dtype=object) for c in self.input_columns])
        for step in self.steps:
            X = step.apply(X)
        return X.astype(float)

    def to_euros(self, transformed: np.ndarray) -> np.ndarray:
        """Map predictions in the (possibly transformed) target space back to euros."""
        transformed = np.asarray(transformed, dtype=float)
        if self.target_transformer is None:
            return transformed
        return self.target_transformer.inverse_transform(transformed.reshape(-1, 1)).ravel()

    def predict(self, table: Mapping[str, Any]) -> np.ndarray:
        """Price in euros per row."""
        return self.to_euros(self.estimator.predict(self.transform(table)))


def _bare(transformer: Any) -> Any:
    """A copy of a fitted sklearn object that takes numpy arrays without name warnings."""
    bare = copy.deepcopy(transformer)
    if hasattr(bare, "feature_names_in_"):
        del bare.feature_names_in_
    return bare


def _new_columns(inner: Any, include: list[str]) -> list[str]:
    if hasattr(inner, "get_feature_names_out"):
        return [str(c) for c in inner.get_feature_names_out()]
    return list(include)


def _compile_step(name: str, wrapper: Any, before: list[str], after: list[str]) -> Step:
    inner = getattr(wrapper, "transformer", wrapper)
    kind_name = type(inner).__name__
    include = list(getattr(wrapper, "_include", None) or before)
    inc_idx = np.array([before.index(c) for c in include], dtype=int)
    if kind_name in SELECTORS:
        return Step(name, "select", inc_idx, np.array([before.index(c) for c in after]), after)
    if kind_name == "RareCategoryGrouping":
        rare = {before.index(col): (frozenset(levels), inner.value)
                for col, levels in inner.to_other_.items() if levels}
        return Step(name, "rare", inc_idx, np.array([before.index(c) for c in after]), after,
                    rare=rare)
    new = _new_columns(inner, include)
    if kind_name == "OneHotEncoder" and type(inner).__module__.startswith("category_encoders"):
        step = Step(name, "onehot", inc_idx, np.empty(0, dtype=int), after)
        ordinal = {m["col"]: m["mapping"] for m in inner.ordinal_encoder.mapping}
        for entry in inner.mapping:
            col, frame = entry["col"], entry["mapping"]
            table = {level: frame.loc[code].to_numpy(dtype=float)
                     for level, code in ordinal[col].items() if code > 0}
            step.onehot.append((before.index(col), table, frame.shape[1]))
    elif kind_name in SKLEARN_TRANSFORMERS:
        step = Step(name, "sklearn", inc_idx, np.empty(0, dtype=int), after,
                    transformer=_bare(inner))
    else:
        raise UnsupportedStep(f"pipeline step {name!r} ({kind_name}) cannot be compiled")
    position = {c: i for i, c in enumerate(before)} | {c: len(before) + i for i, c in enumerate(new)}
    step.gather = np.array([position[c] for c in after], dtype=int)
    return step


def compile_pipeline(pipeline: Any, X: Any, metadata: dict | None = None) -> LeanModel:
    """Compile a fitted PyCaret regression pipeline, tracing columns on the DataFrame `X`.

    Raises `ArtifactMismatch` unless the artifact's predictions on `X` equal the pipeline's
    within TOLERANCE_EUR.
    """
    steps, target = [], None
    current, columns = X, list(X.columns)
    for name, wrapper in pipeline.steps[:-1]:
        if name == "target_transformation":
            target = _bare(wrapper.transformer.estimator)
            continue
        current = wrapper.transform(current)
        after = [str(c) for c in current.columns]
        steps.append(_compile_step(name, wrapper, columns, after))
        columns = after
    lean = LeanModel(list(X.columns), steps, pipeline.steps[-1][1], target, columns,
                     metadata or {})
    check_equivalence(lean, pipeline, X)
    return lean


def check_equivalence(lean: LeanModel, pipeline: Any, X: Any) -> float:
    """Largest absolute euro difference between artifact and pipeline on `X` (raises if > 1 ct)."""
    worst = float(np.max(np.abs(lean.predict(X) - np.asarray(pipeline.predict(X)))))
    if not worst <= TOLERANCE_EUR:
        raise ArtifactMismatch(f"lean artifact differs from the pipeline by up to EUR {worst:.4f}")
    return worst


def measure(path: Any, row: Mapping[str, Any], repeats: int = 200) -> dict[str, float]:
    """Load time, single-row predict time and file size of a saved lean artifact."""
    import os
    import time

    import joblib

    started = time.perf_counter()
    model = joblib.load(path)
    load_s = time.perf_counter() - started
    model.predict(row)
    started = time.perf_counter()
    for _ in range(repeats):
        model.predict(row)
    return {"load_s": round(load_s, 4),
            "predict_ms": round((time.perf_counter() - started) / repeats * 1000, 3),
            "size_mb": round(os.path.getsize(path) / 1e6, 3)}


def load(model_dir: Any) -> LeanModel:
    """Load `lean.pkl` from a run's model folder."""
    from pathlib import Path

    import joblib

    return joblib.load(Path(model_dir) / "lean.pkl")
