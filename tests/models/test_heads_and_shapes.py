"""Every head with a causal and a seq2seq LM: visual token shapes, placeholders, loss."""

import math

import pytest
import torch

from tests.models.helpers import build, samples
from tests.tiny import HEADS

CASES = [(h, llm) for h in HEADS for llm in ("llama", "t5")]


@pytest.mark.parametrize("head,llm", CASES)
def test_shapes_and_loss(tiny_parts, images, head, llm):
    model = build(tiny_parts, head, llm)
    batch = model.collator().train_batch(samples(images))
    tokens = model.encode_images(batch)
    per_image = 4 if "qformer" in head else 17  # 4 queries, or 16 patches + CLS
    assert model.tokens_per_image == per_image
    assert tokens.shape == (4, per_image, model.llm.hidden_size)  # 1 + 2 + 1 images
    assert batch.image_mask.sum(1).tolist() == [per_image, 2 * per_image, per_image]
    out = model(batch)
    assert math.isfinite(out.loss.item())
    # loss is close to uniform over the vocabulary for random weights
    assert abs(out.loss.item() - math.log(model.llm.model.config.vocab_size)) < 1.5
    assert torch.isclose(out.loss, out.loss_sum / out.num_tokens)


@pytest.mark.parametrize("head", HEADS)
def test_instruction_changes_visual_tokens_only_for_instruction_aware_head(tiny_parts, images, head):
    from instructvl.data.schema import Sample, Turn

    model = build(tiny_parts, head)
    collator = model.collator()
    a = collator.prompt_batch([Sample("x", "d", [images[0]], [Turn("user", "what colour is the square?")])])
    b = collator.prompt_batch([Sample("x", "d", [images[0]], [Turn("user", "describe the image.")])])
    differ = not torch.allclose(model.encode_images(a), model.encode_images(b))
    assert differ == (head == "instructblip-qformer")


def test_image_changes_visual_tokens(tiny_parts, images):
    from instructvl.data.schema import Sample, Turn

    model = build(tiny_parts, "mlp")
    collator = model.collator()
    one = collator.prompt_batch([Sample("x", "d", [images[0]], [Turn("user", "q")])])
    two = collator.prompt_batch([Sample("x", "d", [images[1]], [Turn("user", "q")])])
    assert not torch.allclose(model.encode_images(one), model.encode_images(two))


def test_pooling_reduces_tokens(tiny_parts, images):
    model = build(tiny_parts, "mlp", head__pool=2, vision__drop_cls=True)
    assert model.tokens_per_image == 4  # 4x4 patches pooled 2x2
    batch = model.collator().train_batch(samples(images))
    assert model.encode_images(batch).shape[1] == 4


def test_rms_gain_matches_text_scale(tiny_parts, images):
    model = build(tiny_parts, "mlp", head__output_norm="rms", llm__inject_layer=2)
    gain = model.projector.gain.item()
    assert gain == pytest.approx(model.llm.text_hidden_rms(), rel=1e-6)
    tokens = model.encode_images(model.collator().train_batch(samples(images)))
    rms = tokens.pow(2).mean(-1).sqrt()
    assert torch.allclose(rms, torch.full_like(rms, gain), rtol=1e-3)
