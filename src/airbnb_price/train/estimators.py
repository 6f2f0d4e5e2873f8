"""Fitted scikit-learn and LightGBM objects -> the served model's numpy forms
(`airbnb_price.serve.trees`, `airbnb_price.serve.transforms`).

Each function copies fitted state only; `compiler.compile_pipeline` then checks the whole
artifact against the PyCaret pipeline to the cent, so a conversion that is wrong anywhere is
refused at publish time, never served.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from airbnb_price.serve import transforms
from airbnb_price.serve.trees import MISSING_NAN, MISSING_NONE, MISSING_ZERO, NODE, Linear, Trees

#: Estimators whose predict is X @ coef_ + intercept_.
LINEAR = {"Ridge", "LinearRegression", "Lasso", "ElasticNet", "Lars", "LassoLars",
          "BayesianRidge", "ARDRegression", "HuberRegressor", "OrthogonalMatchingPursuit"}
_MISSING = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}


class Unsupported(TypeError):
    """A fitted object this compiler has no numpy form for."""


def transformer(fitted: Any) -> Any:
    """The numpy form of a fitted scikit-learn transformer."""
    name = type(fitted).__name__
    if name == "SimpleImputer":
        fill = np.asarray(fitted.statistics_)
        empty = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in fill])
        keep = (np.flatnonzero(~empty) if empty.any()
                and not getattr(fitted, "keep_empty_features", False) else None)
        return transforms.Impute(fill.astype(object) if fill.dtype == object else fill, keep)
    if name == "StandardScaler":
        n = len(fitted.scale_ if fitted.scale_ is not None else fitted.mean_)
        return transforms.Affine(fitted.mean_ if fitted.with_mean else np.zeros(n),
                                 fitted.scale_ if fitted.with_std else np.ones(n),
                                 np.ones(n), np.zeros(n))
    if name == "MinMaxScaler":
        n = len(fitted.scale_)
        return transforms.Affine(np.zeros(n), np.ones(n), fitted.scale_, fitted.min_)
    if name == "MaxAbsScaler":
        n = len(fitted.scale_)
        return transforms.Affine(np.zeros(n), fitted.scale_, np.ones(n), np.zeros(n))
    if name == "RobustScaler":
        n = fitted.n_features_in_
        return transforms.Affine(fitted.center_ if fitted.with_centering else np.zeros(n),
                                 fitted.scale_ if fitted.with_scaling else np.ones(n),
                                 np.ones(n), np.zeros(n))
    if name == "PolynomialFeatures":
        return transforms.Polynomial(np.asarray(fitted.powers_))
    if name == "PowerTransformer" and fitted.method == "yeo-johnson":
        scaler = getattr(fitted, "_scaler", None) if fitted.standardize else None
        return transforms.YeoJohnson(np.asarray(fitted.lambdas_, dtype=float),
                                     None if scaler is None else scaler.mean_,
                                     None if scaler is None else scaler.scale_)
    if name == "QuantileTransformer":
        return transforms.Quantile(fitted.quantiles_, fitted.references_,
                                   fitted.output_distribution == "normal")
    raise Unsupported(f"no numpy form for {name}")


def paired(nodes: np.ndarray, cover: np.ndarray, roots: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same trees renumbered breadth-first so that each node's children are adjacent
    (right == left + 1), which lets the evaluator pick a child without a branch."""
    order, new_roots = [], []
    for root in roots:
        new_roots.append(len(order))
        queue = [int(root)]
        order.append(int(root))
        while queue:
            node = queue.pop(0)
            if nodes["feature"][node] >= 0:
                pair = [int(nodes["left"][node]), int(nodes["right"][node])]
                order += pair
                queue += pair
    position = np.empty(len(nodes), dtype=np.int64)
    position[order] = np.arange(len(order))
    out = nodes[order].copy()
    internal = out["feature"] >= 0
    out["left"] = np.where(internal, position[out["left"]], -1)
    out["right"] = np.where(internal, position[out["right"]], -1)
    assert (out["right"][internal] == out["left"][internal] + 1).all()
    return out, cover[order], np.asarray(new_roots, dtype=np.int32)


def _table(rows: list[tuple]) -> np.ndarray:
    table = np.zeros(len(rows), dtype=NODE)
    for i, (threshold, feature, left, right, flags) in enumerate(rows):
        table[i] = (threshold, feature, left, right, flags)
    return table


