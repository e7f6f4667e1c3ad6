"""AdamW over the trainable parameters, one group per module (and decay / no decay), so
per-module learning-rate multipliers apply; a LambdaLR drives the stage's schedule."""

from __future__ import annotations

import functools

import torch

from instructvl.train.config import StageConfig, TrainConfig
from instructvl.train.schedule import lr_factor

MODULES = ("vision", "head", "projector", "llm")


def param_groups(model, stage: StageConfig, weight_decay: float) -> list[dict]:
    """Trainable parameters grouped by module and by whether weight decay applies (not to
    biases, norms or other 1-D parameters). Each group carries its module's lr."""
    groups = []
    for module in MODULES:
        params = [(n, p) for n, p in getattr(model, module).named_parameters() if p.requires_grad]
        lr = stage.lr * stage.lr_multipliers.get(module, 1.0)
        decay = [p for n, p in params if p.ndim >= 2]
        no_decay = [p for n, p in params if p.ndim < 2]
        if decay:
            groups.append({"params": decay, "lr": lr, "weight_decay": weight_decay, "module": module})
        if no_decay:
            groups.append({"params": no_decay, "lr": lr, "weight_decay": 0.0, "module": module})
    return groups


def build_optimizer(model, stage: StageConfig, cfg: TrainConfig):
    """(optimizer, scheduler) for one stage; the scheduler steps once per optimizer step."""
    groups = param_groups(model, stage, cfg.weight_decay)
    if not groups:
        raise ValueError(f"stage {stage.name!r} trains nothing: check its `trainable` policy")
    optimizer = torch.optim.AdamW(groups, betas=cfg.betas)
    factor = functools.partial(
        lr_factor,
        total=stage.steps,
        warmup=stage.warmup_steps,
        peak=stage.lr,
        start=stage.warmup_start_lr,
        min_ratio=stage.min_lr_ratio,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return optimizer, scheduler
