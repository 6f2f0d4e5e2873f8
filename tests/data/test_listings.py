from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from examples import RULES
from hypothesis import given, settings
from hypothesis import strategies as st

from airbnb_price.core import config, features
from airbnb_price.core.params import RunParams
from airbnb_price.data import cleaning, listings, sources, tables

HEADER = ("id,name,host_id,host_name,neighbourhood_group,neighbourhood,latitude,longitude,"
          "room_type,price,minimum_nights,number_of_reviews,last_review,reviews_per_month,"
          "calculated_host_listings_count,availability_365")
ROW = "1,Nice,2,Ann,,Centrum-West,52.37,4.89,Private room,{price},3,10,2020-01-01,0.5,1,100"


def write(tmp_path: Path, text: str, name: str = "listings.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def good_csv(rows: int = 3, price: str = "120") -> str:
    return "\n".join([HEADER] + [ROW.format(price=price)] * rows) + "\n"


def test_valid_file_loads_with_checksum(tmp_path):
    loaded = listings.load_listings(write(tmp_path, good_csv()))
    assert loaded.rows == 3 and loaded.layout == "summary"
    assert len(loaded.sha256) == 64
    assert loaded.frame["price"].tolist() == [120.0] * 3


def test_missing_column_is_named(tmp_path):
    text = good_csv().replace("availability_365", "avail")
    with pytest.raises(listings.SchemaError, match=r"listings.csv.*missing.*availability_365"):
        listings.load_listings(write(tmp_path, text))


def test_empty_file(tmp_path):
    with pytest.raises(listings.SchemaError, match=r"listings.csv: file is empty"):
        listings.load_listings(write(tmp_path, ""))


def test_header_only(tmp_path):
    with pytest.raises(listings.SchemaError, match="header but no rows"):
        listings.load_listings(write(tmp_path, HEADER + "\n"))


def test_truncated_row_names_column_and_count(tmp_path):
    text = good_csv()[:-30]  # cut inside the last row: its trailing fields are gone
    with pytest.raises(listings.SchemaError, match=r"'availability_365': 1 rows are blank"):
        listings.load_listings(write(tmp_path, text))


def test_truncated_inside_quotes(tmp_path):
    text = good_csv() + '5,"Unclosed name'
    with pytest.raises(listings.SchemaError, match=r"listings.csv: not a readable CSV"):
        listings.load_listings(write(tmp_path, text))


def test_wrong_delimiter(tmp_path):
    text = good_csv().replace(",", ";")
    with pytest.raises(listings.SchemaError, match=r"delimiter"):
        listings.load_listings(write(tmp_path, text))


def test_non_numeric_price_counts_rows(tmp_path):
    text = good_csv(rows=2) + ROW.format(price="cheap") + "\n" + ROW.format(price="n/a") + "\n"
    with pytest.raises(listings.SchemaError, match=r"'price': 2 rows are not a number \(e.g. 'cheap'\)"):
        listings.load_listings(write(tmp_path, text))


def test_latitude_out_of_range(tmp_path):
    text = good_csv(rows=1) + ROW.format(price="1").replace("52.37", "152.37") + "\n"
    with pytest.raises(listings.SchemaError, match=r"'latitude': 1 rows outside"):
        listings.load_listings(write(tmp_path, text))


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "listings.csv.gz"
    path.write_bytes(gzip.compress(good_csv().encode())[:40])
    with pytest.raises(listings.SchemaError, match=r"listings.csv.gz"):
        listings.load_listings(path)


def test_parse_price_both_forms():
    parsed = listings.parse_price(pd.Series(["120", "$1,234.00", " $80.50 ", None, "abc"]))
    assert parsed.iloc[:3].tolist() == [120.0, 1234.0, 80.5]
    assert parsed.iloc[3:].isna().all()


def test_resolution_order(tmp_path):
    arg, env = write(tmp_path, good_csv(), "arg.csv"), write(tmp_path, good_csv(), "env.csv")
    environ = {config.LISTINGS_ENV: str(env)}
    assert sources.resolve_source(arg, environ=environ).origin == "argument"
    assert sources.resolve_source(None, environ=environ).path == env
    cached = sources.cache_path("amsterdam", "2021-07-04", tmp_path / "cache")
    cached.parent.mkdir(parents=True)
    cached.write_text(good_csv())
    source = sources.resolve_source(None, environ={}, cache_dir=tmp_path / "cache")
    assert (source.origin, source.path) == ("cache", cached)


def test_missing_explicit_file_is_named(tmp_path):
    with pytest.raises(sources.DataSourceError, match=r"nope.csv \(from argument\) does not exist"):
        sources.resolve_source(tmp_path / "nope.csv", environ={})


def test_offline_without_cache_says_what_was_tried(tmp_path, monkeypatch):
    # Port 9 (discard) on loopback refuses at once: a download that cannot succeed.
    monkeypatch.setattr(config, "INSIDE_AIRBNB_URL", "http://127.0.0.1:9/{path}/{snapshot}.csv")
    with pytest.raises(sources.DataSourceError) as err:
        sources.resolve_source(None, environ={}, cache_dir=tmp_path)
    message = str(err.value)
    for expected in ("AIRBNB_LISTINGS: not set", "cache:", "download of http://127.0.0.1:9",
                     "--listings PATH"):
        assert expected in message
    assert not list(tmp_path.rglob("*.part")), "a failed download must not leave a partial file"


def test_download_from_local_server(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    (tmp_path / "srv").mkdir()
    write(tmp_path / "srv", good_csv(), "listings.csv")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp_path / "srv")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/listings.csv"
        source = sources.resolve_source(url, environ={}, cache_dir=tmp_path / "cache")
    finally:
        server.shutdown()
    assert source.origin == "argument" and source.url == url
    assert listings.load_listings(source).rows == 3


def test_cleaning_counts_on_real_file(listings_path):
    loaded = listings.load_listings(listings_path)
    assert loaded.sha256 == "fd2b36e988db41dfa6531d2584fbf5e93ad212a58451be29f4956d5c0794f4a1"
    cleaned, report = cleaning.clean(loaded.frame, RULES)
    removed = dict(zip(report["rule"], report["rows_removed"]))
    assert removed == {"drop_invalid_rows": 0, "drop_computed_columns": 0,
                       "drop_review_columns": 0, "drop_missing_price": 0,
                       "drop_price_outliers": 288}
    assert len(cleaned) == 16_724 - 288
    assert not {"number_of_reviews", "reviews_per_month"} & set(cleaned.columns)
    assert cleaned["price"].between(25, 500, inclusive="left").all()


def test_price_bounds_are_parameters(listings_path):
    loaded = listings.load_listings(listings_path)
    cleaned, _ = cleaning.clean(loaded.frame, cleaning.default_rules(min_price=50, max_price=300))
    assert cleaned["price"].min() >= 50 and cleaned["price"].max() < 300


def test_newer_layout_blank_prices_are_counted(shared_data):
    loaded = listings.load_listings(shared_data / "2024-09-05" / "listings.csv")
    assert loaded.layout == "summary_ltm"
    _, report = cleaning.clean(loaded.frame, RULES)
    assert report.set_index("rule").loc["drop_missing_price", "rows_removed"] == 3790


def test_detailed_layout_dollar_prices(shared_data):
    loaded = listings.load_listings(shared_data / "2022-01-07" / "listings.csv.gz")
    assert loaded.layout == "detailed" and loaded.rows == 5597
    assert loaded.frame["price"].notna().all() and loaded.frame["price"].dtype == float
    assert loaded.frame["neighbourhood"].nunique() == 22


def test_unknown_rule_is_named(listings_path):
    with pytest.raises(ValueError, match="unknown cleaning rule 'drop_everything'"):
        cleaning.clean(pd.DataFrame({"price": [1.0]}), [("drop_everything", {})])


@pytest.mark.parametrize(("text", "expected"), [
    ("1.5 shared baths", (1.5, 1.0)), ("1 bath", (1.0, 0.0)), ("2 private baths", (2.0, 0.0)),
    ("Half-bath", (0.5, 0.0)), ("Shared half-bath", (0.5, 1.0)),
])
def test_bathrooms_text_is_parsed(text, expected):
    assert listings.parse_bathrooms(text) == expected
    number, shared = listings.parse_bathrooms(None)
    assert np.isnan(number) and np.isnan(shared)


def test_detailed_columns_are_typed(shared_data):
    frame = listings.load_listings(shared_data / "2022-01-07" / "listings.csv.gz").frame
    assert set(frame["host_is_superhost"].dropna().unique()) == {0.0, 1.0}
    rates = frame["host_response_rate"]  # "97%" became 97.0, "N/A" became NaN
    assert rates.dropna().between(0, 100).all() and rates.isna().any() and rates.max() == 100.0
    assert frame["bathrooms"].notna().mean() > 0.95 and frame["bathrooms_shared"].max() == 1.0
    # review history, for the existing-listing variant: scores 0-5, blank while unreviewed
    scores = frame["review_scores_rating"]
    assert scores.dropna().between(0, 5).all() and scores.isna().any()
    assert (frame["number_of_reviews"][scores.isna()] == 0).all()


def test_bad_detailed_value_names_column_and_example(shared_data, tmp_path):
    raw = pd.read_csv(shared_data / "2022-01-07" / "listings.csv.gz", dtype=str, nrows=50)
    raw.loc[3, "accommodates"] = "four"
    raw.loc[5, "host_is_superhost"] = "yes"
    raw.loc[7, "review_scores_rating"] = "great"
    path = tmp_path / "listings.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(listings.SchemaError) as err:
        listings.load_listings(path)
    assert "column 'accommodates': 1 rows are not valid (e.g. 'four')" in str(err.value)
    assert "column 'host_is_superhost': 1 rows are not valid (e.g. 'yes')" in str(err.value)
    assert "column 'review_scores_rating': 1 rows are not valid (e.g. 'great')" in str(err.value)


def test_only_the_existing_listing_variant_keeps_review_history(shared_data):
    path = shared_data / "2022-01-07" / "listings.csv.gz"
    prepared = tables.prepare(RunParams(listings=str(path), feature_set="detailed"))
    detailed, report = prepared.table, prepared.report
    other = tables.prepare(RunParams(listings=str(path), feature_set="existing"))
    existing, existing_report = other.table, other.report
    assert "drop_review_columns" in set(report["rule"])
    assert "drop_review_columns" not in set(existing_report["rule"])
    assert not [c for c in detailed if "review" in c]
    assert list(existing.columns) == [*features.EXISTING.model_features, "price"]
    assert set(existing.columns) - set(detailed.columns) == set(features.REVIEW_INPUTS)
    assert len(existing) == len(detailed)  # the same listings, only more columns


def test_detailed_feature_set_needs_the_detailed_file(listings_path):
    with pytest.raises(listings.SchemaError, match="needs columns the listings lack: amenities"):
        tables.prepare(RunParams(listings=str(listings_path), feature_set="detailed"))
    with pytest.raises(ValueError, match="unknown feature_set 'fancy'"):
        tables.prepare(RunParams(listings=str(listings_path), feature_set="fancy"))


def test_detailed_source_has_its_own_variable_url_and_cache(tmp_path):
    assert sources.listings_url("amsterdam", "2022-01-07", config.DETAILED_FILE).endswith(
        "/amsterdam/2022-01-07/data/listings.csv.gz")
    path = tmp_path / "detailed.csv.gz"
    path.write_bytes(b"x")
    environ = {config.DETAILED_LISTINGS_ENV: str(path), config.LISTINGS_ENV: "/nope"}
    assert sources.resolve_source(None, environ=environ, file=config.DETAILED_FILE).path == path
    assert sources.cache_path("amsterdam", "2022-01-07", tmp_path, config.DETAILED_FILE).name == \
        "listings.csv.gz"


def test_run_refuses_detailed_on_a_summary_file(listings_path, tmp_path, capsys):
    from airbnb_price.local import cli

    code = cli.main(["run", "--feature-set", "detailed", "--listings", str(listings_path),
                     "--runs-dir", str(tmp_path)])
    assert code == 2 and not any(tmp_path.iterdir())  # failed before any run folder existed
    assert "summary layout" in capsys.readouterr().err


SHARED_FILES = sorted((config.PROJECT_ROOT.parent / "shared" / "data").glob("*/*/listings.csv*"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda p: "/".join(p.parts[-3:]))
def test_reading_only_the_columns_a_model_reads_types_them_alike(path):
    """Batch pricing reads only `columns_read`, ids as Arrow's strings: the same layout, the
    same typed input columns, ids and invalid rows as reading every column, for each feature
    set the file feeds (a detailed file: every one), on every shared file."""
    every = listings.read_listings(path)
    full, layout = listings.validate(every, path, max_invalid_share=1.0, read_price=False)
    kinds = features.FEATURE_SETS.values() if layout.file == config.DETAILED_FILE \
        else [features.SUMMARY]
    for feature_set in kinds:
        read = listings.read_listings(path, listings.columns_read(feature_set),
                                      strings=frozenset({"id"}))
        assert len(read.columns) < len(every.columns)
        assert isinstance(read["id"].dtype, pd.ArrowDtype)  # no shared file falls back
        some, same = listings.validate(read, path, max_invalid_share=1.0, read_price=False)
        assert same == layout
        kept = ["id", listings.INVALID, *(c for c in feature_set.input_columns if c in full)]
        pd.testing.assert_frame_equal(some[kept].astype({"id": object}), full[kept])


def test_numbers_parse_as_the_endpoint_reads_them_and_refuse_what_pandas_refuses():
    """`parse_numbers` takes what pandas' parser takes (sign, decimal point, exponent,
    infinity, spaces around) and refuses the rest, in the one-cast path and value by value."""
    accepted = {"1": 1.0, " 2 ": 2.0, "1e3": 1000.0, "+5": 5.0, "-5.": -5.0, ".5": 0.5,
                "inf": np.inf, "-Infinity": -np.inf, "52.3656": 52.3656}
    refused = ["1_000", "\u0663", "0x10", "5,0", "abc", "1 2", "1e", "--1", "NaN", ""]
    integers = [" 3", "+5", "007", "-0", "12"]
    for values in ([*accepted], [*accepted, *refused, None, np.nan], integers,
                   [*integers, "--1"], [*integers, ""], [*integers, "1.5"], ["9" * 20]):
        parsed = listings.parse_numbers(pd.Series(values, dtype=object))
        expected = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        if expected.dtype == "uint64":  # past int64: pandas takes uint64, here a float
            expected = expected.astype("float64")
        pd.testing.assert_series_equal(parsed, expected)  # dtype too: counts stay int64


@pytest.mark.slow
@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda p: "/".join(p.parts[-3:]))
def test_every_number_of_every_shared_file_is_the_float_a_request_gives(path):
    """A file's numbers are Python's correctly rounded floats, the values the endpoint's
    JSON parser gives for the same digits (pandas' to_numeric is an ulp off on hundreds of
    coordinates in these files), blank and malformed ones NaN as pandas makes them."""
    raw = listings.read_listings(path)
    frame = raw.rename(columns=dict(listings.detect_layout(list(raw.columns), path).renames))
    typed = listings.read_listings(path, numbers=listings.TYPED_COLUMNS)
    assert typed["latitude"].dtype == np.float64  # Arrow's cast, not text
    for column in listings.NUMERIC_COLUMNS:
        parsed = listings.parse_numbers(frame[column]).to_numpy()
        floats = [float(v) if isinstance(v, str) else np.nan for v in frame[column]]
        np.testing.assert_array_equal(parsed, floats, err_msg=column)
        theirs = pd.to_numeric(frame[column], errors="coerce")
        assert (np.isnan(parsed) == theirs.isna()).all() and parsed.dtype == theirs.dtype
        pd.testing.assert_series_equal(listings.parse_numbers(typed[column]),
                                       listings.parse_numbers(frame[column]), check_names=False)


_DECIMALS = st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,20})?", fullmatch=True)
_NEAR_NUMBERS = st.one_of(st.text(alphabet=st.sampled_from("0123456789.-+eExXnaif _\t"),
                                   max_size=12), st.from_regex(r"-?0[xX][0-9]{1,4}", fullmatch=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _DECIMALS, _NEAR_NUMBERS), min_size=1, max_size=6))
