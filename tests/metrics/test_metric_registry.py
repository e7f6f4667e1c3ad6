"""The metric registry: names, one signature, option checking and result shape."""

import json

import pytest

from instructvl.errors import InstructVLError
from instructvl.eval.metrics import METRICS, MetricResult, compute, get_metric, metric_options

SMALL_INPUTS = {
    "cider": (["a cat on a mat", "a dog"], [["a cat on a mat", "a cat"], ["a dog running"]]),
    "vqa_accuracy": (["two"], [["2"] * 10]),
    "ivqa_accuracy": (["two"], [["2", "2", "3", "4", "5"]]),
    "top1": (["yes", "no"], ["yes", "yes"]),
    "auc": ([0.2, 0.8], [0, 1]),
    "mrr": ([[0.1, 0.9], [0.3, 0.2]], [1, 1]),
}
EXPECTED_SCORES = {"vqa_accuracy": 1.0, "ivqa_accuracy": 1.0, "top1": 0.5, "auc": 1.0, "mrr": 0.75}


def test_registry_names():
    assert set(METRICS) == {"cider", "vqa_accuracy", "ivqa_accuracy", "top1", "auc", "mrr"}


@pytest.mark.parametrize("name", sorted(SMALL_INPUTS))
def test_every_metric_returns_a_metric_result(name):
    preds, refs = SMALL_INPUTS[name]
    result = compute(name, preds, refs)
    assert isinstance(result, MetricResult) and result.name == name
    assert len(result.per_sample) == len(preds)
    assert all(isinstance(v, float) for v in result.per_sample) and isinstance(result.score, float)
    assert json.loads(json.dumps(result.to_dict()))["score"] == result.score
    if name in EXPECTED_SCORES:
        assert result.score == pytest.approx(EXPECTED_SCORES[name])
    assert get_metric(name)(preds, refs) == result


def test_options_are_listed_and_checked():
    assert metric_options("cider") == {"n": 4, "sigma": 6.0, "tokenize": True}
    assert metric_options("mrr") == {"ties": "pessimistic"}
    assert metric_options("auc") == {}
    assert compute("top1", ["Two"], ["2"], match="vqa").score == 1.0
    with pytest.raises(InstructVLError, match="unknown option.*tie.*accepted: ties"):
        compute("mrr", [[1.0]], [0], tie="optimistic")


def test_unknown_metric_raises():
    with pytest.raises(InstructVLError, match="unknown metric 'bleu'; known metrics: auc, cider"):
        compute("bleu", ["a"], [["a"]])
