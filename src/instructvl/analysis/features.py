"""Per-layer features of the language model's residual stream on image prompts.

Index i of the layer axis is the input of decoder layer i as that layer sees it (after
any layer-k injection of the visual tokens), for i = 0..L-1; index L is the output of
the last layer (before the final norm). So with visual tokens injected at the input of
layer k, indices < k hold the image placeholders only (identical for every image),
index k holds the visual tokens at the visual positions while the text positions have
not read them yet, and from k + 1 on text positions may carry image information.

Two features per layer: the mean over the visual token positions, and the last prompt
token (the position the answer is read from: it shows where text has read the image).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from instructvl.data.schema import Sample, Turn

FEATURES = ("visual-mean", "last-token")


@contextmanager
def recording(layers) -> Iterator[list]:
    """While active, the returned list holds, after each forward pass, the input of every
    layer in `layers` (as the layer received it) and the output of the last one."""
    states: list = [None] * (len(layers) + 1)

    def make_hook(index: int):
        def hook(_module, args, kwargs, output):
            states[index] = args[0] if args else kwargs["hidden_states"]
            if index == len(layers) - 1:
                states[-1] = output[0] if isinstance(output, tuple) else output

        return hook

    handles = [layer.register_forward_hook(make_hook(i), with_kwargs=True) for i, layer in enumerate(layers)]
    try:
        yield states
    finally:
        for handle in handles:
            handle.remove()


def prompt_sample(index: int, image: str, instruction: str) -> Sample:
    """A one-turn prompt: the image (placed by the collator) and `instruction`."""
    return Sample(f"analysis/{index}", "analysis", [image], [Turn("user", instruction)])


@torch.no_grad()
def layer_features(
    model, images: list[str], instruction: str, batch_size: int = 16, on_batch: Callable[[int], None] | None = None
) -> dict[str, torch.Tensor]:
    """Features [n_images, L + 1, width] per name in `FEATURES` (float32, CPU), one prompt
    per image: the image then `instruction`. `on_batch(n)` reports progress."""
    collator = model.collator()
    out: dict[str, list[torch.Tensor]] = {name: [] for name in FEATURES}
    decoder_ids = None
    if model.llm.is_seq2seq:
        decoder_ids = torch.tensor([[model.llm.model.config.decoder_start_token_id]])
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        batch = collator.prompt_batch([prompt_sample(start + i, p, instruction) for i, p in enumerate(chunk)])
        with recording(model.llm.layers) as states:
            ids = None if decoder_ids is None else decoder_ids.expand(len(chunk), -1)
            model.logits(batch, ids)
        stacked = torch.stack(states, 1).float()  # [B, L + 1, T, D]
        device = stacked.device
        visual = batch.image_mask.to(device)[:, None, :, None].float()
        out["visual-mean"].append(((stacked * visual).sum(2) / visual.sum(2)).cpu())
        mask = batch.attention_mask.to(device)
        last = (mask * torch.arange(mask.shape[1], device=device)).argmax(-1)  # the last real token
        out["last-token"].append(stacked[torch.arange(len(chunk), device=device), :, last].cpu())
        if on_batch is not None:
            on_batch(len(chunk))
    return {name: torch.cat(parts) for name, parts in out.items()}