def test_a_column_arrow_casts_is_what_parse_numbers_makes_of_its_text(values):
    """`read_text`'s `numbers`: a column Arrow casts (`_arrow_numbers`) is the array
    `parse_numbers` makes of its text (values, signs of zero, dtype); others stay text."""
    import pyarrow as pa

    typed = listings._arrow_numbers(pa.chunked_array([pa.array(values, pa.string())]))
    if typed is None:
        return
    text = pd.Series([np.nan if v is None else v for v in values], dtype=object)
    expected = listings.parse_numbers(text).to_numpy()
    assert typed.dtype == expected.dtype
    np.testing.assert_array_equal(typed, expected)
    assert (np.signbit(typed) == np.signbit(expected)).all()


@pytest.mark.parametrize("values,dtype", [
    (["52.3656", "-0.0", "4"], np.float64), (["7", "-0", "007"], np.int64),
    (["1", None], np.float64), (["9" * 18], np.int64), (["0.1" + "1" * 30], np.float64),
    (["9" * 20], None), (["0x10"], None), (["nan"], None), (["1e3"], None), (["+5"], None),
    ([" 1"], None), (["inf"], None), ([None, None], np.float64),
    ([".5", "1.", "-.5"], np.float64), (["-", "1"], None), (["."], None), (["1-2"], None),
    (["1.2.3"], None), (["--1"], None)])
