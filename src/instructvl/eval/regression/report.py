"""The text-regression part of an evaluation report (runs whose LLM weights changed)."""

from __future__ import annotations

from typing import Any

from instructvl.eval.regression.measure import RUN_LABEL, UNTOUCHED_LABEL
from instructvl.eval.report import with_ci


def _kl(kl: dict[str, Any]) -> str:
    lo, hi = kl["ci"] or (kl["mean"], kl["mean"])
    return f"{kl['mean']:.3g} [{lo:.3g}, {hi:.3g}]"


def oracle_lines(oracle: dict[str, Any]) -> list[str]:
    """The scene-oracle table: per group, untouched LLM, run and paired difference (x100)."""
    if not oracle["tasks"]:
        return [f"Scene oracle: {oracle['note']}."]
    lines = [
        f"Scene oracle ({len(oracle['tasks'])} SynthVL tasks; the LLM reading each scene as text), x100 with 95% "
        "intervals; difference = run minus untouched LLM, paired on the same samples:",
        "",
        f"| group | {UNTOUCHED_LABEL} | {RUN_LABEL} | difference |",
        "|---|---:|---:|---:|",
    ]
    averages = oracle["averages"]
    for row in oracle["paired"]:
        if not row["task"].endswith(" average"):
            continue
        group = row["group"]
        before, after = averages[UNTOUCHED_LABEL].get(group, {}), averages[RUN_LABEL].get(group, {})
        ci = "" if row["ci"] is None else f" [{100 * row['ci'][0]:+.1f}, {100 * row['ci'][1]:+.1f}]"
        lines.append(
            f"| {group} | {with_ci(before.get('score'), before.get('ci'), 1)} | "
            f"{with_ci(after.get('score'), after.get('ci'), 1)} | {100 * row['diff']:+.1f}{ci} |"
        )
    return lines


def regression_lines(doc: dict[str, Any] | None) -> list[str]:
    """Markdown lines of the text-regression section; none without a measurement."""
    if not doc:
        return []
    kl = doc["kl"]
    sets = ", ".join(f"{name} {s['mean']:.3g} ({s['n']} prompts)" for name, s in kl["sets"].items())
    return [
        "",
        "## What tuning the LLM costs in text",
        "",
        f"The language model's weights changed. Mean {kl['direction']}, on {kl['n_prompts']} fixed text-only prompts "
        f"({kl['n_positions']} answer tokens, teacher-forced on the reference answers; 0 = unchanged): "
        f"**{_kl(kl)}**; by prompt set: {sets}.",
        "",
        *oracle_lines(doc["oracle"]),
    ]
