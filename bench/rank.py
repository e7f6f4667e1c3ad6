"""Benchmark: ranking 100 candidate answers per question (SynthVL visdial, a VisDial-like
task) with `score_candidates` (image and prompt encoded once, candidates in chunks off
the KV cache) against the naive method peers use (one full forward of image + prompt +
candidate per candidate), on the same model in one run. Checks that both give the same
(summed log-probability, token count) within 1e-4 and prints JSON: seconds and
candidates/s of each, the speed ratio (target >= 5x).

Usage: python bench/rank.py [--model tiny-offline] [--questions 3] [--chunk-size 32]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

import torch

from instructvl.data.collate import IGNORE
from instructvl.data.schema import Turn

TARGET_RATIO = 5.0
TOLERANCE = 1e-4


def last_answer_only(labels: torch.Tensor) -> torch.Tensor:
    """Labels [1, L] with every target masked but the last contiguous run (the candidate;
    earlier dialog answers are targets in a training batch)."""
    labels = labels.clone()
    targets = (labels[0] != IGNORE).nonzero().flatten().tolist()
    start = targets[-1]
    while start - 1 in targets:
        start -= 1
    labels[0, :start] = IGNORE
    return labels


def naive_scores(model, collator, sample, candidates: list[str]) -> list[tuple[float, int]]:
    """(summed log-prob, token count) of each candidate by one full forward of image +
    prompt + candidate: the LM loss summed over the answer tokens (the only labels) is -log p."""
    scores = []
    for i, cand in enumerate(candidates):
        full = dataclasses.replace(sample, id=f"{sample.id}#{i}", turns=[*sample.turns, Turn("assistant", cand)])
        batch = collator.train_batch([full])
        batch.labels = last_answer_only(batch.labels)
        out = model(batch)
        scores.append((-float(out.loss_sum), int(out.num_tokens)))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-offline", help="preset, YAML config or saved model directory")
    parser.add_argument("--questions", type=int, default=3, help="visdial questions (100 candidates each)")
    parser.add_argument("--chunk-size", type=int, default=32)
    parser.add_argument("--data", default=None, help="a SynthVL folder (default: the cached small suite)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from instructvl.cli.common import quiet_libraries
    from instructvl.eval.prepare import prepare_samples
    from instructvl.eval.spec import all_specs
    from instructvl.models.load import load_model

    quiet_libraries()
    model = load_model(args.model)
    model.eval()
    samples = prepare_samples(all_specs()["visdial"], args.data, limit=args.questions)
    collator = model.collator()
    with torch.inference_mode():
        model.score_candidates(collator.prompt_batch(samples[:1]), [samples[0].candidates[:2]])  # warm-up
        start = time.perf_counter()
        fast = [
            model.score_candidates(collator.prompt_batch([s]), [s.candidates], chunk_size=args.chunk_size)[0]
            for s in samples
        ]
        fast_s = time.perf_counter() - start
        start = time.perf_counter()
        naive = [naive_scores(model, collator, s, s.candidates) for s in samples]
        naive_s = time.perf_counter() - start
    pairs = [(f, n) for fq, nq in zip(fast, naive) for f, n in zip(fq, nq)]
    diff = max(abs(f[0] - n[0]) for f, n in pairs)
    same_counts = all(f[1] == n[1] for f, n in pairs)
    total = len(pairs)
    report = {
        "benchmark": "candidate_ranking",
        "model": args.model,
        "questions": len(samples),
        "candidates_per_question": len(samples[0].candidates),
        "chunk_size": args.chunk_size,
        "threads": torch.get_num_threads(),
        "score_candidates": {"seconds": round(fast_s, 2), "candidates_per_s": round(total / fast_s, 1)},
        "naive_full_forward": {"seconds": round(naive_s, 2), "candidates_per_s": round(total / naive_s, 1)},
        "speedup": round(naive_s / fast_s, 2),
        "target": TARGET_RATIO,
        "target_met": naive_s / fast_s >= TARGET_RATIO,
        "max_abs_logprob_diff": diff,
        "same_token_counts": same_counts,
        "same_within_1e-4": diff <= TOLERANCE and same_counts,
        "same_choice": all(
            max(range(len(f)), key=lambda i: f[i][0]) == max(range(len(n)), key=lambda i: n[i][0])
            for f, n in zip(fast, naive)
        ),
    }
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["same_within_1e-4"] else 1)


if __name__ == "__main__":
    main()
