"""Candidate ranking metrics (Visual Dialog): tie policies by hand, VisDial's sort without ties."""

import numpy as np
import pytest

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.ranking import candidate_ranks, ranking_metrics


def visdial_gt_ranks(scores, gt):
    """VisDial starter code's ranks: position in a descending sort, 1-based."""
    order = np.argsort(-np.asarray(scores), axis=1, kind="stable")
    ranks = np.empty_like(order)
    for row, idx in enumerate(order):
        ranks[row, idx] = np.arange(1, order.shape[1] + 1)
    return ranks[np.arange(len(gt)), gt]


def test_tie_policies_hand_computed():
    # gt score 0.5; one candidate higher (0.9), two others tied at 0.5.
    preds = [[0.5, 0.9, 0.5, 0.1, 0.5]]
    assert candidate_ranks(preds, [0], ties="optimistic") == [2.0]
    assert candidate_ranks(preds, [0], ties="pessimistic") == [4.0]
    assert candidate_ranks(preds, [0], ties="average") == [3.0]
    assert candidate_ranks(preds, [0]) == [4.0]  # pessimistic is the default


def test_constant_scores_are_not_rewarded_by_default():
    preds = [[0.0] * 100] * 3
    ours = ranking_metrics(preds, [0, 50, 99])
    assert ours.per_sample == [0.01] * 3
    assert ours.extra["mean_rank"] == 100.0 and ours.extra["r@10"] == 0.0
    assert ranking_metrics(preds, [0, 50, 99], ties="optimistic").score == 1.0


def test_metrics_hand_computed():
    # ranks 1, 3, 7, 12 (no ties)
    preds = [[5, 4, 3], [1, 2, 3], [0.1 * i for i in range(10)], list(range(20))]
    refs = [0, 0, 3, 8]
    ours = ranking_metrics(preds, refs)
    assert candidate_ranks(preds, refs) == [1.0, 3.0, 7.0, 12.0]
    assert ours.score == pytest.approx((1 + 1 / 3 + 1 / 7 + 1 / 12) / 4)
    assert ours.extra == pytest.approx({"r@1": 0.25, "r@5": 0.5, "r@10": 0.75, "mean_rank": 23 / 4})


def test_without_ties_all_policies_equal_visdial_starter_code():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 100))
    gt = rng.integers(0, 100, size=50)
    expected = visdial_gt_ranks(scores, gt).astype(float).tolist()
    for ties in ("optimistic", "pessimistic", "average"):
        assert candidate_ranks([list(s) for s in scores], [int(g) for g in gt], ties=ties) == expected
    ours = ranking_metrics(list(scores), list(gt))  # numpy rows and indices are accepted too
    assert ours.score == pytest.approx(float(np.mean(1.0 / np.asarray(expected))), abs=1e-12)
    assert ours.extra["r@5"] == pytest.approx(float(np.mean(np.asarray(expected) <= 5)))


@pytest.mark.parametrize(
    ("preds", "refs", "options", "message"),
    [
        ([[0.1, 0.2]], [2], {}, r"index in \[0, 1\], got 2"),
        ([[0.1, 0.2]], [-1], {}, "got -1"),
        ([[0.1, 0.2]], [0.0], {}, "must be an integer index"),
        ([[]], [0], {}, "non-empty list of candidate scores"),
        ([[0.1, float("nan")]], [0], {}, "must be a number"),
        ([[0.1]], [0, 0], {}, "1 predictions but 2 references"),
        ([[0.1]], [0], {"ties": "random"}, "ties must be one of"),
    ],
)
def test_bad_input_raises(preds, refs, options, message):
    with pytest.raises(InstructVLError, match=message):
        ranking_metrics(preds, refs, **options)
