"""Metric wiring per output type (no model): post-processing and references for
generate tasks; normalisation, choice, P(positive) and ranks for rank tasks; baselines."""

import math

import pytest

from instructvl.data.schema import Sample, Turn
from instructvl.eval import baselines
from instructvl.eval.metrics import compute
from instructvl.eval.postprocess import postprocess
from instructvl.eval.scoring import normalised, score_task
from instructvl.eval.spec import all_specs, with_overrides


def sample(i, **fields):
    return Sample(f"s{i}", "d", [], [Turn("user", "q")], **fields)


def test_postprocess_steps():
    assert (
        postprocess("  Answer: Two.\nmore text", ["first_line", "answer_prefix", "rstrip_period", "strip", "lowercase"])
        == "two"
    )
    assert postprocess("\n\n a cat. on a mat. ", ["first_line", "first_sentence"]) == "a cat."


def test_generate_top1_uses_answer_and_vqa_normalisation():
    spec = all_specs()["gqa"]
    samples = [sample(0, answer="yes"), sample(1, answer="two"), sample(2, answer="red")]
    rows = {"s0": {"raw": "Yes.\nIt is."}, "s1": {"raw": "2"}, "s2": {"raw": "blue"}}
    scored = score_task(spec, samples, rows)
    assert scored.predictions == ["Yes.", "2", "blue"] and scored.result.per_sample == [1.0, 1.0, 0.0]


def test_generate_cider_and_vqa_accuracy_match_direct_calls():
    refs = [["a red square", "a square that is red"], ["two blue circles", "blue circles"]]
    samples = [sample(i, references=r) for i, r in enumerate(refs)]
    rows = {"s0": {"raw": "a red square\nand more"}, "s1": {"raw": " blue circles "}}
    assert score_task(all_specs()["nocaps"], samples, rows).result.score == pytest.approx(
        compute("cider", ["a red square", "blue circles"], refs).score
    )
    vqa = score_task(all_specs()["vizwiz"], samples, rows).result
    assert (
        vqa.score
        == compute("vqa_accuracy", ["a red square", "blue circles"], refs, reference_normalisation="full").score
    )


def test_rank_normalisation_and_choice():
    assert normalised([[-4.0, 2], [-3.0, 1]], "sum") == [-4.0, -3.0]
    assert normalised([[-4.0, 2], [-3.0, 1]], "mean") == [-2.0, -3.0]
    samples = [sample(0, candidates=["a b", "c"], answer=0)]
    rows = {"s0": {"scores": [[-4.0, 2], [-3.0, 1]]}}
    spec = all_specs()["iconqa"]
    assert score_task(with_overrides(spec, normalisation="sum"), samples, rows).predictions == [1]
    assert score_task(with_overrides(spec, normalisation="mean"), samples, rows).predictions == [0]


def test_auc_scores_softmax_of_the_positive_candidate():
    spec = all_specs()["memes"]
    samples = [sample(0, candidates=["no", "yes"], answer="yes"), sample(1, candidates=["no", "yes"], answer="no")]
    rows = {"s0": {"scores": [[-2.0, 1], [-1.0, 1]]}, "s1": {"scores": [[-0.5, 1], [-3.0, 1]]}}
    scored = score_task(spec, samples, rows)
    assert scored.predictions[0] == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert scored.references == [1, 0] and scored.result.score == 1.0


def test_mrr_ranks_the_ground_truth_among_all_candidates():
    spec = all_specs()["visdial"]
    cands = [f"c{i}" for i in range(5)]
    samples = [sample(0, candidates=cands, answer="c3", metadata={"answer_index": 3})]
    rows = {"s0": {"scores": [[-1.0, 1], [-5.0, 1], [-2.0, 1], [-1.5, 1], [-9.0, 1]]}}
    result = score_task(spec, samples, rows).result
    assert result.score == pytest.approx(1 / 2) and result.extra["r@1"] == 0.0 and result.extra["mean_rank"] == 2.0


def test_missing_predictions_are_a_clear_error():
    with pytest.raises(Exception, match="1 of 2 samples have no prediction"):
        score_task(all_specs()["gqa"], [sample(0, answer="a"), sample(1, answer="b")], {"s0": {"raw": "a"}})


def test_chance_baselines():
    cands = [f"c{i}" for i in range(100)]
    visdial = baselines.chance(all_specs()["visdial"], [sample(0, candidates=cands)])
    assert visdial["score"] == pytest.approx(sum(1 / r for r in range(1, 101)) / 100)
    assert visdial["extra"]["r@10"] == pytest.approx(0.1) and visdial["extra"]["mean_rank"] == 50.5
    mixed = [sample(0, candidates=["a", "b"]), sample(1, candidates=["a", "b", "c", "d"])]
    assert baselines.chance(all_specs()["iconqa"], mixed)["score"] == pytest.approx((0.5 + 0.25) / 2)
    assert baselines.chance(all_specs()["memes"], mixed)["score"] == 0.5


def test_majority_baseline_counts_the_given_answers_never_the_eval_set():
    spec = all_specs()["gqa"]
    samples = [sample(0, answer="yes"), sample(1, answer="no"), sample(2, answer="no")]
    answer, source = baselines.majority_answer(["yes", " yes", "no", ""], "train")
    assert (answer, source) == ("yes", "train")
    assert baselines.majority(spec, samples, answer, source)["score"] == pytest.approx(1 / 3)
    assert baselines.majority_answer([], "dev") == (None, "none")
    none = baselines.baseline(spec, samples, None)
    assert none["score"] is None and none["source"] == "none" and none["kind"] == "majority"
