"""LAVIS-format state dicts (real key names, tiny shapes) load into instructvl models and
match the same weights loaded through the transformers path."""

import datetime

import pytest
import torch

from instructvl.data.schema import Sample, Turn
from instructvl.errors import InstructVLError
from instructvl.models.interop import from_transformers, load_lavis_state_dict
from tests.interop.checkpoints import build_checkpoint, hf_class
from tests.interop.test_transformers_parity import QUESTION

LM_PREFIX = {
    "instructblip-llama": ("llm_model.", "llm_proj."),
    "instructblip-t5": ("t5_model.", "t5_proj."),
    "blip2-opt": ("opt_model.", "opt_proj."),
}


def to_lavis(hf, family: str) -> dict:
    """The transformers model's weights under LAVIS' names (as LAVIS' state_dict() has
    them: EVA ViT blocks with q_bias / v_bias, ln_vision, Qformer.bert.*, *_proj, *_model)."""
    lm, proj = LM_PREFIX[family]
    out = {}
    for key, value in hf.state_dict().items():
        if key.startswith("vision_model."):
            key = key[len("vision_model.") :]
            fixed = {
                "embeddings.class_embedding": "visual_encoder.cls_token",
                "embeddings.position_embedding": "visual_encoder.pos_embed",
                "embeddings.patch_embedding.weight": "visual_encoder.patch_embed.proj.weight",
                "embeddings.patch_embedding.bias": "visual_encoder.patch_embed.proj.bias",
                "post_layernorm.weight": "ln_vision.weight",
                "post_layernorm.bias": "ln_vision.bias",
            }
            if key in fixed:
                out[fixed[key]] = value
                continue
            block = key.replace("encoder.layers.", "visual_encoder.blocks.")
            if block.endswith("self_attn.qkv.bias"):
                q, _, v = value.chunk(3)
                out[block.replace("self_attn.qkv.bias", "attn.q_bias")] = q
                out[block.replace("self_attn.qkv.bias", "attn.v_bias")] = v
                continue
            for ours, theirs in (
                ("layer_norm1", "norm1"),
                ("layer_norm2", "norm2"),
                ("self_attn.qkv", "attn.qkv"),
                ("self_attn.projection", "attn.proj"),
            ):
                block = block.replace(ours, theirs)
            out[block] = value
        elif key.startswith("qformer."):
            key = key.replace("qformer.embeddings.layernorm", "Qformer.bert.embeddings.LayerNorm")
            key = key.replace("qformer.layernorm", "Qformer.bert.embeddings.LayerNorm").replace(
                "qformer.", "Qformer.bert."
            )
            out[key.replace("attention.attention.", "attention.self.")] = value
        elif key.startswith("language_projection."):
            out[proj + key[len("language_projection.") :]] = value
        elif key.startswith("language_model."):
            out[lm + key[len("language_model.") :]] = value
        else:
            out[key] = value
    out["Qformer.cls.predictions.bias"] = torch.zeros(3)  # stage-1 heads LAVIS keeps: ignored
    return out


@pytest.mark.parametrize("family", ["instructblip-llama", "instructblip-t5", "blip2-opt"])
def test_lavis_state_dict_matches_the_transformers_path(hf_checkpoints, images, tmp_path, family):
    reference = from_transformers(hf_checkpoints[family])
    hf = hf_class(family).from_pretrained(hf_checkpoints[family])
    lavis = to_lavis(hf, family)
    assert any(".attn.q_bias" in k for k in lavis) and "ln_vision.weight" in lavis and "query_tokens" in lavis
    torch.save({"model": lavis}, tmp_path / "lavis.pth")

    other = from_transformers(build_checkpoint(family, tmp_path / "other", seed=1))  # same shapes, other weights
    report = load_lavis_state_dict(other, tmp_path / "lavis.pth")
    assert set(report.components) == {"vision", "head", "projector", "llm"}
    assert report.ignored == ["Qformer.cls.predictions.bias"]
    for (name, a), b in zip(reference.state_dict().items(), other.state_dict().values()):
        assert torch.equal(a, b), name
    batch = reference.collator().prompt_batch([Sample("s", "vqa", [images[0]], [Turn("user", QUESTION)])])
    assert reference.generate(batch, max_new_tokens=4) == other.generate(batch, max_new_tokens=4)
    other.save_pretrained(tmp_path / "saved")  # the loaded LAVIS weights are kept
    assert "vision.tower.post_layernorm.weight" in other._saved_keys()


def test_lavis_refuses_pickled_objects_and_mismatched_shapes(hf_checkpoints, tmp_path):
    model = from_transformers(hf_checkpoints["blip2-opt"])

    torch.save({"model": {"x": datetime.date(2020, 1, 1)}}, tmp_path / "evil.pth")  # not a tensor: refused unread
    with pytest.raises(InstructVLError, match="weights_only"):
        load_lavis_state_dict(model, tmp_path / "evil.pth")
    with pytest.raises(InstructVLError, match="head.query_tokens has shape"):
        load_lavis_state_dict(model, {"query_tokens": torch.zeros(1, 2, 3)})
