"""Batch pricing: every row of one or many listings files priced by the published model of
its city and feature set, on Dask dataframe partitions.

Each partition is a block of whole records of one file, read by the worker itself, so memory
is bounded by the block size whatever the input size: a plain CSV is cut at record ends
(a newline outside quotes: names and descriptions may hold quoted newlines), a gzip file is
one block. Rows go through the endpoint's own engine (`serve.engine.ServedModel`, from the
same model cache): its vectorised checks on the block's columns, its feature functions and
compiled model, so a row gets the price, to the cent, and the refusal reason a request with
it would get (the refused rows' reasons come from the contract itself). No row refuses the
file: a refused row has its reason in `error`.

Input paths must be readable by the workers (a shared or mounted folder on a cluster); the
client gathers the small result partitions in order and writes the output itself.
"""

from __future__ import annotations

import contextlib
import gc
import glob
import mmap
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from airbnb_price.core import cities, config, features, registry, spec
from airbnb_price.data import listings
from airbnb_price.data.errors import DataSourceError, SchemaError
from airbnb_price.runs import examples
from airbnb_price.serve import cache

#: The output's columns: the input's id (text: ids pass 2^53), the city, the price, its
#: calibrated range at DEFAULT_LEVEL (empty for a model published before ranges) and its
#: currency, the model (registry name and version) and, for a refused row, the reason.
COLUMNS = ("id", "city", "feature_set", "price", "price_low", "price_high", "currency", "model",
           "model_version", "error")
PRICES = ("price", "price_low", "price_high")
#: The input's id column, read as Arrow's strings where it can be (`listings.read_text`).
IDS = frozenset({"id"})
QUOTE, NEWLINE = b'"', b"\n"


@dataclass(frozen=True)
class Block:
    """Whole records of one listings file: bytes [start, end) after its header line (end
    None: to the end of the file, as for a gzip file), with the model the rows are for."""

    path: str
    start: int
    end: int | None
    city: str
    feature_set: str


def _record_end(data: mmap.mmap, start: int, quotes_open: bool) -> int:
    """The first record end (just past a newline outside quotes) at or after `start`; a
    doubled quote inside a field counts twice, so parity tells inside from outside."""
    position, inside = start, quotes_open
    while True:
        newline = data.find(NEWLINE, position)
        if newline < 0:
            return len(data)
        inside ^= data[position:newline].count(QUOTE) % 2 == 1
        if not inside:
            return newline + 1
        position = newline + 1


def split(path: Path, block_bytes: int = config.BATCH_BLOCK_BYTES
          ) -> Iterator[tuple[int, int | None]]:
    """Byte ranges of whole records after the header, about `block_bytes` each (one pass
    counting quotes); a gzip file is one range."""
    if path.suffix == ".gz":
        yield 0, None
        return
    with open(path, "rb") as handle, \
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = _record_end(data, 0, False)  # the header line
        while start < len(data):
            target = min(start + block_bytes, len(data))
            end = _record_end(data, target, data[start:target].count(QUOTE) % 2 == 1) \
                if target < len(data) else len(data)
            yield start, end
            start = end


def header(path: Path) -> list[str]:
    """A listings file's column names (SchemaError when it has none)."""
    try:
        return list(pd.read_csv(path, nrows=0, compression="infer").columns)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError,
            EOFError) as exc:
        raise SchemaError(f"{path}: not a readable listings CSV: {exc}") from exc


def city_of(path: Path, given: str | None) -> str:
    """The city of a file: the one given, else the catalogued city its folders name
    (`<city>/<snapshot>/<file>`, Inside Airbnb's and a data folder's layout)."""
    if given:
        return cities.check_slug(given)
    for folder in (path.parent.parent.name, path.parent.name):
        if folder in cities.CATALOGUE:
            return folder
    raise DataSourceError(f"{path}: cannot tell the city from its folders (laid out "
                          "<city>/<snapshot>/<file>?): pass --city")


