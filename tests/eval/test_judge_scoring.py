"""The judge metric: the protocol's prompt, score lines and parser, the judge config (task
spec and command line), what a sample gives the judge, a task's relative score with
unread and failed judgements counted (never scored 0), the calibration table, the local
judge on a tiny random LM (its score lines' log-probabilities against a plain forward
pass, its expected scores, its cache and report), and the judge in `evaluate` and
`instructvl eval` against a loopback chat-completions server (a second scoring asks
nothing)."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from instructvl.cli import _register, app
from instructvl.config.schema import LanguageConfig
from instructvl.data.schema import Sample, Turn
from instructvl.data.synthvl.scene_text import describe_scene
from instructvl.errors import InstructVLError
from instructvl.eval.harness import evaluate, select_specs
from instructvl.eval.judge.cache import CachedJudge
from instructvl.eval.judge.calibration import POOLED, calibration_row
from instructvl.eval.judge.config import JudgeConfig, judge_from_options
from instructvl.eval.judge.context import judge_inputs
from instructvl.eval.judge.endpoint import ChatEndpoint
from instructvl.eval.judge.local import LocalJudge
from instructvl.eval.judge.protocol import SCORE_LINES, judge_messages, parse_scores
from instructvl.eval.judge.report import judge_lines
from instructvl.eval.judge.score import judge_task, judged_path
from instructvl.eval.prepare import prepare_samples
from instructvl.eval.records import read_json, read_jsonl
from instructvl.eval.spec import spec_hash, with_judge, with_overrides
from instructvl.eval.targets import gold_text
from instructvl.models.language import LanguageModel
from tests.eval.chat_server import ChatServer

_register()
quiet = dict(progress=False, announce=lambda m: None)
FAST = dict(timeout_s=0.3, retries=1, backoff_s=0.01)


def answer_marker(prediction: str) -> str:
    return f"[Assistant 2]\n{prediction}\n"


@pytest.mark.parametrize(
    "reply, scores",
    [
        ("8 6\nBoth answer the question.", (8.0, 6.0)),
        ("\n  7.5, 6 \nwhy", (7.5, 6.0)),
        ("10 1.", (10.0, 1.0)),
        ("Assistant 1: 8, Assistant 2: 6", None),
        ("8\n6", None),
        ("11 3", None),
        ("0 5", None),
        ("", None),
    ],
)
def test_the_first_line_must_hold_two_scores_on_the_scale(reply, scores):
    assert parse_scores(reply) == scores


def test_the_prompt_puts_the_reference_first_and_the_model_second():
    system, user = judge_messages("A red square.", "What colour?", "red", "blue")
    assert system["role"] == "system" and "checking the quality of the answer" in system["content"]
    content = user["content"]
    assert content.startswith("[Context]\nA red square.\n\n[Question]\nWhat colour?\n\n[Assistant 1]\nred\n\n")
    assert "[End of Assistant 1]\n\n[Assistant 2]\nblue\n\n[End of Assistant 2]\n\n[System]\n" in content
    assert "scores, for Assistant 1 and Assistant 2 in that order" in content


def test_judge_config_from_a_task_file_and_the_command_line():
    assert JudgeConfig.model_validate("local") == JudgeConfig(model="local") == judge_from_options("local", None, None)
    assert judge_from_options(None, "gpt-4o", "http://h/v1") == JudgeConfig(model="gpt-4o", base_url="http://h/v1")
    assert judge_from_options("api", "m", None) == JudgeConfig(model="m")
    assert judge_from_options(None, None, None) is None
    for args, message in [
        (("gpt", None, None), "--judge must be one of local, api"),
        (("api", None, None), "needs --judge-model NAME"),
        ((None, None, "http://h/v1"), "needs --judge-model NAME"),
        (("local", "m", None), "--judge local runs the in-process judge"),
    ]:
        with pytest.raises(InstructVLError, match=message):
            judge_from_options(*args)
    with pytest.raises(ValueError, match="the local judge runs in process"):
        JudgeConfig(model="local", base_url="http://h/v1")


def test_a_judge_leaves_the_spec_hash_and_rank_tasks_alone():
    gqa, vsr = select_specs("gqa,vsr")
    judged = with_judge(gqa, JudgeConfig(model="m"))
    assert judged.judge == JudgeConfig(model="m") and spec_hash(judged) == spec_hash(gqa)
    assert judged.resolved()["judge"]["model"] == "m" and "judge" not in gqa.resolved()
    assert with_judge(vsr, JudgeConfig()) is vsr
    with pytest.raises(InstructVLError, match="a rank task cannot have one"):
        with_overrides(vsr, judge="local")


def test_the_judge_reads_the_scene_the_question_and_the_gold_answer(suite):
    (spec,) = select_specs("gqa")
    sample = prepare_samples(spec, suite, limit=1)[0]
    description, question, reference = judge_inputs(spec, sample)
    assert description == describe_scene(sample.metadata["scene"])
    assert question == sample.turns[-1].content and reference == gold_text(spec, sample)
    sample.metadata.pop("scene")
    with pytest.raises(InstructVLError, match=f"sample {sample.id} has no image description for the judge"):
        judge_inputs(spec, sample)


def test_relative_score_counts_unread_and_failed_judgements(suite, tmp_path):
    (spec,) = select_specs("gqa")
    samples = prepare_samples(spec, suite, limit=6)
    golds = [gold_text(spec, s) for s in samples]
    predictions = [golds[0], golds[1], "wrong-2", "wrong-3", "unread-4", "failed-5"]
    script = {
        answer_marker(golds[0]): ["9 9"],
        answer_marker(golds[1]): ["8 4"],
        answer_marker("wrong-2"): ["8 2"],
        answer_marker("wrong-3"): ["10 6"],
        answer_marker("unread-4"): ["I cannot tell."],
        answer_marker("failed-5"): ["500"],
    }
    with ChatServer(script) as server:
        judge = CachedJudge(ChatEndpoint(JudgeConfig(model="m", base_url=server.url, **FAST)), tmp_path / "cache")
        record = judge_task(spec, samples, predictions, judge, tmp_path)
    assert (record["n"], record["n_judged"], record["n_unparsed"], record["n_failed"]) == (6, 4, 1, 1)
    assert record["reference_mean"] == pytest.approx((9 + 8 + 8 + 10) / 4)
    assert record["model_mean"] == pytest.approx((9 + 4 + 2 + 6) / 4)
    assert record["score"] == pytest.approx(21 / 35)
    assert record["ci"][0] <= record["score"] <= record["ci"][1]
    rows = read_jsonl(judged_path(tmp_path, "gqa"))
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "ok", "unparsed", "failed"]
    assert rows[4]["reply"] == "I cannot tell." and rows[4]["scores"] is None and "HTTP 500" in rows[5]["error"]
    assert [r["exact_match"] for r in rows] == [True, True, False, False, False, False]
    table = calibration_row("gqa", rows)
    assert (table["n"], table["n_read"]) == (6, 4) and table["exact_match"] == pytest.approx(2 / 6)
    assert table["score_right"] == 6.5 and table["score_wrong"] == 4.0
    assert table["pass_right"] == 0.5 and table["pass_wrong"] == 0.0 and table["agreement"] == 0.75
    assert table["auc"] == 0.75  # model scores 9, 4 (match) against 2, 6: 3 of 4 pairs in order


def test_the_prompt_asks_for_one_of_a_hundred_score_lines():
    assert len(SCORE_LINES) == 100 and SCORE_LINES["1 1"] == (1, 1) and SCORE_LINES["10 3"] == (10, 3)
    assert all(parse_scores(line) == tuple(map(float, pair)) for line, pair in SCORE_LINES.items())


@pytest.fixture(scope="module")
def judge_llm(tiny_parts):
    """A tiny random Llama with room for the judging prompt."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_parts["llama"])
    arch = dict(model_type="llama", vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2)
    arch.update(num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048)
    return LanguageModel.build(LanguageConfig(kind="causal", arch=arch, tokenizer=tiny_parts["llama"]))


