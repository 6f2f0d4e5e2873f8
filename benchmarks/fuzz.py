"""Property-based fuzzing of the handler at scale: >= 10,000 hypothesis-generated /predict
events (methods, paths, content types, bodies including structural attacks, base64 flags,
query strings), models on moto S3, each answer checked by
tests/strategies.py's check (never a 500; a 200 from /predict has a finite positive price).

Usage: python benchmarks/fuzz.py [--cases 10000]    Writes results/fuzz.json (cases,
status_counts, and the 200s per model). Serves the newest run's model of each feature set.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from contextlib import redirect_stdout

from common import served_model, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airbnb_price.core import config, registry
from airbnb_price.ops import httpapi
from airbnb_price.runs import runfolder

sys.path.insert(0, str(config.PROJECT_ROOT / "tests"))  # the strategies live with the tests
import strategies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    counts: collections.Counter = collections.Counter()
    priced: collections.Counter = collections.Counter()
    started = time.perf_counter()
    with open(os.devnull, "w") as sink, redirect_stdout(sink), served_model() as store:
        os.environ[config.MODEL_STORE_ENV] = store
        handler = httpapi.load_handler()
        inputs = {name: registry.run_metadata(model_dir)["inputs"]
                  for name, model_dir in runfolder.newest_model_dirs().items()}

        @settings(max_examples=args.cases, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            event = data.draw(strategies.events(inputs))
            response = handler(event, httpapi.LambdaContext())
            counts[strategies.check(response)] += 1
            answer = json.loads(response["body"])
            if response["statusCode"] == 200 and "predictions" in answer:
                priced[answer["model"]["feature_set"]] += 1

        run()
    write("fuzz", {"cases": sum(counts.values()),
                   "status_counts": {str(k): v for k, v in sorted(counts.items())},
                   "priced_by_feature_set": dict(sorted(priced.items())),
                   "seconds": round(time.perf_counter() - started, 1),
                   "property": f"status in {sorted(strategies.ALLOWED)}, never 500; "
                               "200 => finite price > 0"})


if __name__ == "__main__":
    main()
