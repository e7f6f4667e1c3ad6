"""No baseline peeks at the evaluated answers: held-out SynthVL sets have a dev split (drawn
like test, after every other split, avoiding their images) that their majority is counted
on; a real task counts its spec's `baseline` split, or has no majority baseline at all."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

import instructvl.cli.data  # noqa: F401 (registers `instructvl data`)
from instructvl.cli import app
from instructvl.data.schema import Sample
from instructvl.data.synthvl import cache, generate
from instructvl.data.synthvl.generate import SCALES, Scale, generate_suite, make_example, to_sample
from instructvl.data.synthvl.registry import get_spec
from instructvl.data.synthvl.stats import suite_stats
from instructvl.errors import InstructVLError
from instructvl.eval import baselines
from instructvl.eval.harness import prepared
from instructvl.eval.prepare import baseline_answers, prepare_samples
from instructvl.eval.records import read_json
from instructvl.eval.report import eval_source_mark
from instructvl.eval.spec import TaskSpec, all_specs, spec_hash, with_overrides
from tests.eval.conftest import NAMES
from tests.formats.fixtures import make_images, write_json

HELD_IN = [n for n in NAMES if not get_spec(n).held_out]
HELD_OUT = [n for n in NAMES if get_spec(n).held_out]


def rows(path: Path) -> list[dict]:
    """The JSON objects of a JSONL file."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def image_hashes(root: Path, names: list[str], split: str) -> set[str]:
    """sha256 of every image of `split` of the datasets `names`."""
    return {
        hashlib.sha256((root / name / p).read_bytes()).hexdigest()
        for name in names
        for row in rows(root / name / f"{split}.jsonl")
        for p in row["images"]
    }


def test_scales_give_held_out_sets_a_dev_split_the_size_of_val():
    assert (SCALES["small"].dev, SCALES["full"].dev) == (50, 500)
    assert Scale(train=12, val=6, test=8).dev == 6 and Scale(1, 2, 3, dev=4).dev == 4
    assert get_spec("gqa").data_splits == ("test", "dev") and get_spec("vqa").data_splits == ("train", "val")


def test_held_out_sets_have_a_dev_split_of_the_expected_size(suite):
    manifest = json.loads((suite / "manifest.json").read_text())
    assert manifest["format_version"] == generate.FORMAT_VERSION == 3 and manifest["scale_sizes"]["dev"] == 6
    for name in HELD_OUT:
        assert manifest["datasets"][name]["sizes"] == {"test": 8, "dev": 6}
        dev = rows(suite / name / "dev.jsonl")
        assert [r["id"] for r in dev] == [f"{name}/dev/{i:06d}" for i in range(6)]
        assert all(r["metadata"]["split"] == "dev" for r in dev)
    for name in HELD_IN:
        assert set(manifest["datasets"][name]["sizes"]) == {"train", "val"}


def test_dev_images_are_neither_held_in_nor_test_images(suite):
    held_in = image_hashes(suite, HELD_IN, "train") | image_hashes(suite, HELD_IN, "val")
    test, dev = image_hashes(suite, HELD_OUT, "test"), image_hashes(suite, HELD_OUT, "dev")
    assert dev and not dev & held_in and not dev & test


def test_dev_is_written_last_and_earlier_splits_are_drawn_as_without_it(tmp_path):
    order: list[tuple[str, str]] = []
    generate_suite(tmp_path, Scale(train=10, val=3, test=6), seed=1, names=["vqa", "gqa", "nocaps"],
                   progress=lambda name, split, n: order.append((name, split)))  # fmt: skip
    assert [split for _, split in order] == ["train", "val", "test", "test", "dev", "dev"]
    # the test split is what the old phases gave: drawn avoiding the held-in images only
    forbidden = frozenset(image_hashes(tmp_path, ["vqa"], "train") | image_hashes(tmp_path, ["vqa"], "val"))
    spec = get_spec("gqa")
    for i, row in enumerate(rows(tmp_path / "gqa" / "test.jsonl")):
        ex, images, attempt = make_example(spec, "test", i, 1, 64, forbidden)
        assert json.loads(json.dumps(to_sample(spec, "test", i, ex, row["images"], attempt).to_json())) == row
        assert [(tmp_path / "gqa" / p).read_bytes() for p in row["images"]] == images


def test_an_old_cached_suite_is_not_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path))
    old = tmp_path / "synthvl-small-seed0"
    old.mkdir()
    (old / "manifest.json").write_text('{"format_version": 1}')
    made: list[Path] = []

    def fake_generate(out, scale, seed):
        made.append(Path(out))
        (Path(out) / "manifest.json").write_text(json.dumps({"format_version": generate.FORMAT_VERSION}))

    monkeypatch.setattr(generate, "generate_suite", fake_generate)
    root = cache.default_suite("small", 0)
    assert root.name == f"synthvl-small-seed0-v{generate.FORMAT_VERSION}" and len(made) == 1
    assert cache.default_suite("small", 0) == root and len(made) == 1  # generated once, then reused