def line_logprobs(judge: LocalJudge, messages) -> np.ndarray:
    """Each score line's summed log-probability as the whole reply, by one plain forward
    pass over the prompt and the line (no KV cache, no batch, no padding)."""
    sample = Sample("s", "judge", turns=[Turn(m["role"], m["content"]) for m in messages])
    prompt = judge.collator.prompt_batch([sample]).input_ids[0].tolist()
    out = []
    for line in SCORE_LINES:
        answer = judge.model.formatter.answer_ids(line)
        with torch.inference_mode():
            logits = judge.model.llm.model(input_ids=torch.tensor([prompt + answer])).logits[0].float()
        logprobs = torch.log_softmax(logits[len(prompt) - 1 : -1], -1)
        out.append(float(logprobs.gather(-1, torch.tensor(answer)[:, None]).sum()))
    return np.array(out)


def test_the_local_judge_scores_by_the_likelihood_of_the_score_lines(judge_llm):
    local = LocalJudge(judge_llm, batch_size=2)
    prompts = [judge_messages("A red square.", "Colour?", "red", a) for a in ("red", "a blue one", "green")]
    replies = local.complete_all(prompts)  # batches of 2 and 1: left padding in the first
    pairs = np.array(list(SCORE_LINES.values()), dtype=float)
    for messages, reply in zip(prompts, replies):
        assert list(reply) == list(SCORE_LINES)
        direct = line_logprobs(local, messages)
        np.testing.assert_allclose(list(reply.values()), direct, atol=1e-4)
        assert max(reply, key=reply.get) == list(SCORE_LINES)[int(direct.argmax())]
        weights = np.exp(direct - direct.max()) / np.exp(direct - direct.max()).sum()
        reference, model = local.scores(reply)
        assert (reference, model) == pytest.approx(tuple(weights @ pairs), abs=1e-4)
        assert 1 <= reference <= 10 and 1 <= model <= 10
    assert local.identity.startswith("local|") and local.identity.endswith("|likelihood")


