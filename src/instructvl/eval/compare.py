"""Several runs side by side: per task and per group average, each run's score, its
difference relative to the first run, and the baseline; as markdown, JSON and a
grouped bar chart (PNG, matplotlib's Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from instructvl.errors import InstructVLError
from instructvl.eval.records import read_json, write_json
from instructvl.eval.report import GROUP_ORDER, with_ci, x100
from instructvl.eval.uncertainty import paired_difference, run_values


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """A run's results.json (an error naming the folder if it has none)."""
    results = read_json(Path(run_dir) / "results.json")
    if results is None:
        raise InstructVLError(
            f"{run_dir} has no results.json; run `instructvl eval --out {run_dir}` (score phase) first"
        )
    return results


def relative(value: float | None, reference: float | None) -> float | None:
    """(value - reference) / |reference|, or None when undefined."""
    if value is None or reference is None or reference == 0:
        return None
    return (value - reference) / abs(reference)


def _row(name: str, group: str, metric: str, scores: list, cis: list, baseline: float | None) -> dict[str, Any]:
    return {
        "task": name,
        "group": group,
        "metric": metric,
        "scores": scores,
        "ci": cis,
        "baseline": baseline,
        "relative": [relative(s, scores[0]) for s in scores],
    }


def compare_runs(run_dirs: list[str | Path], labels: list[str] | None = None) -> dict[str, Any]:
    """The comparison document: run labels, one row per task (in first-seen order) and per group average."""
    if not run_dirs:
        raise InstructVLError("compare needs at least one run folder")
    results = [load_results(d) for d in run_dirs]
    labels = labels or [Path(d).resolve().name for d in run_dirs]
    if len(labels) != len(results):
        raise InstructVLError(f"{len(labels)} labels for {len(results)} runs")
    by_task = [{t["task"]: t for t in r["tasks"]} for r in results]
    names = list(dict.fromkeys(t for r in by_task for t in r))
    rows = []
    for name in names:
        first = next(r[name] for r in by_task if name in r)
        scores = [r[name].get("score") if name in r else None for r in by_task]
        cis = [r[name].get("ci") if name in r else None for r in by_task]
        rows.append(_row(name, first["group"], first["metric"], scores, cis, first["baseline"]["score"]))
    for group in GROUP_ORDER:
        avgs = [r["averages"].get(group) for r in results]
        if any(avgs):
            base = next(a["baseline"] for a in avgs if a)
            cis = [a.get("ci") if a else None for a in avgs]
            rows.append(_row(f"{group} average", group, "mean", [a and a["score"] for a in avgs], cis, base))
    return {
        "runs": labels,
        "folders": [str(d) for d in run_dirs],
        "rows": rows,
        "paired": paired_rows(run_dirs, results, labels),
    }


def paired_rows(run_dirs: list[str | Path], results: list[dict], labels: list[str]) -> list[dict[str, Any]]:
    """Each run after the first minus the first, per task and per group average, paired
    on the samples both scored (`instructvl.eval.uncertainty.paired_difference`)."""
    values = [{t: [v] for t, v in run_values(d, r).items()} for d, r in zip(run_dirs, results)]
    groups = {t["task"]: t["group"] for r in results for t in r["tasks"]}
    out = []
    for i in range(1, len(results)):
        for group in GROUP_ORDER:
            mine = {t: v for t, v in values[i].items() if groups[t] == group}
            first = {t: v for t, v in values[0].items() if groups[t] == group}
            diff = paired_difference(mine, first, (labels[i], labels[0]))
            if diff["average"] is None:
                continue
            rows = [{"task": t, "group": group, **d} for t, d in diff["tasks"].items()]
            rows.append({"task": f"{group} average", "group": group, **diff["average"]})
            out += [{"run": labels[i], "versus": labels[0], **row} for row in rows]
    return out


def _pct(value: float | None) -> str:
    return "" if value is None else f" ({100 * value:+.1f}%)"


