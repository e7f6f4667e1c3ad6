"""The study report: `results.json` (every number), `report.md` (cells; held-in /
held-out averages as in InstructBLIP's Table 2 and Fig. 4; task types; per task as in
Table 1; series; analysis curves; what tuning the LLM cost in text, for the cells whose
LLM weights changed; the papers' claims against these numbers) and the PNGs.

Scores are shown x100 as "mean ± std" over seeds (sample standard deviation; a lone
mean for one seed) with the hierarchical 95% bootstrap interval in brackets. Differences
are each cell minus the reference cell, paired on the shared samples, with their 95%
interval and verdict (`stats.measured_verdict`); claims are decided the same way at
their own smallest effect worth seeing."""

from __future__ import annotations

from typing import Any

from instructvl.analysis.report import markdown_table
from instructvl.eval.records import write_json
from instructvl.eval.regression.measure import KL_MEASURE
from instructvl.eval.report import GROUP_ORDER
from instructvl.provenance import describe
from instructvl.study import plots
from instructvl.study.aggregate import aggregate
from instructvl.study.expand import StudyPlan
from instructvl.study.plan import mixture_text, trainable_text
from instructvl.study.runner import duration
from instructvl.study.stats import DEFAULT_MIN_EFFECT
from instructvl.train.config import StageConfig

MAX_CURVE_COLUMNS = 11


def fmt(summary: dict | None, factor: float = 100.0, digits: int = 1) -> str:
    """ "mean ± std [lo, hi]" (x factor; the interval where there is one), the mean alone
    for one seed, "-" when missing."""
    if summary is None:
        return "-"
    mean = f"{factor * summary['mean']:.{digits}f}"
    text = mean if summary["std"] is None else f"{mean} ± {factor * summary['std']:.{digits}f}"
    ci = summary.get("ci")
    return text if not ci else f"{text} [{factor * ci[0]:.{digits}f}, {factor * ci[1]:.{digits}f}]"


def fmt_diff(diff: dict | None, factor: float = 100.0, digits: int = 1) -> str:
    """A difference with its interval and verdict: "+2.0 [+0.4, +3.6] higher", or the
    difference alone where it has no interval (training seconds)."""
    if diff is None:
        return "-"
    value = f"{factor * diff['diff']:+.{digits}f}"
    ci = diff.get("ci")
    if not ci:
        return value
    return f"{value} [{factor * ci[0]:+.{digits}f}, {factor * ci[1]:+.{digits}f}] {diff['verdict']}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [markdown_table(header, rows), ""]


def _cells_section(doc: dict, overrides: dict[str, list[str]]) -> list[str]:
    rows = []
    for name, c in doc["cells"].items():
        cfg = c["config"]
        stage = StageConfig.model_validate(cfg["stages"][0])
        rows.append(
            [
                name,
                c["description"].strip().replace("\n", " "),
                str(len(c["seeds"])),
                f"{stage.steps} x {cfg['batch_size']}",
                trainable_text(stage),
                mixture_text(stage),
                ", ".join(f"`{o}`" for o in overrides[name]) or "-",
                f"{c['evaluation']['limit'] or 'all'}",
            ]
        )
    return [
        "## Cells",
        "",
        *_table(
            [
                "cell",
                "description",
                "seeds",
                "steps x batch",
                "trainable",
                "mixture",
                "model overrides",
                "eval samples / task",
            ],
            rows,
        ),
    ]


def _compare_section(doc: dict, title: str, key: str, names: list[str], seconds: bool) -> list[str]:
    ref = doc["reference"]
    header = ["cell", *names] + (["training s"] if seconds else [])
    rows = [
        [n, *(fmt(c[key].get(g)) for g in names)] + ([fmt(c["train_seconds"], 1, 0)] if seconds else [])
        for n, c in doc["cells"].items()
    ]
    diff_rows = [
        [n, *(fmt_diff(d[key].get(g)) for g in names)] + ([fmt_diff(d["train_seconds"], 1, 0)] if seconds else [])
        for n, d in doc["differences"].items()
    ]
    out = [f"## {title}", "", *_table(header, rows)]
    if diff_rows:
        out += [f"Differences from `{ref}`:", "", *_table(header, diff_rows)]
    return out


def _tasks_section(doc: dict) -> list[str]:
    out = ["## Per task (as InstructBLIP's Table 1)", ""]
    for group in GROUP_ORDER:
        tasks = [t for t, info in doc["task_info"].items() if info["group"] == group]
        if tasks:
            header = ["cell", *(f"{t} ({doc['task_info'][t]['metric']})" for t in tasks)]
            out += [
                f"{group}:",
                "",
                *_table(header, [[n, *(fmt(c["tasks"].get(t)) for t in tasks)] for n, c in doc["cells"].items()]),
            ]
    return out


