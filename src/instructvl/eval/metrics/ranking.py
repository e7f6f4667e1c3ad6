"""Ranking metrics over answer candidates (Visual Dialog: 100 options per round).

Each prediction is the list of scores a model gave the candidates (higher =
better) and each reference the index of the ground-truth candidate. The rank
of the ground truth is 1 for the best; candidates with a score equal to the
ground truth's are handled by ``ties``:

* ``"pessimistic"`` (default): every tied candidate counts as ranked above
  (rank = 1 + #higher + #tied others), so a model that scores all candidates
  alike gets the worst rank, never the best;
* ``"optimistic"``: rank = 1 + #candidates scored strictly higher;
* ``"average"``: the mean of the two (the expected rank under random tie order).

VisDial's starter code ranks with a descending ``torch.sort``, which breaks ties
in whatever order the sort leaves them; without ties all three policies and it agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.base import MetricResult, check_index, check_number, check_pairs, mean

TIE_POLICIES = ("pessimistic", "optimistic", "average")
RECALL_AT = (1, 5, 10)


def _rank(index: int, scores: Any, gt: Any, ties: str) -> float:
    """Rank (1 = best) of candidate ``gt`` among ``scores`` under the tie policy."""
    if isinstance(scores, (str, bytes)) or not isinstance(scores, (Sequence, np.ndarray)) or len(scores) == 0:
        raise InstructVLError(f"mrr: sample {index}: prediction must be a non-empty list of candidate scores")
    scores = [check_number("mrr", index, "each candidate score", s) for s in scores]
    gt = check_index("mrr", index, "reference (the ground-truth candidate)", gt)
    if not 0 <= gt < len(scores):
        raise InstructVLError(
            f"mrr: sample {index}: reference must be the ground-truth candidate index in "
            f"[0, {len(scores) - 1}], got {gt!r}"
        )
    target = scores[gt]
    higher = sum(s > target for s in scores)
    tied_others = sum(s == target for s in scores) - 1
    return 1.0 + higher + {"optimistic": 0.0, "pessimistic": 1.0, "average": 0.5}[ties] * tied_others


def candidate_ranks(predictions: list[list[float]], references: list[int], *, ties: str = "pessimistic") -> list[float]:
    """The ground-truth rank of every sample (1 = best)."""
    if ties not in TIE_POLICIES:
        raise InstructVLError(f"mrr: ties must be one of {TIE_POLICIES}, got {ties!r}")
    check_pairs("mrr", predictions, references)
    return [_rank(i, s, gt, ties) for i, (s, gt) in enumerate(zip(predictions, references))]


def ranking_metrics(
    predictions: list[list[float]], references: list[int], *, ties: str = "pessimistic"
) -> MetricResult:
    """MRR as the score, reciprocal ranks per sample; R@1/5/10 and mean rank in ``extra``."""
    ranks = candidate_ranks(predictions, references, ties=ties)
    extra = {f"r@{k}": mean([1.0 if r <= k else 0.0 for r in ranks]) for k in RECALL_AT}
    extra["mean_rank"] = mean(ranks)
    return MetricResult("mrr", mean([1.0 / r for r in ranks]), [1.0 / r for r in ranks], extra)
