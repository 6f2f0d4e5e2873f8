"""Serving: the request contract, request parsing, the model cache, prediction and the lean
artifact it runs. Shipped in the Lambda image: imports only core, numpy, pydantic, shapely,
scikit-learn and LightGBM (never pandas, PyCaret, matplotlib or the training code; enforced by
import-linter, see pyproject.toml)."""
