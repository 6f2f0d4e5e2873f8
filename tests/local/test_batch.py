"""Batch pricing (`airbnb-price predict`): files cut into blocks at record ends, every row
priced as the endpoint prices it (to the cent, over HTTP) or given the endpoint's reason,
on a Dask LocalCluster; and the fleet's input parsing."""

from __future__ import annotations

import gzip
import itertools

import pandas as pd
import pyarrow as pa
import pytest

from airbnb_price.core import config, features, registry
from airbnb_price.data import listings
from airbnb_price.data.errors import DataSourceError
from airbnb_price.local import batch, cli, fleet
from airbnb_price.ops import httpapi
from airbnb_price.runs import examples

http = httpapi.request


def _tricky_frame(rows: int = 40) -> pd.DataFrame:
    """Listings whose names hold what breaks naive CSV splitting: quoted newlines, doubled
    quotes and commas; ids above 2^53."""
    return pd.DataFrame({
        "id": [str(2**60 + i) for i in range(rows)],
        "name": [f'Loft "{i}",\nnear the canal\r\n' if i % 3 else f"plain {i}"
                 for i in range(rows)],
        "price": [str(100 + i) for i in range(rows)]})


@pytest.mark.parametrize("block_bytes", [1, 37, 200, 10**6])
def test_blocks_end_at_record_ends_whatever_the_quotes(tmp_path, block_bytes):
    path = tmp_path / "listings.csv"
    _tricky_frame().to_csv(path, index=False)
    ranges = list(batch.split(path, block_bytes))
    parts = [batch.read_block(batch.Block(str(path), start, end, "amsterdam", "summary"))
             for start, end in ranges]
    whole = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    read = pd.concat(parts, ignore_index=True).astype({"id": object})  # Arrow's strings
    pd.testing.assert_frame_equal(read, whole)
    assert (len(ranges) == 1) if block_bytes == 10**6 else (len(ranges) > 3)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))  # no gap, no overlap


def test_a_gzip_file_is_one_block(tmp_path):
    path = tmp_path / "listings.csv.gz"
    with gzip.open(path, "wt") as handle:
        _tricky_frame().to_csv(handle, index=False)
    assert list(batch.split(path, 1)) == [(0, None)]


def test_the_city_comes_from_the_flag_or_the_folders(tmp_path):
    assert batch.city_of(tmp_path / "victoria" / "2021-09-29" / "listings.csv", None) == \
        "victoria"
    assert batch.city_of(tmp_path / "x.csv", "albany") == "albany"
    with pytest.raises(DataSourceError, match="pass --city"):
        batch.city_of(tmp_path / "portfolio" / "x.csv", None)


def test_bad_batch_arguments_are_named(tmp_path):
    with pytest.raises(DataSourceError, match=r"\.parquet or \.csv"):
        batch.Writer(tmp_path / "out.txt")
    with pytest.raises(DataSourceError, match="does not exist"):
        batch.blocks([str(tmp_path / "nothing-*.csv")])


