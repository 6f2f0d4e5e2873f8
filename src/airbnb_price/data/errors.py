"""The data problems the project reports by name: every message names the file, the column
and the number of rows at fault, so a user never has to read a pandas traceback."""

from __future__ import annotations


class DataError(Exception):
    """Base class for every data problem the project reports by name."""


class DataSourceError(DataError):
    """No listings file could be found or downloaded."""


class SchemaError(DataError):
    """The file exists but is not a listings file this project can use."""
