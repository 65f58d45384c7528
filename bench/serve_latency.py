"""Latency of single-row requests to a running scoring server (run by hand, not in CI).

mlflow models serve -m models:/covtype-dtree@champion --env-manager local -p 5001 &
python bench/serve_latency.py http://127.0.0.1:5001 --requests 50

`bench/scoring.py` (part `scoring` of bench/benchmark.py) calls `measure` on both servers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

# The UCI file's first row, without its label.
ROW = [2596, 51, 3, 258, 0, 510, 221, 232, 148, 6279, 1, 0, 0, 0, *([0] * 28), 1, *([0] * 11)]


def measure(url: str, requests: int) -> dict[str, Any]:
    """`requests` single-row requests, one after another; the first (warm-up) is not counted."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sweep.data.covtype import FEATURES

    body = json.dumps({"dataframe_split": {"columns": FEATURES, "data": [ROW]}}).encode()
    timings = []
    for _ in range(requests + 1):
        request = urllib.request.Request(
            f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        timings.append(time.perf_counter() - started)
    first, rest = timings[0], sorted(timings[1:])
    return {
        "requests": len(rest),
        "prediction": answer["predictions"][0],
        "first_ms": round(first * 1000, 2),
        "median_ms": round(statistics.median(rest) * 1000, 2),
        "p90_ms": round(rest[int(0.90 * (len(rest) - 1))] * 1000, 2),
        "p99_ms": round(rest[int(0.99 * (len(rest) - 1))] * 1000, 2),
        "max_ms": round(rest[-1] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(measure(args.url, args.requests)))


if __name__ == "__main__":
    main()
