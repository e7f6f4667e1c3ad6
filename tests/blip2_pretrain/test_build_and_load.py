"""A micro BLIP-2 build end to end: the saved LAVIS layout, its exact reload through
`head.init`, instruction-aware loading, the artefact scheme and its build lock."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from instructvl.blip2_pretrain import RECIPES, blip2_dir, ensure_blip2
from instructvl.blip2_pretrain.save import REPORT, WEIGHTS, save_blip2, stage1_state, with_stage2
from instructvl.blip2_pretrain.stage2 import stage2_model
from instructvl.blip2_pretrain.train import build_stage1, qformer_tokenizer
from instructvl.errors import InstructVLError
from instructvl.models.interop.keymap import head_to_lavis, lavis_to_instructvl
from instructvl.models.interop.lavis import load_lavis_state_dict
from instructvl.models.sources import pinned, resolve
from instructvl.models.vlm import VisionLanguageModel


def test_a_micro_build_saves_lavis_weights_and_a_report(built):
    out, report = built
    state = load_file(str(out / WEIGHTS))
    assert json.loads((out / REPORT).read_text())["recipe_key"] == report["recipe_key"]
    for key in ("query_tokens", "temp", "itm_head.weight", "vision_proj.weight", "llm_proj.weight"):
        assert key in state
    assert "Qformer.bert.embeddings.word_embeddings.weight" in state
    assert "Qformer.cls.predictions.transform.dense.weight" in state and "llm_proj_norm.gain" in state
    for stage, names in (("stage1", {"itc", "itm", "itg"}), ("stage2", {"caption"})):
        assert set(report[stage]["loss_final"]) == names
        assert all(torch.isfinite(torch.tensor(v)).all() for v in report[stage]["loss_curve"].values())
    assert report["data"]["train_pool"] == 12 and report["data"]["eval_images"] == 8
    assert report["data"]["held_out_read_for_training"] is False
    assert 0 <= report["eval"]["retrieval"]["image_to_text_top1"] <= 1
    assert report["eval"]["caption_loss"]["images"] == 8


def _trained_stage2(recipe):
    """A stage-2 model after one optimizer step, and its LAVIS state."""
    tok = qformer_tokenizer(recipe)
    state = stage1_state(build_stage1(recipe, 32, tok))
    model = stage2_model(recipe, state)
    for p in model.parameters():
        if p.requires_grad:
            p.data.add_(torch.randn_like(p) * 0.01)  # stands in for training: weights no build reproduces
    return model, with_stage2(state, model)


def test_saved_weights_reload_exactly_through_head_init(micro_recipe, tmp_path):
    model, state = _trained_stage2(micro_recipe)
    save_blip2(tmp_path / "b", state, {})
    fresh = VisionLanguageModel.build(micro_recipe.stage2_config(init=str(tmp_path / "b")))
    feats = torch.randn(3, 17, 32)
    with torch.no_grad():
        assert torch.equal(fresh.head(feats), model.head(feats))
        assert torch.equal(fresh.projector(fresh.head(feats)), model.projector(model.head(feats)))


def test_an_instruction_aware_head_gets_every_qformer_weight(micro_recipe, tmp_path):
    _, state = _trained_stage2(micro_recipe)
    config = micro_recipe.stage2_config().model_copy(deep=True)
    config.head.type = "instructblip-qformer"
    model = VisionLanguageModel.build(config)
    report = load_lavis_state_dict(model, state, components=("head", "projector"))
    own = dict(model.named_parameters())
    head = [n for n in own if n.startswith(("head.", "projector."))]
    assert report.components == {"head": sum(n.startswith("head.") for n in head), "projector": 3}
    for name in head:  # every Q-Former weight (text path too), the queries and the projection
        assert torch.equal(own[name], state[head_to_lavis(name, instruction_aware=True)]), name
    assert "itm_head.weight" in report.ignored and "Qformer.cls.predictions.bias" in report.ignored


def test_a_plain_head_ignores_the_text_path(micro_recipe):
    _, state = _trained_stage2(micro_recipe)
    model = VisionLanguageModel.build(micro_recipe.stage2_config())
    report = load_lavis_state_dict(model, state)
    assert "Qformer.bert.embeddings.word_embeddings.weight" in report.ignored
    assert "Qformer.bert.encoder.layer.0.intermediate.dense.weight" in report.ignored
    assert "Qformer.bert.encoder.layer.0.intermediate_query.dense.weight" not in report.ignored


@pytest.mark.parametrize("aware", [True, False])
def test_head_names_round_trip_through_lavis(micro_recipe, aware):
    config = micro_recipe.stage2_config().model_copy(deep=True)
    config.head.type = "instructblip-qformer" if aware else "qformer"
    model = VisionLanguageModel.build(config)
    for name, _ in model.named_parameters():
        if name.startswith(("head.", "projector.")):
            assert lavis_to_instructvl(head_to_lavis(name, aware), aware) == name


def test_head_init_needs_a_qformer_head():
    from instructvl.config.schema import HeadConfig

    fix = r"head.init \(synthvl-blip2:tiny\) loads a BLIP-2 Q-Former.*not mlp \(set head.init=null"
    with pytest.raises(ValueError, match=fix):
        HeadConfig(type="mlp", init="synthvl-blip2:tiny")


@pytest.fixture
def fake_build(monkeypatch, micro_recipe):
    """RECIPES["tiny"] is the micro recipe; its build is a slow fake that counts calls."""
    monkeypatch.setitem(RECIPES, "tiny", replace(micro_recipe, size="tiny"))
    calls = []

    def fake(out, recipe, **kwargs):
        calls.append(recipe)
        time.sleep(0.5)
        save_blip2(out, {"temp": torch.tensor(0.07)}, {"fake": True})

    monkeypatch.setattr("instructvl.blip2_pretrain.train.pretrain_blip2", fake)
    return calls


def test_concurrent_first_uses_build_once(fake_build):
    paths = []
    workers = [threading.Thread(target=lambda: paths.append(ensure_blip2("tiny", show_progress=False))) for _ in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(fake_build) == 1 and paths == [blip2_dir("tiny")] * 2
    assert resolve("synthvl-blip2:tiny") == str(blip2_dir("tiny")) and len(fake_build) == 1


def test_the_scheme_pins_its_recipe(fake_build):
    key = blip2_dir("tiny").name.rsplit("-", 1)[-1]
    assert pinned("synthvl-blip2:tiny") == f"synthvl-blip2:tiny@{key}"
    with pytest.raises(InstructVLError, match="not the current one"):
        resolve("synthvl-blip2:tiny@0000beef")
    with pytest.raises(InstructVLError, match="unknown size"):
        resolve("synthvl-blip2:huge")
    assert fake_build == []


def test_a_new_tower_means_a_new_key(micro_recipe, tiny_parts):
    assert replace(micro_recipe, tower=tiny_parts["bert"]).key() != micro_recipe.key()
    assert replace(micro_recipe, stage1_steps=3).key() != micro_recipe.key()


def test_the_cli_command_has_help():
    from typer.testing import CliRunner

    from instructvl.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["pretrain-blip2", "--help"])
    assert result.exit_code == 0, result.output
    assert "--stage1-steps" in result.output and "--stage2-batch" in result.output and "--out" in result.output


def test_the_model_core_does_not_import_the_blip2_builder():
    import subprocess
    import sys

    code = (
        "import sys, instructvl.models.vlm, instructvl.models.sources;"
        "print(sorted(m for m in sys.modules if m.startswith('instructvl.blip2_pretrain')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
