"""What is in a listings file: its layout (Inside Airbnb has changed the columns over the
years), its types and the checks every row must pass, with named errors.

Files are read as text and typed here, so a malformed value is reported by column, count and
an example instead of a pandas dtype surprise.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from airbnb_price.core import config, features
from airbnb_price.core.columns import bounds
from airbnb_price.data.errors import DataSourceError, SchemaError
from airbnb_price.data.sources import Source, sha256_of


@dataclass(frozen=True)
class Layout:
    """One Inside Airbnb file layout, recognised by the columns that only it has."""

    name: str
    marker_columns: tuple[str, ...]
    #: The file Inside Airbnb publishes in this layout (a layout is a file's columns in one era).
    file: config.ListingsFile
    #: Column renames that map this layout onto the canonical (summary) names.
    renames: Mapping[str, str] = field(default_factory=dict)


#: Checked in order: the most specific layout first.
LAYOUTS = (
    Layout("detailed", ("neighbourhood_cleansed", "accommodates", "amenities"),
           config.DETAILED_FILE,
           {"neighbourhood": "neighbourhood_raw", "neighbourhood_cleansed": "neighbourhood"}),
    Layout("summary_ltm", ("number_of_reviews_ltm", "license"), config.SUMMARY_FILE),
    Layout("summary", ("calculated_host_listings_count",), config.SUMMARY_FILE),
)

#: Columns every layout must provide (after renaming), with their bounds from the one table
#: of input columns (the endpoint refuses what lies outside them, so training drops it too).
NUMERIC_COLUMNS: dict[str, tuple[float, float]] = {c: bounds(c) for c in (
    "latitude", "longitude", "minimum_nights", "availability_365",
    "calculated_host_listings_count")}
#: The columns `validate` types as numbers, which a reader may hand over typed already
#: (`read_text`'s `numbers`).
TYPED_COLUMNS = frozenset(NUMERIC_COLUMNS)
TEXT_COLUMNS = ("neighbourhood", "room_type")
#: The column `validate` gives each invalid row's reason in (None: valid); the
#: `drop_invalid_rows` cleaning rule removes those rows and the column.
INVALID = "_invalid"
REQUIRED_COLUMNS = ("id", "name", *TEXT_COLUMNS, *NUMERIC_COLUMNS, config.TARGET)


@dataclass
class Listings:
    """A validated listings table plus the provenance a run records."""

    frame: pd.DataFrame
    path: Path
    sha256: str
    layout: str

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def data(self) -> pd.DataFrame:
        """The file's rows and columns as typed, without the validation column (what the
        EDA shows; the invalid rows are still there, for the cleaning report to count)."""
        return self.frame.drop(columns=INVALID)

    def provenance(self) -> dict:
        return {"path": str(self.path), "sha256": self.sha256, "rows": self.rows,
                "layout": self.layout}


def parse_price(values: pd.Series) -> pd.Series:
    """Parse both price forms Inside Airbnb uses: `120` (summary) and `"$1,234.00"` (detailed).

    Blank stays NaN (recent files leave price blank); anything else unparsable also becomes NaN,
    and `validate` counts those rows separately from the blanks.
    """
    text = values.astype("string").str.strip().str.replace(r"^\$", "", regex=True)
    parsed = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    return parsed.astype("float64")


#: A number as a listings file writes it (what pandas' parser accepts, ASCII digits only):
#: sign, digits with a decimal point, exponent, or infinity; spaces around it.
_NUMBER = re.compile(r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                     r"|inf(?:inity)?)[ \t]*", re.IGNORECASE)
#: Characters of a column every value of which can be cast at once (no word, no other digit).
_PLAIN_NUMBERS = re.compile(r"[0-9eE+\-. \t\x00]*")
#: What only a non-integer number has.
_FRACTION = re.compile(r"[.eE]")


def parse_numbers(values: pd.Series) -> pd.Series:
    """Text -> numbers, NaN where blank or not a number (`_NUMBER`), each value rounded as
    Python's `float` reads it: correctly, as the endpoint's JSON parser does, so a file's
    latitude is the very float a request carrying the same digits gives (pandas'
    `to_numeric` is off by an ulp on some coordinates, and takes 5x as long). A column of
    plain numbers is cast in one call (int64 when every value is an integer, as pandas types
    it); one holding anything else, value by value, as float64."""
    if values.dtype.kind in "if":  # typed by the reader (`read_text`'s numbers)
        return values
    text = values.to_numpy(dtype=object)
    try:
        joined = "\x00".join(text.tolist())  # TypeError: a blank (NaN) among them
    except TypeError:
        joined = None
    if joined is not None and _PLAIN_NUMBERS.fullmatch(joined):
        kind = float if _FRACTION.search(joined) else np.int64
        try:
            return pd.Series(text.astype(kind), index=values.index)
        except (ValueError, OverflowError):  # "--1", "1 2": plain characters, yet no number
            pass
    return pd.Series([float(v) if isinstance(v, str) and _NUMBER.fullmatch(v) else np.nan
                      for v in text], index=values.index, dtype="float64")


def detect_layout(columns: list[str], path: Path) -> Layout:
    for layout in LAYOUTS:
        if all(c in columns for c in layout.marker_columns):
            return layout
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    hint = ""
    if len(columns) == 1:
        hint = f" (the header parsed as a single column {columns[0][:60]!r}: is the delimiter ','?)"
    raise SchemaError(
        f"{path}: unknown listings layout, missing columns: {', '.join(missing) or 'none'}; "
        f"known layouts: {', '.join(l.name for l in LAYOUTS)}{hint}")


def columns_read(feature_set: features.FeatureSet) -> frozenset[str]:
    """The columns, as files name them, that typing a file (`validate`) and pricing its rows
    with a model of `feature_set` read: every layout's marker columns and renamed ones, the
    required columns and the feature set's inputs (`bathrooms` is parsed from
    `bathrooms_text`). Batch pricing reads only these: a detailed file has about 75 columns,
    and each column read costs a string object per row."""
    return frozenset({*REQUIRED_COLUMNS, *feature_set.input_columns, "bathrooms_text",
                      *(c for layout in LAYOUTS for c in (*layout.marker_columns,
                                                          *layout.renames))})


def read_listings(path: Path, columns: frozenset[str] | None = None,
                  numbers: frozenset[str] = frozenset(),
                  strings: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Read the CSV as text (gzip by extension), only `columns` when given (those of them
    the file has), `numbers` perhaps already as `parse_numbers` types them and `strings`
    perhaps as Arrow's strings (`read_text`); typing happens in `validate`."""
    if not path.is_file():
        raise DataSourceError(f"listings file {path} does not exist")
    if path.stat().st_size == 0:
        raise SchemaError(f"{path}: file is empty")
    try:
        return read_text(path, columns, numbers, strings)
    except pd.errors.EmptyDataError as exc:
        raise SchemaError(f"{path}: file has no header or rows") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
        raise SchemaError(f"{path}: not a readable CSV (truncated or corrupt?): {exc}") from exc


