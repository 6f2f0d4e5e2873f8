"""Pipeline wall time per notebook, smoke and full, from the newest successful runs' run.json
(summary feature set; `full_detailed` / `full_existing` from the newest `--feature-set
detailed` / `existing` run when there is one).

Usage: python benchmarks/pipeline_time.py    (after `make run` and `make smoke`)
Writes results/pipeline.json. Target: the full pipeline within 15 minutes on 2 cores.
"""

from __future__ import annotations

import json

from common import write

from airbnb_price.core import config


def newest(smoke: bool, feature_set: str = "summary") -> dict | None:
    for path in sorted(config.RUNS_DIR.glob("*/run.json"), reverse=True):
        record = json.loads(path.read_text())
        parameters = record["parameters"]
        if (record["status"] == "ok" and parameters["smoke"] is smoke
                and parameters.get("feature_set", "summary") == feature_set):
            seconds = {nb["name"]: nb["seconds"] for nb in record["notebooks"]}
            return {"run_id": record["run_id"], "total_s": round(sum(seconds.values()), 1),
                    "notebooks_s": seconds}
    return None


def main() -> None:
    result = {"smoke": newest(True), "full": newest(False),
              "full_detailed": newest(False, "detailed"), "full_existing": newest(False, "existing"),
              "target_full_s": 15 * 60}
    missing = [k for k in ("smoke", "full") if result[k] is None]
    if missing:
        result["missing"] = f"no successful {' or '.join(missing)} run under {config.RUNS_DIR}"
    write("pipeline", result)


if __name__ == "__main__":
    main()
