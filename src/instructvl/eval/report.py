"""Results JSON and a markdown report for one run: per task the metric, its value, the
baseline, and how it was obtained; then held-in / held-out / real averages; then, where
there are any, the LLM judge's scores and calibration and the text-regression measures.

Scores are the metrics' own values in the JSON (fractions, CIDEr as computed) and x100
in the markdown table, as papers print them; averages are plain means over tasks. The
records skipped reading a task's data are counted beside its n and listed after the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from instructvl.data.formats.base import Problem
from instructvl.eval.records import write_json
from instructvl.eval.uncertainty import interval, mean_replicates
from instructvl.provenance import describe

GROUP_ORDER = ("held-in", "held-out", "real", "real-held-in")
SKIPPED_SHOWN = 20
"""Skipped records the report lists per task (all are in prepared/<task>.json)."""


def averages(tasks: list[dict[str, Any]], replicates: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, Any]]:
    """Mean score and mean baseline per group, over the tasks that have a score; with the
    tasks' bootstrap `replicates`, the average's 95% interval (`ci`)."""
    out = {}
    for group in GROUP_ORDER:
        scored = [t for t in tasks if t["group"] == group and t.get("score") is not None]
        if not scored:
            continue
        baselines = [t["baseline"]["score"] for t in scored if t["baseline"].get("score") is not None]
        out[group] = {
            "score": sum(t["score"] for t in scored) / len(scored),
            "ci": None,
            "baseline": sum(baselines) / len(baselines) if len(baselines) == len(scored) else None,
            "n_tasks": len(scored),
            "tasks": [t["task"] for t in scored],
        }
        reps = [replicates[t["task"]] for t in scored if t["task"] in (replicates or {})]
        if len(reps) == len(scored):
            out[group]["ci"] = interval(mean_replicates(reps))
    return out


def build_results(
    run: dict[str, Any], tasks: list[dict[str, Any]], replicates: dict[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """The results document: provenance, per-task records, group averages (with intervals
    from the tasks' bootstrap `replicates`)."""
    return {"format": 1, "run": run, "tasks": tasks, "averages": averages(tasks, replicates)}


def x100(value: float | None, digits: int = 2) -> str:
    """A score x100 with `digits` decimals, "-" when there is none."""
    return "-" if value is None else f"{100 * value:.{digits}f}"


def with_ci(value: float | None, ci: list[float] | None, digits: int = 2) -> str:
    """A score x100 with its 95% interval: "45.83 [31.2, 60.4]" (the score alone without one)."""
    score = x100(value, digits)
    return score if value is None or not ci else f"{score} [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _how(task: dict[str, Any]) -> str:
    """How the predictions were made: ranking and its normalisation, or generation and its
    decoding (greedy, or beam search with its width and length penalty); then the mode."""
    spec = task["spec"]
    if spec["output"] == "rank":
        return f"rank ({spec['normalisation']} log-prob), {spec['mode']}"
    beams = spec.get("num_beams", 1)
    decoding = f"beam search, {beams} beams, length penalty {spec['length_penalty']:g}" if beams > 1 else "greedy"
    return f"generate (<= {spec['max_new_tokens']} tokens, {decoding}), {spec['mode']}"


def _n(task: dict[str, Any]) -> str:
    """The samples scored, and the records skipped reading the data when there were any."""
    skipped = task.get("n_skipped")
    return f"{task['n']} ({skipped} skipped)" if skipped else str(task["n"])


def skipped_section(tasks: list[dict[str, Any]]) -> list[str]:
    """Markdown lines listing each task's skipped records as "file:line: reason (kind)"
    (the first `SKIPPED_SHOWN`); none when no record was skipped."""
    lines: list[str] = []
    for t in tasks:
        rows = t.get("skipped") or []
        lines += [f"- {t['task']}: {Problem(**row)} ({row['kind']})" for row in rows[:SKIPPED_SHOWN]]
        if len(rows) > SKIPPED_SHOWN:
            lines.append(f"- {t['task']}: {len(rows) - SKIPPED_SHOWN} more in prepared/{t['task']}.json")
    if not lines:
        return []
    intro = "Records of the evaluation data that could not be read, left out of n:"
    return ["", "## Skipped records", "", intro, "", *lines]


def _companion(companion: dict[str, Any] | None) -> str:
    """The gold answer's mean log-probability per token with its interval, or "-"."""
    if not companion:
        return "-"
    lo, hi = companion["ci"] or (companion["mean"], companion["mean"])
    return f"{companion['mean']:.2f} [{lo:.2f}, {hi:.2f}]"


def _extra(task: dict[str, Any]) -> str:
    extra = task.get("extra") or {}
    keys = [k for k in extra if k.startswith("r@") or k == "mean_rank"]
    return ", ".join(f"{k} {extra[k] if k == 'mean_rank' else 100 * extra[k]:.1f}" for k in keys)


def eval_source_mark(baseline: dict[str, Any]) -> str:
    """Where a majority baseline was counted, as a mark after its kind: "" for a training
    split (and chance), " (dev)" for a held-out set's dev split, " (no training split)" when
    there was none (no baseline), " (eval)" for the evaluation set itself (runs scored by
    older versions: optimistic, it peeks at the answers)."""
    marks = {"dev": " (dev)", "none": " (no training split)", "eval": " (eval)"}
    return marks.get(baseline.get("source"), "")


def markdown(results: dict[str, Any]) -> str:
    """The report as markdown."""
    run = results["run"]
    model = run.get("model") or {}
    title = model.get("name") or "model"
    note = " (text only: images removed)" if run.get("no_image") else ""
    if run.get("oracle") == "scene":
        note = " (scene oracle: images replaced by their scene description)"
    lines = [f"# Evaluation of {title}{note}", ""]
    lines.append(
        f"model config {model.get('config_hash', '-')}, seed {run.get('seed')}; {describe(run.get('versions'))}"
    )
    lines += [
        "",
        "Scores x100, in brackets the 95% bootstrap interval over samples (percentile, 2000 resamples; an "
        "average's from its tasks' resamples). Gold log-prob / token: the mean log-probability per token of the "
        "gold answer given the prompt (teacher-forced), a lower-variance companion to the metric. "
        "Baseline: chance (rank tasks) or majority answer (generate tasks) of the training split; "
        "`dev` = of a held-out set's dev split (drawn like test, never scored), `no training split` = none to "
        "count on (no baseline), `eval` = of the evaluation set itself (older runs).",
        "",
    ]
    lines.append("| task | group | metric | n | score | baseline | gold log-prob / token | extra | inference | spec |")
    lines.append("|---|---|---|---:|---:|---:|---:|---|---|---|")
    for t in results["tasks"]:
        base = t["baseline"]
        kind = base["kind"] + eval_source_mark(base)
        score = t.get("error") and f"error: {t['error']}" or with_ci(t.get("score"), t.get("ci"))
        lines.append(
            f"| {t['task']} | {t['group']} | {t['metric']} | {_n(t)} | {score} | {x100(base['score'])} {kind} | "
            f"{_companion(t.get('gold_logprob'))} | {_extra(t)} | {_how(t)} | "
            f"v{t['spec']['version']} {t['spec_hash']} |"
        )
    for group, avg in results["averages"].items():
        lines.append(
            f"| **{group} average** ({avg['n_tasks']} tasks) | | | | "
            f"**{with_ci(avg['score'], avg.get('ci'))}** | {x100(avg['baseline'])} | | | | |"
        )
    lines += skipped_section(results["tasks"])
    from instructvl.eval.judge.report import judge_lines  # these import this module
    from instructvl.eval.regression.report import regression_lines

    lines += judge_lines(results) + regression_lines(results.get("text_regression"))
    return "\n".join(lines) + "\n"


def write_report(run_dir: Path, results: dict[str, Any]) -> tuple[Path, Path]:
    """Writes results.json and report.md into the run folder; returns their paths."""
    json_path, md_path = run_dir / "results.json", run_dir / "report.md"
    write_json(json_path, results)
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path
