"""Amounts rounded to a currency's minor unit: the vectorised rounding of batch pricing
equals Python's correctly rounded `round`, which the endpoint uses, value for value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airbnb_price.core import cities


def _python(values: np.ndarray, digits: int) -> np.ndarray:
    return np.array([round(float(v), digits) for v in values])


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True)
                and np.array_equal(np.signbit(a), np.signbit(b)))


@pytest.mark.parametrize("digits", [0, 2, 3])
def test_rounded_all_equals_python_round_on_prices_and_halves(digits):
    rng = np.random.default_rng(digits)
    unit = 10.0 ** -digits
    values = np.concatenate([
        rng.lognormal(4.5, 1.2, 200_000),  # prices
        rng.integers(0, 100_000, 20_000) * unit + unit / 2,  # halves of the minor unit
        np.round(rng.uniform(0, 1_000, 20_000), digits + 1),  # one more decimal
        [np.nan, np.inf, -np.inf, 0.0, -0.0, -0.004, 2.675, 0.125, 1.005, 1e15 + 0.5]])
    assert _same(cities.rounded_all(values, digits), _python(values, digits))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1,
                max_size=50), st.sampled_from([0, 2, 3]))
def test_rounded_all_equals_python_round_on_any_floats(values, digits):
    values = np.array(values, dtype=float)
    assert _same(cities.rounded_all(values, digits), _python(values, digits))
