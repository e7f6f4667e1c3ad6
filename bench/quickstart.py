"""Benchmark: the README's main job, `instructvl quickstart`, against its targets.

Runs the command twice as a subprocess, with the instructvl cache pointed at a folder
of this benchmark's own:
1. fresh: an empty cache (SynthVL generation, the GGUF conversion of SmolLM2, the
   offline vision tower's pretraining, instruction tuning, evaluation, baselines);
2. cached: the same command into a new run folder, reusing the cache (data, tower,
   converted LLM) but training and evaluating again.
`--cache DIR` with an existing cache skips the fresh run. Peak resident memory is the
largest child process's maximum RSS. Prints JSON: wall seconds of each run, the
per-step seconds the quickstart recorded, the peak RSS, the held-out averages of the
model and both baselines, and whether each target holds (fresh <= 20 min, cached
<= 8 min, RSS <= 6 GiB, held-out average above the text-only and chance/majority ones).

Usage: python bench/quickstart.py [--out runs/bench-quickstart] [--cache DIR] [-- quickstart options]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"fresh_s": 20 * 60, "cached_s": 8 * 60, "peak_rss_gib": 6.0}


def run(out: Path, cache: Path, extra: list[str]) -> dict:
    """One quickstart run into `out` (removed first) with `cache`; wall time and summary."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "INSTRUCTVL_CACHE": str(cache)}
    cmd = [sys.executable, "-m", "instructvl.cli", "quickstart", "--out", str(out), *extra]
    print("$", " ".join(cmd), file=sys.stderr)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=sys.stderr)  # stdout stays the JSON only
    wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text())
    return {
        "wall_s": round(wall, 1),
        "steps_s": {k: round(v, 1) for k, v in summary["seconds"].items()},
        "summary": summary,
    }


def held_out(summary: dict) -> dict:
    """Held-out averages x100: the model, the text-only model, chance/majority."""
    avg, text = summary["averages"]["held-out"], summary["text_only_averages"]["held-out"]
    return {
        "model": round(100 * avg["score"], 2),
        "text_only": round(100 * text["score"], 2),
        "chance_majority": round(100 * avg["baseline"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/bench-quickstart")
    parser.add_argument("--cache", default=None, help="an existing instructvl cache: skip the fresh run")
    parser.add_argument("extra", nargs="*", help="options passed to `instructvl quickstart`")
    args = parser.parse_args()
    out = Path(args.out)
    result: dict = {}
    if args.cache is None:
        cache = out / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        result["fresh"] = run(out / "fresh", cache, args.extra)
    else:
        cache = Path(args.cache)
    result["cached"] = run(out / "cached", cache, args.extra)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    scores = held_out(result["cached"].pop("summary"))
    if "fresh" in result:
        result["fresh"].pop("summary")
    result.update(peak_rss_gib=round(peak, 2), held_out=scores)
    checks = {
        "cached_s": result["cached"]["wall_s"] <= TARGETS["cached_s"],
        "peak_rss_gib": peak <= TARGETS["peak_rss_gib"],
        "above_text_only": scores["model"] > scores["text_only"],
        "above_chance_majority": scores["model"] > scores["chance_majority"],
    }
    if "fresh" in result:
        checks["fresh_s"] = result["fresh"]["wall_s"] <= TARGETS["fresh_s"]
    result.update(targets=TARGETS, meets=checks)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
