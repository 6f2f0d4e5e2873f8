"""Where a listings file comes from. First hit wins: an explicit path or URL, a data folder
given as an argument (`<city>/<snapshot>/<file>`, like ../shared/data), the file's
environment variable ($AIRBNB_LISTINGS, $AIRBNB_DETAILED_LISTINGS), $AIRBNB_DATA_FOLDER, the
local cache `data/raw/<city>/<snapshot>/<file>`, then a download from Inside Airbnb (atomic,
so a failed download never leaves a partial file). Each file is checksummed for the run
record.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from airbnb_price.core import cities, config, settings
from airbnb_price.core.config import ListingsFile
from airbnb_price.data.errors import DataSourceError

#: A snapshot folder or file name: Inside Airbnb's dates.
SNAPSHOT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Source:
    """A resolved listings file and how it was found (recorded in run.json)."""

    path: Path
    origin: str  # "argument" | "data folder" | "environment" | "cache" | "download"
    url: str | None = None
    #: The snapshot date, and how it was chosen ("given", "newest in the data folder",
    #: "catalogue default", "from the path"); None when nothing says.
    snapshot: str | None = None
    snapshot_origin: str | None = None

    def record(self) -> dict:
        return {"origin": self.origin, "url": self.url, "snapshot": self.snapshot,
                "snapshot_origin": self.snapshot_origin}


def listings_url(city: str, snapshot: str, file: ListingsFile = config.SUMMARY_FILE) -> str:
    """The Inside Airbnb download URL of a catalogued city's listings `file` on a snapshot
    date (path segments URL-quoted: some regions have accents, e.g. japan/kantō/tokyo)."""
    try:
        path = cities.lookup(city).path
    except cities.CityError as exc:
        raise DataSourceError(str(exc)) from None
    return config.INSIDE_AIRBNB_URL.format(path=urllib.parse.quote(path), snapshot=snapshot,
                                           file=file.path)


def cache_path(city: str, snapshot: str, cache_dir: Path | None = None,
               file: ListingsFile = config.SUMMARY_FILE) -> Path:
    return Path(cache_dir or settings.local().data_cache_dir) / city / snapshot / file.name


def newest_snapshot(folder: Path, city: str, file: ListingsFile) -> str | None:
    """The newest `<folder>/<city>/<snapshot>/` that holds `file`, or None."""
    dates = [d.name for d in (Path(folder) / city).glob("*") if SNAPSHOT.match(d.name)
             and (d / file.name).is_file()]
    return max(dates) if dates else None


def snapshot_of(path: Path) -> str | None:
    """The snapshot a file's folder names (Inside Airbnb's and a data folder's layout)."""
    return path.parent.name if SNAPSHOT.match(path.parent.name) else None


def default_snapshot(city: str, file: ListingsFile) -> str | None:
    """The catalogue's default snapshot of a city's file, or None."""
    known = cities.CATALOGUE.get(city)
    return known.default_snapshots.get(file.name) if known else None


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def download(url: str, dest: Path, timeout: float = 60.0) -> Path:
    """Download `url` to `dest` atomically: a failed download never leaves a partial file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, suffix=".part", delete=False) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, tmp)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, dest)
    return dest


def resolve_source(
    listings: str | os.PathLike | None = None,
    city: str = config.DEFAULT_CITY,
    snapshot: str | None = None,
    *,
    data_folder: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    allow_download: bool = True,
    env_var: str | None = None,
    file: ListingsFile = config.SUMMARY_FILE,
) -> Source:
    """Find a city's listings `file` (summary or detailed), trying in turn: the argument
    (path or URL), the data folder given as an argument, the file's environment variable
    (`env_var`), the data folder of $AIRBNB_DATA_FOLDER, the cache, a download.

    Without a `snapshot`, a data folder gives its newest snapshot of the city, else the
    catalogue's default is used; the Source records which.
    """
    local = settings.LocalSettings.from_env(environ)
    env_var = env_var or file.env
    tried: list[str] = []
    chosen = (snapshot, "given") if snapshot else (default_snapshot(city, file),
                                                    "catalogue default")
    for origin, value in (("argument", listings), ("data folder", data_folder),
                          ("environment", local.listings.get(env_var)),
                          ("data folder", local.data_folder)):
        if not value:
            continue
        if origin == "data folder":
            found = _in_data_folder(Path(value).expanduser(), city, snapshot, file)
            if found:
                return found
            tried.append(f"data folder {value}: no {city}/{snapshot or '<snapshot>'}/{file.name}")
            continue
        value = str(value)
        if _is_url(value):
            if not chosen[0]:
                raise DataSourceError(f"{value}: pass --snapshot DATE to name the snapshot")
            dest = cache_path(city, chosen[0], cache_dir, file)
            return _download_source(value, dest, origin, *chosen)
        path = Path(value).expanduser()
        if not path.is_file():
            raise DataSourceError(f"listings file {path} (from {origin}) does not exist")
        named = snapshot_of(path)
        return Source(path, origin, snapshot=snapshot or named or chosen[0],
                      snapshot_origin="given" if snapshot else
                      ("from the path" if named else chosen[1] if chosen[0] else None))
    tried.append(f"${env_var}: not set" if not local.listings.get(env_var) else "")
    if not chosen[0]:
        raise DataSourceError(
            f"no {file.label} for {city} found and no snapshot to fetch: pass --snapshot DATE "
            "(a date from Inside Airbnb's 'get the data' page), --listings PATH or "
            f"--data-folder DIR. Tried:\n  - " + "\n  - ".join(t for t in tried if t))
    cached = cache_path(city, chosen[0], cache_dir, file)
    if cached.is_file():
        return Source(cached, "cache", snapshot=chosen[0], snapshot_origin=chosen[1])
    tried.append(f"cache: {cached} does not exist")
    url = listings_url(city, chosen[0], file)
    if allow_download:
        try:
            return _download_source(url, cached, "download", *chosen)
        except DataSourceError as exc:
            tried.append(str(exc))
    else:
        tried.append(f"download of {url}: disabled")
    raise DataSourceError(
        "no listings file found. Tried:\n  - " + "\n  - ".join(t for t in tried if t)
        + f"\nPass a local file (`airbnb-price run --listings PATH`, or --compare-listings for "
        f"the drift snapshot), a data folder (--data-folder DIR) or set {env_var}=PATH."
    )


def _in_data_folder(folder: Path, city: str, snapshot: str | None,
                    file: ListingsFile) -> Source | None:
    """The file in a data folder laid out <city>/<snapshot>/<file>, or None."""
    date, how = (snapshot, "given") if snapshot else (newest_snapshot(folder, city, file),
                                                      "newest in the data folder")
    path = folder / city / str(date) / file.name
    return Source(path, "data folder", snapshot=date, snapshot_origin=how) \
        if date and path.is_file() else None


def _download_source(url: str, dest: Path, origin: str, snapshot: str | None,
                     how: str | None) -> Source:
    try:
        download(url, dest)
    except urllib.error.HTTPError as exc:
        hint = (" Inside Airbnb keeps only about the last twelve months online: pick a current "
                "date from its 'get the data' page (--snapshot) or pass --listings PATH."
                if exc.code in (403, 404) else "")
        raise DataSourceError(f"download of {url} failed: HTTP {exc.code} (snapshot {snapshot}"
                              f"){hint}") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataSourceError(f"download of {url} failed: {exc}") from exc
    return Source(dest, origin, url, snapshot, how)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, which every run and model records."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
