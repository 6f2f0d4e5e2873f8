"""The endpoint's model cache: the memory each loaded city model takes (lean artifact with
its LightGBM booster, and neighbourhood polygons: the process's resident memory before and
after loading it, all earlier models still held) for the newest run's model of each spec
under a runs folder, and what the cache bound (config.MAX_CACHED_MODELS) costs at most.

Usage: python benchmarks/cache.py [--runs-dir runs]    Writes results/cache.json.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import rss_mb, write

from airbnb_price.core import config, registry, settings, spec
from airbnb_price.runs import runfolder
from airbnb_price.serve import cache

#: The function's memory and what it uses before any model (measured cold-start peak,
#: serverless.yml's sizing note).
FUNCTION_MB, BASELINE_MB = 512, 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs-dir", type=Path, default=settings.local().runs_dir)
    args = parser.parse_args()
    held, sizes = [], {}
    with tempfile.TemporaryDirectory() as store:
        for model_dir in runfolder.newest_model_dirs(args.runs_dir).values():
            registry.publish(registry.open_store(store), model_dir)
        names = sorted(registry.published(registry.open_store(store)))
        warm = cache.ModelLoader(spec.parse_name(names[0]), store)
        warm.get()  # imports numpy, pydantic and shapely once, as a warm function
        for name in names:
            before = rss_mb()
            entry = cache.ModelLoader(spec.parse_name(name), store)
            entry.get()
            held.append(entry)
            sizes[name] = round(rss_mb() - before, 2)
    largest = max(sizes.values())
    write("cache", {"model_mb": sizes, "largest_mb": largest, "models_held": len(held),
                    "bound": config.MAX_CACHED_MODELS,
                    "bound_mb": round(config.MAX_CACHED_MODELS * largest, 1),
                    "headroom_mb": FUNCTION_MB - BASELINE_MB})


if __name__ == "__main__":
    main()
