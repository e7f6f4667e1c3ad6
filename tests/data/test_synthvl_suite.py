"""The suite as a whole: registry, manifest, timing, determinism and the leak test."""

from __future__ import annotations

import hashlib
import json
import re

from conftest import TINY, raw_samples

from instructvl.data.synthvl.generate import Scale, generate_suite
from instructvl.data.synthvl.registry import DATASETS, held_in_names, held_out_names
from instructvl.data.synthvl.scenes import NOVEL_WORDS

HELD_OUT_CATEGORIES = {"visual reasoning", "video QA", "visual dialog", "image classification"}


def test_registry_has_26_datasets_in_11_categories():
    assert len(DATASETS) == 26
    assert len(held_in_names()) == 13 and len(held_out_names()) == 13
    assert len({d.category for d in DATASETS}) == 11
    for cat in HELD_OUT_CATEGORIES:
        assert all(d.held_out for d in DATASETS if d.category == cat)
    assert {d.output for d in DATASETS} == {"generate", "rank"}


def test_manifest_and_dataset_json(suite):
    manifest = json.loads((suite / "manifest.json").read_text())
    assert set(manifest["datasets"]) == {d.name for d in DATASETS}
    for d in DATASETS:
        info = json.loads((suite / d.name / "dataset.json").read_text())
        assert info == manifest["datasets"][d.name]
        for key in ("name", "category", "split", "metric", "output", "size", "seed"):
            assert key in info
        assert info["seed"] == 7
        expected = (
            {"test": TINY.test, "dev": TINY.val}
            if d.held_out
            else {"train": round(TINY.train * d.size_factor), "val": round(TINY.val * d.size_factor)}
        )
        assert info["sizes"] == expected
        for split, n in expected.items():
            samples = raw_samples(suite, d.name, split)
            assert len(samples) == n
            for s in samples:
                assert s.dataset == d.name and s.metadata["task"] == d.task and "scene" in s.metadata
                assert all((suite / d.name / p).is_file() for p in s.images)
                assert s.turns[-1].role == "assistant"


def _image_hashes(root, names, split):
    out = {}
    for name in names:
        for s in raw_samples(root, name, split):
            for p in s.images:
                out.setdefault(hashlib.sha256((root / name / p).read_bytes()).hexdigest(), []).append((s, p))
    return out


def test_no_held_out_image_or_question_leaks_into_held_in(suite):
    held_in = _image_hashes(suite, held_in_names(), "train") | _image_hashes(suite, held_in_names(), "val")
    held_out = _image_hashes(suite, held_out_names(), "test")
    assert not set(held_in) & set(held_out)
    pairs_in = {(s.turns[0].content, h) for h, items in held_in.items() for s, _ in items}
    pairs_out = {(s.turns[0].content, h) for h, items in held_out.items() for s, _ in items}
    assert not pairs_in & pairs_out
    # nocaps' novel kinds and colours never appear anywhere in held-in data
    pattern = re.compile(r"\b(" + "|".join(NOVEL_WORDS) + r")\b", re.IGNORECASE)
    for name in held_in_names():
        for split in ("train", "val"):
            text = (suite / name / f"{split}.jsonl").read_text()
            assert not pattern.search(text), (name, pattern.search(text))


def test_generation_is_byte_identical_for_the_same_seed(tmp_path):
    names = ["coco-cap", "textcaps", "vizwiz", "msvd", "visdial", "memes", "llava-detail"]
    scale = Scale(train=12, val=3, test=12)
    for run, workers in (("a", 1), ("b", 2)):  # the process pool gives the same bytes too
        generate_suite(tmp_path / run, scale, seed=3, names=names, workers=workers)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 100
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    generate_suite(tmp_path / "c", scale, seed=4, names=names)
    assert (tmp_path / "a/coco-cap/train.jsonl").read_bytes() != (tmp_path / "c/coco-cap/train.jsonl").read_bytes()


def test_every_dataset_metric_is_a_registered_metric():
    from instructvl.data.synthvl.registry import DATASETS
    from instructvl.eval.metrics import METRICS

    assert {spec.metric for spec in DATASETS} <= set(METRICS)
