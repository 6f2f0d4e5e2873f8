"""The compiler of the lean serving artifact (`airbnb_price.serve.artifact`).

Unpickling a PyCaret pipeline needs PyCaret and its dependency tree (~470 MB, ~1.3 s to load)
and `predict_model` costs ~160 ms per row. `compile_pipeline` walks the fitted pipeline once,
keeps the fitted scikit-learn transformers (imputers, scalers, transforms) and the final
estimator, and replaces PyCaret's own pieces (column wrappers, rare-level grouping, column
selection and renaming) and category_encoders' encoders (one-hot, ordinal, target encoding:
tabulated per level from the fitted encoder) by plain arrays. Column order is traced from the pipeline itself, not re-derived, and the build refuses
to return an artifact whose predictions differ from the pipeline's by more than a cent.

The artifact's classes live in the serve layer, which the Lambda image ships; this module
(training side) only builds and checks them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from airbnb_price.serve.artifact import CompiledModel, Lookup, Step
from airbnb_price.train import estimators

#: scikit-learn transformers kept as they are (fitted state only, applied to numpy arrays).
SKLEARN_TRANSFORMERS = {
    "SimpleImputer", "PolynomialFeatures", "QuantileTransformer", "PowerTransformer",
    "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler",
}
#: Steps that only drop or reorder columns; the traced column list is all they need.
SELECTORS = {"SelectFromModel", "RemoveMulticollinearity", "SequentialFeatureSelector",
             "SelectKBest", "BorutaSelector"}
#: Largest difference allowed between the compiled artifact's prices and the PyCaret
#: pipeline's, in the model's currency (one cent; a yen for JPY is stricter than needed).
TOLERANCE = 0.01


class UnsupportedStep(TypeError):
    """The pipeline has a step this compiler does not know; serve the PyCaret pipeline instead."""


class ArtifactMismatch(AssertionError):
    """The compiled artifact does not reproduce the pipeline's predictions."""


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


#: A level no training row had, to tabulate what an encoder does with unseen levels.
UNSEEN = "\x00unseen level"


def _tabulate(inner: Any, frame: Any, include: list[str]) -> list[Lookup]:
    """Every included column's encoding as a table, from the fitted encoder itself: each
    level seen in `frame`, a missing value and an unseen level go through `inner.transform`
    with the other columns held at one row, and the outputs that move are the column's."""
    lookups = []
    for col in include:
        levels = list(frame[col].dropna().unique())
        probe = frame[include].iloc[[0] * (len(levels) + 2)].reset_index(drop=True)
        probe[col] = np.array([*levels, np.nan, UNSEEN], dtype=object)
        out = inner.transform(probe)
        own = [col] if list(out.columns) == include else [
            c for c in out.columns if c not in include and out[c].nunique(dropna=False) > 1]
        values = out[own].to_numpy(dtype=float)
        lookups.append(Lookup(include.index(col), own,
                              {level: values[i] for i, level in enumerate(levels)},
                              unseen=values[-1], missing=values[-2]))
    return lookups


def _compile_step(name: str, wrapper: Any, frame: Any, after: list[str]) -> Step:
    """One pipeline step as a Step; `frame` is the data the step receives (for tracing
    columns and tabulating encoders)."""
    before = [str(c) for c in frame.columns]
    inner = getattr(wrapper, "transformer", wrapper)
    kind_name = type(inner).__name__
    include = list(getattr(wrapper, "_include", None) or before)
    inc_idx = np.array([before.index(c) for c in include], dtype=int)
    if kind_name in SELECTORS:
        return Step(name, "select", inc_idx, np.array([before.index(c) for c in after]), after)
    if kind_name == "CleanColumnNames":  # renames (the wrapper may reorder): trace by name
        renamed = [re.sub(inner.match, "", c) for c in before]
        return Step(name, "select", inc_idx, np.array([renamed.index(c) for c in after]), after)
    if kind_name == "RareCategoryGrouping":
        rare = {before.index(col): (frozenset(levels), inner.value)
                for col, levels in inner.to_other_.items() if levels}
        return Step(name, "rare", inc_idx, np.array([before.index(c) for c in after]), after,
                    rare=rare)
    new = _new_columns(inner, include)
    if type(inner).__module__.startswith("category_encoders"):
        lookups = _tabulate(inner, frame, include)
        for entry in lookups:
            entry.column = before.index(include[entry.column])
        new = [n for entry in lookups for n in entry.names]
        step = Step(name, "lookup", inc_idx, np.empty(0, dtype=int), after, lookup=lookups)
    elif kind_name in SKLEARN_TRANSFORMERS:
        step = Step(name, "sklearn", inc_idx, np.empty(0, dtype=int), after,
                    transformer=_bare(inner))
    else:
        raise UnsupportedStep(f"pipeline step {name!r} ({kind_name}) cannot be compiled")
    position = {c: i for i, c in enumerate(before)} | {c: len(before) + i for i, c in enumerate(new)}
    step.gather = np.array([position[c] for c in after], dtype=int)
    return step


