"""A run parameter is declared once (core/params.RunParams): the CLI's arguments and the
notebooks' parameters come from that declaration."""

import ast
import json
from dataclasses import fields
from pathlib import Path

import pytest

from airbnb_price.core import config
from airbnb_price.core.params import RunParams
from airbnb_price.local import arguments, cli

NOTEBOOKS = sorted((config.PROJECT_ROOT / "notebooks").glob("0*.ipynb"))
#: Parameters a notebook has that are not the run's (where its folder is; 03's sizes and
#: preset; 05's deploy target), and two run parameters whose notebook default differs on
#: purpose: smoke (True: an interactive session starts quick) and time_budget (03: the time
#: left, which the runner computes).
NOTEBOOK_OWN = {"output_dir", "neighbourhoods", "folds", "include", "tune_iterations", "preset",
                "store", "stage", "region", "bucket", "model_version", "dry_run", "smoke",
                "time_budget"}


def parameters_cell(path: Path) -> dict[str, object]:
    """The names and literal values of a notebook's `parameters` cell."""
    cells = json.loads(path.read_text())["cells"]
    (source,) = ["".join(c["source"]) for c in cells
                 if "parameters" in c.get("metadata", {}).get("tags", [])]
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(source).body if isinstance(node, ast.Assign)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_parameter_is_a_run_parameter_or_its_own(path: Path) -> None:
    declared = parameters_cell(path)
    run_fields = {f.name: f.default for f in fields(RunParams)}
    assert set(declared) <= set(run_fields) | NOTEBOOK_OWN, path.name
    for name, value in declared.items():
        if name in run_fields and name not in NOTEBOOK_OWN:
            assert value == run_fields[name], f"{path.name}: {name} = {value!r}, not RunParams'"


def test_every_run_parameter_reaches_the_command_line() -> None:
    parser = arguments.build_parser()
    args = parser.parse_args(["run", "--listings", "l.csv", "--city", "victoria", "--snapshot",
                              "2024-03-23", "--feature-set", "detailed", "--data-folder", "d",
                              "--currency", "cad", "--smoke", "--min-price", "40",
                              "--max-price", "700", "--compare-listings", "c.csv",
                              "--compare-snapshot", "2024-06-01", "--time-budget", "5m"])
    params = cli._run_params(args)
    assert params == RunParams(listings="l.csv", city="victoria", snapshot="2024-03-23",
                               feature_set="detailed", data_folder="d", currency="cad",
                               smoke=True, min_price=40.0, max_price=700.0,
                               compare_listings="c.csv", compare_snapshot="2024-06-01",
                               time_budget="5m")
    assert {f.name for f in fields(RunParams)} == {
        name for name, value in vars(args).items() if name in {f.name for f in fields(RunParams)}}
    fleet = parser.parse_args(["fleet", "--city", "albany", "--smoke", "--time-budget", "2m"])
    assert (fleet.smoke, fleet.time_budget, fleet.feature_set) == (True, "2m", None)


def test_a_notebook_namespace_makes_run_params() -> None:
    namespace = {"city": "albany", "min_price": 30, "output_dir": "x", "shap": object()}
    assert RunParams.of(namespace) == RunParams(city="albany", min_price=30)
