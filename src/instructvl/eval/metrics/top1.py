"""Top-1 accuracy: is the single prediction one of the accepted answers?

``match`` picks the comparison:

* ``"exact"``: string equality as given (case and spaces count);
* ``"vqa"``: equality after the official VQA answer normalisation of both sides;
* ``"index"``: integer equality, for multiple choice (prediction = chosen option index).

Each reference entry is one accepted answer or a list of accepted answers.
"""

from __future__ import annotations

from typing import Any

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.answer_norm import normalize_answer
from instructvl.eval.metrics.base import MetricResult, check_index, check_pairs, check_text, mean

_MATCH_MODES = ("exact", "vqa", "index")


def _accepted(index: int, refs: Any) -> list[Any]:
    """The sample's accepted answers as a non-empty list."""
    accepted = list(refs) if isinstance(refs, (list, tuple)) else [refs]
    if not accepted:
        raise InstructVLError(f"top1: sample {index}: empty reference list (need at least one)")
    return accepted


def top1_accuracy(predictions: list[Any], references: list[Any], *, match: str = "exact") -> MetricResult:
    """Fraction of samples whose prediction equals one of its accepted answers."""
    if match not in _MATCH_MODES:
        raise InstructVLError(f"top1: match must be one of {_MATCH_MODES}, got {match!r}")
    check_pairs("top1", predictions, references)
    per_sample = []
    for i, (pred, refs) in enumerate(zip(predictions, references)):
        accepted = _accepted(i, refs)
        if match == "index":
            pred = check_index("top1", i, "prediction (match='index')", pred)
            accepted = [check_index("top1", i, "reference (match='index')", r) for r in accepted]
        else:
            pred = check_text("top1", i, "prediction", pred)
            accepted = [check_text("top1", i, "reference", r) for r in accepted]
            if match == "vqa":
                pred, accepted = normalize_answer(pred), [normalize_answer(r) for r in accepted]
        per_sample.append(1.0 if pred in accepted else 0.0)
    return MetricResult("top1", mean(per_sample), per_sample)