def test_arrow_casts_plain_decimals_only(values, dtype):
    """Arrow takes "0x10" as 16 and "nan" as NaN where `parse_numbers` gives NaN and NaN
    with another count of blanks: only texts of digits, "." and "-" that Arrow reads are
    cast, the rest stays text."""
    import pyarrow as pa

    typed = listings._arrow_numbers(pa.chunked_array([pa.array(values, pa.string())]))
    assert (typed is None) if dtype is None else (typed.dtype == dtype)
    if typed is not None:
        text = pd.Series([np.nan if v is None else v for v in values], dtype=object)
        np.testing.assert_array_equal(typed, listings.parse_numbers(text).to_numpy())


_CELLS = st.one_of(
    st.sampled_from(["", " ", "1", "52.37", "Loft, canal view", 'say "hi"', "a\nb", "\u4e1c\u4eac",
                     "Chambre \u00e0 Paris", "  padded ", "NaN", "null", "-", "'", '"', '""']),
    st.text(alphabet=st.sampled_from('ab ,"\n\r\t\u00e9\u0416x1.'), max_size=8))


def _field(value: str, quoted: bool) -> str:
    """A CSV field: quoted (quotes doubled) when asked or needed, else as it is (a stray
    quote or comma then makes the row what a careless writer makes of it)."""
    return '"' + value.replace('"', '""') + '"' if quoted else value


