"""Results JSON and a markdown report for one run: per task the metric, its value, the
baseline, and how it was obtained; then held-in / held-out / real averages.

Scores are the metrics' own values in the JSON (fractions, CIDEr as computed) and x100
in the markdown table, as papers print them; averages are plain means over tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructvl.eval.records import write_json
from instructvl.provenance import describe

GROUP_ORDER = ("held-in", "held-out", "real")


def averages(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean score and mean baseline per group, over the tasks that have a score."""
    out = {}
    for group in GROUP_ORDER:
        scored = [t for t in tasks if t["group"] == group and t.get("score") is not None]
        if scored:
            out[group] = {
                "score": sum(t["score"] for t in scored) / len(scored),
                "baseline": sum(t["baseline"]["score"] for t in scored) / len(scored),
                "n_tasks": len(scored),
                "tasks": [t["task"] for t in scored],
            }
    return out


def build_results(run: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """The results document: provenance, per-task records, group averages."""
    return {"format": 1, "run": run, "tasks": tasks, "averages": averages(tasks)}


def x100(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _how(task: dict[str, Any]) -> str:
    spec = task["spec"]
    if spec["output"] == "rank":
        return f"rank ({spec['normalisation']} log-prob), {spec['mode']}"
    return f"generate (<= {spec['max_new_tokens']} tokens), {spec['mode']}"


def _extra(task: dict[str, Any]) -> str:
    extra = task.get("extra") or {}
    keys = [k for k in extra if k.startswith("r@") or k == "mean_rank"]
    return ", ".join(f"{k} {extra[k] if k == 'mean_rank' else 100 * extra[k]:.1f}" for k in keys)


def eval_source_mark(baseline: dict[str, Any]) -> str:
    """ " (eval)" for a majority baseline counted on the evaluation set itself (a task
    without a training split: optimistic, it peeks at the answers), else ""."""
    return " (eval)" if baseline.get("source") == "eval" else ""


def markdown(results: dict[str, Any]) -> str:
    """The report as markdown."""
    run = results["run"]
    model = run.get("model") or {}
    title = model.get("name") or "model"
    lines = [f"# Evaluation of {title}" + (" (text only: images removed)" if run.get("no_image") else ""), ""]
    lines.append(
        f"model config {model.get('config_hash', '-')}, seed {run.get('seed')}; {describe(run.get('versions'))}"
    )
    lines += [
        "",
        "Scores x100. Baseline: chance (rank tasks) or majority answer (generate tasks; "
        "`eval` = counted on the evaluation set, no training split).",
        "",
    ]
    lines.append("| task | group | metric | n | score | baseline | extra | inference | spec |")
    lines.append("|---|---|---|---:|---:|---:|---|---|---|")
    for t in results["tasks"]:
        base = t["baseline"]
        kind = base["kind"] + eval_source_mark(base)
        score = t.get("error") and f"error: {t['error']}" or x100(t.get("score"))
        lines.append(
            f"| {t['task']} | {t['group']} | {t['metric']} | {t['n']} | {score} | {x100(base['score'])} {kind} | "
            f"{_extra(t)} | {_how(t)} | v{t['spec']['version']} {t['spec_hash']} |"
        )
    for group, avg in results["averages"].items():
        lines.append(
            f"| **{group} average** ({avg['n_tasks']} tasks) | | | | "
            f"**{x100(avg['score'])}** | {x100(avg['baseline'])} | | | |"
        )
    return "\n".join(lines) + "\n"


def write_report(run_dir: Path, results: dict[str, Any]) -> tuple[Path, Path]:
    """Writes results.json and report.md into the run folder; returns their paths."""
    json_path, md_path = run_dir / "results.json", run_dir / "report.md"
    write_json(json_path, results)
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path
