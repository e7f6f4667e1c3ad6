"""The saved BLIP-2 Q-Former: one safetensors file in LAVIS' BLIP-2 layout (what the
LAVIS loader reads, so `head.init` and a real LAVIS checkpoint share one path) and a JSON
report, written aside and renamed into place.

Names: `Qformer.bert.*` (the whole Q-Former, text path included), `query_tokens`,
stage 1's `vision_proj.*`, `text_proj.*`, `itm_head.*`, `temp` and ITG head
`Qformer.cls.predictions.*` (its decoder is the word embeddings, not stored twice), and
stage 2's `llm_proj.*` (+ `llm_proj_norm.gain`, instructvl's RMS output gain)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from instructvl.artefacts import atomic_folder
from instructvl.models.interop.keymap import head_to_lavis

WEIGHTS = "blip2.safetensors"
REPORT = "blip2_report.json"
_STAGE1_HEADS = {
    "lm_head.dense.": "Qformer.cls.predictions.transform.dense.",
    "lm_head.norm.": "Qformer.cls.predictions.transform.LayerNorm.",
    "lm_head.bias": "Qformer.cls.predictions.bias",
}


def stage1_state(stage1) -> dict[str, torch.Tensor]:
    """The stage-1 model's weights under LAVIS names (tied weights once)."""
    out = {}
    for name, param in stage1.named_parameters():
        if name.startswith("head."):
            key = head_to_lavis(name, instruction_aware=True)
        else:
            key = next((new + name[len(old) :] for old, new in _STAGE1_HEADS.items() if name.startswith(old)), name)
        out[key] = param.detach().clone()
    return out


def with_stage2(state: dict[str, torch.Tensor], model) -> dict[str, torch.Tensor]:
    """`state` with the stage-2 model's head (its query path) and projector weights in."""
    out = dict(state)
    for name, param in model.named_parameters():
        if name.startswith(("head.", "projector.")):
            out[head_to_lavis(name, instruction_aware=model.config.head.uses_instruction)] = param.detach().clone()
    return out


def save_blip2(out: Path, state: dict[str, torch.Tensor], report: dict) -> None:
    """Writes `WEIGHTS` and `REPORT` to `out` atomically (replacing an older folder)."""
    from safetensors.torch import save_file

    with atomic_folder(out) as staging:
        save_file({k: v.contiguous() for k, v in state.items()}, str(staging / WEIGHTS), metadata={"format": "pt"})
        (staging / REPORT).write_text(json.dumps(report, indent=2) + "\n")
