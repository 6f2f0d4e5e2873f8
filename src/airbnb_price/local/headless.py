"""`airbnb-price train`: what notebooks 02 and 03 do, without notebooks or a kernel.

For scripts, schedulers and fleet tasks that need the model, not the reports. The run folder
has the same layout as a notebook run's (features, cleaning record, example, model folder,
metrics.json, run.json) and the same model to the cent: both read the feature table back from
its Parquet file and call the same `train.training` functions with the same seed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from airbnb_price.core import runfiles
from airbnb_price.core.files import write_json
from airbnb_price.core.params import RunParams
from airbnb_price.data import tables
from airbnb_price.local import runner, stopping
from airbnb_price.runs import runfolder
from airbnb_price.runs.provenance import package_versions
from airbnb_price.train import budget, model_folder, training


def train(params: RunParams, runs_dir: Path | None = None, preset: str = "lean",
          progress: Callable[[str], None] = print) -> Path:
    """Prepare the data, train, compile and save into a new run folder; return the folder.
    SIGINT/SIGTERM stop it as they stop a notebook run (run.json "interrupted")."""
    with stopping.signals_stop_the_run():
        started = time.time()
        data = runner.check_data(params)
        params = data.params
        run_dir = runfolder.new_run_dir(runs_dir, "-train")
        record = {"run_id": run_dir.name, "mode": "train", "status": "running",
                  "started": dt.datetime.now(dt.UTC).isoformat(),
                  "parameters": params.as_dict(), "model": params.spec.name, **data.record(),
                  "packages": package_versions()}
        write_json(run_dir / runfiles.RUN, record)
        try:
            runfolder.write_prepared(run_dir, tables.prepare_run(data))
            table, prepared = runfolder.read_features(run_dir)  # as notebook 03 reads them
            rows = training.plan(table)
            progress(rows.curve.note(len(rows.train)))
            trained = training.fit(rows, budget.sizes(params.smoke, len(table)), preset,
                                   budget.Budget.of(params.time_budget, started),
                                   log_dir=run_dir, say=progress)
            saved = model_folder.save(trained, table, run_dir, prepared, package_versions(),
                                      ids=runfolder.listing_ids(run_dir))
        except stopping.RunInterrupted as exc:
            record |= {"status": "interrupted", "stopped_by": exc.signal_name}
            write_json(run_dir / runfiles.RUN, record)
            exc.run_dir = run_dir
            raise
        record |= {"status": "ok", "finished": dt.datetime.now(dt.UTC).isoformat(),
                   "budget": runner.budget_record(params.budget_seconds,
                                                  time.time() - started, run_dir)}
        write_json(run_dir / runfiles.RUN, record)
        progress(f"{trained.best_id}: hold-out MAE {trained.holdout['mae']:.2f} vs LightGBM "
                 f"{trained.baseline['mae']:.2f} {prepared['city']['currency']}; compiled "
                 f"within {saved.worst:.4f} of the pipeline")
        return run_dir
