"""The contrastive loss: identical captions in a batch are positives, not negatives."""

import math

import torch

from instructvl.vision_pretrain.loss import contrastive_loss

SCALE = torch.tensor(math.log(100.0))


def _unit(x):
    return torch.nn.functional.normalize(x, dim=-1)


def test_identical_captions_are_positives():
    texts = _unit(torch.randn(3, 16))
    ids = torch.tensor([0, 1, 1, 2])  # images 1 and 2 share caption 1
    text_emb = texts[ids]
    image_emb = text_emb.clone()  # every image sits on its caption
    loss = contrastive_loss(image_emb, text_emb, ids, SCALE)
    # Counted as negatives, images 1 and 2 would each lose log 2 to the other's copy.
    distinct = contrastive_loss(image_emb, text_emb, torch.tensor([0, 1, 3, 2]), SCALE)
    assert loss < 0.05
    assert distinct > loss + 0.3


def test_loss_is_symmetric_infonce_without_duplicates():
    torch.manual_seed(0)
    img, txt = _unit(torch.randn(5, 8)), _unit(torch.randn(5, 8))
    scale = torch.tensor(math.log(1 / 0.07))
    logits = scale.exp() * img @ txt.T
    target = torch.arange(5)
    expected = (
        torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)
    ) / 2
    assert torch.allclose(contrastive_loss(img, txt, torch.tensor([4, 0, 2, 1, 3]), scale), expected, atol=1e-6)


def test_temperature_is_clamped_and_learnable():
    img, txt = _unit(torch.randn(4, 8)), _unit(torch.randn(4, 8))
    scale = torch.tensor(math.log(1 / 0.07), requires_grad=True)
    contrastive_loss(img, txt, torch.arange(4), scale).backward()
    assert scale.grad is not None and scale.grad != 0
    big = contrastive_loss(img, txt, torch.arange(4), torch.tensor(10.0))
    assert torch.equal(big, contrastive_loss(img, txt, torch.arange(4), torch.tensor(math.log(100.0))))
