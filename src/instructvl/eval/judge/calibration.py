"""How far to trust the judge: its verdicts against exact-match accuracy on the short-answer
tasks, where exact match is a fair check. Per task and pooled over them, from the judged
samples (`<run>/judged/<task>.jsonl`): how many answers match the gold answer (of all
samples), how many judge replies could be read, and over those: the judge's mean score
for the answers that match and for those that do not, how often
it rates each as good as the reference ("pass": model score >= reference score), the
agreement of pass with exact match, and the ROC AUC of the judge's score for telling
matching answers from the others (0.5: it cannot; 1: it always can)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from instructvl.eval.judge.score import judged_path
from instructvl.eval.metrics import roc_auc
from instructvl.eval.records import read_jsonl

POOLED = "all short-answer tasks"


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def calibration_row(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The calibration numbers of judged short-answer samples (see the module docstring):
    exact match over all of them, the judge's numbers over those whose reply was read."""
    read = [r for r in rows if r["status"] == "ok"]
    right = np.array([r["exact_match"] for r in read], dtype=bool)
    scores = np.array([r["scores"] for r in read], dtype=float).reshape(-1, 2)
    passed = scores[:, 1] >= scores[:, 0]
    both = 0 < right.sum() < len(read)
    return {
        "task": name,
        "n": len(rows),
        "n_read": len(read),
        "exact_match": _mean(np.array([r["exact_match"] for r in rows], dtype=float)),
        "score_right": _mean(scores[right, 1]),
        "score_wrong": _mean(scores[~right, 1]),
        "pass_right": _mean(passed[right].astype(float)),
        "pass_wrong": _mean(passed[~right].astype(float)),
        "agreement": _mean((passed == right).astype(float)),
        "auc": roc_auc(scores[:, 1].tolist(), right.astype(int).tolist()).score if both else None,
    }


def calibration(run_dir: Path, tasks: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Calibration rows of the run's judged short-answer tasks and their pool; None when none was judged."""
    per_task = {}
    for t in tasks:
        if (t.get("judge") or {}).get("n"):
            rows = read_jsonl(judged_path(run_dir, t["task"]))
            if rows and "exact_match" in rows[0]:
                per_task[t["task"]] = rows
    if not per_task:
        return None
    table = [calibration_row(name, rows) for name, rows in per_task.items()]
    if len(table) > 1:
        table.append(calibration_row(POOLED, [r for rows in per_task.values() for r in rows]))
    return table
