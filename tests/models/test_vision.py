"""Vision towers loaded from directories (CLIP, SigLIP, the ViT inside a whole
InstructBLIP checkpoint), feature layer and CLS options, and each tower's preprocessing."""

import numpy as np
import pytest
import torch
from PIL import Image

from instructvl.config.schema import VisionConfig
from instructvl.models.vision import VisionEncoder

ARCH = dict(
    image_size=32, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=2
)


def _pixels(enc, n=2):
    return torch.randn(n, 3, enc.image_size, enc.image_size)


def test_clip_from_directory_matches_transformers(tiny_parts):
    from transformers import CLIPVisionModel

    enc = VisionEncoder.build(VisionConfig(kind="clip", source=tiny_parts["clip"]))
    ref = CLIPVisionModel.from_pretrained(tiny_parts["clip"])
    x = _pixels(enc)
    with torch.no_grad():
        assert torch.equal(enc(x), ref(pixel_values=x).last_hidden_state)
    assert enc.num_tokens == 17


def test_penultimate_layer_and_dropped_cls(tiny_parts):
    from transformers import CLIPVisionModel

    enc = VisionEncoder.build(VisionConfig(kind="clip", source=tiny_parts["clip"], feature_layer=-2, drop_cls=True))
    ref = CLIPVisionModel.from_pretrained(tiny_parts["clip"])
    x = _pixels(enc)
    with torch.no_grad():
        expected = ref(pixel_values=x, output_hidden_states=True).hidden_states[-2][:, 1:]
        assert torch.equal(enc(x), expected)
    assert enc.num_tokens == 16 == enc(x).shape[1]


def test_siglip_from_directory(tmp_path):
    from transformers import SiglipVisionConfig, SiglipVisionModel

    SiglipVisionModel(SiglipVisionConfig(**ARCH)).save_pretrained(tmp_path / "siglip")
    enc = VisionEncoder.build(VisionConfig(kind="siglip", source=str(tmp_path / "siglip")))
    assert enc.num_tokens == 16  # SigLIP has no class token
    assert enc(_pixels(enc)).shape == (2, 16, 32)


def test_blip_vision_read_out_of_a_whole_instructblip_checkpoint(tmp_path):
    from transformers import (
        InstructBlipConfig,
        InstructBlipForConditionalGeneration,
        InstructBlipQFormerConfig,
        InstructBlipVisionConfig,
        LlamaConfig,
    )

    config = InstructBlipConfig(
        vision_config=InstructBlipVisionConfig(**ARCH).to_dict(),
        qformer_config=InstructBlipQFormerConfig(
            vocab_size=50,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
            encoder_hidden_size=32,
        ).to_dict(),
        text_config=LlamaConfig(
            vocab_size=60, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2
        ).to_dict(),
        num_query_tokens=4,
    )
    full = InstructBlipForConditionalGeneration(config)
    full.save_pretrained(tmp_path / "ib")
    enc = VisionEncoder.build(VisionConfig(kind="blip", source=str(tmp_path / "ib")))
    x = _pixels(enc)
    with torch.no_grad():
        assert torch.equal(enc(x), full.vision_model(pixel_values=x).last_hidden_state)


def test_preprocessing_follows_the_processor_config(tmp_path, tiny_parts):
    from transformers import CLIPImageProcessor

    CLIPImageProcessor(
        size={"shortest_edge": 32},
        crop_size={"height": 32, "width": 32},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.25, 0.25, 0.25],
    ).save_pretrained(tiny_parts["clip"] + "_proc")
    import shutil

    shutil.copytree(tiny_parts["clip"], tmp_path / "clip")
    shutil.copy(tiny_parts["clip"] + "_proc/preprocessor_config.json", tmp_path / "clip")
    enc = VisionEncoder.build(VisionConfig(kind="clip", source=str(tmp_path / "clip")))
    img = Image.new("RGB", (64, 48), (255, 0, 128))
    px = enc.preprocess([img])
    assert px.shape == (1, 3, 32, 32)
    expected = (np.array([255, 0, 128]) / 255 - 0.5) / 0.25
    assert px[0, :, 16, 16].numpy() == pytest.approx(expected, abs=0.02)


def test_siglip_has_no_class_token_to_drop(tmp_path):
    from instructvl.errors import InstructVLError

    with pytest.raises(InstructVLError, match="SigLIP towers have no class token"):
        VisionEncoder.build(VisionConfig(kind="siglip", arch=ARCH, drop_cls=True))
