"""Top-1 accuracy in its three match modes, on hand-computed fixtures."""

import pytest

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.top1 import top1_accuracy


def test_exact_match_is_literal():
    ours = top1_accuracy(["cat", "Cat", "dog ", "bird"], ["cat", "cat", "dog", ["parrot", "bird"]])
    assert ours.per_sample == [1.0, 0.0, 0.0, 1.0]
    assert ours.score == 0.5


def test_vqa_normalised_match():
    preds = ["Two.", "the Dog", "dont", "3.5", "yes"]
    refs = ["2", ["a dog", "puppy"], "don't", "35", "no"]
    # two->2, articles dropped, contraction restored; 3.5 keeps its decimal point.
    assert top1_accuracy(preds, refs, match="vqa").per_sample == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert top1_accuracy(preds, refs, match="vqa").score == pytest.approx(0.6)


def test_index_match_for_multiple_choice():
    ours = top1_accuracy([0, 2, 1, 3], [0, 1, [1, 3], 3], match="index")
    assert ours.per_sample == [1.0, 0.0, 1.0, 1.0]
    assert ours.score == 0.75


@pytest.mark.parametrize(
    ("preds", "refs", "options", "message"),
    [
        (["a"], ["a", "b"], {}, "1 predictions but 2 references"),
        (["a"], [[]], {}, "empty reference list"),
        (["1"], [1], {"match": "index"}, "must be an integer index"),
        ([True], [1], {"match": "index"}, "must be an integer index"),
        ([1], ["1"], {}, "must be a string"),
        (["a"], ["a"], {"match": "fuzzy"}, "match must be one of"),
    ],
)
def test_bad_input_raises(preds, refs, options, message):
    with pytest.raises(InstructVLError, match=message):
        top1_accuracy(preds, refs, **options)
