"""The score phase: predictions -> metric inputs -> `MetricResult`, per task.

Generate tasks: the raw text goes through the spec's post-processing. Rank tasks: each
candidate's log-probability is normalised (`sum`, or `mean` per token), then
top1 takes the best candidate (first on ties), AUC takes P(positive) = the softmax of
the normalised scores, and MRR ranks the ground truth among all candidates.

The companion score of every task with a gold answer: the mean per-token log-probability
of the gold answer given the prompt (teacher-forced; rank tasks: the gold candidate's
score), a lower-variance measure than the official metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.eval.metrics import MetricResult, compute
from instructvl.eval.postprocess import postprocess
from instructvl.eval.spec import TaskSpec
from instructvl.eval.targets import candidates_for, gold_index, positive_index, reference_for


@dataclass
class Scored:
    """A task's metric result with the per-sample metric inputs."""

    result: MetricResult
    predictions: list
    references: list


def normalised(scores: list[list[float]], how: str) -> list[float]:
    """Candidate scores from [(summed log-prob, token count)]: the sum, or the mean per token."""
    return [float(lp) if how == "sum" else float(lp) / max(int(n), 1) for lp, n in scores]


def softmax_of(values: list[float], index: int) -> float:
    """The softmax probability of `values[index]` (computed stably)."""
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return exps[index] / sum(exps)


def rank_prediction(spec: TaskSpec, sample: Sample, row: dict):
    """The metric input of one rank prediction row (choice, P(positive), or all scores)."""
    values = normalised(row["scores"], spec.normalisation)
    cands = candidates_for(spec, sample)
    if len(values) != len(cands):
        raise InstructVLError(
            f"task {spec.name}: sample {sample.id} has {len(values)} scores for {len(cands)} candidates"
        )
    if spec.metric == "auc":
        return softmax_of(values, positive_index(spec, cands))
    if spec.metric == "mrr":
        return values
    return max(range(len(values)), key=lambda i: (values[i], -i))


def metric_inputs(spec: TaskSpec, samples: list[Sample], rows: dict[str, dict]) -> tuple[list, list]:
    """(predictions, references) for the metric, in sample order; every sample must have a row."""
    missing = [s.id for s in samples if s.id not in rows]
    if missing:
        raise InstructVLError(
            f"task {spec.name}: {len(missing)} of {len(samples)} samples have no prediction (e.g. {missing[:3]}); "
            "run the infer phase for every shard first"
        )
    if spec.output == "rank":
        preds = [rank_prediction(spec, s, rows[s.id]) for s in samples]
    else:
        preds = [postprocess(rows[s.id]["raw"], spec.postprocess) for s in samples]
    return preds, [reference_for(spec, s) for s in samples]


def metric_options_for(spec: TaskSpec) -> dict:
    """The metric's options: the spec's, plus match="index" for top1 over candidates."""
    options = dict(spec.metric_options)
    if spec.output == "rank" and spec.metric == "top1":
        options["match"] = "index"
    return options


def score_task(spec: TaskSpec, samples: list[Sample], rows: dict[str, dict]) -> Scored:
    """The task's metric over its predictions."""
    preds, refs = metric_inputs(spec, samples, rows)
    return Scored(compute(spec.metric, preds, refs, **metric_options_for(spec)), preds, refs)


def gold_logprobs(spec: TaskSpec, samples: list[Sample], rows: dict[str, dict]) -> list[float] | None:
    """Each sample's mean per-token log-probability of its gold answer; None when any
    prediction row lacks it (predictions made before it was recorded)."""
    out = []
    for sample in samples:
        row = rows[sample.id]
        pair = row["scores"][gold_index(spec, sample)] if spec.output == "rank" else row.get("gold")
        if not pair:
            return None
        out.append(float(pair[0]) / max(int(pair[1]), 1))
    return out
