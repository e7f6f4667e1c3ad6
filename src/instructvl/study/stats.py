"""Statistics over seeds: mean and sample standard deviation (n - 1; None for one seed),
of single values and of curves, and the "no difference" rule."""

from __future__ import annotations

import math
from typing import Any


def summarize(values: list[float | None]) -> dict[str, Any] | None:
    """Mean, sample standard deviation (None with one value), count and the values
    themselves, over the values that are not None; None when there are none."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return None
    n = len(kept)
    mean = sum(kept) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in kept) / (n - 1)) if n > 1 else None
    return {"mean": mean, "std": std, "n": n, "values": kept}


def difference(value: dict[str, Any] | None, reference: dict[str, Any] | None) -> dict[str, Any] | None:
    """`value` minus `reference` (two summaries) and the verdict: "no difference" when
    |difference| is smaller than the larger standard deviation (or zero), "spread
    unknown" when either has one seed, else "higher" / "lower"."""
    if value is None or reference is None:
        return None
    diff = value["mean"] - reference["mean"]
    stds = (value["std"], reference["std"])
    spread = None if None in stds else max(stds)
    if diff == 0 or (spread is not None and abs(diff) < spread):
        verdict = "no difference"
    elif spread is None:
        verdict = "spread unknown"
    else:
        verdict = "higher" if diff > 0 else "lower"
    return {"diff": diff, "spread": spread, "verdict": verdict}


def summarize_curve(curves: list[list[float]]) -> dict[str, list] | None:
    """Point-by-point mean and standard deviation of several seeds' curves (the points
    all seeds have); None when there are no curves."""
    if not curves:
        return None
    points = [summarize(list(col)) for col in zip(*curves)]
    return {"mean": [p["mean"] for p in points], "std": [p["std"] for p in points], "n": len(curves)}  # type: ignore[index]