def test_stats_and_check_read_the_dev_split(suite):
    gqa = next(r for r in suite_stats(suite)["datasets"] if r["name"] == "gqa")
    assert gqa["sizes"] == {"test": 8, "dev": 6} and gqa["size"] == 14
    result = CliRunner().invoke(app, ["data", "check", str(suite)])
    assert result.exit_code == 0 and "gqa/dev.jsonl: 6 loaded, 0 skipped" in result.output.replace("\n", "")


def test_generate_tasks_count_their_majority_on_train_or_dev_never_the_eval_set(suite, tmp_path):
    for name, source in (("gqa", "dev"), ("nocaps", "dev"), ("vqa", "train")):
        spec = all_specs()[name]
        prepared(tmp_path, spec, None, 0, suite, None)
        answers, split = baseline_answers(spec, suite)
        assert split == source and answers
        assert read_json(tmp_path / "prepared" / f"{name}.json")["majority"] == [
            baselines.majority_answer(answers, source)[0],
            source,
        ]
        assert eval_source_mark({"source": source}) == ("" if source == "train" else " (dev)")


def with_answer(path: Path, answer: str) -> None:
    """Rewrites every sample of a SynthVL JSONL file to have `answer`."""
    samples = [Sample.from_json(r) for r in rows(path)]
    lines = [json.dumps(dataclasses.replace(s, answer=answer).to_json()) for s in samples]
    path.write_text("\n".join(lines) + "\n")


def test_the_dev_majority_is_not_the_test_majority_where_their_answers_differ(tmp_path):
    generate_suite(tmp_path, Scale(train=0, val=0, test=12, dev=4), seed=2, names=["gqa"])
    with_answer(tmp_path / "gqa" / "dev.jsonl", "no such answer")
    spec = all_specs()["gqa"]
    samples = prepare_samples(spec, tmp_path)
    test_majority = Counter(r["answer"] for r in rows(tmp_path / "gqa" / "test.jsonl")).most_common(1)[0][0]
    assert test_majority != "no such answer"
    prepared(tmp_path / "run", spec, None, 0, tmp_path, None)
    majority = tuple(read_json(tmp_path / "run" / "prepared" / "gqa.json")["majority"])
    assert majority == ("no such answer", "dev")
    record = baselines.baseline(spec, samples, majority)  # type: ignore[arg-type]
    peeking = baselines.majority(spec, samples, test_majority, "test")
    assert record["score"] == 0.0 < peeking["score"] and record["source"] == "dev"


def test_a_suite_without_dev_splits_is_a_clear_error(tmp_path):
    generate_suite(tmp_path, Scale(train=0, val=0, test=4, dev=2), seed=2, names=["gqa"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    del manifest["datasets"]["gqa"]["sizes"]["dev"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InstructVLError, match="no split 'dev'.*counted on its dev split.*instructvl data synth"):
        baseline_answers(all_specs()["gqa"], tmp_path)


def test_a_real_task_without_a_training_split_gets_no_baseline_rather_than_a_peek():
    for spec in all_specs().values():
        if spec.suite == "real" and spec.output == "generate":
            assert baseline_answers(spec, data_root="/nowhere") == ([], "none")
    answer, source = baselines.majority_answer(*baseline_answers(all_specs()["real-gqa"]))
    record = baselines.majority(all_specs()["real-gqa"], [], answer, source)
    assert record["score"] is None and eval_source_mark(record) == " (no training split)"


def flickr_spec(baseline: dict | None) -> TaskSpec:
    """real-flickr30k with its source's `baseline` split set."""
    spec = all_specs()["real-flickr30k"]
    return with_overrides(spec, source={**spec.resolved()["source"], "baseline": baseline})


def test_a_real_task_counts_the_baseline_split_its_spec_names(tmp_path):
    make_images(tmp_path / "flickr30k" / "images", "1.jpg", "2.jpg")  # train images need not exist
    write_json(tmp_path / "flickr30k" / "dataset_flickr30k.json", {"images": [
        {"imgid": i, "filename": f"{i}.jpg", "split": split, "sentences": [{"raw": text}, {"raw": text}]}
        for i, split, text in ((1, "test", "a dog."), (2, "test", "a dog."), (3, "train", "a red bus."))]})  # fmt: skip
    spec = flickr_spec({"options": {"split": "train"}})
    answers, source = baseline_answers(spec, data_root=tmp_path)
    assert source == "train" and baselines.majority_answer(answers, source) == ("a red bus.", "train")
    assert "a dog." not in answers


def test_a_baseline_split_must_differ_from_the_evaluated_one_and_leaves_fingerprints_alone():
    with pytest.raises(InstructVLError, match="baseline split is the evaluated one"):
        flickr_spec({"options": {"split": "test"}})
    assert "baseline" in flickr_spec({"annotations": ["flickr30k/train.json"]}).resolved()["source"]
    spec = all_specs()["real-flickr30k"]
    assert "baseline" not in spec.resolved()["source"] and spec_hash(flickr_spec(None)) == spec_hash(spec)
