"""Cost per 100,000 predictions from the measured warm duration (results/latency.json) and the
memory and architecture configured in serverless.yml.

Usage: python benchmarks/cost.py    Writes results/cost.json (usd_per_100k, ...).
Prices: AWS list prices for eu-west-1 (Ireland), read from https://aws.amazon.com/lambda/pricing/
and https://aws.amazon.com/api-gateway/pricing/ on 2024-11-01 (first tier, no free tier).
"""

from __future__ import annotations

import json
import math
import re

from common import RESULTS, write

from airbnb_price.core import config

LAMBDA_USD_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000
HTTP_API_USD_PER_REQUEST = 1.00 / 1_000_000
PRICES_SOURCE = ("aws.amazon.com/lambda/pricing and aws.amazon.com/api-gateway/pricing, "
                 "eu-west-1, read 2024-11-01")
#: The 2021 article's setup: ~250-300 ms billed per call, priced by its author at ~$3 per 100k.
ARTICLE_USD_PER_100K = 3.0
REQUESTS = 100_000


def configured() -> tuple[int, str]:
    """memorySize and architecture from serverless.yml (the deployed configuration)."""
    text = (config.PROJECT_ROOT / "serverless.yml").read_text()
    memory = int(re.search(r"^\s*memorySize:\s*(\d+)", text, re.MULTILINE).group(1))
    architecture = re.search(r"^\s*architecture:\s*(\S+)", text, re.MULTILINE).group(1)
    return memory, architecture


def per_100k(duration_ms: float, memory_mb: int, architecture: str) -> dict[str, float]:
    billed_s = math.ceil(duration_ms) / 1000  # Lambda bills in 1 ms steps
    compute = REQUESTS * billed_s * memory_mb / 1024 * LAMBDA_USD_PER_GB_SECOND[architecture]
    requests = REQUESTS * (LAMBDA_USD_PER_REQUEST + HTTP_API_USD_PER_REQUEST)
    return {"compute_usd": round(compute, 4), "requests_usd": round(requests, 4),
            "total_usd": round(compute + requests, 4)}


def main() -> None:
    latency = json.loads((RESULTS / "latency.json").read_text())
    memory, architecture = configured()
    warm_ms = latency["warm_p50_ms"]
    cost = per_100k(warm_ms, memory, architecture)
    write("cost", {
        "usd_per_100k": cost["total_usd"], "breakdown": cost, "warm_p50_ms": warm_ms,
        "memory_mb": memory, "architecture": architecture,
        "usd_per_100k_arm64": per_100k(warm_ms, memory, "arm64")["total_usd"],
        "usd_per_100k_p99": per_100k(latency["warm_p99_ms"], memory, architecture)["total_usd"],
        "article_usd_per_100k": ARTICLE_USD_PER_100K,
        "prices": {"lambda_usd_per_gb_second": LAMBDA_USD_PER_GB_SECOND,
                   "lambda_usd_per_request": LAMBDA_USD_PER_REQUEST,
                   "http_api_usd_per_request": HTTP_API_USD_PER_REQUEST,
                   "source": PRICES_SOURCE},
        "target_usd_per_100k": 0.15,
    })


if __name__ == "__main__":
    main()
