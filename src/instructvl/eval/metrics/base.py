"""The result type every metric returns, and the input checks they share."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from instructvl.errors import InstructVLError


@dataclass(frozen=True)
class MetricResult:
    """What a metric returns.

    ``score`` is the corpus-level value, ``per_sample`` holds one value per
    prediction in input order (what a report shows next to each sample), and
    ``extra`` holds further corpus-level numbers (e.g. ``r@5`` for ranking).
    """

    name: str
    score: float
    per_sample: list[float]
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON reports."""
        return {
            "name": self.name,
            "score": self.score,
            "per_sample": list(self.per_sample),
            "extra": dict(self.extra),
        }


def check_pairs(metric: str, predictions: Any, references: Any) -> None:
    """Raise unless predictions and references are equally long, non-empty sequences."""
    for what, value in (("predictions", predictions), ("references", references)):
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            raise InstructVLError(f"{metric}: {what} must be a list (one entry per sample), got {type(value).__name__}")
    if len(predictions) != len(references):
        raise InstructVLError(
            f"{metric}: {len(predictions)} predictions but {len(references)} references; "
            "expected one reference entry per prediction"
        )
    if not predictions:
        raise InstructVLError(f"{metric}: no samples to score (predictions and references are empty)")


def check_text(metric: str, index: int, what: str, value: Any) -> str:
    """Return ``value`` if it is a string, else raise naming the sample."""
    if not isinstance(value, str):
        raise InstructVLError(
            f"{metric}: sample {index}: {what} must be a string, got {type(value).__name__} ({value!r})"
        )
    return value


def check_reference_list(metric: str, index: int, refs: Any) -> list[str]:
    """Return the sample's references as a list of strings; raise if empty or not strings."""
    if isinstance(refs, str) or not isinstance(refs, Sequence):
        raise InstructVLError(
            f"{metric}: sample {index}: references must be a list of strings, got {type(refs).__name__}"
        )
    if len(refs) == 0:
        raise InstructVLError(f"{metric}: sample {index}: empty reference list (need at least one)")
    return [check_text(metric, index, "each reference", r) for r in refs]


def check_number(metric: str, index: int, what: str, value: Any) -> float:
    """Return ``value`` as a float if it is a real, non-NaN number (not a bool), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise InstructVLError(f"{metric}: sample {index}: {what} must be a number, got {value!r}")
    return float(value)


def check_index(metric: str, index: int, what: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer (not a bool), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InstructVLError(
            f"{metric}: sample {index}: {what} must be an integer index, got {type(value).__name__} ({value!r})"
        )
    return int(value)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean of a non-empty sequence, as a Python float."""
    return float(sum(values) / len(values))
