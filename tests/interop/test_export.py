"""`export`: folders that plain transformers loads, with the same logits; models that do
not fit a format are refused with the component named."""

import pytest
import torch

from instructvl.errors import InstructVLError
from instructvl.models.interop import export, from_transformers
from tests.interop.checkpoints import FAMILIES, hf_class
from tests.interop.test_transformers_parity import compare
from tests.models.helpers import build, prompts

FORMAT = {
    "instructblip-t5": "instructblip",
    "instructblip-llama": "instructblip",
    "blip2-opt": "blip2",
    "llava": "llava",
}


@pytest.mark.parametrize("family", FAMILIES)
def test_exported_checkpoint_loads_in_transformers_with_the_same_logits(hf_checkpoints, images, tmp_path, family):
    from transformers import AutoProcessor

    ours = from_transformers(hf_checkpoints[family])
    out = export(ours, FORMAT[family], tmp_path / "out")
    hf = hf_class(family).from_pretrained(out).eval()
    result = compare(ours, hf, AutoProcessor.from_pretrained(out), family, images[0])
    print(f"\nexported {family}: {result}")


def test_native_mlp_model_with_lora_exports_to_llava(tiny_parts, images, tmp_path):
    """A model composed here (CLIP, MLP, Llama + LoRA, no <image> token yet): the adapters
    are merged, the image token added, and transformers' LLaVA gives the same logits."""
    from transformers import LlavaForConditionalGeneration

    model = build(tiny_parts, "mlp", vision__feature_layer=-2, vision__drop_cls=True, llm__lora={"r": 2, "alpha": 4})
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.1)
    out = export(model, "llava", tmp_path / "llava")
    hf = LlavaForConditionalGeneration.from_pretrained(out).eval()
    batch = model.collator().prompt_batch(prompts(images)[:1])
    image_id = hf.config.image_token_id
    ids = batch.input_ids.masked_fill(batch.image_mask, image_id)
    with torch.no_grad():
        ref = hf(input_ids=ids, pixel_values=batch.pixel_values, attention_mask=batch.attention_mask).logits
        got = model.logits(batch)
    vocab = got.shape[-1]
    assert ref.shape[-1] == vocab + 1  # the added image token
    assert float((ref[..., :vocab] - got).abs().max()) < 1e-4


@pytest.mark.parametrize(
    "head,fmt,component",
    [
        ("instructblip-qformer", "instructblip", "vision"),
        ("linear", "llava", "head"),
        ("qformer", "llava", "head"),
    ],
)
def test_a_model_that_does_not_fit_names_the_component(tiny_parts, tmp_path, head, fmt, component):
    model = build(tiny_parts, head)
    with pytest.raises(InstructVLError, match=rf"does not fit the .* format:\n  {component}:"):
        export(model, fmt, tmp_path / "x")


def test_layer_injection_has_no_equivalent(hf_checkpoints, tmp_path):
    model = from_transformers(hf_checkpoints["llava"])
    model.config.llm.inject_layer = 1
    with pytest.raises(InstructVLError, match="llm: visual tokens at layer 1"):
        export(model, "llava", tmp_path / "x")
