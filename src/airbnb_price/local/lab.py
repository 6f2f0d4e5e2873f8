"""JupyterLab as `make lab` starts it: the project's folder as Lab's root, so a notebook's
links into its run folder (`runs/<id>/profile.html`) open from Lab, the notebooks folder
shown first. The `airbnb-price` kernel starts in the notebook's own folder, as papermill's
starts in the run folder."""

from __future__ import annotations

import os
from pathlib import Path

from airbnb_price.core import config


def command(port: int | None = None, browser: bool = True,
            root: Path = config.PROJECT_ROOT) -> list[str]:
    """The `jupyter lab` command line (runs/ may be hidden, e.g. .test-runs: still served)."""
    args = ["jupyter", "lab", f"--ServerApp.root_dir={root}",
            "--LabApp.default_url=/lab/tree/notebooks", "--ContentsManager.allow_hidden=True"]
    if port is not None:
        args.append(f"--ServerApp.port={port}")
    if not browser:
        args.append("--no-browser")
    if os.geteuid() == 0:  # containers and CI machines: Jupyter refuses root without it
        args.append("--allow-root")
    return args
