"""Seeded construction of randomly initialised modules without touching the global RNG."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")


def seeded(seed: int, build: Callable[[], T]) -> T:
    """Runs `build()` with torch's RNG seeded by `seed`, restoring the caller's RNG after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()
