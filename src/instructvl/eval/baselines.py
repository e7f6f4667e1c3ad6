"""Baselines computed per task without a model.

- rank tasks, **chance**: the expected score of a uniformly random choice. top1: the
  mean of 1 / (number of candidates); AUC: 0.5; MRR: the mean of H(n) / n (the expected
  reciprocal rank of the ground truth at a uniformly random rank among n), with
  R@k = min(k, n) / n and mean rank (n + 1) / 2.
- generate tasks, **majority**: the most frequent answer (every reference caption, for
  CIDEr) of the task's training split (SynthVL held-in sets), predicted for every sample
  and scored by the task's metric. Held-out and real tasks have no training split, so
  the most frequent answer of the evaluation set itself is used: an optimistic baseline
  (it peeks at the answers' distribution), recorded as `source: "eval"`.

The text-only baseline (the same model with the images removed) is an evaluation run
with `no_image=True`; see `instructvl.eval.harness`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from instructvl.data.schema import Sample
from instructvl.eval.metrics import compute
from instructvl.eval.metrics.ranking import RECALL_AT
from instructvl.eval.prepare import answers_of
from instructvl.eval.scoring import metric_options_for
from instructvl.eval.spec import TaskSpec
from instructvl.eval.targets import candidates_for, reference_for


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


def majority_answer(spec: TaskSpec, samples: list[Sample], train_answers: list[str] | None) -> tuple[str, str]:
    """(the most frequent answer, "train" or "eval": where it was counted)."""
    source = "train" if train_answers else "eval"
    pool = train_answers if train_answers else [a for s in samples for a in answers_of(s, spec.metric)]
    counted = Counter(a.strip() for a in pool if a and a.strip())
    return (counted.most_common(1)[0][0] if counted else ""), source


def majority(spec: TaskSpec, samples: list[Sample], answer: str, source: str) -> dict[str, Any]:
    """The score of predicting `answer` for every sample (generate tasks)."""
    refs = [reference_for(spec, s) for s in samples]
    result = compute(spec.metric, [answer] * len(samples), refs, **metric_options_for(spec))
    return {"kind": "majority", "score": result.score, "extra": result.extra, "answer": answer, "source": source}


def baseline(spec: TaskSpec, samples: list[Sample], majority_of: tuple[str, str] | None) -> dict[str, Any]:
    """Chance for rank tasks, majority (given as (answer, source)) for generate tasks."""
    if spec.output == "rank":
        return chance(spec, samples)
    answer, source = majority_of or majority_answer(spec, samples, None)
    return majority(spec, samples, answer, source)
