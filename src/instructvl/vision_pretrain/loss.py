"""Symmetric InfoNCE where identical captions in a batch are one class (all positives)."""

from __future__ import annotations

import torch

MAX_LOGIT_SCALE = 100.0


def caption_classes(caption_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(first, inverse) of a batch's caption ids [B]: `first[u]` is the first row holding
    distinct caption u, `inverse[b]` the distinct caption of row b."""
    unique, inverse = torch.unique(caption_ids, return_inverse=True)
    first = torch.full((len(unique),), len(caption_ids), dtype=torch.long, device=caption_ids.device)
    first.scatter_reduce_(0, inverse, torch.arange(len(caption_ids), device=caption_ids.device), reduce="amin")
    return first, inverse


def grouped_infonce(logits: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """Mean of the image->text and text->image InfoNCE losses of `logits` [B images, U
    distinct captions]: an image's target is its caption `inverse[b]`, a caption's targets
    are all the images it describes (their probabilities summed)."""
    image_to_text = torch.nn.functional.cross_entropy(logits, inverse)
    positive = inverse[None, :] == torch.arange(logits.shape[1], device=logits.device)[:, None]  # [U, B]
    t = logits.T
    text_to_image = (t.logsumexp(1) - t.masked_fill(~positive, float("-inf")).logsumexp(1)).mean()
    return (image_to_text + text_to_image) / 2


def contrastive_loss(
    image_emb: torch.Tensor, text_emb: torch.Tensor, caption_ids: torch.Tensor, logit_scale: torch.Tensor
) -> torch.Tensor:
    """Mean of the image->text and text->image InfoNCE losses.

    `image_emb` [B, D] and `text_emb` [B, D] are L2-normalised; `caption_ids` [B] names
    each row's caption, so rows that share a caption are positives of each other: the
    captions are deduplicated (each distinct caption is one class; `grouped_infonce`).
    `logit_scale` is the log of the inverse temperature, clamped at log(100) as in CLIP."""
    first, inverse = caption_classes(caption_ids)
    scale = logit_scale.clamp(max=torch.log(torch.tensor(MAX_LOGIT_SCALE))).exp()
    return grouped_infonce(scale * image_emb @ text_emb[first].T, inverse)
