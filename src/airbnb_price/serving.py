"""Import shim for models published before the package had layers (0.1): their pickles name
`airbnb_price.serving.LeanModel` and `airbnb_price.serving.Step`, which now live in
`airbnb_price.serve.artifact`. Keep while such models are in a registry
(tests/test_legacy.py loads one)."""

from airbnb_price.serve.artifact import LeanModel, Step  # LeanModel: CompiledModel's old name

__all__ = ["LeanModel", "Step"]
