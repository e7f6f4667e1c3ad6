"""CIDEr-D against pycocoevalcap's ``Cider`` (same tokens) and its full Java pipeline."""

import math
import random
import shutil

import pytest
from pycocoevalcap.cider.cider import Cider

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.cider import cider_d
from instructvl.eval.metrics.ptb_tokenize import ptb_tokenize_caption

# Raw captions: synonyms (couch/sofa, kid/child), punctuation, numbers as words
# and digits, clitics, repeated n-grams, an empty and a verbatim prediction, and
# two images with identical predictions and references (tied scores).
PREDICTIONS = [
    "A man riding a horse on the beach.",
    "Two dogs playing with a frisbee in the park!",
    "a cat sitting on a sofa",
    "A kid eating a slice of pizza, smiling.",
    "",
    "The train isn't moving; it's parked at the station.",
    "a plate of food with broccoli and rice",
    "a plate of food with broccoli and rice",
    "a red red red bus bus on the street",
    "3 people standing on a snowy hill with skis",
    "An old clock tower (with a clock) in the city.",
    "A woman's hand holding a cell phone...",
]
REFERENCES = [
    ["A man rides a horse along the beach.", "A person riding a horse on sand.", "man on a horse at the shore"],
    ["2 dogs play with a frisbee in a park.", "Two dogs are playing frisbee.", "Dogs playing in the grass."],
    ["A cat sits on a couch.", "a cat sitting on a sofa", "A kitten lying on a couch."],
    ["A child eats pizza.", "A young boy eating a slice of pizza.", "Kid with pizza, smiling!"],
    ["A bowl of fruit on a table.", "Apples and oranges in a bowl."],
    ["A train parked at a station.", "The train is not moving.", "A train sits at the platform; it's empty."],
    ["A plate of food with broccoli and rice.", "Rice and broccoli on a white plate."],
    ["A plate of food with broccoli and rice.", "Rice and broccoli on a white plate."],
    ["A red bus driving down the street.", "A double-decker bus on a city street."],
    ["Three people standing on a snowy hill with skis.", "Three skiers on a hill.", "People skiing."],
    ["A clock tower in the middle of a city.", "An old tower with a clock (in London)."],
    ["A woman's hand holding a phone.", "Someone holding a cell phone in her hand."],
]


def reference_cider(predictions, references):
    """pycocoevalcap's CIDEr-D on already tokenised strings."""
    gts = {i: list(refs) for i, refs in enumerate(references)}
    res = {i: [pred] for i, pred in enumerate(predictions)}
    score, scores = Cider().compute_score(gts, res)
    return float(score), [float(s) for s in scores]


def assert_matches(ours, score, scores):
    assert ours.score == pytest.approx(score, abs=1e-6, rel=0)
    assert len(ours.per_sample) == len(scores)
    assert max(abs(a - b) for a, b in zip(ours.per_sample, scores)) < 1e-6


def test_fixture_equals_pycocoevalcap_on_same_tokens():
    preds = [ptb_tokenize_caption(p) for p in PREDICTIONS]
    refs = [[ptb_tokenize_caption(r) for r in rs] for rs in REFERENCES]
    score, scores = reference_cider(preds, refs)
    assert_matches(cider_d(preds, refs, tokenize=False), score, scores)
    assert_matches(cider_d(PREDICTIONS, REFERENCES), score, scores)
    assert scores[6] == scores[7]  # tie: identical image entries
    assert scores[4] == 0.0  # empty prediction
    assert 0.5 < score < 10.0 and len(set(scores)) > 5  # a non-degenerate fixture


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is needed for pycocoevalcap's PTBTokenizer")
def test_fixture_equals_full_coco_pipeline_with_java_tokenizer():
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": r} for r in rs] for i, rs in enumerate(REFERENCES)})
    res = tok.tokenize({i: [{"caption": p}] for i, p in enumerate(PREDICTIONS)})
    score, scores = Cider().compute_score(gts, res)
    assert_matches(cider_d(PREDICTIONS, REFERENCES), float(score), [float(s) for s in scores])


def test_random_corpus_equals_pycocoevalcap():
    rng = random.Random(0)
    vocab = "a an the man woman dog cat red blue two 2 on in with of sitting riding near big small".split()

    def caption():
        return " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 14)))

    preds = [caption() for _ in range(60)]
    refs = [[caption() for _ in range(rng.randint(1, 6))] for _ in range(60)]
    score, scores = reference_cider(preds, refs)
    assert_matches(cider_d(preds, refs, tokenize=False), score, scores)


def test_sigma_option_matches_pycocoevalcap():
    # (pycocoevalcap's Cider(n=...) crashes for n != 4: its cook_refs ignores n.)
    preds = [ptb_tokenize_caption(p) for p in PREDICTIONS]
    refs = [[ptb_tokenize_caption(r) for r in rs] for rs in REFERENCES]
    gts = {i: rs for i, rs in enumerate(refs)}
    res = {i: [p] for i, p in enumerate(preds)}
    score, scores = Cider(sigma=3.0).compute_score(gts, res)
    assert_matches(cider_d(preds, refs, tokenize=False, sigma=3.0), float(score), list(scores))


def test_hand_computed_two_images():
    # Image 0: prediction "a b" = its only reference; image 1 shares no n-gram.
    # Unigrams "a", "b" and bigram "a b" occur in 1 of 2 reference sets: idf = log 2.
    # Image 0: cosine 1 for n=1,2 and 0 for n=3,4 (no such n-grams) -> 10 * 2/4 = 5.
    ours = cider_d(["a b", "x y"], [["a b"], ["c d"]], tokenize=False)
    assert ours.per_sample == pytest.approx([5.0, 0.0], abs=1e-12)
    assert ours.score == pytest.approx(2.5, abs=1e-12)
    # With n=2 both orders match perfectly: 10 * 2/2.
    assert cider_d(["a b", "x y"], [["a b"], ["c d"]], tokenize=False, n=2).per_sample[0] == pytest.approx(10.0)
    # Length penalty: one extra word "c" changes lengths by one bigram.
    longer = cider_d(["a b c", "x y"], [["a b"], ["c d"]], tokenize=False)
    idf = math.log(2.0)
    uni = (2 * idf**2) / (math.sqrt(3 * idf**2) * math.sqrt(2 * idf**2))  # "c" has df 1 too
    bi = (idf**2) / (math.sqrt(2 * idf**2) * math.sqrt(idf**2))
    assert longer.per_sample[0] == pytest.approx(10 * (uni + bi) / 4 * math.exp(-1 / 72), abs=1e-12)


def test_single_image_corpus_scores_zero_like_pycocoevalcap():
    # log(#images) = 0 makes every idf weight 0.
    assert cider_d(["a cat"], [["a cat"]]).score == 0.0
    assert reference_cider(["a cat"], [["a cat"]])[0] == 0.0


@pytest.mark.parametrize(
    ("preds", "refs", "message"),
    [
        (["a"], [["a"], ["b"]], "1 predictions but 2 references"),
        (["a", "b"], [["a"], []], "sample 1: empty reference list"),
        ([], [], "no samples"),
        (["a"], ["a cat"], "references must be a list of strings"),
        ([3], [["a"]], "prediction must be a string"),
    ],
)
def test_bad_input_raises(preds, refs, message):
    with pytest.raises(InstructVLError, match=message):
        cider_d(preds, refs)
