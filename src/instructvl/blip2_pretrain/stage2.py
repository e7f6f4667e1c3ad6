"""BLIP-2 stage 2: the query outputs, through the projection (and output norm) of the
stage-2 model, enter the frozen LLM at its inject layer; the LM loss is on the caption.

The stage-2 model is an ordinary `VisionLanguageModel` (`Blip2Recipe.stage2_config`:
BLIP-2's instruction-unaware Q-Former), its Q-Former loaded from stage 1 through the
LAVIS loader; it trains the head and projector (the default freeze policy) on web samples
(an empty user turn, the alt text as the answer: no prompt, as BLIP-2), with the frozen
tower's features precomputed."""

from __future__ import annotations

import torch

from instructvl.config.schema import FreezePolicy
from instructvl.data.schema import Sample
from instructvl.models.freeze import apply_freeze_policy


def stage2_model(recipe, stage1_state: dict[str, torch.Tensor]):
    """The stage-2 model of `recipe`, its head loaded from the LAVIS-named `stage1_state`;
    head and projector trainable, everything else frozen."""
    from instructvl.models.interop.lavis import load_lavis_state_dict
    from instructvl.models.vlm import VisionLanguageModel

    model = VisionLanguageModel.build(recipe.stage2_config())
    load_lavis_state_dict(model, stage1_state, components=("head",))
    apply_freeze_policy(model, FreezePolicy())
    return model


def caption_loss(model, collator, samples: list[Sample]) -> torch.Tensor:
    """The mean LM loss over the caption tokens of `samples`."""
    return model(collator.train_batch(samples)).loss


@torch.no_grad()
def held_out_loss(model, collator, samples: list[Sample], batch_size: int) -> float:
    """The token-weighted caption loss of `samples` (no gradients)."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(samples), batch_size):
        out = model(collator.train_batch(samples[i : i + batch_size]))
        total, count = total + float(out.loss_sum), count + out.num_tokens
    model.train(was)
    return total / max(count, 1)
