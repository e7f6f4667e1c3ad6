"""The free-text held-in sets (question generation, LLaVA-like) measure something: their
targets follow the scene, so no string covers many samples, the most frequent training
answer (the majority baseline) scores a low CIDEr, and another wording of the right
answer for the same scene scores a high one.

Samples are drawn in memory as the suite draws them (`rng_for(seed, name, split, i, 0)`),
without rendering; the majority is counted as the evaluation harness counts it.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from instructvl.data.seeding import rng_for
from instructvl.data.synthvl.generate import to_sample
from instructvl.data.synthvl.llava import detail_paragraph, reply
from instructvl.data.synthvl.llava_reason import explain
from instructvl.data.synthvl.question_gen import ask
from instructvl.data.synthvl.registry import get_spec
from instructvl.data.synthvl.scenes import Scene
from instructvl.eval.baselines import majority_answer
from instructvl.eval.metrics import cider_d
from instructvl.eval.prepare import answers_of


def _qg(s, rng):
    return ask(Scene.from_dict(s.metadata["scene"]), s.metadata["program"], rng)


def _conv(s, rng):
    last = s.metadata["programs"][-1]
    return reply(Scene.from_dict(s.metadata["scene"]), last, last["answer"], rng)


REWORD = {  # another wording of a sample's target, for the same scene and question
    "vqa-qg": _qg,
    "okvqa-qg": _qg,
    "aokvqa-qg": _qg,
    "llava-conv": _conv,
    "llava-detail": lambda s, rng: detail_paragraph(Scene.from_dict(s.metadata["scene"]), rng),
    "llava-reason": lambda s, rng: explain(Scene.from_dict(s.metadata["scene"]), s.metadata["program"], rng),
}


def _draw(name: str, split: str, n: int, seed: int = 0):
    spec = get_spec(name)
    return [
        to_sample(spec, split, i, spec.generator(rng_for(seed, name, split, i, 0), 64), ["x.png"], 0) for i in range(n)
    ]


@pytest.mark.parametrize("name", list(REWORD))
def test_targets_are_nearly_all_distinct(name):
    train = _draw(name, "train", 200)
    targets = Counter(s.turns[-1].content for s in train)
    assert len(targets) >= 190 and targets.most_common(1)[0][1] <= 3, targets.most_common(3)
    assert all(s.references[0] == s.turns[-1].content for s in train)
    assert sum(len(s.references) for s in train) / len(train) >= 4  # five wordings drawn, the distinct kept


@pytest.mark.parametrize("name", list(REWORD))
def test_constant_answer_scores_low_and_another_wording_high(name):
    train, val = _draw(name, "train", 200), _draw(name, "val", 100)
    constant, source = majority_answer([a for s in train for a in answers_of(s, "cider")], "train")
    refs = [s.references for s in val]
    baseline = cider_d([constant] * len(val), refs).score
    reworded = cider_d([REWORD[name](s, random.Random(i)) for i, s in enumerate(val)], refs).score
    assert source == "train" and baseline < 0.3, (constant, baseline)
    assert reworded > 0.6 and reworded > 3 * baseline, (reworded, baseline)
