"""Evaluation metrics, each validated against its reference implementation.

Every metric has the signature::

    metric(predictions: list, references: list, **options) -> MetricResult

with one prediction and one reference entry per sample (what a reference entry
is depends on the metric, see the table). ``MetricResult`` carries ``score``
(corpus value), ``per_sample`` (one float per sample, in order) and ``extra``.
Bad input raises :class:`~instructvl.errors.InstructVLError`.

=============== ======================= ============================== ==========================
name            prediction per sample   reference per sample           options
=============== ======================= ============================== ==========================
cider           caption (str)           list of reference captions     n=4, sigma=6.0, tokenize=True
vqa_accuracy    answer (str)            list of human answers (10)     reference_normalisation="official"|"full"
ivqa_accuracy   answer (str)            list of human answers (5)      -
top1            answer (str) or index   accepted answer(s)             match="exact"|"vqa"|"index"
auc             score (float)           label 0/1                      -
mrr             candidate scores        ground-truth candidate index   ties="pessimistic"|"optimistic"|"average"
=============== ======================= ============================== ==========================

Use :func:`compute` to call a metric by name with options checked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.auc import roc_auc
from instructvl.eval.metrics.base import MetricResult
from instructvl.eval.metrics.cider import cider_d
from instructvl.eval.metrics.ranking import candidate_ranks, ranking_metrics
from instructvl.eval.metrics.top1 import top1_accuracy
from instructvl.eval.metrics.vqa import ivqa_accuracy, vqa_accuracy

Metric = Callable[..., MetricResult]

METRICS: dict[str, Metric] = {
    "cider": cider_d,
    "vqa_accuracy": vqa_accuracy,
    "ivqa_accuracy": ivqa_accuracy,
    "top1": top1_accuracy,
    "auc": roc_auc,
    "mrr": ranking_metrics,
}


def metric_options(name: str) -> dict[str, Any]:
    """The options a metric accepts, with their defaults."""
    params = inspect.signature(get_metric(name)).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def get_metric(name: str) -> Metric:
    """The metric function registered under ``name``."""
    try:
        return METRICS[name]
    except KeyError:
        raise InstructVLError(f"unknown metric {name!r}; known metrics: {', '.join(sorted(METRICS))}") from None


def compute(name: str, predictions: list, references: list, **options: Any) -> MetricResult:
    """Run metric ``name``, rejecting options it does not take with a clear message."""
    known = metric_options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        accepted = ", ".join(known) or "none"
        raise InstructVLError(f"metric {name!r}: unknown option(s) {', '.join(unknown)}; accepted: {accepted}")
    return get_metric(name)(predictions, references, **options)


__all__ = [
    "METRICS",
    "Metric",
    "MetricResult",
    "candidate_ranks",
    "cider_d",
    "compute",
    "get_metric",
    "ivqa_accuracy",
    "metric_options",
    "ranking_metrics",
    "roc_auc",
    "top1_accuracy",
    "vqa_accuracy",
]
