"""What real cities' files hold, on small files made from the shared ones: blank and broken
cells, ids above 2^53, names with quotes, commas, accents and control characters, every
layout since 2019, per-city price windows and centres, and the errors a user gets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from airbnb_price.core import cities, config, features
from airbnb_price.core.params import RunParams
from airbnb_price.data import cleaning, listings, sources, tables
from airbnb_price.data.errors import DataSourceError, SchemaError
from airbnb_price.local import cli
from airbnb_price.runs import examples
from airbnb_price.serve import contract


@pytest.fixture(scope="module")
def data_folder(shared_data):
    return shared_data.parent


def victoria(data_folder, rows: int | None = None) -> pd.DataFrame:
    return pd.read_csv(data_folder / "victoria" / "2021-09-29" / "listings.csv", dtype=str,
                       nrows=rows, keep_default_na=False, na_values=[""])


def test_a_few_blank_cells_are_dropped_by_a_counted_rule(data_folder, tmp_path):
    raw = victoria(data_folder)
    raw.loc[[3, 50, 700], "minimum_nights"] = np.nan
    raw.loc[[9, 70], "calculated_host_listings_count"] = "n/a"
    path = tmp_path / "listings.csv"
    raw.to_csv(path, index=False)
    loaded = listings.load_listings(path)
    assert loaded.rows == len(raw)
    _, report = cleaning.clean(loaded.frame, cleaning.default_rules(40, 700))
    assert report.set_index("rule").loc["drop_invalid_rows", "rows_removed"] == 5


def test_too_many_bad_rows_refuse_the_file_naming_column_count_and_share(data_folder, tmp_path):
    raw = victoria(data_folder, rows=200)
    raw.loc[:19, "minimum_nights"] = np.nan  # 20 of 200 rows: 10%
    path = tmp_path / "listings.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(SchemaError) as error:
        listings.load_listings(path)
    message = str(error.value)
    assert "column 'minimum_nights': 20 rows are blank or not a number (10.0%)" in message
    assert "more than the 5% a file may have" in message
    assert listings.load_listings(path, max_invalid_share=0.2).rows == 200  # a parameter


def test_big_ids_names_and_text_survive_as_written(data_folder, tmp_path):
    raw = victoria(data_folder, rows=300)
    raw.loc[0, "id"] = "1234567890123456789"  # above 2^53: a float would round it
    names = ["L'AMISTAT, \"the\" café", "Tab\there, colon: {x} [y]", "Ünïcödé – ok\x07"]
    raw.loc[1:3, "name"] = names
    path = tmp_path / "listings.csv"
    raw.to_csv(path, index=False)
    frame = listings.load_listings(path).frame
    assert frame.loc[0, "id"] == "1234567890123456789"
    assert frame.loc[1:3, "name"].tolist() == names
    model = contract.contract(features.SUMMARY)
    for index in (1, 2, 3):
        request = examples.request_of(frame.loc[index], features.SUMMARY, "victoria")
        assert json.loads(json.dumps(request))["name"] == names[index - 1].strip()
        model.model_validate(request)


@pytest.mark.parametrize(("city", "file", "layout", "columns"), [
    ("amsterdam", "2021-07-04/listings.csv", "summary", 16),
    ("victoria", "2021-09-29/listings.csv", "summary_ltm", 18),
    ("amsterdam", "2022-01-07/listings.csv.gz", "detailed", 74),
    ("albany", "2024-03-10/listings.csv.gz", "detailed", 75),
    ("valencia", "2025-03-15/listings.csv.gz", "detailed", 79),
])
def test_every_layout_since_2019_loads(data_folder, city, file, layout, columns):
    loaded = listings.load_listings(data_folder / city / file)
    assert loaded.layout == layout and loaded.frame.shape[1] - 1 == columns + (
        layout == "detailed")  # + the bathrooms_shared the detailed typing adds


def test_the_19_column_summary_layout_loads(data_folder, tmp_path):
    raw = victoria(data_folder, rows=50)
    raw.insert(3, "host_profile_id", "1")
    path = tmp_path / "listings.csv"
    raw.to_csv(path, index=False)
    assert listings.load_listings(path).rows == 50


def test_columns_computed_from_price_never_reach_the_model(data_folder):
    frame = listings.load_listings(data_folder / "valencia" / "2025-03-15" / "listings.csv.gz").frame
    assert "estimated_revenue_l365d" in frame
    cleaned, _ = cleaning.clean(frame, cleaning.default_rules(10, 1000, drop_reviews=False))
    assert not set(cleaning.COMPUTED_FROM_PRICE) & set(cleaning.clean(frame, cleaning.default_rules(10, 1000))[0].columns)
    assert not set(cleaning.COMPUTED_FROM_PRICE) & set(cleaned.columns)


def test_price_windows_per_city(data_folder):
    run = tables.load_run(RunParams(city="victoria", data_folder=str(data_folder)))
    assert run.window_rule.startswith("1st-99th percentile") and run.city.currency == "CAD"
    assert (run.params.min_price, run.params.max_price) == (41.0, 730.0)
    amsterdam = tables.load_run(RunParams(listings=str(
        data_folder / "amsterdam" / "2021-07-04" / "listings.csv")))
    assert (amsterdam.params.min_price, amsterdam.params.max_price) == (25.0, 500.0)
    assert amsterdam.window_rule == "catalogue"
    given = tables.load_run(RunParams(city="albany", data_folder=str(data_folder), max_price=400))
    assert given.params.max_price == 400 and given.window_rule == "given"


def test_the_data_folder_gives_a_citys_newest_snapshot(data_folder):
    source = sources.resolve_source(None, "amsterdam", data_folder=data_folder, environ={})
    assert (source.snapshot, source.snapshot_origin) == ("2024-09-05",
                                                         "newest in the data folder")
    given = sources.resolve_source(None, "amsterdam", "2021-07-04", data_folder=data_folder)
    assert given.path.parent.name == "2021-07-04" and given.snapshot_origin == "given"
    detailed = sources.resolve_source(None, "albany", data_folder=data_folder, environ={},
                                      file=config.DETAILED_FILE)
    assert detailed.path.name == "listings.csv.gz" and detailed.snapshot == "2024-03-10"


def test_a_city_outside_the_catalogue_gets_a_derived_centre(data_folder, tmp_path):
    path = tmp_path / "springfield" / "2024-01-01" / "listings.csv"
    path.parent.mkdir(parents=True)
    victoria(data_folder).to_csv(path, index=False)
    run = tables.load_run(RunParams(listings=str(path), city="springfield"))
    assert not run.city.in_catalogue and run.city.currency == "unknown"
    assert run.city.centre.source == "densest cell of listings"
    dam = cities.lookup("victoria").centre  # the listings are Victoria's: centre downtown
    assert abs(run.city.centre.lat - dam.lat) < 0.02 and abs(run.city.centre.lon - dam.lon) < 0.02
    assert run.params.snapshot == "2024-01-01"  # from the path
    priced = tables.load_run(RunParams(listings=str(path), city="springfield", currency="cad"))
    assert priced.city.currency == "CAD"


def test_a_city_name_is_checked_against_the_catalogue(capsys):
    assert cli.main(["run", "--city", "amsterdm"]) == 2
    err = capsys.readouterr().err
    assert "unknown city 'amsterdm'; did you mean amsterdam?" in err and "Traceback" not in err
    with pytest.raises(DataSourceError, match="did you mean victoria"):
        sources.listings_url("victoira", "2021-09-29")


def test_a_city_too_small_to_model_is_named_before_any_run(data_folder, tmp_path, capsys):
    raw = victoria(data_folder, rows=60)
    path = tmp_path / "listings.csv"
    raw.to_csv(path, index=False)
    runs = tmp_path / "runs"
    assert cli.main(["run", "--listings", str(path), "--city", "victoria",
                     "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "listings after cleaning are too few to model" in err and "Traceback" not in err
    assert not runs.exists() or not list(runs.iterdir())


def test_small_cities_get_fewer_folds_and_say_so():
    from airbnb_price.train import budget

    assert budget.sizes(False, 10_000).folds == 5
    small = budget.sizes(False, 290)
    assert small.folds == 3 and small.folds_note == "3 folds instead of 5: 290 listings"
    with pytest.raises(budget.TooSmall, match="too few"):
        budget.sizes(False, 40)


def test_catalogue_has_every_shared_city_and_forty_more(data_folder):
    assert {"amsterdam", "victoria", "valencia", "albany"} <= set(cities.CATALOGUE)
    assert len(cities.CATALOGUE) >= 40
    for city in cities.CATALOGUE.values():
        assert len(city.currency) == 3 and city.path.count("/") == 2
        assert -90 <= city.centre.lat <= 90 and -180 <= city.centre.lon <= 180
        assert city.centre.name and city.centre.source == "catalogue"
    for name in ("victoria", "valencia", "albany", "amsterdam"):
        frame = listings.load_listings(min((data_folder / name).glob("*/listings.csv"))).frame
        centre = cities.lookup(name).centre
        distance = features.haversine_km(frame["latitude"], frame["longitude"], centre.lat,
                                         centre.lon)
        assert np.median(distance) < 10, name  # the landmark sits among the city's listings


def test_another_citys_file_is_refused_with_its_distance(data_folder, capsys):
    amsterdam = data_folder / "amsterdam" / "2021-07-04" / "listings.csv"
    with pytest.raises(DataSourceError, match=r"median [\d,]+ km from victoria's centre"):
        tables.load_run(RunParams(listings=str(amsterdam), city="victoria"))


def test_each_city_gets_its_own_neighbourhoods_file(data_folder, monkeypatch):
    """Beside its snapshots; a map of another city ($AIRBNB_NEIGHBOURHOODS left pointing at
    Amsterdam's) covers none of the listings and is not used."""
    monkeypatch.setenv(config.NEIGHBOURHOODS_ENV, str(data_folder / "amsterdam" / "neighbourhoods.geojson"))
    run = tables.load_run(RunParams(city="victoria", data_folder=str(data_folder)))
    assert run.neighbourhoods() == str(data_folder / "victoria" / "neighbourhoods.geojson")
    elsewhere = tables.load_run(RunParams(listings=str(
        data_folder / "amsterdam" / "2021-07-04" / "listings.csv")))
    assert elsewhere.neighbourhoods().endswith("amsterdam/neighbourhoods.geojson")
    with pytest.raises(DataSourceError, match="does not cover victoria's listings"):
        run.neighbourhoods(str(data_folder / "albany" / "neighbourhoods.geojson"))