def trace_pipeline(pipeline: Any, X: Any, metadata: dict | None = None) -> CompiledModel:
    """The fitted pipeline as a sequence of plain steps around its own scikit-learn objects
    (the form models were served in before the compiled engine), columns traced on `X`."""
    steps, target = [], None
    current, columns = X, list(X.columns)
    for name, wrapper in pipeline.steps[:-1]:
        if name == "target_transformation":
            target = _bare(wrapper.transformer.estimator)
            continue
        received, current = current, wrapper.transform(current)
        columns = [str(c) for c in current.columns]
        steps.append(_compile_step(name, wrapper, received, columns))
    return CompiledModel(list(X.columns), steps, pipeline.steps[-1][1], target, columns,
                     metadata or {})


def without_libraries(traced: CompiledModel) -> CompiledModel:
    """The traced model with every scikit-learn transformer, the estimator and the target
    transform replaced by their numpy forms: what the engine serves without scikit-learn,
    SciPy or LightGBM. Also upgrades a model published before the compiled engine."""
    try:
        steps = [_numpy_step(step) if step.kind == "sklearn" else step for step in traced.steps]
        target = traced.target_transformer
        return CompiledModel(traced.input_columns, steps, estimators.estimator(traced.estimator),
                         None if target is None else estimators.transformer(target),
                         traced.feature_names, traced.metadata)
    except estimators.Unsupported as exc:
        raise UnsupportedStep(str(exc)) from exc


def _numpy_step(step: Step) -> Step:
    """A copy of a scikit-learn step with its transformer's numpy form (a copy, not
    dataclasses.replace: steps pickled by older versions lack the newer fields)."""
    converted = copy.copy(step)
    converted.kind, converted.transformer = "transform", estimators.transformer(step.transformer)
    return converted


def compile_pipeline(pipeline: Any, X: Any, metadata: dict | None = None) -> CompiledModel:
    """Compile a fitted PyCaret regression pipeline into the served artifact (numpy tables
    and compiled trees), tracing columns on the DataFrame `X` (the training rows).

    Raises `ArtifactMismatch` unless the artifact's predictions on every row of `X` equal the
    pipeline's within TOLERANCE (one cent of the model's currency).
    """
    compiled = without_libraries(trace_pipeline(pipeline, X, metadata))
    check_equivalence(compiled, pipeline, X)
    return compiled


def check_equivalence(lean: CompiledModel, pipeline: Any, X: Any) -> float:
    """Largest absolute price difference between artifact and pipeline on `X` (raises if
    over TOLERANCE)."""
    worst = float(np.max(np.abs(lean.predict(X) - np.asarray(pipeline.predict(X)))))
    if not worst <= TOLERANCE:
        raise ArtifactMismatch(f"the compiled artifact differs from the pipeline by up to "
                               f"{worst:.4f} (allowed: {TOLERANCE})")
    return worst


def measure(path: Any, row: Mapping[str, Any], repeats: int = 200) -> dict[str, float]:
    """Load time, single-row predict time and file size of a saved compiled artifact."""
    import os
    import pickle
    import time

    started = time.perf_counter()
    with open(path, "rb") as file:
        model = pickle.load(file)
    load_s = time.perf_counter() - started
    model.predict(row)
    started = time.perf_counter()
    for _ in range(repeats):
        model.predict(row)
    return {"load_s": round(load_s, 4),
            "predict_ms": round((time.perf_counter() - started) / repeats * 1000, 3),
            "size_mb": round(os.path.getsize(path) / 1e6, 3)}


def compile_published(store: Any, name: str, version: str, rows: int = 200) -> CompiledModel:
    """Give a version published before the compiled engine its compiled.pkl: its lean.pkl's
    scikit-learn and LightGBM objects converted to numpy forms and compiled trees, refused
    unless both price `rows` listings made from its own training levels and ranges alike to
    the cent. The version's metadata then names the compiled artifact (registry.add_artifact:
    artifact first, metadata last)."""
    import pickle

    from airbnb_price.core import registry

    legacy = registry.load(store, name, version, artifact=registry.LEGACY)
    compiled = without_libraries(legacy.model)
    table = probe_rows(legacy.metadata["inputs"], legacy.model.input_columns, rows)
    worst = float(np.max(np.abs(compiled.predict(table) - legacy.model.predict(table))))
    if not worst <= TOLERANCE:
        raise ArtifactMismatch(f"{name}/{version}: the compiled artifact differs from its "
                               f"lean.pkl by up to {worst:.4f}")
    registry.add_artifact(store, name, version, registry.COMPILED,
                          pickle.dumps(compiled, protocol=5))
    return compiled


def probe_rows(schema: dict, columns: list[str], rows: int, seed: int = 0) -> dict:
    """Model inputs drawn from a model's own training levels and numeric ranges."""
    rng = np.random.default_rng(seed)
    table: dict[str, Any] = {}
    for column in columns:
        if column in schema.get("levels", {}):
            levels = np.array(schema["levels"][column], dtype=object)
            table[column] = levels[rng.integers(0, len(levels), rows)]
        elif column in schema.get("ranges", {}):
            low, high = schema["ranges"][column]
            table[column] = rng.uniform(low, high, rows)
        else:
            table[column] = np.zeros(rows)
    return table
