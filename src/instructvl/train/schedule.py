"""Learning-rate schedule: linear warm-up from a tiny rate to the peak, then cosine decay."""

from __future__ import annotations

import math


def lr_factor(step: int, total: int, warmup: int, peak: float, start: float, min_ratio: float) -> float:
    """Multiplier of the peak rate after `step` optimizer steps of a stage of `total`.

    Step 0 gives `start / peak`; step `warmup` gives 1; the last step gives `min_ratio`."""
    if warmup > 0 and step < warmup:
        begin = start / peak
        return begin + (1.0 - begin) * step / warmup
    span = max(1, total - warmup)
    progress = min(1.0, (step - warmup) / span)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
