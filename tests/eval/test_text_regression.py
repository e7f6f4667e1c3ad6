"""What tuning the LLM costs in text, on tiny random models: the KL of a run's next-token
distributions from the untouched LLM's is exactly 0 for an LLM marked trained but
unchanged (full, LoRA, encoder-decoder) and > 0 once its weights move; the fixed prompt
set; and `evaluate` measuring KL and the scene oracle against the untouched LLM's for such
a run (into the evaluation report), reusing the measurement on a rerun, and skipping a
frozen-LLM run."""

import pytest
import torch

import instructvl.eval.regression.measure as measure
from instructvl.config.schema import FreezePolicy
from instructvl.data.synthvl.generate import Scale, generate_suite
from instructvl.eval.harness import evaluate
from instructvl.eval.judge import JudgeConfig
from instructvl.eval.regression.kl import llm_changed, next_token_kl, untouched_model
from instructvl.eval.regression.prompts import GENERAL, GENERAL_SET, HELD_IN, PER_TASK, text_prompts
from instructvl.eval.spec import resolve_tasks
from instructvl.models.freeze import apply_freeze_policy
from tests.eval.chat_server import ChatServer
from tests.models.helpers import build

quiet = dict(progress=False, announce=lambda m: None)
HELD_IN_DATASETS = [s.source.dataset for s in resolve_tasks("held-in")]


@pytest.fixture(scope="module")
def held_in_suite(tmp_path_factory):
    """Every held-in SynthVL dataset (the KL prompts), gqa and vsr (the oracle), a few samples each."""
    root = tmp_path_factory.mktemp("synthvl-regression")
    generate_suite(root, Scale(train=2, val=PER_TASK, test=4), seed=5, names=[*HELD_IN_DATASETS, "gqa", "vsr"])
    return root


def perturb(model) -> None:
    """Moves one weight of every LLM layer, as training would."""
    with torch.no_grad():
        for layer in model.llm.layers:
            weight = next(p for p in layer.parameters() if p.ndim == 2)
            weight.add_(0.05 * torch.randn_like(weight, generator=torch.Generator().manual_seed(0)))


def kl_values(model, samples) -> list[float]:
    return [row["kl"] for row in next_token_kl(model, untouched_model(model), samples)]


@pytest.mark.parametrize(
    "llm, policy, extra",
    [("llama", "full", {}), ("t5", "full", {}), ("llama", "lora", {"llm__lora": {"r": 2, "alpha": 4}})],
)
def test_kl_is_zero_for_an_untouched_llm_and_positive_once_it_moves(tiny_parts, held_in_suite, llm, policy, extra):
    model = build(tiny_parts, "mlp", llm, **extra)
    assert not llm_changed(model)
    apply_freeze_policy(model, FreezePolicy(llm=policy))
    assert llm_changed(model)
    samples = text_prompts(held_in_suite)
    assert kl_values(model, samples) == pytest.approx([0.0] * len(samples), abs=1e-7)
    if policy == "lora":
        with torch.no_grad():
            for name, p in model.llm.named_parameters():
                if "lora_B" in name:
                    p.normal_(0, 0.5, generator=torch.Generator().manual_seed(1))
    else:
        perturb(model)
    assert min(kl_values(model, samples)) > 1e-6
    reference = untouched_model(model)
    assert reference.config.llm.lora is None and not llm_changed(reference)
    assert reference.head is model.head and reference.llm is not model.llm


def test_the_fixed_prompt_set(held_in_suite):
    samples = text_prompts(held_in_suite)
    held_in = [s for s in samples if s.dataset == HELD_IN]
    assert len(held_in) == PER_TASK * len(HELD_IN_DATASETS) and len(samples) == len(held_in) + len(GENERAL)
    assert all(not s.images and "<image>" not in s.turns[0].content for s in samples)
    assert all(s.turns[-1].role == "assistant" and s.turns[-1].content for s in samples)
    assert [s.turns[0].content for s in samples if s.dataset == GENERAL_SET] == [q for q, _ in GENERAL]
    assert [s.id for s in text_prompts(held_in_suite)] == [s.id for s in samples]
    assert len({s.id for s in samples}) == len(samples)


def test_evaluate_measures_a_tuned_llm_against_the_untouched_one(tiny_parts, held_in_suite, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))
    model = build(tiny_parts, "mlp")
    frozen = evaluate(model, "gqa", tmp_path / "frozen", limit=3, data=held_in_suite, **quiet)
    assert "text_regression" not in frozen and not (tmp_path / "frozen" / "text-regression").exists()
    apply_freeze_policy(model, FreezePolicy(llm="full"))
    perturb(model)
    run = tmp_path / "tuned"
    with ChatServer({}) as server:
        judge = JudgeConfig(model="m", base_url=server.url, timeout_s=5)
        results = evaluate(model, "gqa,vsr", run, limit=3, data=held_in_suite, judge=judge, **quiet)
    assert len(server.requests) == 3 and results["tasks"][0]["judge"]["n_judged"] == 3  # the oracle runs: unjudged
    doc = results["text_regression"]
    kl = doc["kl"]
    assert kl["mean"] > 0 and kl["ci"][0] <= kl["mean"] <= kl["ci"][1]
    assert kl["n_prompts"] == PER_TASK * len(HELD_IN_DATASETS) + len(GENERAL)
    assert set(kl["sets"]) == {HELD_IN, GENERAL_SET}
    oracle = doc["oracle"]
    assert oracle["tasks"] == ["gqa", "vsr"]
    untouched, own = (oracle["averages"][k]["held-out"]["score"] for k in ("untouched LLM", "run"))
    (average,) = [r for r in oracle["paired"] if r["task"] == "held-out average"]
    assert average["diff"] == pytest.approx(own - untouched)
    assert (tmp_path / "cache" / "oracle-untouched").is_dir() and (
        run / "text-regression" / "oracle" / "results.json"
    ).is_file()
    report = (run / "report.md").read_text()
    assert "## What tuning the LLM costs in text" in report and f"**{kl['mean']:.3g} [" in report
    assert "| held-out |" in report

    def no_second_measure(*args, **kwargs):
        raise AssertionError("the measurement should have been reused")

    monkeypatch.setattr(measure, "next_token_kl", no_second_measure)
    assert evaluate(model, "gqa,vsr", run, limit=3, data=held_in_suite, **quiet)["text_regression"] == doc
    skipped = evaluate(model, "gqa", tmp_path / "off", limit=3, data=held_in_suite, text_regression=False, **quiet)
    assert "text_regression" not in skipped


def test_a_study_shows_the_measures_of_its_tuned_cells():
    from instructvl.study.report import _regression_section
    from instructvl.study.stats import summarize

    doc = {
        "kl": {"mean": 0.25},
        "oracle": {
            "paired": [
                {"task": "gqa", "group": "held-out", "diff": -0.5},
                {"task": "held-out average", "group": "held-out", "diff": -0.1},
            ]
        },
    }
    assert measure.regression_numbers(doc) == {"kl": 0.25, "oracle held-out": -0.1}
    assert measure.regression_numbers(None) == {}
    cells = {
        "llm-full": {"text_regression": {"kl": summarize([0.2, 0.3]), "oracle held-out": summarize([-0.1, -0.3])}},
        "frozen": {"text_regression": {}},
    }
    text = "\n".join(_regression_section(cells))
    assert "## What tuning the LLM costs in text" in text and "frozen" not in text
    assert "| llm-full | 0.2500 ± 0.0707 | -20.0 ± 14.1 |" in text
    assert _regression_section({"frozen": {"text_regression": {}}}) == []
