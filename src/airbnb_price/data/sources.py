"""Where a listings file comes from. First hit wins: an explicit path or URL, the file's
environment variable ($AIRBNB_LISTINGS, $AIRBNB_DETAILED_LISTINGS), the local cache
`data/raw/<city>/<snapshot>/<file>`, then a download from Inside Airbnb (atomic, so a failed
download never leaves a partial file). Each file is checksummed for the run record.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from airbnb_price.core import config
from airbnb_price.core.config import ListingsFile
from airbnb_price.data.errors import DataSourceError


@dataclass(frozen=True)
class Source:
    """A resolved listings file and how it was found (recorded in run.json)."""

    path: Path
    origin: str  # "argument" | "environment" | "cache" | "download"
    url: str | None = None


def listings_url(city: str = config.DEFAULT_CITY, snapshot: str = config.DEFAULT_SNAPSHOT,
                 file: ListingsFile = config.SUMMARY_FILE) -> str:
    """The Inside Airbnb download URL of a city's listings `file` on a snapshot date."""
    if city not in config.CITIES:
        raise DataSourceError(f"unknown city {city!r}; known: {', '.join(sorted(config.CITIES))}")
    return config.INSIDE_AIRBNB_URL.format(
        region=config.CITIES[city].region, city=city, snapshot=snapshot,
        file=file.path)


def cache_path(city: str, snapshot: str, cache_dir: Path | None = None,
               file: ListingsFile = config.SUMMARY_FILE) -> Path:
    return Path(cache_dir or config.DATA_CACHE_DIR) / city / snapshot / file.name


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
    snapshot: str = config.DEFAULT_SNAPSHOT,
    *,
    environ: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    allow_download: bool = True,
    env_var: str | None = None,
    file: ListingsFile = config.SUMMARY_FILE,
) -> Source:
    """Find a listings `file` (summary or detailed), trying argument, environment (`env_var`,
    default: the file's variable), cache and download in turn."""
    environ = os.environ if environ is None else environ
    env_var = env_var or file.env
    tried: list[str] = []
    candidates = [("argument", listings), ("environment", environ.get(env_var))]
    for origin, value in candidates:
        if not value:
            tried.append(f"{origin}: not given" if origin == "argument"
                         else f"${env_var}: not set")
            continue
        value = str(value)
        if _is_url(value):
            return _download_source(value, cache_path(city, snapshot, cache_dir, file), origin)
        path = Path(value).expanduser()
        if not path.is_file():
            raise DataSourceError(f"listings file {path} (from {origin}) does not exist")
        return Source(path, origin)
    cached = cache_path(city, snapshot, cache_dir, file)
    if cached.is_file():
        return Source(cached, "cache")
    tried.append(f"cache: {cached} does not exist")
    url = listings_url(city, snapshot, file)
    if allow_download:
        try:
            return _download_source(url, cached, "download")
        except DataSourceError as exc:
            tried.append(str(exc))
    else:
        tried.append(f"download of {url}: disabled")
    raise DataSourceError(
        "no listings file found. Tried:\n  - " + "\n  - ".join(tried)
        + f"\nPass a local file (`airbnb-price run --listings PATH`, or --compare-listings for "
        f"the drift snapshot) or set {env_var}=PATH."
    )


def _download_source(url: str, dest: Path, origin: str) -> Source:
    try:
        download(url, dest)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataSourceError(f"download of {url} failed: {exc}") from exc
    return Source(dest, origin, url)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, which every run and model records."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
