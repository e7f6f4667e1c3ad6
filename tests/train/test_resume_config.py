"""Resuming keeps the training it started: a config that would train differently is refused
with each changed key and value listed, output-only keys may change (and do not change the
losses), and the run's config.yaml is never rewritten."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from instructvl.config.loader import validate
from instructvl.errors import InstructVLError
from instructvl.train import checkpoint as ckpt
from instructvl.train.config import TrainConfig
from instructvl.train.trainer import Trainer
from tests.train.conftest import train_dict


def _train(parts, suite, run: Path, **kw):
    data = train_dict(parts, suite, **kw)
    return Trainer(validate(TrainConfig, data, "(test)"), run, tensorboard=False).run()


def _losses(run_dir: Path) -> dict[int, float]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in records if "loss" in r}


def _changed_run(parts, suite, run: Path):
    """A rerun of a finished 2-step run with more steps, another batch size and rate."""
    data = train_dict(parts, suite, steps=3, batch_size=2)
    data["stages"][0]["lr"] = 0.5
    return Trainer(validate(TrainConfig, data, "(test)"), run, tensorboard=False)


def test_resume_with_changed_training_keys_is_refused_listing_them(tiny_parts, tiny_suite, tmp_path):
    run = tmp_path / "run"
    _train(tiny_parts, tiny_suite, run, steps=2)
    recorded = (run / "config.yaml").read_text()
    with pytest.raises(InstructVLError) as err:
        _changed_run(tiny_parts, tiny_suite, run).run()
    message = str(err.value)
    assert "differs from the one its checkpoint ckpt-0000002 was trained with" in message
    assert "batch_size: 4 -> 2" in message
    assert "stages.0.lr: 0.01 -> 0.5" in message
    assert "stages.0.steps: 2 -> 3" in message
    assert "model." not in message  # only what changed is listed
    assert (run / "config.yaml").read_text() == recorded
    assert json.loads((run / "train_summary.json").read_text())["steps"] == 2


def test_a_checkpoint_without_its_config_is_checked_against_config_yaml(tiny_parts, tiny_suite, tmp_path):
    """Checkpoints written before states recorded the config fall back on the run's config.yaml."""
    run = tmp_path / "run"
    _train(tiny_parts, tiny_suite, run, steps=2)
    state_file = run / "ckpt-0000002" / ckpt.STATE_FILE
    state = torch.load(state_file, weights_only=True)
    del state["config"]
    torch.save(state, state_file)
    with pytest.raises(InstructVLError, match=r"stages\.0\.steps: 2 -> 3"):
        _changed_run(tiny_parts, tiny_suite, run).run()
    (run / "config.yaml").unlink()
    with pytest.raises(InstructVLError, match=r"config\.yaml not found.*--no-resume"):
        _changed_run(tiny_parts, tiny_suite, run).run()


def test_output_only_keys_may_change_on_resume_and_keep_the_losses(tiny_parts, tiny_suite, tmp_path):
    """Q-Former head (dropout on): validating and checkpointing more often on resume draws
    no random number the training would have drawn."""
    run = tmp_path / "run"
    common = {"head": "instructblip-qformer", "steps": 4}
    _train(tiny_parts, tiny_suite, run, save_every=2, keep_last=5, **common)
    reference = _losses(run)
    recorded = (run / "config.yaml").read_text()
    shutil.rmtree(run / "ckpt-0000004")  # as if the run had been killed before its last checkpoint
    result = _train(
        tiny_parts, tiny_suite, run, save_every=1, keep_last=2, log_every=2, eval_every=1, eval_batch_size=3, **common
    )
    assert result.resumed_from.endswith("ckpt-0000002") and result.steps == 4
    assert _losses(run) == {1: reference[1], 2: reference[2], 4: reference[4]}
    assert (run / "config.yaml").read_text() == recorded
