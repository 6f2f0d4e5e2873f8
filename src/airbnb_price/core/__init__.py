"""The bottom layer: configuration, model specs, features, geometry and the registry.

Shipped in the Lambda image and imported by every other layer; imports nothing above it and
no pandas, PyCaret or plotting library (import-linter contracts in pyproject.toml).
"""
