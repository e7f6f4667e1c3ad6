"""The infer phase: model outputs for a task's prompts, written to disk batch by batch.

Generate tasks store the decoded text (`raw`; post-processing happens when scoring) and
the gold answer's teacher-forced (summed log-probability, token count) (`gold`, for the
companion score; one extra pass per batch over the cached prompt); rank tasks store each
candidate's (summed log-probability, token count) from `score_candidates`, so the
normalisation is applied when scoring. A rerun skips the
samples that already have a prediction (in any shard's file); `shard=(i, n)` takes
every n-th sample from the i-th, for work split across processes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from instructvl.data.schema import IMAGE_MARKER, Sample, Turn
from instructvl.eval.records import append_jsonl
from instructvl.eval.spec import TaskSpec
from instructvl.eval.targets import candidates_for, gold_text

DEFAULT_BATCH_SIZE = 16
CHUNK_SIZE = 32


def strip_images(sample: Sample) -> Sample:
    """The text-only version of a prompt: no images, no image markers (the LLM baseline)."""
    turns = [Turn(t.role, t.content.replace(IMAGE_MARKER, "").strip()) for t in sample.turns]
    return dataclasses.replace(sample, images=[], turns=turns)


def shard_of(samples: list[Sample], shard: tuple[int, int]) -> list[Sample]:
    """The samples process `shard = (index, count)` is responsible for."""
    index, count = shard
    return samples[index::count]


class FirstLineDone(StoppingCriteria):
    """Stops a row once its new text has a non-blank line followed by a line break: the
    `first_line` post-processing would drop the rest anyway. (Rows that are done still
    wait for the batch's others; generate pads them.)"""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.start: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        if self.start is None:  # first call: one new token has just been appended
            self.start = input_ids.shape[1] - 1
        texts = self.tokenizer.batch_decode(input_ids[:, self.start :], skip_special_tokens=True)
        return torch.tensor(["\n" in t.lstrip() for t in texts], dtype=torch.bool, device=input_ids.device)


def predict_batch(model, collator, spec: TaskSpec, samples: list[Sample]) -> list[dict]:
    """One prediction row per sample: decoded text, or candidate log-probabilities."""
    batch = collator.prompt_batch(samples)
    with torch.inference_mode():
        if spec.output == "rank":
            scores = model.score_candidates(batch, [candidates_for(spec, s) for s in samples], chunk_size=CHUNK_SIZE)
            return [{"id": s.id, "scores": [[lp, n] for lp, n in row]} for s, row in zip(samples, scores)]
        tok = model.llm.tokenizer
        stop = (
            {"stopping_criteria": StoppingCriteriaList([FirstLineDone(tok)])}
            if "first_line" in spec.postprocess
            else {}
        )
        search = {"num_beams": spec.num_beams, "length_penalty": spec.length_penalty} if spec.num_beams > 1 else {}
        ids = model.generate(batch, max_new_tokens=spec.max_new_tokens, **search, **stop)
        golds = [gold_text(spec, s) for s in samples]
        gold = model.score_candidates(batch, [[g] for g in golds]) if all(golds) else [[None]] * len(samples)
    return [
        {"id": s.id, "raw": tok.decode(row, skip_special_tokens=True), "new_tokens": len(row), "gold": g[0]}
        for s, row, g in zip(samples, ids, gold)
    ]


def infer_task(
    model,
    spec: TaskSpec,
    samples: list[Sample],
    path: Path,
    done: set[str],
    *,
    no_image: bool = False,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Predicts the samples not in `done`, appending each batch's rows to `path`; returns
    how many were predicted. `on_batch(n)` reports progress."""
    todo = [s for s in samples if s.id not in done]
    if no_image:
        todo = [strip_images(s) for s in todo]
    size = spec.batch_size or batch_size or DEFAULT_BATCH_SIZE
    collator = model.collator()
    for start in range(0, len(todo), size):
        chunk = todo[start : start + size]
        began = time.perf_counter()
        rows = predict_batch(model, collator, spec, chunk)
        seconds = (time.perf_counter() - began) / len(chunk)
        append_jsonl(path, [{**row, "seconds": round(seconds, 4)} for row in rows])
        if on_batch is not None:
            on_batch(len(chunk))
    return len(todo)
