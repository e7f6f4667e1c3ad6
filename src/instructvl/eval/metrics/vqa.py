"""VQA accuracy (VQAv2 / OK-VQA style) and iVQA accuracy.

Both score a free-form answer against several human answers after the
official VQA answer normalisation (:mod:`.answer_norm`). Scores are fractions
in [0, 1]; the official script prints them x100 rounded to 2 decimals.
"""

from __future__ import annotations

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.answer_norm import normalize_answer, process_punctuation
from instructvl.eval.metrics.base import (
    MetricResult,
    check_pairs,
    check_reference_list,
    check_text,
    mean,
)

_REFERENCE_MODES = ("official", "full")


def _prepared(metric: str, predictions: list[str], references: list[list[str]]):
    """Yield ``(normalised prediction, references)`` per sample after checking the input."""
    check_pairs(metric, predictions, references)
    for i, (pred, refs) in enumerate(zip(predictions, references)):
        yield normalize_answer(check_text(metric, i, "prediction", pred)), check_reference_list(metric, i, refs)


def leave_one_out_accuracy(prediction: str, answers: list[str]) -> float:
    """Mean over answers ``i`` of ``min(1, #(other answers equal to prediction) / 3)``.

    This is the official VQA accuracy for already-normalised strings: with 10
    answers, 3 or more matches give 1, 2 give 0.6, 1 gives 0.3.
    """
    matches = sum(a == prediction for a in answers)
    per_subset = [min(1.0, (matches - (a == prediction)) / 3.0) for a in answers]
    return float(sum(per_subset) / len(per_subset))


def vqa_accuracy(
    predictions: list[str],
    references: list[list[str]],
    *,
    reference_normalisation: str = "official",
) -> MetricResult:
    """Official VQA accuracy of each answer against its (usually 10) human answers.

    ``reference_normalisation="official"`` treats references as the official
    script does: punctuation processing only, and only when the human answers
    disagree (the VQAv2 annotations are already normalised). ``"full"`` applies
    the complete prediction normalisation to the references too (number words,
    articles, contractions), for reference sets that were not pre-normalised.
    """
    if reference_normalisation not in _REFERENCE_MODES:
        raise InstructVLError(
            f"vqa_accuracy: reference_normalisation must be one of {_REFERENCE_MODES}, got {reference_normalisation!r}"
        )
    per_sample = []
    for pred, refs in _prepared("vqa_accuracy", predictions, references):
        if reference_normalisation == "full":
            refs = [normalize_answer(r) for r in refs]
        elif len(set(refs)) > 1:
            refs = [process_punctuation(r) for r in refs]
        per_sample.append(leave_one_out_accuracy(pred, refs))
    return MetricResult("vqa_accuracy", mean(per_sample), per_sample)


def ivqa_accuracy(predictions: list[str], references: list[list[str]]) -> MetricResult:
    """iVQA accuracy: ``min(1, #matching references / 2)`` (5 references per question).

    Prediction and references both get the full VQA answer normalisation.
    """
    per_sample = []
    for pred, refs in _prepared("ivqa_accuracy", predictions, references):
        matches = sum(normalize_answer(r) == pred for r in refs)
        per_sample.append(min(1.0, matches / 2.0))
    return MetricResult("ivqa_accuracy", mean(per_sample), per_sample)
