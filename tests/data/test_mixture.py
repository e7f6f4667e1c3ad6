"""The balanced mixture sampler: proportions, resume, draw log, held-out guard."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from instructvl.data.mixture import MixtureEntry, MixtureSampler, build_sampler, mixture_probabilities
from instructvl.data.synthvl.suite import DEFAULT_FACTORS, TrainingStream, training_mixture
from instructvl.errors import InstructVLError

ENTRIES = [
    MixtureEntry("a", 900),
    MixtureEntry("b", 100),
    MixtureEntry("c", 400, factor=2.0),
    MixtureEntry("d", 25, factor=0.5),
]


def test_sqrt_rule_with_factors():
    p = mixture_probabilities(ENTRIES)
    raw = {"a": 30.0, "b": 10.0, "c": 40.0, "d": 2.5}
    for k, v in raw.items():
        assert p[k] == pytest.approx(v / sum(raw.values()))
    assert mixture_probabilities(ENTRIES, "uniform")["c"] == pytest.approx(2 / 4.5)
    explicit = [MixtureEntry("a", 10, weight=3), MixtureEntry("b", 10, weight=1)]
    assert mixture_probabilities(explicit) == {"a": 0.75, "b": 0.25}


def test_empirical_proportions_match_within_two_points():
    sampler = build_sampler(ENTRIES, seed=11)
    counts = Counter(sampler.draw().dataset for _ in range(10_000))
    for name, p in sampler.probabilities.items():
        assert abs(counts[name] / 10_000 - p) < 0.02, (name, counts[name], p)
    log = sampler.draw_log()
    assert log["steps"] == 10_000 and {k: v["drawn"] for k, v in log["datasets"].items()} == dict(counts)


def test_epochs_cover_every_example_once():
    sampler = build_sampler([MixtureEntry("x", 7), MixtureEntry("y", 3)], seed=0)
    draws = [sampler.draw() for _ in range(200)]
    xs = [d.index for d in draws if d.dataset == "x"]
    assert sorted(xs[:7]) == list(range(7)) and sorted(xs[7:14]) == list(range(7))


def test_resume_continues_the_same_sequence(tmp_path):
    a = build_sampler(ENTRIES, seed=5)
    for _ in range(1234):
        a.draw()
    path = tmp_path / "state.json"
    path.write_text(json.dumps(a.state_dict()))
    expected = [a.draw() for _ in range(500)]
    b = build_sampler(ENTRIES, seed=5)
    b.load_state_dict(json.loads(path.read_text()))
    assert [b.draw() for _ in range(500)] == expected
    c = MixtureSampler.from_state(json.loads(path.read_text()))
    assert [c.draw() for _ in range(500)] == expected
    with pytest.raises(InstructVLError, match="different mixture"):
        build_sampler(ENTRIES[:2]).load_state_dict(json.loads(path.read_text()))


def test_held_out_dataset_in_training_mixture_is_an_error(suite):
    with pytest.raises(InstructVLError, match="gqa"):
        training_mixture(suite, ["vqa", "gqa"])
    with pytest.raises(InstructVLError, match="memes"):
        TrainingStream.open(suite, ["coco-cap", "memes"])
    with pytest.raises(InstructVLError, match="caption"):
        training_mixture(suite, ["vqa"], mode="caption-only")


def test_training_mixture_over_the_suite(suite):
    sampler = training_mixture(suite, seed=0)
    assert len(sampler.probabilities) == 13
    manifest = json.loads((suite / "manifest.json").read_text())["datasets"]
    w = {n: math.sqrt(manifest[n]["sizes"]["train"]) * DEFAULT_FACTORS.get(n, 1.0) for n in sampler.probabilities}
    assert sampler.probabilities["okvqa"] == pytest.approx(w["okvqa"] / sum(w.values()))
    caps = training_mixture(suite, mode="caption-only")
    assert set(caps.probabilities) == {"coco-cap", "webcap", "textcaps"}


def test_training_stream_resumes_with_the_same_samples(suite):
    a = TrainingStream.open(suite, seed=2)
    for _ in range(50):
        a.next()
    state = json.loads(json.dumps(a.state_dict()))
    expected = [a.next() for _ in range(30)]
    b = TrainingStream.open(suite, seed=2)
    b.load_state_dict(state)
    got = [b.next() for _ in range(30)]
    assert got == expected
    assert all(s.turns[-1].role == "assistant" for s in got)
