"""Benchmark: SynthVL generation at small scale (target: all 26 datasets in under 60 s).

Prints JSON: seconds, examples, examples/s, and the ratio of the 60 s budget used.
Usage: python bench/synth.py [--scale small|full] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from instructvl.data.synthvl.generate import generate_suite

BUDGET_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        manifest = generate_suite(out, args.scale, seed=0, workers=args.workers)
        seconds = time.perf_counter() - start
    examples = (
        sum(d["size"] for d in manifest["datasets"].values()) if isinstance(manifest.get("datasets"), dict) else None
    )
    print(
        json.dumps(
            {
                "benchmark": "synthvl_generation",
                "scale": args.scale,
                "workers": args.workers,
                "seconds": round(seconds, 2),
                "examples": examples,
                "examples_per_s": round(examples / seconds, 1) if examples else None,
                "budget_s": BUDGET_S,
                "share_of_budget": round(seconds / BUDGET_S, 3),
                "target_met": seconds < BUDGET_S,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
