"""Freeze policies (counts per module), LoRA, and exact save / reload."""

import pytest
import torch

from instructvl.config.schema import FreezePolicy
from instructvl.errors import InstructVLError
from instructvl.models.freeze import apply_freeze_policy
from instructvl.models.vlm import VisionLanguageModel
from tests.models.helpers import build, prompts, samples


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_default_policy_trains_head_and_projector_only(tiny_parts):
    model = build(tiny_parts)
    report = apply_freeze_policy(model, FreezePolicy())
    counts = {r.module: (r.trainable, r.frozen) for r in report.rows}
    assert counts["vision"] == (0, _numel(model.vision))
    assert counts["head"] == (_numel(model.head), 0)
    assert counts["projector"] == (_numel(model.projector), 0)
    assert counts["llm"] == (0, _numel(model.llm))
    assert report.total == _numel(model)
    model.train()
    assert model.head.training and not model.vision.training and not model.llm.training


def test_layer_window_policy(tiny_parts):
    model = build(tiny_parts, "mlp")
    report = apply_freeze_policy(model, FreezePolicy(llm="layers", llm_layers=(1, 3)))
    llm = next(r for r in report.rows if r.module == "llm")
    assert llm.trainable == _numel(model.llm.layers[1]) + _numel(model.llm.layers[2])
    assert all(not p.requires_grad for p in model.llm.layers[0].parameters())
    with pytest.raises(InstructVLError, match="llm_layers \\[1, 9\\) but the language model has 4 layers"):
        apply_freeze_policy(model, FreezePolicy(llm="layers", llm_layers=(1, 9)))


def test_lora_policy_trains_adapters_only(tiny_parts):
    model = build(tiny_parts, "mlp", llm__lora={"r": 2, "alpha": 4})
    report = apply_freeze_policy(model, FreezePolicy(llm="lora"))
    llm = next(r for r in report.rows if r.module == "llm")
    adapters = sum(p.numel() for n, p in model.llm.named_parameters() if ".lora_" in n)
    assert 0 < llm.trainable == adapters < llm.frozen
    with pytest.raises(InstructVLError, match="needs a model built with llm.lora"):
        apply_freeze_policy(build(tiny_parts, "mlp"), FreezePolicy(llm="lora"))


def _train_steps(model, batch, steps=3):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        model(batch).loss.backward()
        opt.step()
    model.eval()


@pytest.mark.parametrize(
    "head,llm,policy,extra",
    [
        ("instructblip-qformer", "llama", FreezePolicy(), {}),
        ("mlp", "llama", FreezePolicy(llm="lora"), {"llm__lora": {"r": 2, "alpha": 4}}),
        ("qformer", "t5", FreezePolicy(llm="layers", llm_layers=(1, 2)), {"llm__inject_layer": 1}),
        ("linear", "llama", FreezePolicy(vision=True, llm="full"), {}),
    ],
)
def test_save_and_reload_is_exact(tiny_parts, images, tmp_path, head, llm, policy, extra):
    model = build(tiny_parts, head, llm, **extra)
    apply_freeze_policy(model, policy)
    collator = model.collator()
    _train_steps(model, collator.train_batch(samples(images)))
    model.save_pretrained(tmp_path / "m")
    again = VisionLanguageModel.from_pretrained(tmp_path / "m")
    batch = collator.train_batch(samples(images))
    with torch.no_grad():
        assert torch.equal(model(batch).loss, again(batch).loss)
    prompt = again.collator().prompt_batch(prompts(images))
    assert model.generate(prompt, max_new_tokens=4, eos_token_id=-1) == again.generate(
        prompt, max_new_tokens=4, eos_token_id=-1
    )
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), name


def test_checkpoint_holds_only_what_sources_cannot_rebuild(tiny_parts, tmp_path):
    from safetensors import safe_open

    model = build(tiny_parts, "mlp")
    apply_freeze_policy(model, FreezePolicy())
    model.save_pretrained(tmp_path / "m")
    with safe_open(str(tmp_path / "m" / "model.safetensors"), framework="pt") as f:
        prefixes = {k.split(".")[0] for k in f.keys()}
    # the vision tower is built from `arch` (random), so it is saved; the LLM is not
    assert prefixes == {"vision", "projector"}


def test_reload_refuses_weights_the_config_does_not_have(tiny_parts, tmp_path):
    from safetensors.torch import save_file

    model = build(tiny_parts, "mlp")
    model.save_pretrained(tmp_path / "m")
    save_file({"projector.extra": torch.zeros(2)}, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(InstructVLError, match="projector.extra"):
        VisionLanguageModel.from_pretrained(tmp_path / "m")