def compare_markdown(cmp: dict[str, Any]) -> str:
    """The comparison as a markdown table (scores x100; relative differences to the first run)."""
    head = "| task | metric | " + " | ".join(cmp["runs"]) + " | baseline |"
    lines = [
        "# Comparison",
        "",
        f"Scores x100 with their 95% bootstrap interval over samples; in round brackets the difference relative to "
        f"{cmp['runs'][0]}.",
        "",
        head,
        "|---|---|" + "---:|" * (len(cmp["runs"]) + 1),
    ]
    for row in cmp["rows"]:
        cells = [
            with_ci(s, ci) + (_pct(r) if i else "")
            for i, (s, ci, r) in enumerate(zip(row["scores"], row["ci"], row["relative"]))
        ]
        name = f"**{row['task']}**" if row["metric"] == "mean" else row["task"]
        lines.append(f"| {name} | {row['metric']} | " + " | ".join(cells) + f" | {x100(row['baseline'])} |")
    if cmp.get("paired"):
        lines += [
            "",
            "## Paired differences",
            "",
            "Run minus the first run on the samples both scored, x100, with the 95% bootstrap interval (the same "
            "resampled samples for both runs; an average's replicates are its tasks' mean) and the minimum effect "
            "this n detects with 80% power (mde).",
            "",
            "| run | versus | task | n | difference | 95% interval | mde |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        for row in cmp["paired"]:
            ci = "-" if row["ci"] is None else f"[{100 * row['ci'][0]:+.1f}, {100 * row['ci'][1]:+.1f}]"
            mde = "-" if row["mde"] is None else f"{100 * row['mde']:.1f}"
            name = f"**{row['task']}**" if row["task"].endswith(" average") else row["task"]
            lines.append(
                f"| {row['run']} | {row['versus']} | {name} | {row['n'] or ''} | "
                f"{100 * row['diff']:+.2f} | {ci} | {mde} |"
            )
    return "\n".join(lines) + "\n"


def bar_chart(cmp: dict[str, Any], path: Path) -> Path:
    """Grouped bars (one colour per run) per task and group average, baseline as a tick."""
    from instructvl.plotting import pyplot, save_figure

    plt = pyplot()
    rows, runs = cmp["rows"], cmp["runs"]
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(rows) * max(1, len(runs) / 2) + 2), 5.0))
    for i, label in enumerate(runs):
        xs = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(rows))]
        heights = [100 * (r["scores"][i] or 0.0) for r in rows]
        cis = [r["ci"][i] for r in rows]
        errors = [
            [h - 100 * c[0] if c else 0.0 for h, c in zip(heights, cis)],
            [100 * c[1] - h if c else 0.0 for h, c in zip(heights, cis)],
        ]
        ax.bar(xs, heights, width, label=label, yerr=np.clip(errors, 0, None), capsize=2, error_kw={"lw": 0.8})
    ax.scatter(
        range(len(rows)),
        [100 * (r["baseline"] or 0.0) for r in rows],
        marker="_",
        s=400,
        color="black",
        zorder=3,
        label="baseline (chance / majority)",
    )
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(
        [f"{r['task']}\n({r['metric']})" for r in rows], rotation=45, ha="right", rotation_mode="anchor", fontsize=8
    )
    ax.set_ylabel("score x100")
    ax.set_title("instructvl compare: " + " vs ".join(runs))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def write_comparison(
    run_dirs: list[str | Path], out_dir: str | Path, labels: list[str] | None = None
) -> dict[str, Path]:
    """Writes compare.json, compare.md and compare.png into `out_dir`; returns their paths."""
    out = Path(out_dir)
    cmp = compare_runs(run_dirs, labels)
    paths = {"json": out / "compare.json", "markdown": out / "compare.md", "chart": out / "compare.png"}
    write_json(paths["json"], cmp)
    paths["markdown"].write_text(compare_markdown(cmp), encoding="utf-8")
    bar_chart(cmp, paths["chart"])
    return paths
