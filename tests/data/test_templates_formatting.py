"""Instruction templates (10-15 per task, drawn uniformly) and the three formatting modes."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import raw_samples

from instructvl.data.formatting import CAPTION_ONLY_PROMPT, MODES, format_sample
from instructvl.data.schema import Sample, Turn
from instructvl.data.synthvl.registry import DATASETS
from instructvl.data.templates import load_templates, task_types
from instructvl.errors import InstructVLError

SHORT_CUES = (
    "short",
    "single word",
    "brief",
    "few words",
    "word or two",
    "one word",
    "a:",
    "answer:",
    "true or false",
    "yes or no",
    "option",
    "as short as",
    "three words",
    "caption",
    "photo of",
    "shows",
    "pick one",
    "the answer is",
    "a word",
    "one-line",
)


def test_every_task_has_10_to_15_templates():
    assert {d.task for d in DATASETS} <= set(task_types())
    for task in task_types():
        ts = load_templates(task)
        assert 10 <= len(ts.templates) <= 15 and len(set(ts.templates)) == len(ts.templates)
        if ts.short_answer:  # short-answer tasks ask for a short answer (or end with an answer cue)
            for t in ts.templates:
                assert any(c in t.lower() for c in SHORT_CUES), (task, t)


def test_templates_are_drawn_uniformly_and_deterministically():
    ts = load_templates("vqa")
    draws = Counter(ts.pick(0, f"id-{i}")[0] for i in range(12000))
    expected = 12000 / len(ts.templates)
    assert set(draws) == set(range(len(ts.templates)))
    assert all(abs(c - expected) < 0.12 * expected for c in draws.values()), draws
    assert ts.pick(5, "x") == ts.pick(5, "x")
    assert len({ts.pick(seed, "x")[0] for seed in range(50)}) > 1


def _sample(task="vqa", **kw) -> Sample:
    turns = kw.pop("turns", [Turn("user", "what colour is the square?"), Turn("assistant", "red")])
    return Sample(id="vqa/train/000001", dataset="vqa", images=["a.png"], turns=turns, metadata={"task": task}, **kw)


def test_instruction_mode_fills_the_template_and_appends_ocr():
    s = format_sample(_sample(ocr_tokens=["STOP", "EXIT"]), "instruction", seed=1)
    text = s.turns[0].content
    assert "what colour is the square?" in text and "OCR tokens: STOP, EXIT." in text
    assert text.startswith(load_templates("vqa").templates[s.metadata["template_index"]].split("{input}")[0])
    assert s.turns[-1] == Turn("assistant", "red") and s.metadata["mode"] == "instruction"
    assert format_sample(_sample(), "instruction", seed=1, with_target=False).turns[-1].role == "user"


def test_multitask_mode_is_tag_plus_raw_input():
    s = format_sample(_sample(), "multitask")
    assert s.turns[0].content == "[vqa] what colour is the square?"
    mc = format_sample(_sample("mcq", candidates=["red", "blue"]), "multitask")
    assert mc.turns[0].content == "[vqa] what colour is the square? options: (a) red (b) blue"


def test_caption_only_mode():
    cap = _sample("caption", turns=[Turn("user", ""), Turn("assistant", "a red square")])
    s = format_sample(cap, "caption-only")
    assert s.turns == [Turn("user", CAPTION_ONLY_PROMPT), Turn("assistant", "a red square")]
    with pytest.raises(InstructVLError, match="caption-only"):
        format_sample(_sample(), "caption-only")
    with pytest.raises(InstructVLError, match="unknown formatting mode"):
        format_sample(_sample(), "freeform")


def test_every_dataset_formats_in_every_mode(suite):
    for d in DATASETS:
        split = "test" if d.held_out else "train"
        raw = raw_samples(suite, d.name, split)[0]
        for mode in MODES:
            if mode == "caption-only" and d.task != "caption":
                continue
            s = format_sample(raw, mode, seed=0)
            assert "{" not in s.turns[0].content and s.turns[-1] == raw.turns[-1]
            assert len(s.turns) == len(raw.turns)
    # multi-turn: dialog templates its last question, conversation its first
    vd = format_sample(raw_samples(suite, "visdial", "test")[0], "instruction", with_target=False)
    raw = raw_samples(suite, "visdial", "test")[0]
    assert vd.turns[:-1] == raw.turns[:-2] and vd.turns[-1].content != raw.turns[-2].content
    conv_raw = raw_samples(suite, "llava-conv", "train")[0]
    conv = format_sample(conv_raw, "instruction", seed=3)
    assert conv.turns[1:] == conv_raw.turns[1:]
