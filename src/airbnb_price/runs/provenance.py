"""The package versions every run (run.json) and every published model (made_by) records:
training and serving must unpickle the same model, and a report says what made it."""

from __future__ import annotations

import platform
from importlib import metadata

TRACKED_PACKAGES = (
    "airbnb-price", "pycaret", "pandas", "numpy", "scikit-learn", "scipy", "lightgbm", "shap",
    "ydata-profiling", "papermill", "joblib",
)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str | None]:
    """Python's version and each package's installed version (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