def read_text(source: Path | bytes, columns: frozenset[str] | None = None,
              numbers: frozenset[str] = frozenset(),
              strings: frozenset[str] = frozenset()) -> pd.DataFrame:
    """A listings CSV (a file, gzip by extension, or its bytes) as text: a string per cell,
    NaN for a blank one, only `columns` when given (those of them it has). A column named in
    `numbers` may come typed instead, as `parse_numbers` types it, when Arrow reads the text
    and every value is written in digits, "." and "-" and read by Arrow (`_arrow_numbers`):
    `validate` would make those strings numbers at once, and a string per cell was most of
    their cost. A column named in `strings` may come as Arrow's strings (pandas' ArrowDtype,
    NA for a blank) when Arrow reads the text: batch pricing carries its ids from the reader
    to the writer untouched, and a Python string per id cost more than the rest of its trip.

    pandas' reading is the definition. Arrow's CSV reader gives the same frame on one thread
    in about half the time (a third of a batch block's pricing outside the model was pandas'
    parser), so it reads first; pandas reads what it refuses (and refuses it with its own
    error): a row with fewer fields than the header (pandas pads it with blanks), header
    names given twice (pandas renames them), a file that is no CSV; and it is not given
    texts it may read otherwise (`_arrow_reads`) or of one column (a line of spaces is a
    blank line to pandas). tests/data holds both readings equal on generated CSV texts and
    on every shared file."""
    data = source if isinstance(source, bytes) else _plain(source)
    read = _arrow_text(data, columns, numbers, strings) if data is not None else None
    if read is not None:
        return read
    return pd.read_csv(io.BytesIO(data) if data is not None else source,  # read from disk once
                       dtype=str, keep_default_na=False, na_values=[""], compression="infer",
                       usecols=_among(columns))