def test_the_local_judge_scores_every_sample_and_caches_its_likelihoods(judge_llm, suite, tmp_path):
    (spec,) = select_specs("gqa")
    samples = prepare_samples(spec, suite, limit=3)
    local = LocalJudge(judge_llm, batch_size=2)
    judge = CachedJudge(local, tmp_path / "cache")
    record = judge_task(spec, samples, ["red", "blue", "green"], judge, tmp_path)
    assert (record["n"], record["n_judged"], record["n_unparsed"], record["n_failed"]) == (3, 3, 0, 0)
    assert judge.asked == record["requests"] == 3 and record["judge"] == local.identity
    rows = read_jsonl(judged_path(tmp_path, "gqa"))
    assert [r["status"] for r in rows] == ["ok"] * 3
    assert [r["scores"] for r in rows] == [list(local.scores(r["reply"])) for r in rows]
    scores = np.array([r["scores"] for r in rows])
    assert record["reference_mean"] == pytest.approx(scores[:, 0].mean())
    assert record["score"] == pytest.approx(scores[:, 1].mean() / scores[:, 0].mean())
    calls, score_candidates = [], local.model.score_candidates
    local.model.score_candidates = lambda *a, **kw: calls.append(a) or score_candidates(*a, **kw)
    again = CachedJudge(local, tmp_path / "cache")
    assert judge_task(spec, samples, ["red", "blue", "green"], again, tmp_path)["score"] == record["score"]
    assert again.asked == 0 and calls == []
    again.complete_all([judge_messages("A red square.", "Colour?", "red", "red")])
    assert again.asked == 1 and len(calls) == 1  # a new prompt is scored, and cached
    results = {
        "tasks": [
            {"task": "gqa", "metric": "top1", "score": 0.5, "judge": {"config": JudgeConfig().described(), **record}}
        ]
    }
    lines = judge_lines(results)
    assert f"- local: {local.method}" in lines and "scores by likelihood, not from generated text" in local.method
    assert any(line.startswith("| gqa | top1 | 50.0 |") and line.endswith("| 3 / 3 | 0 | 0 |") for line in lines)


