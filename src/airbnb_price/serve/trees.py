"""A compiled tree ensemble (or linear model): the served model's estimator as numpy tables,
evaluated by a small C library (`_trees.c`, built with the package) instead of LightGBM or
scikit-learn.

Why a table evaluator rather than code generated per model (tl2cgen/treelite, lleaves): the
model stays data, so publishing needs no compiler, a random forest of deep trees (what won
`compare_models` on London) costs no compile time, one artifact serves x86_64 and arm64, and
the Lambda package carries one ~20 kB library instead of LLVM (lleaves, LightGBM only) or a
per-model .so. `airbnb_price.train.compiler` builds these from fitted estimators and refuses
one whose prices differ from the pipeline's by more than a cent.

Prediction takes the branch-free form of the nodes over binned rows (`Trees.steps`, built when a
model first prices): each value becomes the number of its feature's split thresholds below it, a
node compares two 16-bit integers, and eight rows descend a tree together with no data-dependent
branch. On a 1,000-tree LightGBM the branch-free walk over doubles measured 1.7x the
one-row-at-a-time walk, binning another 1.3x over it (benchmarks/batch.py), each group's bins
copied feature-major another 1.25x (see trees_predict_steps), rows taken sorted by their bins of
the most split-on features another 1.05-1.10x (`Trees.order`), and steps holding the feature's
offset in a group, with the sums kept in group order, another 1.15x (8 instructions a lane and
level instead of 10), and a group's stop found by a sum of its lanes' node numbers another 1.07x
(7 instructions); binning itself by a branch-free binary search takes 0.13 us a row on
London's model, a third of the branching one's 0.42. On that model a row's leaf lies 2.8 levels
down on average, while a group of eight walks 5.4 levels (to its deepest lane's leaf, at least
two, and one level that finds every lane still): what a walk that stopped each row at its own
leaf could save. Rows with NaN, trees with LightGBM's zero-as-missing rule and trees splitting
on a feature of more than MAX_CUTS thresholds (or past MAX_OFFSET), trees numbering a child
before its parent and models of more than MAX_NODES nodes take the generic walk; every
path gives the same sums (tests/train/test_trees.py). One listing (a request's) walks its trees
through a thread's row buffer (`_RowBuffers`).
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from airbnb_price.core import native

#: One node as the C library reads it (`Node` in _trees.c); a leaf keeps its value in
#: `threshold` and has feature -1.
NODE = np.dtype([("threshold", "<f8"), ("feature", "<i4"), ("left", "<i4"), ("right", "<i4"),
                 ("flags", "u1")], align=True)
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
#: Rows per block (`BLOCK` in _trees.c): the scratch buffer holds two blocks of row numbers,
#: the grouped one a block's bins.
BLOCK = 256
#: Rows that descend a tree together in the branch-free walk (`LANES` in _trees.c).
LANES = 8
#: A node in branch-free form over binned rows (`Step` in _trees.c): go to
#: `next + (bin > cut)`, the bin at `offset` (the split feature times LANES) in a group's
#: feature-major bins; a leaf points at itself with cut LEAF_CUT, above any bin.
STEP = np.dtype([("offset", "<u2"), ("cut", "<u2"), ("next", "<u4")])
LEAF_CUT = 0xFFFF
#: The most split thresholds a feature may have for its trees to take the binned form (a
#: bin is a 16-bit count of thresholds below the value, at most MAX_CUTS < LEAF_CUT).
MAX_CUTS = 0xFFFE
#: The largest `offset` a step holds: trees splitting on a feature past it (8,191 with eight
#: lanes) take the generic walk.
MAX_OFFSET = 0xFFFF
#: The most nodes a model may have for its trees to take the branch-free walk, which stops a
#: group when the 32-bit sum of its lanes' node numbers stays the same: with children numbered
#: after their parents (trees that number one before take the walk) and fewer nodes than
#: this, a sum of moves cannot wrap to zero.
MAX_NODES = 2**32 // LANES - 1


def _library() -> ctypes.CDLL:
    lib = native.load(Path(__file__).parent, "_trees")
    pointer = ctypes.c_void_p
    lib.trees_predict.argtypes = [pointer, ctypes.c_int64, ctypes.c_int64, pointer, pointer,
                                  ctypes.c_int32, pointer]
    lib.trees_predict.restype = None
    lib.trees_bin.argtypes = [pointer, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                              ctypes.c_int64, pointer, pointer, pointer, pointer]
    lib.trees_bin.restype = None
    lib.trees_predict_steps.argtypes = [pointer, pointer, ctypes.c_int64, ctypes.c_int64,
                                        pointer, pointer, pointer, pointer, pointer,
                                        ctypes.c_int32, pointer, pointer, pointer, pointer,
                                        pointer]
    lib.trees_predict_steps.restype = None
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


_ptr = native.address


def _sort_key(features: np.ndarray, cuts: list[np.ndarray], crowded: np.ndarray
              ) -> tuple[tuple[int, int], ...]:
    """`BranchFree.key` from the split nodes' features and each feature's cuts: the most used
    features first (a feature's bin is 0..its number of cuts), while 64 bits hold them."""
    key, used = [], 0
    for feature in np.argsort(-np.bincount(features, minlength=len(cuts)), kind="stable"):
        bits = len(cuts[feature]).bit_length()
        if crowded[feature] or not bits:
            continue
        if used + bits > 64:
            break
        key.append((int(feature), bits))
        used += bits
    return tuple(key)


class _RowBuffers(threading.local):
    """One row and its sum per thread and row width, with their pointers taken once: a
    pointer costs 0.8 µs, and one listing's prediction takes two (the price and its range's
    difficulty model: 3 µs of a request's ~100 µs in the engine)."""

    def __init__(self) -> None:
        self.by_width: dict[int, tuple[np.ndarray, np.ndarray, int, int]] = {}

    def buffers(self, width: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        found = self.by_width.get(width)
        if found is None:
            row, out = np.empty(width), np.empty(1)
            found = self.by_width[width] = (row, out, _ptr(row), _ptr(out))
        return found


_ROW = _RowBuffers()


@dataclass(frozen=True)
class BranchFree:
    """The branch-free form of a tree ensemble (`Trees.steps`): STEP records, each tree's
    depth, which trees may use it (1) or take the generic walk (0), and each feature's sorted
    split thresholds (`cuts[offsets[j]:offsets[j + 1]]` for feature j) that bin a row."""

    steps: np.ndarray
    depths: np.ndarray
    plain: np.ndarray
    cuts: np.ndarray
    offsets: np.ndarray
    #: The C library's pointers to the model's arrays (Trees.nodes, steps, Trees.roots,
    #: depths, plain, cuts, offsets), taken once: each costs 2 µs, a one-listing request's
    #: trees take tens of µs.
    pointers: dict[str, int]
    #: The rows' sort key (`Trees.order`): the most split-on features and the bits their
    #: bins take, most used first, as many as 64 bits hold.
    key: tuple[tuple[int, int], ...] = ()


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

    def _matrix(self, X: np.ndarray, rows: bool = True) -> np.ndarray:
        """X as float64 (rounded through float32 for scikit-learn trees), row-major, or when
        `rows` is False also column-major as it comes (the fused plan's matrix: binning reads
        either, and only the generic walk needs rows)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got shape {X.shape}")
        if self.float32_inputs:
            X = X.astype(np.float32).astype(np.float64)
        return X if not rows and X.flags.f_contiguous else np.ascontiguousarray(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = self._matrix(X, rows=False)
        at = self.steps().pointers
        if len(X) == 1:  # one request's listing: through this thread's row buffer
            row, out, row_at, out_at = _ROW.buffers(X.shape[1])
            row[:] = X[0]
            out[0] = self.base
            library().trees_predict(row_at, 1, X.shape[1], at["nodes"], at["roots"],
                                    len(self.roots), out_at)
            return out.copy()
        out = np.empty(len(X))
        out.fill(self.base)  # np.full's Python layer costs more than one listing's fill
        if len(X) < LANES:  # the branch-free walk needs LANES rows: fewer take the generic one
            X = np.ascontiguousarray(X)
            library().trees_predict(_ptr(X), len(X), X.shape[1], at["nodes"], at["roots"],
                                    len(self.roots), _ptr(out))
            return out
        binned, has_nan = self.binned(X)
        if not X.flags.c_contiguous and (has_nan.any() or not self.steps().plain.all()):
            X = np.ascontiguousarray(X)  # rows for the generic walk
        order = self.order(binned)
        scratch = np.empty(2 * BLOCK, dtype=np.int64)
        grouped = np.empty(BLOCK * X.shape[1], dtype=np.uint16)
        library().trees_predict_steps(_ptr(X), _ptr(binned), len(X), X.shape[1], at["nodes"],
                                      at["steps"], at["roots"], at["depths"], at["plain"],
                                      len(self.roots), _ptr(has_nan), _ptr(order),
                                      _ptr(scratch), _ptr(grouped), _ptr(out))
        return out

    def binned(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each value's bin (`trees_bin`): the number of its feature's cuts below it, 0 for
        NaN; and which rows hold a NaN (as uint8). X as `_matrix` makes it, row- or
        column-major."""
        at = self.steps().pointers
        binned = np.empty(X.shape, dtype=np.uint16)
        has_nan = np.empty(len(X), dtype=np.uint8)
        step = X.strides[0] // X.itemsize, X.strides[1] // X.itemsize
        library().trees_bin(_ptr(X), len(X), X.shape[1], *step, at["cuts"], at["offsets"],
                            _ptr(binned), _ptr(has_nan))
        return binned, has_nan

    def order(self, binned: np.ndarray) -> np.ndarray:
        """The order the branch-free walk takes binned rows in: by their bins of the most
        split-on features, so the eight rows descending a tree together are alike and reach
        their leaves at nearly the same level (a group descends until its last row has: a
        31-leaf LightGBM tree's deepest leaf lies 12.7 levels down on average, most rows'
        leaves far higher). On a 1,000-tree LightGBM over Amsterdam's 16,724 distinct rows:
        1.05-1.10x in three runs (1.2x when rows repeat). A row's sum does not depend on the order
        (tests/train/test_trees.py)."""
        key = np.zeros(len(binned), dtype=np.uint64)
        for feature, bits in self.steps().key:
            key <<= np.uint64(bits)
            key |= binned[:, feature]
        return np.argsort(key).astype(np.int64, copy=False)

    def predict_generic(self, X: np.ndarray) -> np.ndarray:
        """`predict` by the generic walk alone (the reference the branch-free form is tested
        against)."""
        X = self._matrix(X)
        out = np.full(len(X), self.base, dtype=np.float64)
        library().trees_predict(_ptr(X), len(X), X.shape[1], _ptr(self.nodes), _ptr(self.roots),
                                len(self.roots), _ptr(out))
        return out

    def steps(self) -> BranchFree:
        """The branch-free form of the nodes, built on the first prediction and kept for the
        loaded model's life, not stored in the artifact."""
        if "_steps" not in self.__dict__:
            leaf = self.nodes["feature"] < 0
            split = ~leaf
            features = self.nodes["feature"][split]
            cuts, crowded, cut = self._cuts(features, self.nodes["threshold"][split])
            steps = np.zeros(len(self.nodes), dtype=STEP)
            steps["cut"] = LEAF_CUT
            steps["cut"][split] = cut
            steps["offset"][split] = features * LANES
            steps["next"] = np.where(leaf, np.arange(len(self.nodes)), self.nodes["left"])
            tree = np.repeat(np.arange(len(self.roots)),
                             np.diff(np.append(self.roots, len(self.nodes))))
            walks = np.zeros(len(self.nodes), dtype=bool)
            walks[split] = crowded[features]
            walks |= split & (((self.nodes["flags"] >> 1) & 3) == MISSING_ZERO)
            walks |= split & (self.nodes["left"] <= np.arange(len(self.nodes)))
            if len(self.nodes) > MAX_NODES:
                walks[:] = True
            generic = np.bincount(tree, weights=walks, minlength=len(self.roots)) > 0
            arrays = {"nodes": self.nodes, "steps": steps, "roots": self.roots,
                      "depths": self._depths(leaf, tree), "plain": (~generic).astype(np.uint8),
                      "cuts": np.concatenate([*cuts, np.zeros(0)]),
                      "offsets": np.cumsum([0, *(len(c) for c in cuts)]).astype(np.int64)}
            self._steps = BranchFree(arrays["steps"], arrays["depths"], arrays["plain"],
                                     arrays["cuts"], arrays["offsets"],
                                     {name: _ptr(a) for name, a in arrays.items()},
                                     _sort_key(features, cuts, crowded))
        return self._steps

    def _cuts(self, features: np.ndarray, thresholds: np.ndarray
              ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """For the split nodes' features and thresholds: each feature's sorted thresholds,
        which features have more than MAX_CUTS of them or an offset past MAX_OFFSET (their trees
        take the walk), and each node's cut, its threshold's rank among its feature's."""
        cuts = [np.unique(thresholds[features == j]) for j in range(self.n_features)]
        crowded = np.array([len(c) > MAX_CUTS or j * LANES > MAX_OFFSET
                            for j, c in enumerate(cuts)], dtype=bool)
        cut = np.zeros(len(features), dtype=np.uint16)
        for j in np.flatnonzero(~crowded):
            mine = features == j
            cut[mine] = np.searchsorted(cuts[j], thresholds[mine])
        return cuts, crowded, cut

    def _depths(self, leaf: np.ndarray, tree: np.ndarray) -> np.ndarray:
        """Each tree's deepest leaf (root: 0), children found level by level."""
        depth = np.zeros(len(self.nodes), dtype=np.int32)
        level = self.roots.astype(np.int64)
        for d in range(1, self.max_depth + 2):
            parents = level[~leaf[level]]
            if not len(parents):
                break
            left = self.nodes["left"][parents].astype(np.int64)
            level = np.concatenate([left, self.nodes["right"][parents].astype(np.int64)])
            depth[level] = d
        return np.maximum.reduceat(depth, self.roots).astype(np.int32)

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
        return {k: v for k, v in self.__dict__.items() if k not in ("_expected", "_steps")}

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