def _lightgbm_tree(structure: dict, offset: int) -> tuple[list[tuple], list[float], int]:
    """One dumped LightGBM tree as node rows (pre-order, absolute child indices), its cover
    (data counts, what LightGBM's own TreeSHAP uses) and depth."""
    rows: list[tuple] = []
    cover: list[float] = []

    def visit(node: dict, depth: int) -> tuple[int, int]:
        index = offset + len(rows)
        rows.append(())
        if "leaf_value" in node:
            rows[index - offset] = (float(node["leaf_value"]), -1, -1, -1, 0)
            cover.append(float(node.get("leaf_count", 0)))
            return index, depth
        if node["decision_type"] != "<=":
            raise Unsupported(f"LightGBM split {node['decision_type']!r} (categorical splits "
                              "are not compiled; PyCaret one-hot encodes categories)")
        cover.append(float(node["internal_count"]))
        left, left_depth = visit(node["left_child"], depth + 1)
        right, right_depth = visit(node["right_child"], depth + 1)
        flags = int(bool(node["default_left"])) | (_MISSING[node["missing_type"]] << 1)
        rows[index - offset] = (float(node["threshold"]), int(node["split_feature"]), left,
                                right, flags)
        return index, max(left_depth, right_depth)

    _, depth = visit(structure, 0)
    return rows, cover, depth


def _lightgbm(booster: Any) -> Trees:
    dump = booster.dump_model()
    if str(dump.get("objective", "regression")).split()[0] not in ("regression", "huber",
                                                                    "fair", "regression_l1"):
        raise Unsupported(f"LightGBM objective {dump.get('objective')!r} is not compiled")
    rows, cover, roots, depth = [], [], [], 0
    for tree in dump["tree_info"]:
        roots.append(len(rows))
        tree_rows, tree_cover, tree_depth = _lightgbm_tree(tree["tree_structure"], len(rows))
        rows += tree_rows
        cover += tree_cover
        depth = max(depth, tree_depth)
    nodes = _table(rows)
    if dump.get("average_output"):  # boosting="rf": the mean of the trees
        nodes["threshold"][nodes["feature"] < 0] /= len(roots)
    nodes, cover, roots = paired(nodes, np.asarray(cover), np.asarray(roots))
    return Trees(nodes, cover, roots, 0.0, booster.num_feature(), depth, kind="LightGBM")


def _sklearn_trees(trees: list[Any], scale: float, base: float, n_features: int,
                   kind: str) -> Trees:
    """scikit-learn trees (each a fitted `tree_`): leaf values times `scale`, plus `base`."""
    tables, covers, roots, depth, offset = [], [], [], 0, 0
    for fitted in trees:
        tree = fitted.tree_
        leaf = tree.children_left < 0
        table = np.zeros(tree.node_count, dtype=NODE)
        table["threshold"] = np.where(leaf, tree.value[:, 0, 0] * scale, tree.threshold)
        table["feature"] = np.where(leaf, -1, tree.feature)
        table["left"] = np.where(leaf, -1, tree.children_left + offset)
        table["right"] = np.where(leaf, -1, tree.children_right + offset)
        go_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=np.uint8))
        table["flags"] = np.where(leaf, 0, np.asarray(go_left, dtype=np.uint8)
                                  | (MISSING_NAN << 1))
        tables.append(table)
        covers.append(tree.weighted_n_node_samples)
        roots.append(offset)
        depth = max(depth, tree.max_depth)
        offset += tree.node_count
    nodes, cover, roots = paired(np.concatenate(tables),
                                 np.concatenate(covers).astype(float), np.asarray(roots))
    return Trees(nodes, cover, roots, base, n_features, depth, float32_inputs=True, kind=kind)


def estimator(fitted: Any) -> Trees | Linear:
    """The numpy form of the pipeline's final estimator."""
    name = type(fitted).__name__
    if name == "LGBMRegressor":
        return _lightgbm(fitted.booster_)
    if name in ("RandomForestRegressor", "ExtraTreesRegressor"):
        return _sklearn_trees(fitted.estimators_, 1 / len(fitted.estimators_), 0.0,
                              fitted.n_features_in_, name)
    if name == "DecisionTreeRegressor":
        return _sklearn_trees([fitted], 1.0, 0.0, fitted.n_features_in_, name)
    if name == "GradientBoostingRegressor":
        base = float(np.ravel(fitted._raw_predict_init(np.zeros((1, fitted.n_features_in_),
                                                                 dtype=np.float32)))[0])
        return _sklearn_trees(list(fitted.estimators_[:, 0]), fitted.learning_rate, base,
                              fitted.n_features_in_, name)
    if name in LINEAR:
        return Linear(np.asarray(fitted.coef_, dtype=float).ravel(),
                      float(np.ravel(fitted.intercept_)[0]) if np.ndim(fitted.intercept_)
                      else float(fitted.intercept_), kind=name)
    raise Unsupported(f"no compiled form for the estimator {name}")