def blocks(inputs: list[str], city: str | None = None, feature_set: str | None = None,
           block_bytes: int = config.BATCH_BLOCK_BYTES) -> list[Block]:
    """The blocks of every file the paths and globs name; each file's rows are for its
    city's model of `feature_set`, by default the new-listing model of the file its layout
    is (a detailed file: the detailed model, a summary file: the summary model)."""
    paths = sorted({Path(p) for pattern in inputs for p in (glob.glob(pattern) or [pattern])})
    found = []
    for path in paths:
        if not path.is_file():
            raise DataSourceError(f"listings file {path} does not exist (no file matches)")
        layout = listings.detect_layout(header(path), path)
        chosen = feature_set or features.new_listing_set(layout.file).name
        slug = city_of(path, city)
        spec.get(slug, chosen)  # SpecError for an unknown feature set, early
        found += [Block(str(path), start, end, slug, chosen)
                  for start, end in split(path, block_bytes)]
    return found


def read_block(block: Block) -> pd.DataFrame:
    """The block's rows as text (plain numbers perhaps typed already, ids perhaps as Arrow's
    strings: they only pass through to the output), with the file's header: only the columns
    its model's checks and features read (`listings.columns_read`)."""
    path = Path(block.path)
    columns = listings.columns_read(features.by_name(block.feature_set))
    if block.end is None:
        return listings.read_listings(path, columns, listings.TYPED_COLUMNS, IDS)
    with open(path, "rb") as handle:
        head = handle.readline()
        handle.seek(block.start)
        body = handle.read(block.end - block.start)
    return listings.read_text(head + body, columns, listings.TYPED_COLUMNS, IDS)


#: Models per store, kept for the worker process's life like the endpoint's container.
_MODELS: dict[str | None, cache.Models] = {}


def models(store_url: str | None) -> cache.Models:
    if store_url not in _MODELS:
        _MODELS[store_url] = cache.Models(store_url)
    return _MODELS[store_url]


def empty() -> pd.DataFrame:
    """The output's schema (Dask's `meta`)."""
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in PRICES else "object")
                         for c in COLUMNS})


def _reasons(errors: list[dict], rows: int) -> list[str | None]:
    """The endpoint's 422 errors as one text per row: `field: message; ...`."""
    found: list[list[str]] = [[] for _ in range(rows)]
    for error in errors:
        field = ".".join(str(part) for part in error["loc"][1:]) or "listing"
        found[error["loc"][0]].append(f"{field}: {error['msg']}")
    return ["; ".join(reasons) or None for reasons in found]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a block is priced: its tens of thousands
    of short-lived, acyclic request objects (freed by reference counting) otherwise trigger
    full collections that scan the whole heap many times per block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def price_block(block: Block, store_url: str | None) -> pd.DataFrame:
    """Price one block's rows as the endpoint would: each row checked by the contract, the
    valid ones priced in one vectorised pass."""
    with _collector_paused():
        return _price_block(block, store_url)


def _price_block(block: Block, store_url: str | None) -> pd.DataFrame:
    raw = read_block(block)
    out: dict[str, object] = {"id": raw["id"].array, "city": block.city,
                              "feature_set": block.feature_set}
    if raw.empty:
        return _frame(out, 0)
    # types only (no row is refused here); SchemaError names the columns a layout lacks
    typed, _ = listings.validate(raw, Path(block.path), max_invalid_share=1.0,
                                 read_price=False)
    model = spec.get(block.city, block.feature_set)
    try:
        served = models(store_url).get(model)
    except (cache.ModelUnavailable, cache.UnknownCity, cache.NoSuchModel) as exc:
        return _frame(out | {"error": f"no model to price with: {exc}"}, len(raw))
    columns = examples.columns_of(typed, model.feature_set)
    ok, accepted = served.accepted(columns)
    if ok.any():
        priced = served.price_ranges(accepted)
        digits = cities.minor_digits(served.city.currency)  # as the endpoint rounds
        for column, values in zip(PRICES, priced, strict=True):
            if values is not None:
                out[column] = np.full(len(raw), np.nan)
                out[column][ok] = cities.rounded_all(values, digits)
    refused = np.flatnonzero(~ok)
    if len(refused):
        _, _, errors = served.validate(examples.requests_of(typed.iloc[refused],
                                                            model.feature_set, block.city))
        out["error"] = _reasons([e | {"loc": [int(refused[e["loc"][0]]), *e["loc"][1:]]}
                                 for e in errors], len(raw))
    return _frame(out | {"currency": served.city.currency, "model": served.metadata.get("name"),
                         "model_version": served.version}, len(raw))


def _frame(columns: dict[str, object], rows: int) -> pd.DataFrame:
    """The output's frame from its columns (arrays, or one value for every row), made once:
    the columns it lacks are empty (setting a frame's columns one by one, and prices through
    `.loc`, was a tenth of a block's time outside the model)."""
    return pd.DataFrame({c: columns.get(c, np.nan if c in PRICES else None) for c in COLUMNS},
                        index=pd.RangeIndex(rows))


