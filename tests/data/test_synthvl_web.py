"""SynthVL-web: disjoint from the suite (image bytes and scenes), every concept covered,
alt-text captions (no questions or templates), readable by the suite's loader."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from instructvl.data.synthvl.loader import read_jsonl
from instructvl.data.synthvl.scenes import BACKGROUNDS, Scene
from instructvl.data.synthvl.scenes import COLOURS as ALL_COLOURS
from instructvl.data.synthvl.video import ACTIONS
from instructvl.data.synthvl.web import KINDS, NAME, web_item
from instructvl.data.synthvl.web_corpus import scene_key, suite_fingerprints, write_web


@pytest.fixture(scope="module")
def corpus(suite, tmp_path_factory):
    out = tmp_path_factory.mktemp("web")
    return out, write_web(out, 300, seed=7, suite=suite)


def test_no_corpus_image_or_scene_occurs_in_the_suite(suite, corpus):
    out, manifest = corpus
    images, scenes = suite_fingerprints(suite)
    samples, report = read_jsonl(out / NAME / "train.jsonl")
    assert report.skipped == 0 and len(samples) == 300 == manifest["datasets"][NAME]["size"]
    for s in samples:
        assert scene_key(s.metadata["scene"]) not in scenes
        for p in s.images:
            assert hashlib.sha256((out / NAME / p).read_bytes()).hexdigest() not in images


def test_an_item_that_repeats_a_suite_scene_is_redrawn(suite, tmp_path, monkeypatch):
    from instructvl.data.synthvl import web_corpus

    record = json.loads((suite / "coco-cap" / "train.jsonl").read_text().splitlines()[0])["metadata"]["scene"]
    real = web_corpus.web_item
    calls = []

    def first_repeats(rng, size):
        calls.append(1)
        item = real(rng, size)
        if len(calls) == 1:  # the first draw is a suite scene
            item.scenes, item.record, item.style = [Scene.from_dict(record)], record, "plain"
        return item

    monkeypatch.setattr(web_corpus, "web_item", first_repeats)
    manifest = write_web(tmp_path, 1, seed=7, suite=suite)
    sample = json.loads((tmp_path / NAME / "train.jsonl").read_text())
    assert manifest["datasets"][NAME]["redrawn_to_avoid_suite"] == 1
    assert sample["metadata"]["attempt"] == 1 and sample["metadata"]["scene"] != record


def test_the_corpus_covers_every_concept_and_event():
    rng = random.Random(0)
    items = [web_item(rng, 64) for _ in range(3000)]
    objects = [o for it in items if it.style != "clip" for s in it.scenes for o in s.objects]
    kinds = {o.kind for o in objects}
    assert set(KINDS) | {"sign", "text"} <= kinds
    colours = {o.colour for o in objects} - set(BACKGROUNDS)
    assert {"pink", "teal", "maroon"} <= colours and len(colours) >= 11
    assert {it.record["event"]["type"] for it in items if it.style == "clip"} == set(ACTIONS)
    assert max(len(it.scenes[0].objects) for it in items) == 6
    assert {it.style for it in items} >= {"horizon", "cover", "damaged", "many", "sign", "words", "clip"}
    assert all(c in ALL_COLOURS for c in colours)


def test_captions_are_alt_text_not_tasks():
    rng = random.Random(1)
    captions = [web_item(rng, 64).caption for _ in range(2000)]
    assert not any("?" in c or "Question" in c or "Answer" in c for c in captions)
    assert len(set(captions)) > 1500  # varied, not a handful of templates
