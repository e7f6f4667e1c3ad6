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
