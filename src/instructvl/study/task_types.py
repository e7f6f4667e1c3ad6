"""The task type of an evaluation task, as the comparative paper groups scores: derived
from the resolved task spec (what every result records), so it holds for any task file.

In order:
1. conversation: dialog and LLaVA-Instruct-style tasks (category containing "dialog",
   "conversation" or "llava"), and any task scored by MRR;
2. captioning: a category containing "caption" (captioning, with reading too);
3. question generation: the category "question generation" (none of the five types);
4. rank tasks: binary classification when scored by AUC, when the spec lists two fixed
   candidates, or when it ranks by the summed log-probability (the task files' convention:
   binary tasks sum, multiple choice ranks by the mean per token); else multiple choice;
5. open QA: every other generated answer (VQA, reading, knowledge, reasoning, video QA).
"""

from __future__ import annotations

from typing import Any

TASK_TYPES = (
    "captioning",
    "multiple choice",
    "binary classification",
    "open QA",
    "conversation",
    "question generation",
)


def task_type(spec: dict[str, Any]) -> str:
    """The type (one of `TASK_TYPES`) of a resolved task spec (`TaskSpec.resolved()`)."""
    category = (spec.get("category") or "").lower()
    if spec["metric"] == "mrr" or any(word in category for word in ("dialog", "conversation", "llava")):
        return "conversation"
    if "caption" in category:
        return "captioning"
    if category == "question generation":
        return "question generation"
    if spec["output"] == "rank":
        candidates = spec.get("candidates")
        binary = (
            spec["metric"] == "auc"
            or (isinstance(candidates, list) and len(candidates) == 2)
            or spec.get("normalisation") == "sum"
        )
        return "binary classification" if binary else "multiple choice"
    return "open QA"
