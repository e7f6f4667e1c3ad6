"""Reusing a finished run: the same config (read through the current schema) reuses it;
another config, or an unreadable one, trains again."""

import json

import yaml

from instructvl.train.config import load_train_config
from instructvl.train.reuse import finished_run


def _finished(tmp_path, saved: dict, steps: int):
    (tmp_path / "model").mkdir(parents=True)
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    summary = {"run_dir": str(tmp_path), "steps": steps, "seconds": 1.0, "first_loss": 3.0, "last_loss": 2.0}
    (tmp_path / "train_summary.json").write_text(json.dumps(summary))
    return tmp_path


def test_a_finished_run_is_reused_even_without_settings_added_since(tmp_path):
    cfg = load_train_config("configs/train/tiny-offline.yaml")
    saved = cfg.model_dump(mode="json")
    del saved["keep_last"]  # as if written before `keep_last` existed: its default applies
    run = _finished(tmp_path, saved, cfg.total_steps)
    assert finished_run(run, cfg).last_loss == 2.0


def test_another_config_an_unknown_setting_or_an_unfinished_run_trains_again(tmp_path):
    cfg = load_train_config("configs/train/tiny-offline.yaml")
    saved = cfg.model_dump(mode="json")
    assert finished_run(_finished(tmp_path / "short", saved, cfg.total_steps - 1), cfg) is None
    assert finished_run(_finished(tmp_path / "lr", {**saved, "batch_size": 4}, cfg.total_steps), cfg) is None
    assert finished_run(_finished(tmp_path / "gone", {**saved, "removed_setting": 1}, cfg.total_steps), cfg) is None
