"""Attention knockout: in chosen decoder layers, text positions may not attend to the
visual positions. The causal intervention behind `interventions.py`.

Forward pre-hooks on the chosen layers rewrite the `attention_mask` keyword the model
passes to each decoder layer (transformers 5.x: a 4-D float mask for eager attention, a
4-D boolean mask or None for sdpa, which then relies on `is_causal`). The rewritten mask
keeps every entry the model set (causal order, padding) and also blocks
(query = a text position, key = a visual position). Only attention is cut: the visual
positions still attend to each other and to earlier text, and nothing else mixes positions
in a transformer layer, so cutting every layer makes the text positions' outputs
independent of the image (tested).

Works with the KV-cache based `VisionLanguageModel.score_candidates` for one prompt at a
time: the cached prefix is the prompt (whose visual positions are known) and every
position after it (the candidate answers) is text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch

from instructvl.errors import InstructVLError

SUPPORTED_ATTENTION = ("eager", "sdpa")


def _key_length(kwargs: dict, queries: int, layer_index: int) -> int:
    cache = kwargs.get("cache")
    return queries + (cache.get_seq_length(layer_index) if cache is not None else 0)


def cut_mask(mask: torch.Tensor | None, key_visual: torch.Tensor, queries: int, dtype: torch.dtype) -> torch.Tensor:
    """`mask` (as passed to a decoder layer: None, boolean or additive float; [B|1, 1, Q, >=K])
    with (text query, visual key) pairs blocked. `key_visual` [B, K] marks the visual keys;
    the queries are the last `queries` of the K positions."""
    b, keys = key_visual.shape
    query_visual = key_visual[:, keys - queries :]
    block = (~query_visual[:, :, None] & key_visual[:, None, :]).unsqueeze(1)  # [B, 1, Q, K]
    if mask is None:
        offset = keys - queries
        causal = (
            torch.arange(keys, device=block.device)[None, :]
            <= offset + torch.arange(queries, device=block.device)[:, None]
        )
        allowed = causal[None, None] & ~block
        return torch.zeros(allowed.shape, dtype=dtype, device=block.device).masked_fill(
            ~allowed, torch.finfo(dtype).min
        )
    mask = mask[..., :keys]
    if mask.dtype == torch.bool:
        return mask & ~block
    return mask.expand(b, -1, -1, -1).masked_fill(block, torch.finfo(mask.dtype).min)


@contextmanager
def cut_visual_attention(model, layers: Iterable[int], image_mask: torch.Tensor) -> Iterator[None]:
    """While active, in decoder layers `layers` (indices into `model.llm.layers`) no text
    position attends to a visual position.

    `image_mask` [B, P] marks the visual positions of the prompt batch; a forward pass
    that continues it from the KV cache treats the positions after P as text. One prompt
    row stands for any batch size (candidates scored after one prompt); otherwise the
    batch must have B rows. Decoder-only LMs with eager or sdpa attention only."""
    if model.llm.is_seq2seq:
        raise InstructVLError("attention knockout needs a decoder-only language model")
    attention = getattr(model.llm.model.config, "_attn_implementation", None)
    if attention not in SUPPORTED_ATTENTION:
        raise InstructVLError(f"attention knockout supports {SUPPORTED_ATTENTION} attention, not {attention!r}")
    indices = sorted(set(layers))
    count = len(model.llm.layers)
    if any(not 0 <= i < count for i in indices):
        raise InstructVLError(f"knockout layers {indices} are outside 0..{count - 1}")

    def make_hook(index: int):
        def hook(_module, args, kwargs):
            if "attention_mask" not in kwargs:
                raise InstructVLError(
                    f"decoder layer {index} was not given an attention_mask keyword; knockout cannot apply"
                )
            hidden = args[0] if args else kwargs["hidden_states"]
            rows, queries = hidden.shape[:2]
            keys = _key_length(kwargs, queries, index)
            if image_mask.shape[0] not in (1, rows):
                raise InstructVLError(f"knockout image mask has {image_mask.shape[0]} rows for a batch of {rows}")
            visual = torch.zeros(rows, keys, dtype=torch.bool, device=hidden.device)
            prefix = min(keys, image_mask.shape[1])
            visual[:, :prefix] = image_mask[:, :prefix].to(hidden.device)
            new = cut_mask(kwargs["attention_mask"], visual, queries, hidden.dtype)
            return args, {**kwargs, "attention_mask": new}

        return hook

    handles = [model.llm.layers[i].register_forward_pre_hook(make_hook(i), with_kwargs=True) for i in indices]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
