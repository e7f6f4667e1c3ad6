"""The optimisation loop both BLIP-2 stages share: AdamW (decay on matrices only), the
training schedule (linear warm-up, cosine to a tenth), gradient clipping, a NaN guard and
a progress bar."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import torch

from instructvl.errors import InstructVLError
from instructvl.train.distributed import clip_gradients
from instructvl.train.schedule import lr_factor


def run_stage(
    name: str,
    params: list[torch.nn.Parameter],
    step_losses: Callable[[int], dict[str, torch.Tensor]],
    steps: int,
    lr: float,
    warmup: int,
    weight_decay: float,
    bar,
) -> dict:
    """Runs `steps` optimizer steps on the sum of `step_losses(step)` and returns
    {"seconds", "s_per_step", "losses": {name: per-step values}}. A non-finite loss
    stops the stage before its update (an `InstructVLError` naming stage and step)."""
    decay = [p for p in params if p.ndim >= 2]
    rest = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}], lr=lr
    )
    factor = functools.partial(lr_factor, total=steps, warmup=warmup, peak=lr, start=lr / 100, min_ratio=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    curves: dict[str, list[float]] = {}
    task = bar.task(name, steps)
    start = time.perf_counter()
    for step in range(steps):
        losses = step_losses(step)
        total = sum(losses.values())
        if not torch.isfinite(total):
            raise InstructVLError(f"{name}: loss is {total.item()} at step {step}")
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        clip_gradients(params, 1.0)
        optimizer.step()
        scheduler.step()
        for key, value in losses.items():
            curves.setdefault(key, []).append(round(value.item(), 5))
        bar.update(task, advance=1, info="  ".join(f"{k} {v[-1]:.3f}" for k, v in curves.items()))
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "s_per_step": round(seconds / max(steps, 1), 3), "losses": curves}
