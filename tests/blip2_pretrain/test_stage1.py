"""BLIP-2 stage 1 on a tiny Q-Former: the ITG mask, the three losses, and the passes."""

from __future__ import annotations

import torch

from instructvl.blip2_pretrain.stage1 import additive_mask, itg_allowed
from instructvl.blip2_pretrain.train import build_stage1, encode_captions, qformer_tokenizer
from instructvl.data.schema import Sample, Turn

CAPTIONS = ["red circle", "a blue square at the top", "green star", "two yellow hearts", "purple bolt", "STOP sign"]


def _stage1(recipe):
    tok = qformer_tokenizer(recipe)
    torch.manual_seed(0)
    model = build_stage1(recipe, 32, tok)  # the tiny CLIP tower is 32 wide
    samples = [Sample(str(i), "w", [], [Turn("user", ""), Turn("assistant", c)]) for i, c in enumerate(CAPTIONS)]
    ids, mask, codes = encode_captions(tok, samples, recipe.max_text_tokens)
    feats = torch.randn(len(CAPTIONS), 17, 32, generator=torch.Generator().manual_seed(1))
    return model, feats, ids, mask, codes


def test_itg_mask_is_causal_over_text_and_sees_all_queries():
    allowed = itg_allowed(torch.tensor([[1, 1, 1], [1, 1, 0]]), num_queries=2)
    expected = torch.tensor(
        [
            [[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 1]],
            [[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 0]],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(allowed, expected)
    mask = additive_mask(allowed, torch.float32)
    assert mask.shape == (2, 1, 5, 5)
    assert (mask[allowed[:, None]] == 0).all() and (mask[~allowed[:, None]] == torch.finfo(torch.float32).min).all()


def test_the_qformer_honours_the_itg_mask(micro_recipe):
    """Query outputs of the ITG pass equal the image-only pass (queries see no text), and a
    text position's output does not change when a later token does."""
    model, feats, ids, mask, _ = _stage1(micro_recipe)
    model.eval()
    q = micro_recipe.num_queries
    with torch.no_grad():
        causal = additive_mask(itg_allowed(mask, q), torch.float32)
        out = model.joint_pass(ids, causal, feats)
        assert torch.allclose(out[:, :q], model.image_pass(feats), atol=1e-5)
        changed = ids.clone()
        changed[:, 3] = 1000
        again = model.joint_pass(changed, causal, feats)
    assert torch.allclose(again[:, : q + 3], out[:, : q + 3], atol=1e-5)
    assert not torch.allclose(again[:, q + 3], out[:, q + 3], atol=1e-3)


def test_each_loss_is_finite_and_decreases_on_a_fixed_batch(micro_recipe):
    """At BERT's init (std 0.02) a random tiny Q-Former gives every caption nearly the same
    [CLS] output; a wider init lets a few steps (no dropout) show each loss learn."""
    model, feats, ids, mask, codes = _stage1(micro_recipe)
    torch.manual_seed(0)
    for param in model.parameters():
        if param.ndim == 2:
            param.data.normal_(0, 0.2)
    model.eval()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    curves: dict[str, list[float]] = {}
    for _ in range(12):
        losses = model.losses(feats, ids, mask, codes)
        for name, value in losses.items():
            assert torch.isfinite(value), name
            curves.setdefault(name, []).append(value.item())
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()
    assert set(curves) == {"itc", "itm", "itg"}
    for name, values in curves.items():
        assert sum(values[-3:]) / 3 < values[0], (name, values)


def test_hard_negatives_never_share_the_caption(micro_recipe):
    model, *_ = _stage1(micro_recipe)
    codes = torch.tensor([0, 0, 1, 2])
    same = codes[:, None] == codes[None, :]
    for _ in range(20):
        neg_image, neg_text = model._hard_negatives(torch.randn(4, 4), same)
        assert not same[torch.arange(4), neg_image].any() and not same[torch.arange(4), neg_text].any()
