"""A compiled tree ensemble (or linear model): the served model's estimator as numpy tables,
evaluated by a small C library (`_trees.c`, built with the package) instead of LightGBM or
scikit-learn.

Why a table evaluator rather than code generated per model (tl2cgen/treelite, lleaves): the
model stays data, so publishing needs no compiler, a random forest of deep trees (what won
`compare_models` on London) costs no compile time, one artifact serves x86_64 and arm64, and
the Lambda package carries one ~20 kB library instead of LLVM (lleaves, LightGBM only) or a
per-model .so. `airbnb_price.train.compiler` builds these from fitted estimators and refuses
one whose prices differ from the pipeline's by more than a cent.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: One node as the C library reads it (`Node` in _trees.c); a leaf keeps its value in
#: `threshold` and has feature -1.
NODE = np.dtype([("threshold", "<f8"), ("feature", "<i4"), ("left", "<i4"), ("right", "<i4"),
                 ("flags", "u1")], align=True)
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2


class LibraryMissing(ImportError):
    """The package was installed without its compiled evaluator (no C compiler at install)."""


def _library() -> ctypes.CDLL:
    here = Path(__file__).parent
    found = [here / f"_trees{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
             if (here / f"_trees{suffix}").is_file()]
    if not found:
        raise LibraryMissing(f"{here}/_trees*.so is missing: reinstall the package where a C "
                             "compiler is available (pip builds it from _trees.c)")
    lib = ctypes.CDLL(str(found[0]))
    pointer = ctypes.c_void_p
    lib.trees_predict.argtypes = [pointer, ctypes.c_int64, ctypes.c_int64, pointer, pointer,
                                  ctypes.c_int32, pointer]
    lib.trees_predict.restype = None
    lib.trees_shap.argtypes = [pointer, ctypes.c_int64, ctypes.c_int64, pointer, pointer,
                               pointer, ctypes.c_int32, ctypes.c_int32, pointer]
    lib.trees_shap.restype = ctypes.c_int
    return lib


_LIB: ctypes.CDLL | None = None


def library() -> ctypes.CDLL:
    """The C evaluator, loaded once per process."""
    global _LIB
    if _LIB is None:
        _LIB = _library()
    return _LIB


def _ptr(array: np.ndarray) -> int:
    return array.ctypes.data


@dataclass
class Trees:
    """A tree ensemble: prediction = base + the sum of each tree's leaf (leaf values carry the
    ensemble's scale). `float32_inputs`: scikit-learn trees compare float32 features."""

    nodes: np.ndarray  # NODE records, tree after tree
    cover: np.ndarray  # training rows (or hessian weight) reaching each node, for TreeSHAP
    roots: np.ndarray  # int32: each tree's first node
    base: float
    n_features: int
    max_depth: int
    float32_inputs: bool = False
    kind: str = ""  # the estimator it was compiled from, for reports

    def _matrix(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got shape {X.shape}")
        if self.float32_inputs:
            X = X.astype(np.float32).astype(np.float64)
        return np.ascontiguousarray(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = self._matrix(X)
        out = np.full(len(X), self.base, dtype=np.float64)
        library().trees_predict(_ptr(X), len(X), X.shape[1], _ptr(self.nodes), _ptr(self.roots),
                                len(self.roots), _ptr(out))
        return out

    def expected_value(self) -> float:
        """TreeSHAP's base value: each tree's leaves averaged by cover, summed, plus base
        (computed on the first explanation, then kept for the loaded model's life)."""
        if "_expected" not in self.__dict__:
            ends = np.append(self.roots[1:], len(self.nodes))
            leaf = self.nodes["feature"] < 0
            total = self.base
            for start, end in zip(self.roots, ends, strict=True):
                weights = self.cover[start:end] * leaf[start:end]
                total += float(np.dot(self.nodes["threshold"][start:end], weights)
                               / self.cover[start])
            self._expected = total
        return self._expected

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_expected"}

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(SHAP values per feature, base value) per row, in the model's output space."""
        X = self._matrix(X)
        phi = np.zeros((len(X), X.shape[1] + 1))
        status = library().trees_shap(_ptr(X), len(X), X.shape[1], _ptr(self.nodes),
                                      _ptr(self.cover), _ptr(self.roots), len(self.roots),
                                      self.max_depth, _ptr(phi))
        if status != 0:
            raise MemoryError("TreeSHAP could not allocate its path buffer")
        return phi[:, :-1], np.full(len(X), self.expected_value())


@dataclass
class Linear:
    """A linear model (ridge, lasso, ...): X @ coef + intercept."""

    coef: np.ndarray
    intercept: float
    kind: str = ""

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef + self.intercept

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Not tree SHAP: a linear model's exact contributions are coef * x (base: intercept)."""
        X = np.asarray(X, dtype=np.float64)
        return X * self.coef, np.full(len(X), self.intercept)
