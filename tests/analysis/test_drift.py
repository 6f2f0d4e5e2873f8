"""Snapshot drift (notebook 06) on the real 2021-07-04 and 2024-09-05 Amsterdam files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from airbnb_price.analysis import drift
from airbnb_price.core import cities, config
from airbnb_price.core.params import RunParams
from airbnb_price.data import sources
from airbnb_price.local import cli, runner


@pytest.fixture(scope="module")
def frames(shared_data):
    files = {"2021-07-04": sources.Source(shared_data / "2021-07-04" / "listings.csv", "test"),
             "2024-09-05": sources.Source(shared_data / "2024-09-05" / "listings.csv", "test")}
    return drift.load_snapshots(files, *cities.lookup("amsterdam").price_window)


def test_counts_after_the_same_cleaning(frames):
    table = drift.counts(frames)
    assert table.loc["all listings"].tolist() == [16_436, 5_397]
    assert table.loc["Entire home/apt", "2024-09-05"] == 3_929


def test_median_price_change(frames):
    table = drift.median_price_by(frames, "room_type")
    assert table.loc["Entire home/apt"].tolist() == [140.0, 248.0, 77.1]
    assert list(table.index[:1]) == ["Entire home/apt"], "sorted by the first snapshot"


def test_old_model_underprices_the_new_snapshot(frames):
    scores = drift.cross_scores(frames, cities.lookup("amsterdam")).set_index(
        ["trained_on", "scored_on"])
    old_on_new = scores.loc[("2021-07-04", "2024-09-05")]
    new_on_new = scores.loc[("2024-09-05", "2024-09-05")]
    assert old_on_new["bias"] < -50 and old_on_new["mae"] > new_on_new["mae"]
    assert set(scores["currency"]) == {"EUR"}
    assert scores["rows"].tolist() == [3288, 1080, 3288, 1080]
    text = drift.verdict(scores.reset_index())
    assert text.startswith("A model trained on 2021-07-04 underprices 2024-09-05")
    assert text.endswith("retrain before pricing 2024-09-05 listings.")


def test_verdict_without_drift():
    scores = pd.DataFrame({"trained_on": ["a", "a", "b", "b"], "scored_on": ["a", "b", "a", "b"],
                           "mae": [40.0, 41.0, 41.0, 40.0], "bias": [0.0, 2.0, -2.0, 0.0],
                           "currency": ["EUR"] * 4, "rows": [1, 1, 1, 1]})
    assert drift.verdict(scores).endswith("overprices b listings by EUR 2 on average (MAE EUR "
                                          "41, against EUR 40 for a model trained on b itself): "
                                          "no retraining needed yet.")


def test_run_includes_drift_only_with_a_second_snapshot():
    assert runner.DRIFT_NOTEBOOK not in runner.notebooks_for(RunParams())
    assert runner.notebooks_for(RunParams(compare_snapshot="2024-09-05"))[-1] == "06_drift.ipynb"


@pytest.mark.slow
def test_drift_notebook_runs_headless(tmp_path, listings_path, shared_data):
    other = shared_data / "2024-09-05" / "listings.csv"
    runs = tmp_path / "runs"
    assert cli.main(["run", "--listings", str(listings_path), "--compare-listings", str(other),
                     "--notebooks", runner.DRIFT_NOTEBOOK, "--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["parameters"]["compare_listings"] == str(other)
    assert record["parameters"]["compare_snapshot"] == config.COMPARE_SNAPSHOT
    result = json.loads((run_dir / "drift.json").read_text())
    assert result["verdict"].startswith("A model trained on 2021-07-04 underprices")
    assert (run_dir / "reports" / "06_drift.html").is_file()
    assert (run_dir / "figures" / "drift_price_by_neighbourhood.png").is_file()


def test_missing_second_snapshot_fails_before_a_run(tmp_path, listings_path, capsys):
    runs = tmp_path / "runs"
    code = cli.main(["run", "--listings", str(listings_path), "--compare-listings",
                     str(tmp_path / "nope.csv"), "--runs-dir", str(runs)])
    assert code == 2 and "nope.csv (from argument) does not exist" in capsys.readouterr().err
    assert not runs.exists() or not list(runs.iterdir())


def test_drift_is_measured_from_the_citys_own_centre_in_its_currency(shared_data):
    """Victoria's snapshot against itself: distances from Victoria's centre (a few km, not
    the ~7,800 km to Dam Square) and every figure and sentence in CAD."""
    victoria = shared_data.parent / "victoria" / "2021-09-29" / "listings.csv"
    frames = drift.load_snapshots({"a": sources.Source(victoria, "test"),
                                   "b": sources.Source(victoria, "test")}, 40, 700)
    city = cities.lookup("victoria")
    from airbnb_price.core import features

    table = features.feature_table(frames["a"], centre=city.centre)
    assert table["distance_to_centre_km"].median() < 20
    scores = drift.cross_scores(frames, city)
    assert set(scores["currency"]) == {"CAD"}
    assert " CAD " in drift.verdict(scores) and "EUR" not in drift.verdict(scores)
