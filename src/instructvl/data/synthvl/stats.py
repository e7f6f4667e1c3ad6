"""Per-dataset statistics of a generated suite (what `instructvl data stats` shows)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from instructvl.data.mixture import mixture_probabilities
from instructvl.data.synthvl.loader import load_manifest, read_jsonl
from instructvl.data.synthvl.suite import mixture_entries
from instructvl.data.templates import load_templates


def answer_lengths(root: str | Path, name: str, splits: list[str]) -> list[int]:
    """Word counts of every target (the last assistant turn) across `splits`."""
    out = []
    for split in splits:
        samples, _ = read_jsonl(Path(root) / name / f"{split}.jsonl", check_images=False)
        out += [len(s.turns[-1].content.split()) for s in samples if s.turns and s.turns[-1].role == "assistant"]
    return out


def suite_stats(root: str | Path, rule: str = "sqrt", factors: dict[str, float] | None = None) -> dict[str, Any]:
    """Per dataset: size, category, held-in/out, metric, output, sampling probability in
    the default training mixture (held-in only), template count, answer length in words."""
    manifest = load_manifest(root)
    probs = mixture_probabilities(mixture_entries(root, factors=factors), rule)
    rows = []
    for name, d in manifest["datasets"].items():
        lengths = answer_lengths(root, name, list(d["sizes"]))
        rows.append(
            {
                "name": name,
                "category": d["category"],
                "split": d["split"],
                "metric": d["metric"],
                "output": d["output"],
                "task": d["task"],
                "size": d["size"],
                "sizes": d["sizes"],
                "probability": probs.get(name),
                "templates": len(load_templates(d["task"]).templates),
                "answer_words": {
                    "mean": round(statistics.fmean(lengths), 2) if lengths else 0.0,
                    "median": statistics.median(lengths) if lengths else 0,
                    "max": max(lengths, default=0),
                },
            }
        )
    return {"root": str(root), "rule": rule, "seed": manifest["seed"], "scale": manifest["scale"], "datasets": rows}
