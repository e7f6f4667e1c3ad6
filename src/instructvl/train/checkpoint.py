"""Checkpoints: written aside and renamed into place (a kill or a full disk leaves the
previous ones loadable), the last K kept, and everything an exact resume needs: the
trained weights, optimizer, scheduler, sampler position and every RNG."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from instructvl.errors import InstructVLError

PREFIX = "ckpt-"
STATE_FILE = "trainer_state.pt"


def rng_state() -> dict[str, Any]:
    """Python, numpy and torch (CPU and CUDA) RNG states, in types `torch.load` accepts
    with `weights_only=True`."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": pos,
            "has_gauss": has_gauss,
            "gauss": gauss,
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restores what `rng_state` captured."""
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first (half-written ones never carry the name)."""
    found = [p for p in run_dir.glob(f"{PREFIX}*") if p.is_dir() and (p / STATE_FILE).is_file()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX) :]))


def save_checkpoint(
    run_dir: Path,
    step: int,
    model,
    state: dict[str, Any],
    keep_last: int,
    weights: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Writes `ckpt-<step>` atomically (model weights + `state`), then prunes to `keep_last`.
    `weights`: the whole state dict to save instead of the model's own parameters (see
    `VisionLanguageModel.save_pretrained`)."""
    final = run_dir / f"{PREFIX}{step:07d}"
    staging = run_dir / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save_pretrained(staging, weights)
        torch.save(state, staging / STATE_FILE)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for old in checkpoints(run_dir)[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_state(ckpt: Path) -> dict[str, Any]:
    """The trainer state of a checkpoint (loaded with weights_only=True: no code runs)."""
    try:
        return torch.load(ckpt / STATE_FILE, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing to the user
        raise InstructVLError(f"cannot read checkpoint state {ckpt / STATE_FILE}: {exc}") from None
