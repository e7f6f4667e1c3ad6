"""Key mapping between LAVIS (Salesforce's original BLIP-2 / InstructBLIP code) state
dicts and instructvl model parameter names.

LAVIS names: `visual_encoder.*` (EVA ViT: `blocks.N.attn.qkv` with separate `q_bias` /
`v_bias`, `cls_token`, `pos_embed`, `patch_embed.proj`), `ln_vision` (the norm after the
ViT), `Qformer.bert.*` (BERT naming: `attention.self`, `embeddings.LayerNorm`),
`query_tokens`, the projection `llm_proj` / `t5_proj` / `opt_proj`, and the LM
`llm_model` / `t5_model` / `opt_model`. One instructvl extension: `llm_proj_norm.gain`, the
learnable gain of an RMS-normalised projection (`head.output_norm: rms`)."""

from __future__ import annotations

import re

TOWER = "vision.tower."
_VISION_FIXED = {
    "visual_encoder.cls_token": "embeddings.class_embedding",
    "visual_encoder.pos_embed": "embeddings.position_embedding",
    "visual_encoder.patch_embed.proj.weight": "embeddings.patch_embedding.weight",
    "visual_encoder.patch_embed.proj.bias": "embeddings.patch_embedding.bias",
    "ln_vision.weight": "post_layernorm.weight",
    "ln_vision.bias": "post_layernorm.bias",
}
_BLOCK = re.compile(r"^visual_encoder\.blocks\.(\d+)\.(.+)$")
_BLOCK_PARTS = {
    "norm1.": "layer_norm1.",
    "norm2.": "layer_norm2.",
    "attn.qkv.weight": "self_attn.qkv.weight",
    "attn.proj.": "self_attn.projection.",
    "mlp.fc1.": "mlp.fc1.",
    "mlp.fc2.": "mlp.fc2.",
}
_TEXT_FFN = re.compile(r"^encoder\.layer\.\d+\.(intermediate|output)\.")
QKV_BIAS = re.compile(r"^visual_encoder\.blocks\.(\d+)\.attn\.([qv])_bias$")
_PREFIXES = [
    ("query_tokens", "head.query_tokens"),
    ("llm_proj_norm.", "projector."),
    ("llm_proj.", "projector.net."),
    ("t5_proj.", "projector.net."),
    ("opt_proj.", "projector.net."),
    ("llm_model.", "llm.model."),
    ("t5_model.", "llm.model."),
    ("opt_model.", "llm.model."),
]


def qkv_bias_target(layer: str) -> str:
    """Where the combined q/k/v bias of ViT block `layer` lives (k's part is zero)."""
    return f"{TOWER}encoder.layers.{layer}.self_attn.qkv.bias"


def _vision_key(key: str) -> str | None:
    if key in _VISION_FIXED:
        return TOWER + _VISION_FIXED[key]
    match = _BLOCK.match(key)
    if match is None:
        return None
    layer, rest = match.groups()
    for old, new in _BLOCK_PARTS.items():
        if rest.startswith(old):
            return f"{TOWER}encoder.layers.{layer}.{new}{rest[len(old) :]}"
    return None


def _qformer_key(key: str, instruction_aware: bool) -> str | None:
    rest = key[len("Qformer.bert.") :]
    if rest.startswith("embeddings.LayerNorm."):
        suffix = rest.split(".")[-1]
        return (
            f"head.qformer.embeddings.layernorm.{suffix}" if instruction_aware else f"head.qformer.layernorm.{suffix}"
        )
    if rest.startswith("embeddings.position_ids"):
        return None
    if rest.startswith("embeddings.") or _TEXT_FFN.match(rest):  # the text path
        return f"head.qformer.{rest}" if instruction_aware else None
    rest = rest.replace(".crossattention.self.", ".crossattention.attention.").replace(
        ".attention.self.", ".attention.attention."
    )
    return f"head.qformer.{rest}"


def lavis_to_instructvl(key: str, instruction_aware: bool) -> str | None:
    """The instructvl parameter a LAVIS key maps to; None for keys with no counterpart
    (stage-1 heads such as `Qformer.cls`, `itm_head`, `vision_proj`, `temp`; the text
    path of the Q-Former, its word embeddings and text FFN, for a head without
    instruction) and for the `q_bias` / `v_bias` pair, which `QKV_BIAS` handles."""
    if key.startswith(("visual_encoder.", "ln_vision.")):
        return _vision_key(key)
    if key.startswith("Qformer.bert."):
        return _qformer_key(key, instruction_aware)
    for prefix, target in _PREFIXES:
        if key.startswith(prefix):
            return target + key[len(prefix) :]
    return None


def head_to_lavis(name: str, instruction_aware: bool) -> str:
    """The LAVIS key of an instructvl head or projector parameter (`head.qformer.*`,
    `head.query_tokens`, `projector.*`): the inverse of `lavis_to_instructvl` there."""
    if name == "head.query_tokens":
        return "query_tokens"
    if name.startswith("projector."):
        rest = name[len("projector.") :]
        return "llm_proj_norm.gain" if rest == "gain" else "llm_proj." + rest.removeprefix("net.")
    if not name.startswith("head.qformer."):
        raise ValueError(f"{name} is not a Q-Former head or projector parameter")
    rest = name[len("head.qformer.") :]
    norm = "embeddings.layernorm." if instruction_aware else "layernorm."
    if rest.startswith(norm):
        return "Qformer.bert.embeddings.LayerNorm." + rest[len(norm) :]
    rest = rest.replace(".crossattention.attention.", ".crossattention.self.").replace(
        ".attention.attention.", ".attention.self."
    )
    return "Qformer.bert." + rest
