"""The endpoint's model cache: the memory one loaded city model takes (lean artifact and
neighbourhood polygons, Python heap measured with tracemalloc) for the newest run's model of
each spec under runs/, and the bound that follows for a 512 MB function.

Usage: python benchmarks/cache.py [--runs-dir runs]    Writes results/cache.json.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import tracemalloc
from pathlib import Path

from common import write

from airbnb_price.core import config, registry, spec
from airbnb_price.local import runfolder
from airbnb_price.serve import cache

#: What the function has besides its models: measured cold-start peak, benchmarks/latency.py.
FUNCTION_MB, BASELINE_MB = 512, 200


def loaded_size(store: str, name: str) -> float:
    """MB of Python heap one model takes once loaded into the cache."""
    gc.collect()
    tracemalloc.start()
    cache.ModelCache(spec.parse_name(name), store).get()
    size = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    return round(size, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs-dir", type=Path, default=config.RUNS_DIR)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as store:
        for model_dir in runfolder.newest_model_dirs(args.runs_dir).values():
            registry.publish(registry.open_store(store), model_dir)
        sizes = {name: loaded_size(store, name) for name in registry.published(
            registry.open_store(store))}
    largest = max(sizes.values())
    write("cache", {"model_mb": sizes, "largest_mb": largest,
                    "bound": config.MAX_CACHED_MODELS,
                    "bound_mb": round(config.MAX_CACHED_MODELS * largest, 1),
                    "headroom_mb": FUNCTION_MB - BASELINE_MB})


if __name__ == "__main__":
    main()
