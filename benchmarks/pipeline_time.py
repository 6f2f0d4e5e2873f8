"""Full-run wall time against listings: `airbnb-price run` (notebooks 01-05, full sizes, the
default time budget) on each shared city, one after another on this machine.

Usage: python benchmarks/pipeline_time.py [--cities albany victoria valencia
                                           amsterdam@2021-07-04 london] [--data-folder DIR]
                                          [--time-budget 15m] [--lifted london]
Writes results/pipeline.json: per city its listings, seconds per notebook and in total,
the budget record of run.json (limit, time used, what training cut), the hold-out MAE of the
model and of the plain LightGBM. `--lifted CITY` also runs CITY with no budget (however long
it takes), the reference its budgeted MAE is held to (within 1%). A run of some cities
replaces their entries and keeps the others' (each entry names its run id, which dates it).
Targets (issue 21): London <= 15 min on 2 cores; its MAE within 1% of the lifted run's and
ahead of the plain LightGBM; Amsterdam 2021-07-04 no slower than 7 min 28 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from common import RESULTS, write

from airbnb_price.core import config, runfiles

DATA = config.PROJECT_ROOT.parent / "shared" / "data"
CITIES = ["albany", "victoria", "valencia", "amsterdam@2021-07-04", "london"]
CLI = config.PROJECT_ROOT / ".venv" / "bin" / "airbnb-price"


def timed_run(entry: str, data_folder: Path, budget: str, runs: Path) -> dict:
    """One full run of `entry` (city or city@snapshot): its figures from run.json and
    metrics.json."""
    city, _, snapshot = entry.partition("@")
    args = [str(CLI), "run", "--city", city, "--data-folder", str(data_folder),
            "--runs-dir", str(runs), "--time-budget", budget]
    subprocess.run(args + (["--snapshot", snapshot] if snapshot else []), check=True)
    run_dir = max(runs.iterdir(), key=lambda p: p.stat().st_mtime)
    record = json.loads((run_dir / runfiles.RUN).read_text())
    metrics = json.loads((run_dir / runfiles.METRICS).read_text())
    seconds = {nb["name"].split("_")[0]: nb["seconds"] for nb in record["notebooks"]}
    return {"run_id": record["run_id"], "listings": record["data"]["rows"],
            "modelled": metrics["holdout_rows"] * 5, "time_budget": budget,
            "total_s": record["budget"]["used_s"], "notebooks_s": seconds,
            "budget": record["budget"], "best_model": metrics["best_model"],
            "selection_rows": metrics["selection_rows"], "training_s": metrics["seconds"],
            "holdout_mae": metrics["automl"]["mae"],
            "lightgbm_mae": metrics["baseline_lightgbm"]["mae"], "currency": metrics["currency"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cities", nargs="+", default=CITIES)
    parser.add_argument("--data-folder", type=Path, default=DATA)
    parser.add_argument("--time-budget", default=config.TIME_BUDGET)
    parser.add_argument("--lifted", nargs="*", default=[], help="cities to run again unbudgeted")
    args = parser.parse_args()
    result: dict = {"cities": {}, "lifted": {}, "target_london_s": 15 * 60}
    earlier = RESULTS / "pipeline.json"
    if earlier.is_file():
        kept = json.loads(earlier.read_text())
        result["cities"] |= kept.get("cities", {})
        result["lifted"] |= kept.get("lifted", {})
    with tempfile.TemporaryDirectory() as scratch:
        for entry in args.cities:
            result["cities"][entry] = timed_run(entry, args.data_folder, args.time_budget,
                                                Path(scratch) / entry)
            print(entry, result["cities"][entry]["total_s"], "s", flush=True)
        for entry in args.lifted:
            result["lifted"][entry] = timed_run(entry, args.data_folder, "none",
                                                Path(scratch) / f"{entry}-lifted")
    for entry in args.lifted:
        lifted = result["lifted"][entry]
        budgeted = result["cities"][entry] if entry in args.cities else None  # same run only
        if budgeted:
            lifted["budgeted_mae_vs_lifted"] = round(budgeted["holdout_mae"]
                                                     / lifted["holdout_mae"], 4)
    write("pipeline", result)


if __name__ == "__main__":
    main()
