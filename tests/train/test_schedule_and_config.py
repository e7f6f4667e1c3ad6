"""The learning-rate schedule, optimizer groups and training-config loading."""

import math
import re

import pytest
import yaml

from instructvl.errors import InstructVLError
from instructvl.train.config import load_train_config
from instructvl.train.schedule import lr_factor


def test_warmup_starts_at_1e_8_and_reaches_the_peak():
    peak = 1e-5
    assert lr_factor(0, 100, 10, peak, 1e-8, 0.0) * peak == pytest.approx(1e-8)
    assert lr_factor(5, 100, 10, peak, 1e-8, 0.0) * peak == pytest.approx(1e-8 + (peak - 1e-8) / 2)
    assert lr_factor(10, 100, 10, peak, 1e-8, 0.0) == pytest.approx(1.0)


def test_cosine_decays_to_the_floor():
    assert lr_factor(55, 100, 10, 1.0, 1e-8, 0.1) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(100, 100, 10, 1.0, 1e-8, 0.1) == pytest.approx(0.1)
    values = [lr_factor(s, 100, 10, 1.0, 1e-8, 0.0) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_param_groups_per_module_with_multipliers(tiny_parts):
    from instructvl.config.schema import FreezePolicy
    from instructvl.models.freeze import apply_freeze_policy
    from instructvl.train.config import StageConfig
    from instructvl.train.optim import param_groups
    from tests.models.helpers import build

    model = build(tiny_parts, "mlp")
    apply_freeze_policy(model, FreezePolicy(llm="layers", llm_layers=(2, 4)))
    stage = StageConfig(steps=10, lr=1e-3, lr_multipliers={"llm": 0.1})
    groups = param_groups(model, stage, 0.05)
    by = {(g["module"], g["weight_decay"]): g for g in groups}
    assert by[("llm", 0.05)]["lr"] == pytest.approx(1e-4) and by[("projector", 0.05)]["lr"] == pytest.approx(1e-3)
    assert all(p.ndim < 2 for p in by[("llm", 0.0)]["params"])
    counted = sum(p.numel() for g in groups for p in g["params"])
    assert counted == sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_load_train_config_with_preset_and_overrides(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "model": "tiny-offline",
                "model_overrides": ["llm.inject_layer=10"],
                "stages": [{"steps": 5}, {"steps": 7, "trainable": {"llm": "lora"}}],
            }
        )
    )
    cfg = load_train_config(str(path), ["stages.1.steps=9", "batch_size=2"])
    assert cfg.model.llm.inject_layer == 10 and cfg.stages[1].steps == 9 and cfg.batch_size == 2
    assert cfg.total_steps == 14 and cfg.weight_decay == 0.05 and cfg.betas == (0.9, 0.999)
    with pytest.raises(InstructVLError, match="unknown key 'stages.0.stepz'"):
        load_train_config(str(path), ["stages.0.stepz=3"])


def test_shipped_training_config_loads():
    cfg = load_train_config("configs/train/tiny-offline.yaml")
    assert cfg.model.name == "tiny-offline" and cfg.stages[0].trainable.llm == "frozen"
    assert math.isclose(cfg.stages[0].lr, 1e-3)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("stages.0.steps=0", "stages.0.steps: Input should be greater than or equal to 1"),
        ("stages.0.lr=0", "stages.0.lr: Input should be greater than 0"),
        ("stages.0.min_lr_ratio=2", "stages.0.min_lr_ratio: Input should be less than or equal to 1"),
        ("batch_size=0", "batch_size: Input should be greater than or equal to 1"),
        ("log_every=0", "log_every: Input should be greater than or equal to 1"),
        ("eval_batch_size=0", "eval_batch_size: Input should be greater than or equal to 1"),
        ("eval_every=-1", "eval_every: Input should be greater than or equal to 0"),
        ("max_grad_norm=0", "max_grad_norm: Input should be greater than 0"),
        ("betas=[0.9,1.5]", "betas.1: Input should be less than 1"),
        ("stages=[]", "stages: List should have at least 1 item"),
    ],
)
def test_out_of_range_training_values_name_the_key(tmp_path, override, message):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"model": "tiny-offline", "stages": [{"steps": 5}]}))
    with pytest.raises(InstructVLError, match=re.escape(message)):
        load_train_config(str(path), [override])


def test_validation_has_its_own_batch_size(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"model": "tiny-offline", "stages": [{"steps": 5}]}))
    assert load_train_config(str(path), ["batch_size=2"]).eval_batch_size == 16
    assert load_train_config(str(path), ["eval_batch_size=4"]).eval_batch_size == 4
