"""A generate task's judge score: each sample judged (through the disk cache), its reply
read as (reference, model) scores by the judge (an endpoint's first line; the local
judge's expected scores from its likelihoods), and the task's relative score = mean
model score / mean reference score over the samples whose reply was read, with a 95%
percentile bootstrap interval (the samples resampled, the ratio recomputed). Per sample,
the judgement goes to `<run>/judged/<task>.jsonl` with its status: `ok`, `unparsed` (an
endpoint's reply is not two 1-10 scores; kept, never scored 0; the local judge's never
is) or `failed` (no reply after the retries). Short-answer tasks also record each
answer's exact match with the gold answer (VQA normalisation), for the calibration
table."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.eval.judge.cache import CachedJudge, Reply
from instructvl.eval.judge.config import JudgeConfig
from instructvl.eval.judge.context import judge_inputs
from instructvl.eval.judge.protocol import judge_messages
from instructvl.eval.metrics import top1_accuracy
from instructvl.eval.records import write_jsonl
from instructvl.eval.spec import TaskSpec
from instructvl.eval.uncertainty import interval, sample_draws

SHORT_ANSWER_METRICS = ("top1", "vqa_accuracy", "ivqa_accuracy")
"""Generate tasks whose answers are short and checkable by exact match (calibration)."""


def judged_path(run_dir: Path, task: str) -> Path:
    """Where a task's per-sample judgements are written."""
    return run_dir / "judged" / f"{task}.jsonl"


def is_short_answer(spec: TaskSpec) -> bool:
    """Whether `spec` is a short-answer generate task (scored by top-1, VQA or iVQA accuracy)."""
    return spec.output == "generate" and spec.metric in SHORT_ANSWER_METRICS


def _row(
    sample: Sample, inputs: tuple[str, str, str], prediction: str, reply: Reply | Exception, judge: CachedJudge
) -> dict[str, Any]:
    _, question, reference = inputs
    row: dict[str, Any] = {"id": sample.id, "question": question, "reference": reference, "prediction": prediction}
    if isinstance(reply, Exception):
        return {**row, "status": "failed", "scores": None, "reply": None, "error": str(reply)}
    scores = judge.scores(reply)
    return {**row, "status": "ok" if scores else "unparsed", "scores": scores and list(scores), "reply": reply}


def relative_score(task: str, reference: np.ndarray, model: np.ndarray) -> dict[str, Any]:
    """Mean model score / mean reference score with its 95% bootstrap interval (None without samples)."""
    if reference.size == 0:
        return {"score": None, "ci": None}
    draws = sample_draws(f"{task}:judge", reference.size, 1)[:, 0]
    ratios = model[draws].mean(-1) / reference[draws].mean(-1)
    return {"score": float(model.mean() / reference.mean()), "ci": interval(ratios)}


def judge_task(
    spec: TaskSpec, samples: list[Sample], predictions: list[str], judge: CachedJudge, run_dir: Path
) -> dict[str, Any]:
    """Judges every sample's prediction (see the module docstring); returns the task's
    judge record: the relative score and its interval, the mean scores, the counts, the
    judge and how it scores (`method`)."""
    inputs = [judge_inputs(spec, s) for s in samples]
    prompts = [judge_messages(d, q, r, p) for (d, q, r), p in zip(inputs, predictions)]
    asked = judge.asked
    replies = judge.complete_all(prompts)
    rows = [_row(s, i, p, r, judge) for s, i, p, r in zip(samples, inputs, predictions, replies)]
    if is_short_answer(spec):
        exact = top1_accuracy(predictions, [[r] for _, _, r in inputs], match="vqa").per_sample
        rows = [{**row, "exact_match": bool(e)} for row, e in zip(rows, exact)]
    write_jsonl(judged_path(run_dir, spec.name), rows)
    ok = [r["scores"] for r in rows if r["status"] == "ok"]
    pairs = np.asarray(ok, dtype=float).reshape(-1, 2)
    counts = {status: sum(r["status"] == status for r in rows) for status in ("ok", "unparsed", "failed")}
    return {
        **relative_score(spec.name, pairs[:, 0], pairs[:, 1]),
        "reference_mean": float(pairs[:, 0].mean()) if len(ok) else None,
        "model_mean": float(pairs[:, 1].mean()) if len(ok) else None,
        "n": len(rows),
        "n_judged": counts["ok"],
        "n_unparsed": counts["unparsed"],
        "n_failed": counts["failed"],
        "requests": judge.asked - asked,
        "judge": judge.identity,
        "method": judge.method,
    }


class Judges:
    """The judges of one evaluation, each built once (the local one loads its model on first
    use), behind the disk cache `<cache>/judge`; `announce` gets a line per task judged."""

    def __init__(self, announce: Callable[[str], None] = print) -> None:
        self.announce = announce
        self._built: dict[JudgeConfig, CachedJudge] = {}

    def get(self, config: JudgeConfig) -> CachedJudge:
        """The cached judge for `config`."""
        if config not in self._built:
            self._built[config] = CachedJudge(build_judge(config), default_root())
        return self._built[config]

    def record(self, spec: TaskSpec, samples: list[Sample], predictions: list[str], run_dir: Path) -> dict[str, Any]:
        """`judge_task` with the spec's judge; an error that stops the judging (a wrong key,
        model or URL, an endpoint down, a sample with nothing to judge it by) becomes the
        record's `error`, so the task's own metric still stands."""
        if spec.judge is None:
            raise InstructVLError(f"task {spec.name} names no judge")
        started = time.perf_counter()
        try:
            judged = judge_task(spec, samples, predictions, self.get(spec.judge), run_dir)
        except InstructVLError as exc:
            self.announce(f"{spec.name}: judge error: {exc}")
            return {"config": spec.judge.described(), "error": str(exc)}
        self.announce(
            f"{spec.name}: judged {judged['n']} samples in {time.perf_counter() - started:.0f} s ({judged['requests']} "
            f"asked, the rest cached): {judged['n_judged']} read, {judged['n_unparsed']} unread, "
            f"{judged['n_failed']} failed"
        )
        return {"config": spec.judge.described(), **judged}


def default_root() -> Path:
    """The judgement cache: `<instructvl cache>/judge`."""
    from instructvl.artefacts import cache_dir

    return cache_dir() / "judge"


def build_judge(config: JudgeConfig):
    """The judge `config` names: the local model in process, or the chat endpoint."""
    if config.is_local:
        from instructvl.eval.judge.local import LocalJudge, default_judge_llm

        return LocalJudge(default_judge_llm())
    from instructvl.eval.judge.endpoint import ChatEndpoint

    return ChatEndpoint(config)
