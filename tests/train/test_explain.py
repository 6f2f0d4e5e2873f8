"""Notebook 04's explained sample is sized by the time tree SHAP takes on the run's model."""

from airbnb_price.runs import runfolder
from airbnb_price.serve import artifact
from airbnb_price.train import explain


def test_explain_sample_fits_its_time(smoke_run) -> None:
    table, _ = runfolder.read_features(smoke_run)
    model = artifact.load(smoke_run / "model")

    roomy = explain.explain_sample(model, table, rows=300, seconds=600)
    assert len(roomy.table) == 300 and roomy.note == "explaining 300 listings"

    tight = explain.explain_sample(model, table, rows=300, seconds=1e-6)
    assert len(tight.table) == explain.MIN_EXPLAIN_ROWS
    assert tight.note.startswith(f"explaining {explain.MIN_EXPLAIN_ROWS} of 300 sampled listings")
    # the short sample is the start of the long one: the same seed, so the same listings first
    assert tight.table.index.equals(roomy.table.index[:explain.MIN_EXPLAIN_ROWS])
