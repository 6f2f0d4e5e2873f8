"""The package's small C libraries: plain C99 loaded with ctypes (no Python C API, so one
build serves every CPython 3), built by pip from the .c file beside each (setup.py), portable
flags only: they must load on every Lambda runtime (tests/serve/test_engine.py reads their
needed symbol versions)."""

from __future__ import annotations

import ctypes
import importlib.machinery
from pathlib import Path
from typing import Any


class LibraryMissing(ImportError):
    """The package was installed without a compiled library (no C compiler at install)."""


def load(folder: Path, name: str) -> ctypes.CDLL:
    """The library `name` (e.g. "_trees") built into `folder`."""
    found = [folder / f"{name}{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
             if (folder / f"{name}{suffix}").is_file()]
    if not found:
        raise LibraryMissing(f"{folder}/{name}*.so is missing: reinstall the package where a "
                             f"C compiler is available (pip builds it from {name}.c)")
    return ctypes.CDLL(str(found[0]))


def address(array: Any) -> int:
    """Where a numpy array's data starts, as the C functions take it."""
    return array.ctypes.data
