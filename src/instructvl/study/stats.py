"""Statistics over seeds: mean and sample standard deviation (n - 1; None for one seed),
of single values and of curves; and the verdict on a paired difference from its 95%
interval: "higher" / "lower" when the interval excludes 0 in that direction, "same" when
it lies within +-d (the smallest effect worth seeing), else "inconclusive"."""

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


DEFAULT_MIN_EFFECT = 0.02
"""d, the smallest difference worth seeing, in score units (2 points x100)."""


def measured_verdict(ci: list[float] | None, min_effect: float = DEFAULT_MIN_EFFECT) -> str | None:
    """What a difference's 95% interval says (see the module docstring); None without one."""
    if ci is None:
        return None
    lo, hi = ci
    if lo > 0:
        return "higher"
    if hi < 0:
        return "lower"
    if -min_effect < lo and hi < min_effect:
        return "same"
    return "inconclusive"


def decided(entry, min_effect: float = DEFAULT_MIN_EFFECT) -> dict[str, Any] | None:
    """A paired difference (`uncertainty.Replicated`, or None) as the report shows it: the
    difference, its interval, standard error, minimum detectable effect (80% power), the
    samples it rests on and the verdict at `min_effect`."""
    if entry is None:
        return None
    from instructvl.eval.uncertainty import summary

    out = summary(entry.point, entry.reps, entry.n)
    return {**out, "min_effect": min_effect, "verdict": measured_verdict(out["ci"], min_effect)}


def plain_difference(value: dict[str, Any] | None, reference: dict[str, Any] | None) -> dict[str, Any] | None:
    """`value` minus `reference` of two summaries' means, without a verdict (e.g. seconds)."""
    if value is None or reference is None:
        return None
    return {"diff": value["mean"] - reference["mean"]}


def summarize_curve(curves: list[list[float]]) -> dict[str, list] | None:
    """Point-by-point mean and standard deviation of several seeds' curves (the points
    all seeds have); None when there are no curves."""
    if not curves:
        return None
    points = [summarize(list(col)) for col in zip(*curves)]
    return {"mean": [p["mean"] for p in points], "std": [p["std"] for p in points], "n": len(curves)}  # type: ignore[index]