def _arrow_column(column: pd.Series, kind):
    """A result column in Arrow (NaN, None and pd.NA: null alike). A text the same in every
    row of an object column (a block's city, feature set, currency and model, as `_frame`
    makes them) is expanded from a one-entry dictionary in C: converting each row's string
    from Python took three quarters of the writer's time. A column Arrow holds already (the
    ids as read; Dask hands text columns back as Arrow-backed strings, pd.NA for missing) is
    taken as it is."""
    import pyarrow as pa

    if isinstance(column.dtype, pd.ArrowDtype | pd.StringDtype):
        return pa.array(column.array).cast(kind)
    values = column.to_numpy(dtype=float if pa.types.is_floating(kind) else object)
    first = values[0] if len(values) and column.dtype == object else None
    if isinstance(first, str) and values.tolist().count(first) == len(values):
        return pa.DictionaryArray.from_arrays(np.zeros(len(values), dtype=np.int32),
                                              pa.array([first], type=kind)).cast(kind)
    return pa.array(values, type=kind, from_pandas=True)


class Writer:
    """Appends result partitions, in input order, to one Parquet or CSV file."""

    def __init__(self, path: Path):
        if path.suffix not in (".parquet", ".csv"):
            raise DataSourceError(f"{path}: the output must end in .parquet or .csv")
        self.path, self.rows, self._parquet = path, 0, None
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, part: pd.DataFrame) -> None:
        if self.path.suffix == ".csv":
            part.to_csv(self.path, mode="a" if self.rows else "w", header=not self.rows,
                        index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = self._schema()  # each column straight to Arrow: a third faster than
            table = pa.Table.from_arrays([  # Table.from_pandas (NaN and None: null alike)
                _arrow_column(part[c], schema.field(c).type) for c in COLUMNS], schema=schema)
            if self._parquet is None:  # a dictionary only where values repeat (ids never do)
                self._parquet = pq.ParquetWriter(self.path, table.schema, use_dictionary=[
                    c for c in COLUMNS if c != "id" and c not in PRICES])
            self._parquet.write_table(table)
        self.rows += len(part)

    @staticmethod
    def _schema():
        import pyarrow as pa

        return pa.schema([(c, pa.float64() if c in PRICES else pa.string()) for c in COLUMNS])

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        elif not self.rows:
            self.write(empty())


def price_files(inputs: list[str], output: Path, store_url: str | None,
                scheduler: str | None = None, city: str | None = None,
                feature_set: str | None = None,
                block_bytes: int = config.BATCH_BLOCK_BYTES) -> dict:
    """Price every row of the input files on the cluster into `output`; counts by outcome.
    At most two partitions per worker thread are in flight, so the client holds a bounded
    share of the result however large the input."""
    import dask.dataframe as dd

    from airbnb_price.local import cluster

    store_url = registry.open_store(store_url).url  # the default store, named for workers
    if not store_url.startswith("s3://"):
        store_url = str(Path(store_url).resolve())  # workers may start in other folders
    chosen = blocks(inputs, city, feature_set, block_bytes)
    if not chosen:
        raise DataSourceError(f"no rows in {', '.join(inputs)}")
    frame = dd.from_map(price_block, chosen, store_url=store_url, meta=empty(),
                        enforce_metadata=False)
    writer, counts = Writer(Path(output)), {"rows": 0, "priced": 0, "refused": 0}
    with cluster.connect(scheduler) as client:
        window = 2 * sum(client.nthreads().values())
        parts, pending = iter(frame.to_delayed()), deque()
        for part in parts:
            pending.append(client.compute(part))
            if len(pending) < window:
                continue
            _take(pending.popleft(), writer, counts)
        while pending:
            _take(pending.popleft(), writer, counts)
    writer.close()
    return counts | {"files": len({b.path for b in chosen}), "partitions": len(chosen),
                     "output": str(output)}


def _take(future, writer: Writer, counts: dict) -> None:
    part = future.result()
    writer.write(part)
    counts["rows"] += len(part)
    counts["priced"] += int(np.isfinite(part["price"].to_numpy(dtype=float)).sum())
    counts["refused"] += int(part["error"].notna().sum())
    future.release()

