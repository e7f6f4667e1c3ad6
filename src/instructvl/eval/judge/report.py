"""The judge's part of an evaluation report: each judge and how it scores, each judged
task's relative score beside its own metric, with the counts of unread and failed
judgements, then the calibration table."""

from __future__ import annotations

from typing import Any

from instructvl.eval.report import with_ci, x100


def _who(config: dict[str, Any]) -> str:
    """The judge in words: "MODEL at URL", or "local" (in process)."""
    return f"{config['model']} at {config['base_url']}" if config.get("base_url") else config["model"]


def _judge_and_method(judged: dict[str, Any]) -> str:
    """The judge in words and, once it has judged, how it scores."""
    who = _who(judged["config"])
    return f"{who}: {judged['method']}" if judged.get("method") else who


def _judge_cell(judged: dict[str, Any]) -> str:
    if judged.get("error"):
        return f"error: {judged['error']}"
    return with_ci(judged["score"], judged["ci"], 1)


def _mean_scores(judged: dict[str, Any]) -> str:
    if judged.get("model_mean") is None:
        return "-"
    return f"{judged['model_mean']:.2f} / {judged['reference_mean']:.2f}"


def judge_lines(results: dict[str, Any]) -> list[str]:
    """Markdown lines of the judge section; none when no task was judged."""
    judged = [t for t in results["tasks"] if t.get("judge")]
    if not judged:
        return []
    judges = sorted({_judge_and_method(t["judge"]) for t in judged})
    lines = [
        "",
        "## LLM-as-judge",
        "",
        "The LLaVA-Bench protocol: the judge reads the image description (SynthVL scene or captions), the "
        "question, the reference answer and the model's answer and scores both 1-10; relative score = mean model "
        "score / mean reference score x100, over the samples scored, with its 95% bootstrap interval. Unread "
        "replies (an endpoint's reply without two scores on its first line) and failed requests are counted, "
        "never scored. Judge:",
        "",
        *(f"- {judge}" for judge in judges),
        "",
        "| task | metric | score | judge relative score | model / reference mean | judged | unread | failed |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in judged:
        j = t["judge"]
        lines.append(
            f"| {t['task']} | {t['metric']} | {with_ci(t.get('score'), t.get('ci'), 1)} | {_judge_cell(j)} | "
            f"{_mean_scores(j)} | {j.get('n_judged', '-')} / {j.get('n', '-')} | {j.get('n_unparsed', '-')} | "
            f"{j.get('n_failed', '-')} |"
        )
    return lines + calibration_lines(results.get("judge_calibration"))


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def calibration_lines(table: list[dict[str, Any]] | None) -> list[str]:
    """Markdown lines of the calibration table; none without one."""
    if not table:
        return []
    lines = [
        "",
        "### Judge calibration (short-answer tasks)",
        "",
        "Exact match: the answer equals the gold answer after VQA normalisation (of all n). The judge's numbers "
        "are over the replies it could read. Judge score: the model's 1-10 score (the local judge's: expected). "
        "Pass: scored at least as high as the reference. Agreement: pass where the answer matches, fail where it "
        "does not. AUC: how well the judge's score separates matching answers from the others (0.5: not at all). "
        "Percentages x100.",
        "",
        "| task | n | exact match | replies read | judge score: match / no match | pass: match / no match | "
        "agreement | AUC |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        name = f"**{r['task']}**" if r is table[-1] and len(table) > 1 else r["task"]
        lines.append(
            f"| {name} | {r['n']} | {x100(r['exact_match'], 1)} | {r['n_read']} | {_score(r['score_right'])} / "
            f"{_score(r['score_wrong'])} | {x100(r['pass_right'], 1)} / {x100(r['pass_wrong'], 1)} | "
            f"{x100(r['agreement'], 1)} | {_score(r['auc'])} |"
        )
    return lines