@st.composite
def csv_texts(draw) -> bytes:
    """CSV texts as real writers and careless ones make them: quoted and unquoted fields
    holding commas, quotes, newlines, blanks and non-Latin text; rows short or long of
    fields; header names given twice; CRLF or LF; a last line with or without its end."""
    names = draw(st.lists(st.sampled_from(["id", "name", "price", "room_type", "x", "y"]),
                          min_size=1, max_size=5, unique=draw(st.sampled_from([True] * 4 + [False]))))
    width = len(names)
    lengths = draw(st.lists(st.sampled_from([width] * 8 + [width - 1, width + 1]), max_size=6))
    rows = [draw(st.lists(st.tuples(_CELLS, st.booleans()), min_size=n, max_size=n))
            for n in lengths]
    end = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [",".join(names)] + [",".join(_field(v, q) for v, q in row) for row in rows]
    return (end.join(lines) + draw(st.sampled_from([end, ""]))).encode()


def _read_or_error(read, data: bytes, columns):
    try:
        return read(data, columns)
    except (ValueError, pd.errors.ParserError) as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(csv_texts(), st.sampled_from([None, frozenset({"name", "price", "x"})]))
def test_reading_text_gives_what_pandas_reads_or_its_error(data, columns):
    """Arrow reads first, pandas what Arrow refuses: the frame (every cell's text, NaN for a
    blank) or the error is pandas' own on every generated text."""
    def by_pandas(text: bytes, wanted) -> pd.DataFrame:
        return pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False, na_values=[""],
                           usecols=listings._among(wanted))

    theirs = _read_or_error(by_pandas, data, columns)
    ours = _read_or_error(listings.read_text, data, columns)
    if isinstance(theirs, type):
        assert ours is theirs
        return
    pd.testing.assert_frame_equal(ours, theirs)
    for column in theirs:
        assert ours[column].map(type).tolist() == theirs[column].map(type).tolist(), column


@pytest.mark.slow
@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda p: "/".join(p.parts[-3:]))
def test_arrow_reads_every_shared_file_as_pandas_does(path):
    """Every shared file takes Arrow's reading (none falls back), and it is pandas' frame:
    the same columns, texts and blanks, cell by cell."""
    theirs = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                         compression="infer")
    ours = listings._arrow_text(path.read_bytes() if path.suffix != ".gz"
                                else gzip.decompress(path.read_bytes()), None)
    assert ours is not None
    pd.testing.assert_frame_equal(ours, theirs)
    for column in theirs:
        assert ours[column].map(type).tolist() == theirs[column].map(type).tolist(), column