def _plain(path: Path) -> bytes | None:
    """A file's bytes, gunzipped by extension (None for other compressions: pandas reads
    those)."""
    if path.suffixes[-2:] == [".tar", ".gz"]:
        return None
    if path.suffix == ".gz":
        with gzip.open(path) as file:
            try:
                return file.read()
            except (OSError, EOFError):  # not gzip, or truncated: pandas names it
                return None
    return None if path.suffix in (".bz2", ".zip", ".xz", ".zst", ".tar", ".tgz") \
        else path.read_bytes()


#: A quote inside an unquoted field (a field's own quotes touch a comma, a line end or
#: another quote): pandas keeps it as a character, and the quotes after it may then open and
#: close fields differently from what their count says.
_STRAY_QUOTE = re.compile(rb'"(?<=[^,\n"]")[^,\r\n"]')  # starts with `"`: a fast scan


def _arrow_reads(data: bytes) -> bool:
    """Whether Arrow reads the text as pandas does, as far as a scan can tell: not where a
    quoted field runs to the end (an odd count of quotes with none stray: pandas refuses it,
    Arrow takes it), nor where a carriage return stands outside quotes (pandas reads it as a
    line end even alone; the detailed files' descriptions hold them inside quotes)."""
    if data.count(b'"') % 2 or _STRAY_QUOTE.search(data):
        return False
    inside, position, at = False, 0, data.find(b"\r")
    while at >= 0:  # with no stray quote, the count of quotes before it says if inside
        inside ^= data.count(b'"', position, at) % 2 == 1
        if not inside:
            return False
        position, at = at, data.find(b"\r", at + 1)
    return True


