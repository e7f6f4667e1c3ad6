"""The training loop on a tiny model and a tiny SynthVL suite: outputs, loss going down,
stages, checkpoints, exact resume after SIGKILL, write failures, NaN, config changes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from instructvl.config.loader import validate
from instructvl.errors import InstructVLError
from instructvl.train import checkpoint as ckpt
from instructvl.train.config import TrainConfig
from instructvl.train.trainer import Trainer
from tests.train.conftest import train_dict


def _cfg(parts, suite, **kw) -> TrainConfig:
    return validate(TrainConfig, train_dict(parts, suite, **kw), "(test)")


def _losses(run_dir: Path) -> dict[int, float]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in records if "loss" in r}


def test_run_writes_everything_and_learns(tiny_parts, tiny_suite, tmp_path):
    cfg = _cfg(tiny_parts, tiny_suite, steps=12, eval_every=6, save_every=4, keep_last=2)
    result = Trainer(cfg, tmp_path / "run", tensorboard=True).run()
    run = tmp_path / "run"
    for name in (
        "config.yaml",
        "environment.json",
        "metrics.jsonl",
        "train_summary.json",
        "mixture_log-0-s1.json",
        "model/config.json",
    ):
        assert (run / name).is_file(), name
    assert any((run / "tb").iterdir())
    assert [p.name for p in ckpt.checkpoints(run)] == ["ckpt-0000008", "ckpt-0000012"]
    assert sorted(_losses(run)) == list(range(1, 13))
    env = json.loads((run / "environment.json").read_text())
    assert env["packages"]["torch"].startswith("2.") and len(env["git"]["commit"]) == 40
    assert result.val_loss["val_loss"] < result.first_val_loss["val_loss"] - 0.05
    drawn = json.loads((run / "mixture_log-0-s1.json").read_text())
    assert sum(d["drawn"] for d in drawn["datasets"].values()) == drawn["steps"] == 12 * 4


def test_final_model_reloads_exactly(tiny_parts, tiny_suite, tmp_path):
    from instructvl.models.vlm import VisionLanguageModel

    trainer = Trainer(_cfg(tiny_parts, tiny_suite, steps=3), tmp_path / "run", tensorboard=False)
    trainer.run()
    again = VisionLanguageModel.from_pretrained(tmp_path / "run" / "model")
    for (name, a), b in zip(trainer.model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), name


def test_stages_change_what_trains(tiny_parts, tiny_suite, tmp_path):
    data = train_dict(tiny_parts, tiny_suite, steps=2)
    data["stages"].append(
        {
            "name": "s2",
            "steps": 2,
            "lr": 1e-3,
            "warmup_steps": 0,
            "trainable": {"head": True, "projector": False, "llm": "layers", "llm_layers": [2, 4]},
            "data": {"datasets": ["vqa"]},
        }
    )
    trainer = Trainer(validate(TrainConfig, data, "t"), tmp_path / "run", tensorboard=False)
    result = trainer.run()
    model = trainer.model
    assert result.steps == 4
    assert not any(p.requires_grad for p in model.projector.parameters())
    assert all(p.requires_grad for p in model.llm.layers[3].parameters())
    drawn = json.loads((tmp_path / "run" / "mixture_log-1-s2.json").read_text())
    assert {n for n, d in drawn["datasets"].items() if d["drawn"]} == {"vqa"}


def _run_cli(cfg_path: Path, run_dir: Path, extra=()):
    return subprocess.Popen(
        [sys.executable, "-m", "instructvl.cli", "train", str(cfg_path), *extra, "--out", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def test_sigkill_then_resume_gives_the_same_losses(tiny_parts, tiny_suite, tmp_path):
    """Q-Former head (dropout on): RNG, sampler, optimizer and schedule all restored."""
    data = train_dict(tiny_parts, tiny_suite, head="instructblip-qformer", steps=40, save_every=3, keep_last=3)
    cfg_path = tmp_path / "train.yaml"
    cfg_path.write_text(yaml.safe_dump(data))
    ref = _run_cli(cfg_path, tmp_path / "ref")
    assert ref.wait(timeout=600) == 0, ref.stdout.read()
    proc = _run_cli(cfg_path, tmp_path / "killed")
    deadline = time.time() + 300
    while not ckpt.checkpoints(tmp_path / "killed") and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    resumed_from = ckpt.checkpoints(tmp_path / "killed")[-1]
    again = _run_cli(cfg_path, tmp_path / "killed")
    output = again.communicate(timeout=600)[0]
    assert again.returncode == 0, output
    assert f"resuming from {resumed_from}" in output.replace("\n", "")
    reference, resumed = _losses(tmp_path / "ref"), _losses(tmp_path / "killed")
    assert sorted(resumed) == list(range(1, 41))
    assert [resumed[s] for s in range(1, 41)] == [reference[s] for s in range(1, 41)]  # exact on CPU


def test_failed_checkpoint_write_leaves_the_previous_one(tiny_parts, tiny_suite, tmp_path, monkeypatch):
    cfg = _cfg(tiny_parts, tiny_suite, steps=6, save_every=2, keep_last=5)
    real_save = torch.save
    calls = {"n": 0}

    def failing_save(obj, path, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real_save(obj, path, *a, **k)

    monkeypatch.setattr(ckpt.torch, "save", failing_save)
    with pytest.raises(OSError, match="No space left"):
        Trainer(cfg, tmp_path / "run", tensorboard=False).run()
    run = tmp_path / "run"
    assert [p.name for p in ckpt.checkpoints(run)] == ["ckpt-0000002"]
    assert not [p for p in run.iterdir() if p.name.startswith(".ckpt")]
    assert ckpt.load_state(run / "ckpt-0000002")["step"] == 2
    monkeypatch.setattr(ckpt.torch, "save", real_save)
    result = Trainer(cfg, run, tensorboard=False).run()
    assert result.resumed_from.endswith("ckpt-0000002") and result.steps == 6


def test_nan_loss_stops_naming_step_and_samples(tiny_parts, tiny_suite, tmp_path, monkeypatch):
    from instructvl.models.vlm import VisionLanguageModel

    cfg = _cfg(tiny_parts, tiny_suite, steps=6, save_every=2)
    real_forward = VisionLanguageModel.forward
    seen = {"n": 0}

    def poisoned(self, batch):
        out = real_forward(self, batch)
        seen["n"] += 1
        if seen["n"] == 3:
            out.loss_sum = out.loss_sum * float("nan")
        return out

    monkeypatch.setattr(VisionLanguageModel, "forward", poisoned)
    with pytest.raises(InstructVLError, match=r"loss is nan at step 2 \(batch samples \['.*'\]\).*ckpt-0000002"):
        Trainer(cfg, tmp_path / "run", tensorboard=False).run()
    assert ckpt.load_state(tmp_path / "run" / "ckpt-0000002")["step"] == 2


def test_resume_with_a_different_model_is_refused(tiny_parts, tiny_suite, tmp_path):
    Trainer(_cfg(tiny_parts, tiny_suite, steps=2), tmp_path / "run", tensorboard=False).run()
    changed = train_dict(tiny_parts, tiny_suite, steps=4)
    changed["model"]["llm"]["inject_layer"] = 2
    changed["model"]["head"]["pool"] = 2
    changed["model"]["vision"]["drop_cls"] = True
    with pytest.raises(InstructVLError, match="checkpoint ckpt-0000002 was trained with in") as err:
        Trainer(validate(TrainConfig, changed, "t"), tmp_path / "run", tensorboard=False).run()
    listed = str(err.value).splitlines()[1:5]
    assert listed == [
        "  model.head.pool: 1 -> 2",
        "  model.llm.inject_layer: 0 -> 2",
        "  model.vision.drop_cls: False -> True",
        "  stages.0.steps: 2 -> 4",
    ]


def test_feature_cache_gives_the_same_training(tiny_parts, tiny_suite, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))
    plain = Trainer(_cfg(tiny_parts, tiny_suite, steps=3), tmp_path / "plain", tensorboard=False)
    plain.run()
    cached = Trainer(_cfg(tiny_parts, tiny_suite, steps=3, feature_cache=True), tmp_path / "cached", tensorboard=False)
    cached.run()
    assert _losses(tmp_path / "plain") == pytest.approx(_losses(tmp_path / "cached"), abs=1e-5)
    shards = list((tmp_path / "cache" / "features").glob("*/shard-*.npy"))
    assert len(shards) == 1
    rows = np.load(shards[0], mmap_mode="r")
    assert rows.shape[1:] == (17, 32)  # 16 patches + CLS, width 32
    # a second run sharing the tower reuses the cache: nothing new is written
    Trainer(_cfg(tiny_parts, tiny_suite, steps=1, feature_cache=True), tmp_path / "again", tensorboard=False).run()
    assert list((tmp_path / "cache" / "features").glob("*/shard-*.npy")) == shards


def test_feature_cache_refuses_a_trained_tower(tiny_parts, tiny_suite, tmp_path):
    data = train_dict(tiny_parts, tiny_suite, steps=1, feature_cache=True)
    data["stages"][0]["trainable"] = {"vision": True}
    with pytest.raises(InstructVLError, match="feature_cache needs a frozen vision tower"):
        Trainer(validate(TrainConfig, data, "t"), tmp_path / "run", tensorboard=False).run()


def test_gradient_checkpointing_gives_the_same_training(tiny_parts, tiny_suite, tmp_path):
    data = train_dict(tiny_parts, tiny_suite, steps=3)
    data["stages"][0]["trainable"] = {"llm": "layers", "llm_layers": [1, 4]}
    Trainer(validate(TrainConfig, data, "t"), tmp_path / "plain", tensorboard=False).run()
    trainer = Trainer(
        validate(TrainConfig, {**data, "gradient_checkpointing": True}, "t"), tmp_path / "ckpt", tensorboard=False
    )
    trainer.run()
    assert trainer.model.llm.model.is_activation_checkpointing
    assert _losses(tmp_path / "plain") == pytest.approx(_losses(tmp_path / "ckpt"), abs=1e-5)


def test_losses_do_not_depend_on_random_numbers_drawn_while_building(tiny_parts, tiny_suite, tmp_path, monkeypatch):
    """A first run that builds the offline tower (or converts the GGUF LLM) in-process draws
    random numbers a cached run does not; the training (dropout on) must not differ."""
    from instructvl.models.vlm import VisionLanguageModel

    cfg = _cfg(tiny_parts, tiny_suite, head="instructblip-qformer", steps=3)
    plain = Trainer(cfg, tmp_path / "plain", tensorboard=False).run()
    real_build = VisionLanguageModel.build.__func__

    def drawing_build(cls, config):
        torch.rand(1000)  # what a first-use build consumes
        return real_build(cls, config)

    monkeypatch.setattr(VisionLanguageModel, "build", classmethod(drawing_build))
    drawn = Trainer(cfg, tmp_path / "drawn", tensorboard=False).run()
    assert plain.steps == drawn.steps == 3
    assert _losses(tmp_path / "plain") == _losses(tmp_path / "drawn")
