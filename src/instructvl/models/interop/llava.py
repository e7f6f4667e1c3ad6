"""LLaVA in transformers (`LlavaForConditionalGeneration`, LLaVA-1.5): a CLIP (or SigLIP)
tower read at `vision_feature_layer` ("default" strategy drops the class token), a
2-layer GELU projector (`multi_modal_projector.linear_1/linear_2` = our
`projector.net.0/2`) and a decoder-only LM. The processor expands the `<image>` marker in
"USER: <image>\\n{question} ASSISTANT:" to one token per visual feature."""

from __future__ import annotations

from pathlib import Path

from instructvl.config.loader import validate
from instructvl.config.schema import ModelConfig
from instructvl.errors import InstructVLError
from instructvl.models.interop.hf import image_token, load_head_weights

TOWER_KINDS = {"clip_vision_model": "clip", "siglip_vision_model": "siglip"}
PROMPT_FORMAT = {"system": "{content} ", "user": "USER: {content} ", "assistant": "ASSISTANT: {content}{eos}"}
HEAD_RULES = [
    (f"{outer}multi_modal_projector.linear_{hf}.", f"projector.net.{ours}.")
    for outer in ("model.", "")
    for hf, ours in ((1, 0), (2, 2))
]
PROJECTOR_BIASES = ("projector.net.0.bias", "projector.net.2.bias")


def feature_layer(hf_config) -> int:
    """`vision_feature_layer` as a negative index into the tower's hidden states."""
    layer = hf_config.vision_feature_layer
    if not isinstance(layer, int):
        raise InstructVLError(
            f"vision_feature_layer={layer}: several feature layers (concatenated) have no instructvl equivalent"
        )
    return layer if layer < 0 else layer - (hf_config.vision_config.num_hidden_layers + 1)


def model_config(folder: Path, hf_config) -> ModelConfig:
    """The instructvl config of a LLaVA checkpoint folder."""
    kind = TOWER_KINDS.get(hf_config.vision_config.model_type)
    if kind is None:
        raise InstructVLError(
            f"{folder}: vision tower {hf_config.vision_config.model_type!r} is not one of {sorted(TOWER_KINDS)}"
        )
    if hf_config.projector_hidden_act != "gelu":
        raise InstructVLError(
            f"{folder}: projector_hidden_act={hf_config.projector_hidden_act!r}; instructvl's MLP projector uses gelu"
        )
    vision = {
        "kind": kind,
        "source": str(folder),
        "feature_layer": feature_layer(hf_config),
        "drop_cls": hf_config.vision_feature_select_strategy == "default",
    }
    llm = {
        "kind": "causal",
        "source": str(folder),
        "prompt_format": PROMPT_FORMAT,
        "use_chat_template": False,
        "processor_tokenization": True,
        "image_token": image_token(folder, hf_config),
    }
    data = {"name": f"llava-{folder.name}", "vision": vision, "head": {"type": "mlp"}, "llm": llm}
    return validate(ModelConfig, data, f"(converted from {folder})")


def load_weights(model, folder: Path, hf_config) -> None:
    """The projector from the checkpoint (zero biases where it was built without them)."""
    optional: tuple[str, ...] = ()
    if not hf_config.multimodal_projector_bias:
        for name in PROJECTOR_BIASES:
            model.get_parameter(name).data.zero_()
        optional = PROJECTOR_BIASES
    load_head_weights(model, folder, HEAD_RULES, optional)