def _arrow_text(data: bytes, columns: frozenset[str] | None,
                numbers: frozenset[str] = frozenset(),
                strings: frozenset[str] = frozenset()) -> pd.DataFrame | None:
    """`read_text` by Arrow's CSV reader, or None when it refuses the text, or may read it
    otherwise than pandas (`_arrow_reads`), or pyarrow (an optional dependency of pandas) is
    not installed."""
    if not _arrow_reads(data):
        return None
    try:
        import pyarrow as pa
        from pyarrow import csv
    except ImportError:
        return None
    try:
        # the first line is the header (one holding a quoted line end fails here: pandas')
        header = _header(data[:data.find(b"\n") + 1] or data)
        if len(header) < 2:  # pandas skips a line of spaces as blank: one column's value
            return None
        names = [c for c in header if columns is None or c in columns]  # renamed twins miss
        if not names:  # Arrow would read every column
            return None
        table = csv.read_csv(io.BytesIO(data), read_options=csv.ReadOptions(use_threads=False),
                             parse_options=csv.ParseOptions(newlines_in_values=True),
                             convert_options=csv.ConvertOptions(
                                 include_columns=names, column_types=dict.fromkeys(
                                     names, pa.string()), null_values=[""],
                                 strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowException, ValueError):  # pandas' parser errors included
        return None
    frame = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        typed = _arrow_numbers(column) if name in numbers else None
        if typed is not None:
            frame[name] = typed
            continue
        if name in strings:
            frame[name] = pd.arrays.ArrowExtensionArray(column)
            continue
        # a column's repeated texts as one object, as pandas' parser makes them: the levels'
        # lookups then hit by identity (fresh objects cost a tenth more per block)
        values = column.to_pandas(deduplicate_objects=True).to_numpy()
        if column.null_count:  # Arrow's null is None; pandas' blank is NaN
            values[column.is_null().to_numpy(zero_copy_only=False)] = np.nan
        frame[name] = values
    return pd.DataFrame(frame, columns=names, copy=False)


@functools.lru_cache(maxsize=16)
def _header(line: bytes) -> tuple[str, ...]:
    """A header line's column names as pandas reads them, once per file: every batch block of
    a file starts with its header line, and pandas' reader costs about a millisecond a call."""
    return tuple(pd.read_csv(io.BytesIO(line), nrows=0).columns)


#: The bytes of a column Arrow may cast: digits, "." and "-". Of such texts, Arrow's cast and
#: Python's `float` (or `int`) read the same ones ("12", "-0.5", ".5", "1.") alike, to the
#: same correctly rounded value, and Arrow refuses the others ("-", ".", "1-2", "1.2.3"),
#: which then stay text. Arrow also takes what `parse_numbers` refuses ("0x10" as an integer,
#: "nan"), and refuses what it takes (spaces around, "+5", "1e3"): those bytes are not here.
_NUMBER_BYTES = np.zeros(256, dtype=bool)
_NUMBER_BYTES[list(b"0123456789.-")] = True
_DOT = ord(".")


def _value_bytes(column) -> list[np.ndarray]:
    """The bytes of a string column's values: a view per chunk of Arrow's data buffer."""
    found = []
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is None or not len(chunk):  # no value holds a byte
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
        found.append(np.frombuffer(data, dtype=np.uint8)[
            offsets[chunk.offset]:offsets[chunk.offset + len(chunk)]])
    return found


def _arrow_numbers(column) -> np.ndarray | None:
    """The text column as `parse_numbers` types it, cast by Arrow in one call, when every
    value is written in _NUMBER_BYTES and Arrow reads them all, else None: int64 when no
    value has a fraction and none is blank, else float64 (NaN: blank). The bytes are tested
    by a table lookup each (a regular expression per value cost 4-5x as much: a fifth of
    reading a batch block)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = _value_bytes(column)
    if not all(_NUMBER_BYTES[part].all() for part in values):
        return None
    whole = not column.null_count and not any((part == _DOT).any() for part in values)
    try:
        return pc.cast(column, pa.int64() if whole else pa.float64()).to_numpy()
    except pa.ArrowInvalid:  # not a number ("-", "1-2") or past int64: parse_numbers decides
        return None


def _among(columns: frozenset[str] | None) -> Callable[[str], bool] | None:
    """pandas' `usecols` for the header's columns among `columns` (None: every column)."""
    return None if columns is None else columns.__contains__


@dataclass(frozen=True)
class Problem:
    """Rows of one column that failed a check, and what was wrong with them."""

    column: str
    rows: pd.Series  # boolean, aligned with the frame
    what: str

    def describe(self, total: int) -> str:
        count = int(self.rows.sum())
        return f"column {self.column!r}: {count} rows {self.what} ({count / total:.1%})"


def validate(raw: pd.DataFrame, path: Path,
             max_invalid_share: float = config.MAX_INVALID_SHARE, *,
             read_price: bool = True) -> tuple[pd.DataFrame, Layout]:
    """Check columns, types and ranges; return the typed, canonically named table.

    Rows with a blank, non-numeric or out-of-range value where the model needs one get a
    reason in the INVALID column, which the `drop_invalid_rows` cleaning rule removes and
    counts; the file is refused when more than `max_invalid_share` of its rows are invalid.
    Blank prices are allowed here (recent files have them; `drop_missing_price` removes them).
    Batch pricing, which prices listings instead of learning from their prices, leaves the
    price column as text (`read_price=False`: parsing it was 7% of a block's time).
    """
    layout = detect_layout(list(raw.columns), path)
    frame = raw.rename(columns=dict(layout.renames))
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(f"{path}: missing required columns: {', '.join(missing)}")
    if frame.empty:
        raise SchemaError(f"{path}: has a header but no rows")
    problems = [Problem(c, frame[c].isna(), "are blank") for c in TEXT_COLUMNS]
    if read_price:
        price = parse_price(frame[config.TARGET])
        problems.append(unparsed(config.TARGET, frame[config.TARGET], price, "a number"))
        frame[config.TARGET] = price
    for column, (low, high) in NUMERIC_COLUMNS.items():
        values = parse_numbers(frame[column])
        problems.append(Problem(column, values.isna(), "are blank or not a number"))
        problems.append(Problem(column, (values < low) | (values > high),
                                f"outside [{low}, {high}]"))
        frame[column] = values
    if layout.file == config.DETAILED_FILE:  # the detailed file's extra columns
        problems.extend(type_detailed(frame))
    return mark_invalid(frame, [p for p in problems if p.rows.any()], path,
                        max_invalid_share), layout


def mark_invalid(frame: pd.DataFrame, problems: list[Problem], path: Path,
                 max_invalid_share: float) -> pd.DataFrame:
    """Give each invalid row its reason in INVALID; SchemaError naming every column, count
    and share when the invalid rows are more than `max_invalid_share` of the file."""
    total = len(frame)
    reasons = pd.Series(None, index=frame.index, dtype=object)
    for problem in reversed(problems):  # the first problem of a row names it
        reasons[problem.rows] = f"{problem.column} {problem.what}"
    invalid = int(reasons.notna().sum())
    if invalid > max_invalid_share * total:
        raise SchemaError(
            f"{path}: " + "; ".join(p.describe(total) for p in problems)
            + f"; {invalid} of {total} rows ({invalid / total:.1%}) are invalid, more than the "
            f"{max_invalid_share:.0%} a file may have (max_invalid_share)")
    frame[INVALID] = reasons
    return frame


#: The detailed layout's host-known columns and how each is written in the file. Blank is
#: allowed (NaN: the model handles missing values); anything else unparsable is an error.
DETAILED_COUNTS = ("accommodates", "bedrooms", "beds", "maximum_nights", "availability_30",
                   "availability_90", "host_listings_count",
                   "calculated_host_listings_count_entire_homes",
                   "calculated_host_listings_count_private_rooms")
DETAILED_FLAGS = ("host_is_superhost", "host_identity_verified", "instant_bookable")  # "t"/"f"
DETAILED_RATES = ("host_response_rate", "host_acceptance_rate")  # "97%", or "N/A"
_BATHROOMS = re.compile(r"(\d+(?:\.\d+)?)")


def parse_bathrooms(text: object) -> tuple[float, float]:
    """`bathrooms_text` ("1.5 shared baths", "Half-bath", "Private half-bath") -> (number,
    shared 0/1); (NaN, NaN) when blank. The file's own `bathrooms` column is empty."""
    if not isinstance(text, str) or not text.strip():
        return np.nan, np.nan
    lowered = text.lower()
    match = _BATHROOMS.search(lowered)
    number = float(match.group(1)) if match else (0.5 if "half" in lowered else np.nan)
    return number, float("shared" in lowered)


def unparsed(column: str, raw: pd.Series, parsed: pd.Series, what: str = "valid") -> Problem:
    """The rows whose value is present in `raw` but did not parse, with the first as an
    example."""
    failed = parsed.isna() & raw.notna()
    example = f" (e.g. {raw[failed].iloc[0]!r})" if failed.any() else ""
    return Problem(column, failed, f"are not {what}{example}")


def type_detailed(frame: pd.DataFrame) -> list[Problem]:
    """Type the detailed layout's extra columns in place; the problems found, by column.

    Older detailed files lack some of these columns; that is not an error here (the summary
    feature set does not need them) and `features.feature_table` names them if asked for."""
    problems = []
    # and the review counts and scores (0-5 in this layout) the "existing" variant reads
    present = [c for c in (*DETAILED_COUNTS, *DETAILED_FLAGS, *DETAILED_RATES,
                           *features.REVIEW_INPUTS) if c in frame]
    for column in present:
        raw = frame[column]
        if column in DETAILED_RATES:
            raw = raw.replace("N/A", np.nan)  # the file's "no data yet"
        if column in DETAILED_FLAGS:
            values = raw.map({"t": 1.0, "f": 0.0})
        else:
            values = parse_numbers(raw.str.rstrip("%"))
        problems.append(unparsed(column, raw, values))
        frame[column] = values
    if "bathrooms_text" in frame:
        baths = [parse_bathrooms(t) for t in frame["bathrooms_text"]]
        frame["bathrooms"] = [b[0] for b in baths]
        frame["bathrooms_shared"] = [b[1] for b in baths]
        present.append("bathrooms")
    return problems + [out_of_bounds(frame, c) for c in present if c not in DETAILED_FLAGS]


def out_of_bounds(frame: pd.DataFrame, column: str) -> Problem:
    """Rows whose value lies outside the column's bounds in the table of input columns (say,
    a listing for 0 guests: Airbnb's minimum is 1), which the endpoint would refuse too."""
    low, high = bounds(column)
    values = frame[column]
    return Problem(column, (values < low) | (values > high), f"outside [{low:g}, {high:g}]")


def load_listings(source: Source | str | os.PathLike,
                  max_invalid_share: float = config.MAX_INVALID_SHARE) -> Listings:
    """Read, validate and checksum a listings file."""
    path = source.path if isinstance(source, Source) else Path(source)
    frame, layout = validate(read_listings(path, numbers=TYPED_COLUMNS), path,
                             max_invalid_share)
    return Listings(frame=frame, path=path, sha256=sha256_of(path), layout=layout.name)
