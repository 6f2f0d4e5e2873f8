"""PyCaret's log goes to the run folder the notebook works in, never into the folder the
process started in (JupyterLab starts kernels in notebooks/, which filled up with logs.log)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


@pytest.mark.slow
def test_pycaret_logs_into_the_run_folder_not_the_working_folder(tmp_path):
    run_dir, started_in = tmp_path / "run", tmp_path / "notebooks"
    run_dir.mkdir()
    started_in.mkdir()
    script = textwrap.dedent(f"""
        import numpy as np, pandas as pd
        from airbnb_price.train import experiment
        rng = np.random.default_rng(0)
        table = pd.DataFrame({{"room_type": rng.choice(["a", "b"], 200),
                              "latitude": rng.normal(52, 0.01, 200),
                              "price": rng.uniform(50, 150, 200)}})
        experiment.setup_experiment(table, folds=2, log_dir={str(run_dir)!r})
    """)
    subprocess.run([sys.executable, "-c", script], cwd=started_in, check=True, timeout=300)
    assert not (started_in / "logs.log").exists()
    assert "setup" in (run_dir / "logs.log").read_text().lower()
