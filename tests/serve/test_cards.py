"""Airbnb's listing card in `name` (files of about 2023 to early 2024): read in training and at
the endpoint, recognised per file and per request, ordinary titles unchanged."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from airbnb_price.core import config, features, registry, text_features
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables
from airbnb_price.local import cli
from airbnb_price.ops import httpapi

AUSTIN = config.PROJECT_ROOT.parent / "shared" / "data" / "austin" / "2023-09-10" / "listings.csv"


@pytest.mark.parametrize(("name", "facts"), [
    ("Rental unit in Austin · ★4.85 · 2 bedrooms · 3 beds · 1.5 shared baths",
     ("Rental unit", 2, 3, 1.5, 1, 4.85)),
    ("Home in Austin · ★New · Studio · 1 bed · Half-bath", ("Home", 0, 1, 0.5, 0, math.nan)),
    ("Condo in Austin · 1 bedroom · 1 bed · Shared half-bath", ("Condo", 1, 1, 0.5, 1, math.nan)),
    ("Guest suite in Lisboa · ★5.0 · 1 bedroom · 1 bed · 1 private bath",
     ("Guest suite", 1, 1, 1, 0, 5.0)),
    ("Loft in Paris · 2 beds", ("Loft", math.nan, 2, math.nan, math.nan, math.nan)),
])
def test_a_card_is_read_whole(name, facts):
    card = text_features.parse_card(name)
    assert card["card_property_type"] == facts[0]
    numbers = [card[c] for c in (*text_features.CARD_FEATURES[1:], text_features.CARD_RATING)]
    np.testing.assert_equal(numbers, [float(f) for f in facts[1:]])


@pytest.mark.parametrize("name", ["Cozy studio in the Jordaan · near Dam", "2 bed flat in Soho",
                                  "Rental unit in Austin", "", None, "Sunny loft · 2 beds"])
def test_an_ordinary_title_is_no_card(name):
    assert text_features.parse_card(name) is None


def test_a_file_of_cards_adds_the_card_columns_and_a_file_of_titles_does_not(listings_path):
    austin = tables.prepare(RunParams(listings=str(AUSTIN), city="austin")).table
    amsterdam = tables.prepare(RunParams(listings=str(listings_path))).table
    assert set(text_features.CARD_FEATURES) <= set(austin.columns)
    assert text_features.CARD_RATING not in austin  # the summary model reads no reviews
    assert not {c for c in amsterdam.columns if c.startswith("card_")}
    assert austin["card_beds"].notna().mean() > 0.95
    assert (austin.loc[austin["card_bedrooms"] == 0, "card_beds"].dropna() >= 1).all()  # studios


@pytest.fixture(scope="module")
def austin_store(tmp_path_factory):
    """Austin's smoke model, trained without a kernel and published to a folder store."""
    runs = tmp_path_factory.mktemp("austin-runs")
    assert cli.main(["train", "--smoke", "--city", "austin", "--listings", str(AUSTIN),
                     "--runs-dir", str(runs)]) == 0
    (run_dir,) = runs.iterdir()
    store = tmp_path_factory.mktemp("austin-store")
    registry.publish(registry.open_store(str(store)), run_dir / "model")
    return run_dir, str(store)


def test_the_endpoint_reads_a_card_in_name(austin_store):
    run_dir, store = austin_store
    metadata = json.loads((run_dir / "model" / "metadata.json").read_text())
    assert features.reads_cards(metadata["input_columns"])
    listing = json.loads((run_dir / "example.json").read_text())  # a typical Austin card
    small = "Home in Austin · ★4.9 · 1 bedroom · 1 bed · 1 shared bath"
    large = "Home in Austin · ★4.9 · 5 bedrooms · 8 beds · 4.5 baths"
    with httpapi.local_endpoint(store) as url:
        prices = {}
        for label, name in (("small", small), ("large", large), ("title", "Sunny home")):
            status, body = httpapi.request(f"{url}/predict", listing | {"name": name})
            assert status == 200, body
            prices[label] = body["predictions"][0]["price"]
    assert prices["large"] > prices["small"] * 1.3, prices  # the card's rooms move the price
    assert prices["title"] > 0  # an ordinary title still prices (the card's facts imputed)
