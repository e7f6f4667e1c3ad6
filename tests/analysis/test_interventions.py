"""Attention knockout: cutting no layer changes nothing, cutting every layer makes the
text positions blind to the image; the closed questions match their scenes."""

import pytest
import torch

from instructvl.analysis.images import scene_images
from instructvl.analysis.interventions import (
    CANDIDATES,
    Condition,
    Outcome,
    candidate_scores,
    references,
    scene_questions,
    summary,
    windows,
)
from instructvl.analysis.knockout import cut_visual_attention
from instructvl.data.synthvl.qa import answer_attribute
from instructvl.errors import InstructVLError
from tests.models.helpers import build


@pytest.fixture(scope="module")
def questions(scene_suite):
    return scene_questions(scene_images(scene_suite)[:6], seed=0)


def _random_visual(model):
    """visual_sequence replaced: random values at the visual positions."""
    real = model.visual_sequence
    generator = torch.Generator().manual_seed(0)

    def fake(batch):
        visual = real(batch)
        if visual is None:
            return None
        noise = torch.randn(visual.shape, generator=generator) * visual.abs().max()
        return torch.where(batch.image_mask.unsqueeze(-1), noise, visual)

    return fake


def test_questions_are_answered_by_their_scenes(questions, scene_suite):
    images = scene_images(scene_suite)[:6]
    assert len({q.metadata["type"] for q in questions}) >= 2  # the types take turns
    for q, im in zip(questions, images):
        assert q.images == [im.path]
        assert q.answer == answer_attribute(im.scene, q.metadata["program"])
        assert q.candidates == list(CANDIDATES[q.metadata["type"]]) and q.answer in q.candidates
        assert q.turns[-1].role == "user"


def test_cutting_no_layer_reproduces_the_unmodified_scores_exactly(model, questions):
    collator = model.collator()
    for q in questions[:3]:
        batch = collator.prompt_batch([q])
        plain = model.score_candidates(batch, [q.candidates])[0]
        assert candidate_scores(model, collator, q, Condition("none")) == [lp / n for lp, n in plain]


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_an_empty_cut_keeps_causal_and_padding_masks(tiny_parts, questions, attention):
    """The rewritten mask blocks nothing else: with no visual position to block, the hooks
    on every layer leave the scores (KV-cache scoring, candidates of several lengths) as they were."""
    model = build(tiny_parts)
    model.llm.model.set_attn_implementation(attention)
    collator = model.collator()
    q = questions[0]
    batch = collator.prompt_batch([q])
    candidates = [q.candidates[:4] + ["a much longer answer than the others"]]
    before = model.score_candidates(batch, candidates)
    with cut_visual_attention(model, range(len(model.llm.layers)), torch.zeros_like(batch.image_mask)):
        after = model.score_candidates(batch, candidates)
    for (a, n), (b, m) in zip(before[0], after[0]):
        assert n == m and a == pytest.approx(b, abs=1e-5)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("inject_layer", [0, 2])
def test_cutting_every_layer_makes_text_blind_to_the_image(tiny_parts, questions, monkeypatch, attention, inject_layer):
    model = build(tiny_parts, llm__inject_layer=inject_layer)
    model.llm.model.set_attn_implementation(attention)
    collator = model.collator()
    q = questions[1]
    every = Condition("all", tuple(range(len(model.llm.layers))))
    real_cut, real_plain = (
        candidate_scores(model, collator, q, every),
        candidate_scores(model, collator, q, Condition("none")),
    )
    monkeypatch.setattr(model, "visual_sequence", _random_visual(model))
    noise_cut, noise_plain = (
        candidate_scores(model, collator, q, every),
        candidate_scores(model, collator, q, Condition("none")),
    )
    assert noise_cut == pytest.approx(real_cut, abs=1e-5)
    assert noise_plain != pytest.approx(real_plain, abs=1e-3)  # without the cut the image matters


def test_cut_in_a_left_padded_batch(model, questions, monkeypatch):
    """Several prompts of different lengths in one forward pass (boolean / float masks
    with padding): cutting every layer, the last position ignores the visual tokens."""
    batch = model.collator().prompt_batch(questions[:3])
    every = range(len(model.llm.layers))
    with torch.no_grad(), cut_visual_attention(model, every, batch.image_mask):
        real = model.logits(batch)[:, -1]
        monkeypatch.setattr(model, "visual_sequence", _random_visual(model))
        noise = model.logits(batch)[:, -1]
    torch.testing.assert_close(real, noise, atol=1e-5, rtol=1e-5)


def test_knockout_rejects_layers_outside_the_model(model):
    with pytest.raises(InstructVLError, match="outside 0..3"):
        with cut_visual_attention(model, [4], torch.zeros(1, 3, dtype=torch.bool)):
            pass


def test_windows_cover_every_layer_once():
    cuts = windows(30, 4, 4)
    assert [c.layers for c in cuts][-1] == (28, 29)
    assert sorted(i for c in cuts for i in c.layers) == list(range(30))
    assert [c.name for c in references(30)] == ["unmodified", "no image", "all layers cut"]


def test_summary_counts_per_type():
    rows = [Outcome("colour", True, 0.9), Outcome("colour", False, 0.1), Outcome("count", True, 0.5)]
    s = summary(rows)
    assert s["accuracy"] == pytest.approx(2 / 3) and s["p_correct"] == pytest.approx(0.5)
    assert s["by_type"] == {"colour": {"accuracy": 0.5, "p_correct": 0.5}, "count": {"accuracy": 1.0, "p_correct": 0.5}}