def _series_section(series: dict, index: int, groups: list[str]) -> list[str]:
    rows = [[str(p["x"]), p["cell"], *(fmt(p["groups"].get(g)) for g in groups)] for p in series["points"]]
    return [
        f"## {series['name']}: averages against `{series['x_key']}`",
        "",
        *_table([series["x_key"], "cell", *groups], rows),
        f"![{series['name']}](series-{index}.png)",
        "",
    ]


def _analysis_section(name: str, per_cell: dict[str, dict]) -> list[str]:
    out = [f"## Analysis: {name}", "", f"x: {next(iter(per_cell.values()))['x_label']}; values x100.", ""]
    for curve in dict.fromkeys(c for a in per_cell.values() for c in a["curves"]):
        xs = next(a["curves"][curve]["x"] for a in per_cell.values() if curve in a["curves"])
        shown = sorted(set(range(0, len(xs), max(1, -(-len(xs) // MAX_CURVE_COLUMNS)))) | {len(xs) - 1})
        rows = []
        for cell, a in per_cell.items():
            c = a["curves"].get(curve)
            rows.append([cell, *(fmt(c and {"mean": c["mean"][i], "std": c["std"][i]}) for i in shown)])
        out += [f"{curve}:", "", *_table(["cell", *(str(xs[i]) for i in shown)], rows)]
    refs = list(dict.fromkeys(r for a in per_cell.values() for r in a["references"]))
    rows = [[cell, *(fmt(a["references"].get(r)) for r in refs)] for cell, a in per_cell.items()]
    out += ["references:", "", *_table(["cell", *refs], rows)]
    return out + [f"![{name}](analysis-{name}.png)", ""]


def _regression_section(cells: dict[str, dict]) -> list[str]:
    """What tuning the LLM cost in text, for the cells whose LLM weights changed."""
    tuned = {n: c["text_regression"] for n, c in cells.items() if c.get("text_regression")}
    if not tuned:
        return []
    oracle = list(dict.fromkeys(k for measures in tuned.values() for k in measures if k != KL_MEASURE))
    rows = [[n, fmt(m.get(KL_MEASURE), 1.0, 4), *(fmt(m.get(k)) for k in oracle)] for n, m in tuned.items()]
    return [
        "## What tuning the LLM costs in text",
        "",
        "For cells whose LLM weights changed: the mean KL(run || untouched LLM) per answer token on fixed text-only "
        "prompts (nats; 0 = unchanged), and the scene-oracle score of the run minus the untouched LLM's (x100), "
        "mean ± std over seeds.",
        "",
        *_table(["cell", "KL", *(f"{k} (run - untouched)" for k in oracle)], rows),
    ]


def _claims_section(claims: list[dict]) -> list[str]:
    rows = []
    for c in claims:
        d = c["difference"] or {}
        rows.append(
            [
                c["claim"],
                c["source"],
                f"`{c['cell']}` {'>' if c['expect'] == 'higher' else '='} `{c['versus']}`",
                c["measure"].replace(".", ": ", 1),
                "-" if not d else f"{100 * d['diff']:+.1f}",
                "-" if not d.get("ci") else f"[{100 * d['ci'][0]:+.1f}, {100 * d['ci'][1]:+.1f}]",
                f"{100 * c['min_effect']:.1f}",
                "-" if d.get("mde") is None else f"{100 * d['mde']:.1f}",
                f"**{c['verdict']}**",
                "-" if c.get("samples_to_decide") is None else str(c["samples_to_decide"]),
            ]
        )
    return [
        "## The papers' claims against this study",
        "",
        "Difference: the first cell minus the second, x100, paired on the samples both scored, with its 95% "
        "hierarchical bootstrap interval (seeds, then samples). A claim that one cell scores higher *agrees* when "
        "the interval lies above 0 and *disagrees* when it lies below; *no difference* (or, for a claim of the "
        "same score, *agrees*) only when it lies within +-d, the claim's smallest effect worth seeing; otherwise "
        "*inconclusive*. mde: the difference this design detects with 80% power (2.8 standard errors). n to decide: "
        "evaluation samples per task at which the mde would reach d, if sample noise dominates (seed noise does "
        "not shrink with n).",
        "",
        *_table(
            ["claim", "source", "cells", "measure", "difference", "95% interval", "d", "mde", "verdict", "n to decide"],
            rows,
        ),
    ]


def by_analysis(cells: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """The cells' aggregated analyses regrouped: analysis name -> cell -> curves."""
    names = dict.fromkeys(a for c in cells.values() for a in c["analyses"])
    return {name: {n: c["analyses"][name] for n, c in cells.items() if name in c["analyses"]} for name in names}


def _wall_line(runs: dict) -> list[str]:
    """How long the finished runs took, where their sessions recorded it."""
    if not runs["timed"]:
        return []
    return [
        f"Run wall time (training unless reused, evaluation, analyses; as measured by the session that finished "
        f"each run): {duration(runs['wall_seconds'])} in all for the {runs['timed']} of {runs['finished']} finished "
        "runs that recorded it.",
        "",
    ]


def _provenance_lines(doc: dict) -> list[str]:
    """What code made the runs (each distinct training / evaluation environment) and the report."""
    prov = doc.get("provenance")
    if not prov:
        return ["Provenance: not recorded (a report made before package versions were kept).", ""]
    lines = ["Provenance:", ""]
    for group in prov["runs"]:
        env = group["environment"]
        lines.append(f"- {len(group['runs'])} run(s) trained with {describe(env['train'])}")
        if env["eval"] != env["train"]:
            lines.append(f"  and evaluated with {describe(env['eval'])}")
    lines += [f"- this report written with {describe(prov['report'])}", ""]
    return lines


def markdown(doc: dict, overrides: dict[str, list[str]]) -> str:
    """The report (see the module docstring); `overrides`: each cell's model overrides."""
    runs, groups, types = doc["runs"], doc["group_names"], doc["task_type_names"]
    lines = [
        f"# Study: {doc['study']}",
        "",
        doc["description"].strip(),
        "",
        f"Grid `{doc['grid']}`, scale {doc['scale']:g}, seeds {doc['seeds']}; "
        f"{runs['finished']} of {runs['planned']} runs "
        f"finished" + (f" (missing: {', '.join(runs['missing'])})" if runs["missing"] else "") + ".",
        "",
        *_wall_line(runs),
        *_provenance_lines(doc),
        "Scores x100, mean ± sample standard deviation over seeds (a lone mean: one seed); training seconds as "
        f"measured. In brackets the 95% bootstrap interval (seeds, then samples). Differences: cell minus "
        f"`{doc['reference']}`, paired on the shared samples, with their interval: *higher* / *lower* where it "
        f"excludes 0, *same* where it lies within +-{100 * DEFAULT_MIN_EFFECT:.0f} points, else *inconclusive*.",
        "",
    ]
    lines += _cells_section(doc, overrides)
    lines += _compare_section(
        doc, "Held-in and held-out averages (as InstructBLIP's Table 2 and Fig. 4)", "groups", groups, True
    )
    lines += ["![group averages](groups.png)", ""]
    lines += _compare_section(doc, "By task type", "task_types", types, False)
    lines += ["![task types](task_types.png)", ""]
    lines += _tasks_section(doc) + ["![tasks](tasks.png)", ""]
    for i, series in enumerate(doc["series"]):
        lines += _series_section(series, i, groups)
    for name, per_cell in by_analysis(doc["cells"]).items():
        lines += _analysis_section(name, per_cell)
    lines += _regression_section(doc["cells"])
    if doc["claims"]:
        lines += _claims_section(doc["claims"])
    return "\n".join(lines)


def write_study_report(plan: StudyPlan) -> dict[str, Any]:
    """Aggregates every finished run of the plan's grid into `plan.out`: results.json,
    report.md and the PNGs; returns the results document."""
    doc = aggregate(plan)
    out = plan.out
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", doc)
    overrides = {c.name: c.model_overrides for c in plan.grid.cells}
    (out / "report.md").write_text(markdown(doc, overrides), encoding="utf-8")
    cells = doc["cells"]
    if cells:
        plots.bars(doc["group_names"], cells, "groups", out / "groups.png", f"{doc['study']}: group averages")
        plots.bars(doc["task_type_names"], cells, "task_types", out / "task_types.png", f"{doc['study']}: task types")
        plots.bars(list(doc["task_info"]), cells, "tasks", out / "tasks.png", f"{doc['study']}: tasks")
        for i, series in enumerate(doc["series"]):
            plots.series_plot(series, doc["group_names"], out / f"series-{i}.png")
        for name, per_cell in by_analysis(cells).items():
            plots.curves_plot(name, per_cell, out / f"analysis-{name}.png")
    return doc
