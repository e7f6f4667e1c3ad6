"""Deterministic seeds from arbitrary keys (stable across runs, processes and platforms)."""

from __future__ import annotations

import hashlib
import random
from typing import Any


def stable_seed(*parts: Any) -> int:
    """A 63-bit integer derived from `parts` via SHA-256 of their string forms."""
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def stable_uniform(*parts: Any) -> float:
    """A float in [0, 1) derived from `parts`."""
    return stable_seed(*parts) / 2.0**63


def rng_for(*parts: Any) -> random.Random:
    """A `random.Random` seeded by `stable_seed(*parts)`."""
    return random.Random(stable_seed(*parts))


def permutation_batches(n: int, batch_size: int, generator):
    """Yields index tensors of min(`batch_size`, n) into range(n): epochs of permutations
    drawn from the torch `generator`, each batch the next indices of the queue (a batch
    may span two epochs). The generator is drawn from only when the queue runs short, so
    a caller may draw from it too between batches, reproducibly."""
    import torch

    queue = torch.empty(0, dtype=torch.long)
    size = min(batch_size, n)
    while True:
        while len(queue) < size:
            queue = torch.cat([queue, torch.randperm(n, generator=generator)])
        yield queue[:size]
        queue = queue[size:]