def test_evaluate_adds_the_judge_beside_the_metric_and_caches_it(model, suite, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    evaluate(model, "gqa,nocaps,vsr", run, limit=3, data=suite, **quiet)
    with ChatServer({}) as server:
        config = JudgeConfig(model="m", base_url=server.url, **FAST)
        results = evaluate(None, "gqa,nocaps,vsr", run, limit=3, data=suite, phases=("score",), judge=config, **quiet)
        asked = len(server.requests)
        again = evaluate(None, "gqa,nocaps,vsr", run, limit=3, data=suite, phases=("score",), judge=config, **quiet)
        assert len(server.requests) == asked == 6  # three gqa and three nocaps samples, then none
    tasks = {t["task"]: t for t in results["tasks"]}
    assert "judge" not in tasks["vsr"]
    for name in ("gqa", "nocaps"):
        judged = tasks[name]["judge"]
        assert judged["score"] == pytest.approx(7 / 9) and (judged["n_judged"], judged["requests"]) == (3, 3)
        assert judged["config"]["base_url"] == server.url and tasks[name]["spec"]["judge"]["model"] == "m"
    assert {t["task"]: t["judge"]["requests"] for t in again["tasks"] if "judge" in t} == {"gqa": 0, "nocaps": 0}
    (row,) = results["judge_calibration"]
    assert (row["task"], row["n"], row["n_read"], row["exact_match"], row["score_wrong"]) == ("gqa", 3, 3, 0.0, 7.0)
    assert (row["pass_wrong"], row["agreement"], row["auc"]) == (0.0, 1.0, None)  # no match, none passed
    report = (run / "report.md").read_text()
    assert "## LLM-as-judge" in report and "| gqa | top1 |" in report and "77.8 [77.8, 77.8]" in report
    assert f"- m at {server.url}: the first line of its reply at temperature 0, read as two scores" in report
    assert "### Judge calibration (short-answer tasks)" in report and POOLED not in report
    assert json.loads((run / "results.json").read_text())["judge_calibration"] == results["judge_calibration"]


def test_a_judge_error_is_reported_and_the_metric_stands(model, suite, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))
    with ChatServer({"[Question]": ["404"]}) as server:
        config = JudgeConfig(model="missing", base_url=server.url, **FAST)
        results = evaluate(model, "gqa", tmp_path / "run", limit=2, data=suite, judge=config, **quiet)
    (task,) = results["tasks"]
    assert task["score"] is not None and "HTTP 404" in task["judge"]["error"]
    assert "judge_calibration" not in results
    assert "error: judge endpoint" in (tmp_path / "run" / "report.md").read_text()


def test_instructvl_eval_takes_the_judge_options(model, suite, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    evaluate(model, "gqa", run, limit=2, data=suite, **quiet)
    with ChatServer({}) as server:
        args = ["eval", "--tasks", "gqa", "--limit", "2", "--data", str(suite), "--out", str(run), "--phase", "score"]
        result = CliRunner().invoke(app, [*args, "--judge-model", "m", "--judge-base-url", server.url])
    assert result.exit_code == 0, result.output
    assert "## LLM-as-judge" in result.output and len(server.requests) == 2
    assert read_json(run / "results.json")["tasks"][0]["judge"]["n_judged"] == 2
    refused = CliRunner().invoke(app, [*args, "--judge-base-url", server.url])
    assert "needs --judge-model NAME" in str(refused.exception)
