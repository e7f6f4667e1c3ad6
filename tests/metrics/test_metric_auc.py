"""ROC AUC against scikit-learn, and its per-sample pair credit by hand."""

import random

import pytest
from sklearn.metrics import roc_auc_score

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.auc import roc_auc


def test_hand_computed_with_ties():
    scores = [0.9, 0.4, 0.4, 0.1, 0.4]
    labels = [1, 1, 0, 0, 0]
    ours = roc_auc(scores, labels)
    # Pairs (pos, neg): 0.9 beats all 3; 0.4 ties 0.4 twice (1/2 each), beats 0.1 -> (3 + 2) / 6.
    assert ours.score == pytest.approx(5 / 6)
    assert ours.per_sample == pytest.approx([1.0, 2 / 3, 0.75, 1.0, 0.75])
    assert ours.extra == {"n_positive": 2.0, "n_negative": 3.0}


def test_random_scores_match_sklearn_and_per_sample_means():
    rng = random.Random(1)
    labels = [rng.randint(0, 1) for _ in range(300)]
    scores = [round(rng.random() + 0.3 * y, 2) for y in labels]  # rounding creates ties
    ours = roc_auc(scores, labels)
    expected = roc_auc_score(labels, scores)
    assert abs(ours.score - expected) < 1e-12
    positives = [c for c, y in zip(ours.per_sample, labels) if y]
    negatives = [c for c, y in zip(ours.per_sample, labels) if not y]
    for subset in (positives, negatives, ours.per_sample):
        assert sum(subset) / len(subset) == pytest.approx(expected, abs=1e-12)


def test_boolean_labels_and_integer_scores():
    assert roc_auc([3, 1, 2], [True, False, False]).score == 1.0


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [
        ([0.1, 0.2], [1, 1], "every reference label is 1; ROC AUC needs both classes"),
        ([0.1, 0.2], [0, 0], "every reference label is 0"),
        ([0.1, 0.2], [0, 2], "must be a 0/1 label"),
        ([0.1, float("nan")], [0, 1], "must be a number"),
        ([0.1, float("inf")], [0, 1], "finite"),
        ([0.1], [0, 1], "1 predictions but 2 references"),
        (["0.1", 0.2], [0, 1], "must be a number"),
    ],
)
def test_bad_input_raises(scores, labels, message):
    with pytest.raises(InstructVLError, match=message):
        roc_auc(scores, labels)
