"""Train once: a run directory that already holds a finished run of the very same config
is reused as it is (its model, and so every evaluation of it, stays valid); otherwise the
run is trained, or resumed from its last checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

from instructvl.train.config import TrainConfig, saved_config_matches
from instructvl.train.trainer import TrainResult


def finished_run(run_dir: str | Path, cfg: TrainConfig) -> TrainResult | None:
    """The summary of a run in `run_dir` finished with exactly `cfg`, else None. The saved
    config is read through the current schema (`saved_config_matches`), so a setting
    added since (at its default) does not make a finished run look different."""
    run_dir = Path(run_dir)
    summary = run_dir / "train_summary.json"
    if not (summary.is_file() and (run_dir / "model" / "config.json").is_file()):
        return None
    if not saved_config_matches(run_dir / "config.yaml", cfg):
        return None
    result = TrainResult(**json.loads(summary.read_text()))
    return result if result.steps == cfg.total_steps else None


def train_or_reuse(cfg: TrainConfig, run_dir: str | Path, console=None) -> TrainResult:
    """The finished run of `cfg` in `run_dir`: reused if there, else trained (resuming)."""
    from instructvl.train.trainer import Trainer

    return finished_run(run_dir, cfg) or Trainer(cfg, Path(run_dir), console=console).run()
