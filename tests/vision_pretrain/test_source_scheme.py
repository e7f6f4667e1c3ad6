"""`synthvl-clip:<size>`: built once into the cache on first use, then reused."""

from __future__ import annotations

import pytest

from instructvl.config.loader import load_model_config
from instructvl.config.schema import VisionConfig
from instructvl.errors import InstructVLError
from instructvl.models.sources import resolve
from instructvl.models.vision import VisionEncoder
from instructvl.vision_pretrain import RECIPES, tower_dir
from tests.vision_pretrain.conftest import MICRO


@pytest.fixture()
def micro_recipe(monkeypatch, tmp_path, held_in_suite):
    """A 3-step micro recipe for "tiny", its default suite being the micro held-in suite."""
    from dataclasses import replace

    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(RECIPES, "tiny", replace(MICRO, steps=3, batch_size=16))
    monkeypatch.setattr("instructvl.data.synthvl.cache.default_suite", lambda scale, seed: held_in_suite)


def test_scheme_builds_once_then_reuses(micro_recipe, monkeypatch, capsys):
    enc = VisionEncoder.build(VisionConfig(kind="clip", source="synthvl-clip:tiny"))
    assert enc.hidden_size == 32 and enc.image_size == 64
    path = tower_dir("tiny")
    assert path.name.startswith("synthvl-clip-tiny-v") and (path / "model.safetensors").is_file()
    assert "building the offline vision tower synthvl-clip:tiny" in capsys.readouterr().err

    def no_retraining(*a, **k):
        raise AssertionError("trained again")

    monkeypatch.setattr("instructvl.vision_pretrain.train.pretrain_vision", no_retraining)
    assert resolve("synthvl-clip:tiny") == str(path)
    VisionEncoder.build(VisionConfig(kind="clip", source="synthvl-clip:tiny"))


def test_unknown_size_is_an_error(micro_recipe):
    with pytest.raises(InstructVLError, match="unknown size.*tiny"):
        resolve("synthvl-clip:huge")


def test_tiny_offline_preset_uses_the_pretrained_tower():
    vision = load_model_config("tiny-offline").vision
    assert vision.kind == "clip" and vision.source == "synthvl-clip:tiny"


def test_pinned_recipe_key(micro_recipe):
    current = tower_dir("tiny").name.rsplit("-", 1)[-1]
    with pytest.raises(InstructVLError, match="not the current one"):
        resolve("synthvl-clip:tiny@0000beef")
    old = tower_dir("tiny").with_name("synthvl-clip-tiny-v1-0000beef")
    old.mkdir(parents=True)
    (old / "config.json").write_text("{}")
    assert resolve("synthvl-clip:tiny@0000beef") == str(old)
    assert current != "0000beef"


def test_saved_configs_pin_the_tower_recipe():
    from instructvl.models.sources import pinned
    from instructvl.vision_pretrain.build import tower_dir

    key = tower_dir("tiny").name.rsplit("-", 1)[-1]
    assert pinned("synthvl-clip:tiny") == f"synthvl-clip:tiny@{key}"
    assert pinned(f"synthvl-clip:tiny@{key}") == f"synthvl-clip:tiny@{key}"
    assert pinned("openai/clip-vit-large-patch14") == "openai/clip-vit-large-patch14"
    assert pinned(None) is None
