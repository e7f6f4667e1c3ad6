"""The harness on a tiny random model: ranking against step-by-step log-probabilities,
resuming an interrupted run without recomputing, shards merged at score time, and the
text-only baseline."""

import json
import warnings

import pytest

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.eval.harness import evaluate, select_specs
from instructvl.eval.records import read_jsonl
from instructvl.eval.spec import with_overrides
from tests.eval.conftest import PromptSpy
from tests.models.test_scoring_and_generation import _stepwise_logprob


def scored(run, task):
    return {row["id"]: row for row in read_jsonl(run / "scored" / f"{task}.jsonl")}


def test_ranking_picks_the_highest_stepwise_summed_logprob(model, suite, tmp_path):
    evaluate(model, "vsr,iconqa", tmp_path, limit=3, data=suite, progress=False, announce=lambda m: None)
    for task in ("vsr", "iconqa"):
        samples = [Sample.from_json(r) for r in read_jsonl(tmp_path / "prepared" / f"{task}.jsonl")]
        spec = select_specs(task)[0]
        chosen = scored(tmp_path, task)
        for s in samples:
            by_hand = [_stepwise_logprob(model, s, c) for c in s.candidates]
            if spec.normalisation == "mean":
                by_hand = [lp / len(model.formatter.answer_ids(c)) for lp, c in zip(by_hand, s.candidates)]
            assert chosen[s.id]["prediction"] == max(range(len(by_hand)), key=by_hand.__getitem__)


class Counting:
    """Wraps a model, counting the samples it is asked about; can fail after some calls."""

    def __init__(self, model, fail_after=None):
        self.model, self.fail_after, self.samples, self.calls = model, fail_after, 0, 0
        self.generate_kwargs = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def _count(self, batch):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("interrupted")
        self.calls += 1
        self.samples += len(batch)

    def generate(self, batch, **kw):
        self._count(batch)
        self.generate_kwargs.append(kw)
        return self.model.generate(batch, **kw)

    def score_candidates(self, batch, candidates, **kw):
        if any(len(c) > 1 for c in candidates):  # one gold answer per row: the same batch's companion score
            self._count(batch)
        return self.model.score_candidates(batch, candidates, **kw)


def run(model, out, suite, **kw):
    return evaluate(
        model, "gqa,memes", out, limit=6, data=suite, batch_size=2, progress=False, announce=lambda m: None, **kw
    )


def test_interrupted_eval_resumes_without_recomputing(model, suite, tmp_path):
    clean = run(model, tmp_path / "clean", suite)
    broken = Counting(model, fail_after=4)
    with pytest.raises(KeyboardInterrupt):
        run(broken, tmp_path / "run", suite)
    assert broken.samples == 8  # gqa's 6 samples and memes' first batch
    assert len(read_jsonl(tmp_path / "run" / "predictions" / "memes.jsonl")) == 2
    resumed = Counting(model)
    results = run(resumed, tmp_path / "run", suite)
    assert resumed.samples == 4 and resumed.calls == 2
    assert [t["score"] for t in results["tasks"]] == pytest.approx([t["score"] for t in clean["tasks"]])
    again = Counting(model)
    run(again, tmp_path / "run", suite)
    assert again.calls == 0


def test_cut_off_prediction_line_is_redone(model, suite, tmp_path):
    run(model, tmp_path, suite)
    path = tmp_path / "predictions" / "gqa.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:10])
    counting = Counting(model)
    run(counting, tmp_path, suite)
    assert counting.samples == 1


def test_shards_merge_at_score_time(model, suite, tmp_path):
    whole = run(model, tmp_path / "whole", suite)
    for index in (0, 1):
        assert run(model, tmp_path / "split", suite, shard=(index, 2), phases=("prepare", "infer")) is None
    assert (tmp_path / "split" / "predictions" / "gqa.shard-1-of-2.jsonl").is_file()
    merged = run(None, tmp_path / "split", suite, phases=("score",))
    assert [t["score"] for t in merged["tasks"]] == pytest.approx([t["score"] for t in whole["tasks"]])


def test_scoring_an_unfinished_shard_is_a_clear_error(model, suite, tmp_path):
    run(model, tmp_path, suite, shard=(0, 2), phases=("prepare", "infer"))
    with pytest.raises(InstructVLError, match="have no prediction"):
        run(None, tmp_path, suite, phases=("score",))


def test_a_run_folder_refuses_another_setup(model, suite, tmp_path):
    run(model, tmp_path, suite)
    with pytest.raises(InstructVLError, match="no_image"):
        run(model, tmp_path, suite, no_image=True)
    with pytest.raises(InstructVLError, match="was run with spec"):
        run(model, tmp_path, suite, mode="multitask")


def test_no_image_baseline_sends_text_only_prompts(model, suite, tmp_path):
    seen = []
    results = run(PromptSpy(model, seen), tmp_path, suite, no_image=True)
    assert seen and all(s.images == [] for s in seen)
    assert results["run"]["no_image"] is True
    prepared = [json.loads(line) for line in (tmp_path / "prepared" / "gqa.jsonl").read_text().splitlines()]
    assert all(p["images"] for p in prepared)  # the prepared prompts keep their images


def test_a_beam_search_spec_decodes_with_its_width_and_length_penalty(model, suite, tmp_path):
    greedy = select_specs("gqa")[0]
    beams = with_overrides(greedy, num_beams=3, length_penalty=-1.0)
    runs = {}
    for name, spec in (("greedy", greedy), ("beams", beams)):
        spy = Counting(model)
        evaluate(spy, [spec], tmp_path / name, limit=2, data=suite, progress=False, announce=lambda m: None)
        runs[name] = spy.generate_kwargs
    assert all("num_beams" not in kw and "length_penalty" not in kw for kw in runs["greedy"])
    assert runs["beams"] and all(kw["num_beams"] == 3 and kw["length_penalty"] == -1.0 for kw in runs["beams"])
    inference = {name: f"generate (<= {greedy.max_new_tokens} tokens, {how}), {greedy.mode} |" for name, how in (
        ("greedy", "greedy"), ("beams", "beam search, 3 beams, length penalty -1"))}  # fmt: skip
    for name, column in inference.items():
        assert column in (tmp_path / name / "report.md").read_text()
    raw = {r["id"]: r["raw"] for r in read_jsonl(tmp_path / "beams" / "predictions" / "gqa.jsonl")}
    samples = [Sample.from_json(r) for r in read_jsonl(tmp_path / "beams" / "prepared" / "gqa.jsonl")]
    by_hand = model.generate(
        model.collator().prompt_batch(samples), max_new_tokens=beams.max_new_tokens, num_beams=3, length_penalty=-1.0
    )
    tok = model.llm.tokenizer
    assert all(raw.values())
    for s, ids in zip(samples, by_hand):  # the same beams, cut at the first line as the stop criterion allows
        assert tok.decode(ids, skip_special_tokens=True).startswith(raw[s.id])


def test_ranking_emits_no_warning(model, suite, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a FutureWarning (e.g. transformers' past_key_values) fails the run
        results = evaluate(model, "vsr,iconqa", tmp_path, limit=3, data=suite, progress=False, announce=lambda m: None)
    assert [t["spec"]["output"] for t in results["tasks"]] == ["rank", "rank"]
    assert all(t["score"] is not None for t in results["tasks"])
