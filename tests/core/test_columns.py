"""The table of input columns is the one place an input column is declared: its row gives the
request contract's field, the feature sets' inputs and the reports' name for it."""

from __future__ import annotations

import subprocess
import sys

from airbnb_price.core import columns, features, labels


def test_every_feature_set_input_is_a_row_of_the_table_and_back():
    for feature_set in features.FEATURE_SETS.values():
        assert set(feature_set.input_columns) <= set(columns.COLUMNS)
    declared = {n for s in features.FEATURE_SETS.values() for n in s.input_columns}
    assert declared == set(columns.COLUMNS)


NEW_COLUMN = """
from pydantic import Field
from airbnb_price.core import columns
row = columns.Column(int | None, Field(None, ge=0, le=20, description="parking spaces"),
                     "detailed", "numeric", "Parking spaces")
columns.COLUMNS["parking_spaces"] = row
columns.FIELDS["parking_spaces"] = (row.annotation, row.field)
from airbnb_price.core import features, labels
from airbnb_price.serve import contract
assert "parking_spaces" in features.DETAILED.input_columns
assert "parking_spaces" in features.EXISTING.input_columns
assert "parking_spaces" not in features.SUMMARY.input_columns
assert features.DETAILED.own_inputs >= {"parking_spaces"}
field = contract.contract(features.DETAILED).model_json_schema()["properties"]["parking_spaces"]
assert {"type": "integer", "minimum": 0, "maximum": 20} in field["anyOf"], field
assert labels.label("parking_spaces") == "Parking spaces"
print("ok")
"""


def test_a_new_column_is_one_row_of_the_table():
    """A newcomer's new column, added as one row before the modules that derive from the
    table are imported (as an edit of columns.py is): the detailed and existing sets take it,
    the summary set does not, the endpoint's schema documents it and the report names it."""
    done = subprocess.run([sys.executable, "-c", NEW_COLUMN], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_every_input_column_has_a_reader_s_label():
    for name in columns.COLUMNS:
        assert labels.label(name) == columns.COLUMNS[name].label
        assert labels.label(name)[0].isupper()
