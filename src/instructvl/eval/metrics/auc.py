"""ROC AUC of binary scores (e.g. hateful-memes style tasks), via scikit-learn.

The corpus score is ``sklearn.metrics.roc_auc_score``. AUC does not split
into per-sample terms by itself, so ``per_sample`` holds each sample's share of
correctly ordered pairs with the other class: for a positive, the fraction of
negatives it outscores (ties count 1/2); for a negative, the fraction of
positives that outscore it. Their mean over positives, over negatives and over
all samples each equals the AUC, and a low value points at the samples the
model ranks worst.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.base import MetricResult, check_number, check_pairs


def _checked(predictions: list[Any], references: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Scores as floats and labels as 0/1, with clear errors for anything else."""
    check_pairs("auc", predictions, references)
    scores, labels = [], []
    for i, (score, label) in enumerate(zip(predictions, references)):
        score = check_number("auc", i, "prediction (a score)", score)
        if not math.isfinite(score):
            raise InstructVLError(f"auc: sample {i}: prediction must be a finite score, got {score!r}")
        if isinstance(label, (str, bytes)) or label not in (0, 1):
            raise InstructVLError(f"auc: sample {i}: reference must be a 0/1 label, got {label!r}")
        scores.append(score)
        labels.append(int(label))
    y = np.asarray(labels)
    if y.min() == y.max():
        raise InstructVLError(
            f"auc: every reference label is {int(y[0])}; ROC AUC needs both classes (0 and 1) present"
        )
    return np.asarray(scores, dtype=float), y


def _pair_credit(own: np.ndarray, others_sorted: np.ndarray, own_is_positive: bool) -> np.ndarray:
    """Fraction of the other class each sample is correctly ordered against (ties = 1/2)."""
    below = np.searchsorted(others_sorted, own, side="left")
    above = len(others_sorted) - np.searchsorted(others_sorted, own, side="right")
    ties = len(others_sorted) - below - above
    wins = below if own_is_positive else above
    return (wins + 0.5 * ties) / len(others_sorted)


def roc_auc(predictions: list[float], references: list[int]) -> MetricResult:
    """ROC AUC of scores (higher = more likely positive) against 0/1 labels."""
    from sklearn.metrics import roc_auc_score  # imported here: scikit-learn is slow to load

    scores, labels = _checked(predictions, references)
    pos, neg = scores[labels == 1], scores[labels == 0]
    credit = np.empty(len(scores))
    credit[labels == 1] = _pair_credit(pos, np.sort(neg), own_is_positive=True)
    credit[labels == 0] = _pair_credit(neg, np.sort(pos), own_is_positive=False)
    return MetricResult(
        "auc",
        float(roc_auc_score(labels, scores)),
        [float(c) for c in credit],
        {"n_positive": float(len(pos)), "n_negative": float(len(neg))},
    )
