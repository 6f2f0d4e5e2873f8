"""The engine's vectorised checks against the pydantic contract (the endpoint's own), on every
row of every shared file and on generated rows; training rows never refused by their own
model's rules; the compiled evaluator's library links only old glibc symbols."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from examples import RULES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airbnb_price.core import config, features, geo, registry, spec
from airbnb_price.data import cleaning, listings
from airbnb_price.runs import examples
from airbnb_price.serve import checks, engine, trees

DATA = config.PROJECT_ROOT.parent / "shared" / "data"
FILES = sorted(p for p in DATA.glob("*/*/listings.csv*"))


def served_for(model: spec.ModelSpec, schema: dict, city_map: Path | None) -> engine.ServedModel:
    """A served model with the given training schema and map (no estimator: checks only)."""
    neighbourhoods = geo.load_map(city_map.read_bytes(), str(city_map)) if city_map else None
    loaded = registry.LoadedModel("test", None, {"inputs": schema, "city": model.city})
    return engine.ServedModel.build(loaded, model, neighbourhoods)


def typed_rows(path: Path):
    raw = listings.read_listings(path)
    typed, _ = listings.validate(raw, path, max_invalid_share=1.0)
    return typed


def schema_of(frame) -> dict:
    """What a model trained on `frame` would have seen: its levels and coordinate box."""
    return {"levels": {c: sorted(frame[c].dropna().astype(str).str.strip().unique())
                       for c in ("room_type",) if c in frame},
            "ranges": {c: [float(frame[c].min()), float(frame[c].max())]
                       for c in ("latitude", "longitude")}}


def verdicts(served: engine.ServedModel, frame, city: str) -> tuple[np.ndarray, np.ndarray]:
    """(the engine's vectorised verdicts, the contract's row by row) on the same rows."""
    fast = served.check(examples.columns_of(frame, served.spec.feature_set))
    _, kept, _ = served.validate(examples.requests_of(frame, served.spec.feature_set, city))
    slow = np.zeros(len(frame), dtype=bool)
    slow[kept] = True
    return fast, slow


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: "/".join(p.parts[-3:]))
def test_vectorised_checks_equal_the_contract_on_every_row(path):
    """Every row of every shared file, raw (invalid rows included), against a model trained
    on another city's levels (many refusals) and on the file's own, with and without its map."""
    frame = typed_rows(path)
    city = path.parts[-3]
    city_map = DATA / city / "neighbourhoods.geojson"
    kinds = ["summary", "detailed", "existing"] if path.suffix == ".gz" else ["summary"]
    for kind in kinds:
        model = spec.get(city, kind)
        for schema, mapped in ((schema_of(frame), city_map if city_map.is_file() else None),
                               ({"levels": {"room_type": ["Private room"]}}, None)):
            fast, slow = verdicts(served_for(model, schema, mapped), frame, city)
            differ = np.flatnonzero(fast != slow)
            assert not len(differ), (kind, differ[:5], frame.iloc[differ[:3]].to_dict("records"))


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=lambda p: "/".join(p.parts[-3:]))
def test_a_training_row_is_never_refused_by_its_own_rules(path):
    """Rows the cleaning keeps pass the contract of every feature set the file feeds, with
    the levels and box a model trained on them has (one set of bounds for both sides)."""
    frame = typed_rows(path)
    kept, _ = cleaning.clean(frame, [("drop_invalid_rows", {})])
    city = path.parts[-3]
    kinds = ["summary", "detailed", "existing"] if path.suffix == ".gz" else ["summary"]
    for kind in kinds:
        served = served_for(spec.get(city, kind), schema_of(kept), None)
        columns = examples.columns_of(kept, served.spec.feature_set)
        columns.setdefault("neighbourhood", np.full(len(kept), "x", dtype=object))
        ok = served.check(columns)
        assert ok.all(), kept.iloc[np.flatnonzero(~ok)[:3]].to_dict("records")


def _value(rule: checks.Rule) -> st.SearchStrategy:
    """Values around each bound of a rule, missing values and wrong types included."""
    if rule.kind in (int, float):
        edges = [v for b in (rule.ge, rule.le) if b is not None for v in (b - 1, b, b + 0.5)]
        return st.one_of(st.none(), st.sampled_from(edges), st.integers(-5, 2_000),
                         st.floats(allow_nan=False, allow_infinity=True, width=32))
    if rule.kind is str:
        return st.one_of(st.none(), st.sampled_from(["", " ", "Private room", " Private room ",
                                                     "x" * 101, "Entire home/apt"]),
                         st.text(max_size=8))
    if rule.kind is bool:
        return st.one_of(st.none(), st.booleans())
    return st.one_of(st.none(), st.lists(st.sampled_from(["Wifi", "Kitchen"]), max_size=3))


def test_without_a_map_a_row_must_give_its_neighbourhood():
    """A model served without a map cannot place a listing: the vectorised checks refuse the
    rows that give no neighbourhood, as the contract does, and keep the one that gives it."""
    import pandas as pd

    model = spec.get("amsterdam", "summary")
    served = served_for(model, {"levels": {"room_type": ["Private room"]}}, None)
    row = model.example() | {"room_type": "Private room"}
    rows = [row, row | {"neighbourhood": None}, row | {"neighbourhood": ""},
            row | {"neighbourhood": "  "}, {k: v for k, v in row.items() if k != "neighbourhood"}]
    fast, slow = verdicts(served, pd.DataFrame(rows), "amsterdam")
    assert fast.tolist() == slow.tolist() == [True, False, False, False, False]


@pytest.mark.parametrize("kind", list(features.FEATURE_SETS))
def test_vectorised_checks_equal_the_contract_on_generated_rows(kind):
    import pandas as pd

    model = spec.get("amsterdam", kind)
    served = served_for(model, {"levels": {"room_type": ["Private room", "Entire home/apt"]},
                                "ranges": {"latitude": [52.2, 52.5],
                                           "longitude": [4.7, 5.1]}}, None)
    row = st.fixed_dictionaries({c: _value(r) for c, r in served.rules.items()})

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(row, min_size=1, max_size=20))
    def check(rows):
        frame = pd.DataFrame(rows)
        fast, slow = verdicts(served, frame, "amsterdam")
        assert (fast == slow).all(), frame[fast != slow].to_dict("records")

    check()


@pytest.mark.slow  # its runs come by name (getfixturevalue), which the slow marking misses
@pytest.mark.parametrize("run", ["smoke_run", "detailed_run"])
def test_validated_listings_give_the_features_their_raw_columns_give(run, request, tmp_path):
    """`listings` types the contract's values straight into the model's columns (`Filled`,
    which `features` does not fill again), and so does `accepted` for the same rows as
    columns: the same features as the items' raw values filled by the rules, on generated
    listings the contract accepts (optional fields left out, text with surrounding spaces,
    every kind of column)."""
    import strategies

    from airbnb_price.serve import cache

    model_dir = request.getfixturevalue(run) / "model"
    store = tmp_path / "store"
    registry.publish(registry.open_store(str(store)), model_dir)
    model = spec.of_metadata(registry.run_metadata(model_dir))
    served = cache.Models(str(store)).get(model)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(strategies.valid_listings(model, served.schema), min_size=1, max_size=10))
    def check(items):
        _, kept, _ = served.validate(items)  # outside every neighbourhood: refused
        if not kept:
            return
        raw = {column: np.empty(len(kept), dtype=object) for column in served.rules}
        for row, i in enumerate(kept):
            for column, values in raw.items():
                values[row] = items[i].get(column)  # a list stays one cell
        mine = served.features(served.listings([items[i] for i in kept]))
        theirs = served.features(raw)
        ok, accepted = served.accepted(raw)  # batch's path: the checks' columns, filled
        assert ok.all()
        checked = served.features(accepted)
        for column in served.model.input_columns:  # what the model reads (the amenities'
            # items themselves differ: the contract strips them, amenity_list does for both)
            np.testing.assert_array_equal(mine[column], theirs[column], err_msg=column)
            np.testing.assert_array_equal(checked[column], theirs[column], err_msg=column)
    check()


@pytest.mark.parametrize("library", ["trees", "text"])
def test_compiled_library_needs_no_glibc_newer_than_lambdas(library):
    """The evaluator and the text scans load on every Lambda Python runtime: Amazon Linux 2
    (glibc 2.26) and 2023 (2.34). Their needed symbol versions, read from the built libraries
    themselves (the text scans call no libc at all)."""
    from airbnb_price.core import text_features

    path = trees.library()._name if library == "trees" else text_features._library()._name
    symbols = subprocess.run(["objdump", "-T", path], capture_output=True, text=True,
                             check=True).stdout
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_([\d.]+)", symbols)}
    assert (versions or library == "text") and max(versions, default=()) <= (2, 26), versions
    flags = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path],
                           capture_output=True, text=True, check=True).stdout
    assert "zmm" not in flags  # no AVX-512 from a -march=native build


def test_prices_are_answered_in_the_currency_s_own_minor_unit(model_dir, tmp_path):
    """A yen has no cents: 11,740 JPY, not 11740.41; a dinar has three decimals."""
    import dataclasses

    from airbnb_price.core import cities
    from airbnb_price.serve import cache

    store = tmp_path / "store"
    registry.publish(registry.open_store(str(store)), model_dir)
    served = cache.Models(str(store)).get(spec.get("amsterdam", "summary"))
    listing = examples.typical_request(
        cleaning.clean(listings.load_listings(
            registry.run_metadata(model_dir)["data"]["path"]).frame, RULES)[0],
        features.SUMMARY, "amsterdam")
    columns = served.listings([listing])
    for currency, digits in (("JPY", 0), ("KWD", 3), ("EUR", 2)):
        other = dataclasses.replace(served, city=dataclasses.replace(served.city,
                                                                     currency=currency))
        (item,) = other.answer(columns, explain=True)["predictions"]
        for amount in (item["price"], item["base"], item["range"]["low"],
                       *(c["value"] for c in item["contributions"])):
            assert round(amount, digits) == amount, (currency, amount)
            assert isinstance(amount, int) == (digits == 0)
        assert cities.minor_digits(currency) == digits
    assert cities.money(11740.41, "JPY") == "11,740 JPY"


def test_an_arrow_table_is_checked_and_priced_as_the_same_columns(model_dir, tmp_path):
    """A user's Arrow table (here read from Parquet, with nulls and int64 columns) gets the
    verdicts and prices of the same rows as numpy columns, neighbourhoods left blank found on
    the map even though `check` cannot fill an Arrow table in place."""
    import pyarrow.parquet as pq

    from airbnb_price.serve import cache

    store = tmp_path / "store"
    registry.publish(registry.open_store(str(store)), model_dir)
    served = cache.Models(str(store)).get(spec.get("amsterdam", "summary"))
    frame = typed_rows(Path(registry.run_metadata(model_dir)["data"]["path"])).head(600).copy()
    frame.loc[frame.index[:50], "neighbourhood"] = None
    inputs = [c for c in features.SUMMARY.input_columns if c in frame]
    frame[inputs].to_parquet(tmp_path / "rows.parquet", index=False)
    arrow = pq.read_table(tmp_path / "rows.parquet")
    columns = examples.columns_of(frame, features.SUMMARY)
    ok = served.check(columns)
    assert ok.sum() > 500 and (served.check(arrow) == ok).all()
    rows = np.flatnonzero(ok)
    expected = served.price({c: v[rows] for c, v in columns.items()})
    priced = served.price(arrow.take(rows))
    np.testing.assert_array_equal(priced, expected)
