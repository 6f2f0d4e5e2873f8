"""Pipeline wall time per notebook, smoke and full, from the newest successful runs' run.json.

Usage: python benchmarks/pipeline_time.py    (after `make run` and `make smoke`)
Writes results/pipeline.json. Target: the full pipeline within 15 minutes on 2 cores.
"""

from __future__ import annotations

import json

from common import write

from airbnb_price import config


def newest(smoke: bool) -> dict | None:
    for path in sorted(config.RUNS_DIR.glob("*/run.json"), reverse=True):
        record = json.loads(path.read_text())
        if record["status"] == "ok" and record["parameters"]["smoke"] is smoke:
            seconds = {nb["name"]: nb["seconds"] for nb in record["notebooks"]}
            return {"run_id": record["run_id"], "total_s": round(sum(seconds.values()), 1),
                    "notebooks_s": seconds}
    return None


def main() -> None:
    result = {"smoke": newest(True), "full": newest(False), "target_full_s": 15 * 60}
    missing = [k for k in ("smoke", "full") if result[k] is None]
    if missing:
        result["missing"] = f"no successful {' or '.join(missing)} run under {config.RUNS_DIR}"
    write("pipeline", result)


if __name__ == "__main__":
    main()
