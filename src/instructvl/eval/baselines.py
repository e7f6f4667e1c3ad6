"""Baselines computed per task without a model.

- rank tasks, **chance**: the expected score of a uniformly random choice. top1: the
  mean of 1 / (number of candidates); AUC: 0.5; MRR: the mean of H(n) / n (the expected
  reciprocal rank of the ground truth at a uniformly random rank among n), with
  R@k = min(k, n) / n and mean rank (n + 1) / 2.
- generate tasks, **majority**: the most frequent answer (every reference caption, for
  CIDEr) of a split other than the evaluated one, predicted for every sample and scored
  by the task's metric; `source` says which split: "train" (SynthVL held-in sets, and
  real tasks whose spec names a `baseline` split), "dev" (SynthVL held-out sets: a split
  drawn like test, never scored). A real task without a training split gets no majority
  (`source: "none"`, score None) rather than one that peeks at the evaluation answers.
  Runs scored before this counted held-out majorities on the evaluation set
  (`source: "eval"`).

The text-only baseline (the same model with the images removed) is an evaluation run
with `no_image=True`; see `instructvl.eval.harness`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from instructvl.data.schema import Sample
from instructvl.eval.metrics import compute
from instructvl.eval.metrics.ranking import RECALL_AT
from instructvl.eval.scoring import metric_options_for
from instructvl.eval.spec import TaskSpec
from instructvl.eval.targets import candidates_for, reference_for
from instructvl.eval.uncertainty import TaskValues, run_interval


def _mean(values: list[float]) -> float:
    return float(sum(values) / len(values))


def chance(spec: TaskSpec, samples: list[Sample]) -> dict[str, Any]:
    """The expected score of uniformly random candidate choices (rank tasks)."""
    sizes = [len(candidates_for(spec, s)) for s in samples]
    extra: dict[str, float] = {}
    if spec.metric == "auc":
        score = 0.5
    elif spec.metric == "mrr":
        score = _mean([sum(1.0 / r for r in range(1, n + 1)) / n for n in sizes])
        extra = {f"r@{k}": _mean([min(k, n) / n for n in sizes]) for k in RECALL_AT}
        extra["mean_rank"] = _mean([(n + 1) / 2 for n in sizes])
    else:
        score = _mean([1.0 / n for n in sizes])
    return {"kind": "chance", "score": score, "extra": extra}


def majority_answer(answers: list[str], source: str) -> tuple[str | None, str]:
    """(the most frequent non-blank answer of `answers`, stripped, and `source`: the split
    they come from); (None, "none") when there is no answer to count."""
    counted = Counter(a.strip() for a in answers if a and a.strip())
    return (counted.most_common(1)[0][0], source) if counted else (None, "none")


def majority(spec: TaskSpec, samples: list[Sample], answer: str | None, source: str) -> dict[str, Any]:
    """The score of predicting `answer` for every sample (generate tasks), with its 95%
    bootstrap interval over the samples; score None without an answer (no split to count
    one on)."""
    record: dict[str, Any] = {
        "kind": "majority",
        "score": None,
        "ci": None,
        "extra": {},
        "answer": answer,
        "source": source,
    }
    if answer is not None:
        refs = [reference_for(spec, s) for s in samples]
        result = compute(spec.metric, [answer] * len(samples), refs, **metric_options_for(spec))
        values = TaskValues(spec.metric, tuple(s.id for s in samples), np.asarray(result.per_sample, dtype=float))
        record.update(score=result.score, ci=run_interval(f"{spec.name}:majority", values)["ci"], extra=result.extra)
    return record


def baseline(spec: TaskSpec, samples: list[Sample], majority_of: tuple[str | None, str] | None) -> dict[str, Any]:
    """Chance for rank tasks, majority (given as (answer, source); None: not counted, no
    baseline) for generate tasks."""
    if spec.output == "rank":
        return chance(spec, samples)
    return majority(spec, samples, *(majority_of or (None, "none")))
