"""Sizing a training run: durations, the learning-curve rule and the tuning budget."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from airbnb_price.core.params import BudgetError, RunParams, parse_duration
from airbnb_price.train import budget, training


@pytest.mark.parametrize(("text", "seconds"), [("15m", 900), ("900s", 900), ("1.5h", 5400),
                                               ("90", 90), (120, 120), (None, None),
                                               ("none", None), (" 2 m ", 120)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15 minutes", "-5m", "0", "m", "fast"])
def test_a_bad_duration_is_refused_naming_the_parameter(text):
    with pytest.raises(BudgetError, match="time_budget"):
        parse_duration(text)


def test_full_runs_get_the_default_budget_and_smoke_runs_none():
    assert RunParams(city="albany").resolved().budget_seconds == 15 * 60
    assert RunParams(city="albany", smoke=True).resolved().budget_seconds is None
    assert RunParams(city="albany", time_budget="none").resolved().budget_seconds is None
    with pytest.raises(BudgetError):
        RunParams(city="albany", time_budget="soon").resolved()


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "price": 1.0})


def test_the_learning_curve_stops_where_a_doubling_gains_under_one_percent():
    scores = {4000: 50.0, 8000: 45.0, 16000: 44.8, 32000: 44.0}
    curve = budget.learning_curve(_rows(40_000), _rows(10), lambda train, _: scores[len(train)])
    assert [p["rows"] for p in curve.points] == [4000, 8000, 16000]
    assert curve.rows == 8000 and "8,000 of 40,000" in curve.note(40_000)


def test_a_curve_that_keeps_improving_uses_every_row():
    curve = budget.learning_curve(_rows(10_000), _rows(10), lambda train, _: 1e5 / len(train))
    assert [p["rows"] for p in curve.points] == [4000, 8000, 10_000] and curve.rows == 10_000
    assert curve.note(10_000) == "model selection on all 10,000 training rows"
    small = budget.learning_curve(_rows(300), _rows(10), lambda train, _: 1.0)
    assert small.rows == 300 and len(small.points) == 1


def test_the_split_holds_out_a_fifth_and_is_deterministic():
    train, holdout = budget.split(_rows(1000))
    again, _ = budget.split(_rows(1000))
    assert len(holdout) == 200 and len(train) == 800 and train.index.equals(again.index)
    assert not set(train.index) & set(holdout.index)


def test_tuning_gets_the_iterations_the_budget_pays_for():
    compare = pd.DataFrame({"TT (Sec)": [2.0]}, index=["ridge"])
    sizes = budget.Sizes(5, ["ridge"], 10, 30, None)
    unlimited = budget.Budget(None)
    assert training.tune_iterations(compare, object(), sizes, unlimited, keep=0) == 10
    tight = budget.Budget(time.time() + 100)  # 60% of ~100 s = ~60 s; one iteration = 10 s
    assert training.tune_iterations(compare, object(), sizes, tight, keep=0) in (5, 6)
    assert tight.cuts and tight.cuts[0].startswith("tuned ") and "of 10 iterations: budget" in \
        tight.cuts[0]
    gone = budget.Budget(time.time() - 1)
    assert training.tune_iterations(compare, object(), sizes, gone, keep=0) == 0