def test_the_parquet_writer_keeps_every_value_of_every_part(tmp_path):
    """Texts the same in every row of a part are written through a one-entry dictionary:
    the file still holds each row's value (and a part where one row differs, or one value is
    missing, as it is)."""
    rows = 6
    parts = [batch._frame({"id": [str(2**60 + i) for i in range(rows)], "city": "montréal",
                           "feature_set": "summary", "price": [1.5, None, 3, 4, 5, 6],
                           "currency": ["CAD"] * (rows - 1) + ["EUR"],
                           "model": ["m"] * (rows - 1) + [None]}, rows),
             batch._frame({"id": ["7"], "city": "albany", "error": "no model"}, 1)]
    parts.append(parts[0].astype("string[pyarrow]", errors="ignore").astype(  # as Dask
        {c: float for c in batch.PRICES}))  # hands parts back: pd.NA for missing
    ids = pa.chunked_array([pa.array(["8", None]), pa.array(["9"])])  # as a block reads them
    parts.append(batch._frame({"id": pd.arrays.ArrowExtensionArray(ids), "city": "x"}, 3))
    writer = batch.Writer(tmp_path / "out.parquet")
    for part in parts:
        writer.write(part)
    writer.close()
    written = pd.read_parquet(tmp_path / "out.parquet")
    expected = pd.concat([p.astype(object).astype({c: float for c in batch.PRICES})
                          for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(written, expected.where(expected.notna(), None).astype(
        {c: float for c in batch.PRICES}))
    assert (parts[2].dtypes == "string").sum() >= 5


def test_fleet_cities_parse_from_flags_and_files(tmp_path):
    assert fleet.FleetCity.parse("valencia@2025-03-15") == fleet.FleetCity("valencia",
                                                                           "2025-03-15")
    listed = tmp_path / "cities.txt"
    listed.write_text("# quarterly\namsterdam 2024-09-05\n\nalbany  # newest\n")
    assert fleet.read_cities(listed) == [fleet.FleetCity("amsterdam", "2024-09-05"),
                                         fleet.FleetCity("albany")]
    listed.write_text("a b c d\n")
    with pytest.raises(fleet.FleetError, match="line 1"):
        fleet.read_cities(listed)
    with pytest.raises(fleet.FleetError, match="twice"):
        fleet._labels([fleet.FleetCity("albany", "x"), fleet.FleetCity("albany", "x")])
    with pytest.raises(fleet.FleetError, match="no cities"):
        fleet.run_fleet([])


@pytest.fixture(scope="module")
def batch_store(city_runs, tmp_path_factory):
    """A folder store with Victoria's and Albany's summary and Albany's detailed models,
    and the local endpoint serving it."""
    store = tmp_path_factory.mktemp("batch-store")
    versions = {}
    for city, feature_set in (("victoria", "summary"), ("albany", "summary"),
                              ("albany", "detailed")):
        model_dir = city_runs(city, feature_set) / "model"
        versions[city, feature_set] = registry.publish(registry.open_store(store), model_dir)
    with httpapi.local_endpoint(str(store)) as url:
        yield {"store": str(store), "url": url, "versions": versions}


def _doctored(shared_data, folder) -> tuple:
    """Albany's summary file with four rows changed: three the endpoint refuses (an unseen
    room type, a point outside the city, a stay longer than Airbnb allows) and one it
    prices (a name with quotes, a comma and a newline)."""
    raw = pd.read_csv(shared_data.parent / "albany" / "2024-03-10" / "listings.csv", dtype=str,
                      keep_default_na=False, na_values=[""])
    raw.loc[0, "room_type"] = "Castle"
    raw.loc[1, ["latitude", "longitude"]] = ["10.0", "10.0"]
    raw.loc[2, "minimum_nights"] = "5000"
    raw.loc[3, "name"] = 'The "Capitol" flat,\nsleeps 4'
    path = folder / "albany" / "2024-03-10" / "listings.csv"
    path.parent.mkdir(parents=True)
    raw.to_csv(path, index=False)
    return path, raw


def test_batch_prices_equal_the_endpoints_and_refusals_name_its_reasons(
        batch_store, shared_data, tmp_path):
    doctored, raw = _doctored(shared_data, tmp_path)
    victoria = shared_data.parent / "victoria" / "2021-09-29" / "listings.csv"
    detailed = shared_data.parent / "albany" / "2024-03-10" / "listings.csv.gz"
    out = tmp_path / "priced.parquet"
    assert cli.main(["predict", "--input", str(victoria), str(detailed),
                     str(tmp_path / "*" / "*" / "listings.csv"), "--output", str(out),
                     "--store", batch_store["store"]]) == 0
    priced = pd.read_parquet(out)
    assert list(priced.columns) == list(batch.COLUMNS)
    files = [(detailed, "albany", features.DETAILED), (doctored, "albany", features.SUMMARY),
             (victoria, "victoria", features.SUMMARY)]
    for path, city, chosen in files:
        rows = priced[(priced["city"] == city) & (priced["feature_set"] == chosen.name)]
        rows = rows.reset_index(drop=True)  # positions in the file
        typed = listings.load_listings(path).frame
        assert rows["id"].tolist() == typed["id"].tolist()  # every row, in order, ids as text
        version = batch_store["versions"][city, chosen.name]
        assert set(rows["model_version"]) == {version}
        assert set(rows["currency"]) == {"CAD" if city == "victoria" else "USD"}
        sample = rows[rows["error"].isna()].sample(40, random_state=config.SEED)
        requests = [examples.request_of(typed.iloc[i], chosen, city) for i in sample.index]
        status, body = http(f"{batch_store['url']}/predict", requests)
        assert status == 200, body
        assert [p["price"] for p in body["predictions"]] == sample["price"].tolist()
        assert [p["range"]["low"] for p in body["predictions"]] == sample["price_low"].tolist()
        assert [p["range"]["high"] for p in body["predictions"]] == sample["price_high"].tolist()
        assert (sample["price_low"] < sample["price"]).all()
        assert (sample["price"] < sample["price_high"]).all()

    albany = priced[(priced["city"] == "albany") & (priced["feature_set"] == "summary")]
    albany = albany.reset_index(drop=True)
    assert albany.loc[:2, "error"].notna().all() and albany.loc[:2, "price"].isna().all()
    assert albany.loc[3, "price"] > 0  # the name with quotes and a newline is priced
    assert albany["price"].notna().sum() >= 0.95 * len(raw)  # real rows are priced
    typed = listings.load_listings(doctored).frame
    for row, field in ((0, "room_type"), (1, "latitude"), (2, "minimum_nights")):
        status, body = http(f"{batch_store['url']}/predict",
                            examples.request_of(typed.iloc[row], features.SUMMARY, "albany"))
        assert status == 422
        reason = albany.loc[row, "error"]
        assert reason.startswith(f"{field}: ") and body["errors"][0]["msg"] in reason, reason


def test_batch_writes_csv_and_names_a_missing_model(batch_store, shared_data, tmp_path):
    valencia = shared_data.parent / "valencia" / "2025-03-15" / "listings.csv"
    out = tmp_path / "priced.csv"
    assert cli.main(["predict", "--input", str(valencia), "--output", str(out), "--store",
                     batch_store["store"]]) == 0
    priced = pd.read_csv(out, dtype={"id": str})
    assert len(priced) == len(listings.load_listings(valencia).frame)
    assert priced["price"].isna().all()
    assert priced["error"].str.contains("no model is published for city 'valencia'").all()
