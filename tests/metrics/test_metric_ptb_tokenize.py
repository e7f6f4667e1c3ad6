"""The pure-Python COCO tokeniser against Stanford CoreNLP's output (recorded and, with Java, live)."""

import json
import shutil
from pathlib import Path

import pytest

from instructvl.eval.metrics.ptb_tokenize import ptb_tokenize, ptb_tokenize_caption

CASES = json.loads((Path(__file__).parent / "data" / "ptb_cases.json").read_text(encoding="utf-8"))["cases"]


def java_ptb(captions: list[str]) -> list[str]:
    """pycocoevalcap's own PTBTokenizer output (needs Java), one string per caption."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    out = PTBTokenizer().tokenize({i: [{"caption": c}] for i, c in enumerate(captions)})
    return [out[i][0] for i in range(len(captions))]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["caption"][:40])
def test_matches_recorded_corenlp_output(case):
    assert ptb_tokenize_caption(case["caption"]) == case["ptb"]


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is needed for pycocoevalcap's PTBTokenizer")
def test_matches_live_corenlp_output():
    captions = [c["caption"] for c in CASES]
    assert [ptb_tokenize_caption(c) for c in captions] == java_ptb(captions)


def test_hand_checked_examples():
    assert ptb_tokenize("It's a dog's life; isn't it?") == ["it", "'s", "a", "dog", "'s", "life", "is", "n't", "it"]
    assert ptb_tokenize("I cannot (really) go.") == ["i", "can", "not", "-lrb-", "really", "-rrb-", "go"]
    assert ptb_tokenize("") == []
    assert ptb_tokenize("...") == []
