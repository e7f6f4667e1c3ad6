"""From finished runs to the study's numbers: per run the task scores, group averages
(held-in / held-out / real, as the evaluation computes them), task-type averages (plain
means over the run's scored tasks of each type), training and run wall seconds; per cell
their mean and standard deviation over seeds with a hierarchical 95% bootstrap interval
(seeds, then samples), the analyses' curves point by point; each cell's paired
differences from the reference cell (every cell is scored on the same samples) with
their intervals and verdicts (`stats.measured_verdict`), and the papers' claims decided
by the interval of their paired difference at the claim's smallest effect worth seeing;
its provenance: the environment that wrote the report and the distinct environments
(package versions, instructvl commit) its runs were trained and evaluated in."""

from __future__ import annotations

import json
import math
from typing import Any

from instructvl.eval.compare import load_results
from instructvl.eval.regression.measure import regression_numbers
from instructvl.eval.report import GROUP_ORDER
from instructvl.eval.uncertainty import (
    Replicated,
    TaskValues,
    averaged,
    cell_scores,
    interval,
    paired_tasks,
    run_values,
)
from instructvl.provenance import environment
from instructvl.study.analyses import EXTRACTORS, result_path
from instructvl.study.expand import Run, StudyPlan, config_value
from instructvl.study.runner import is_finished, recorded_wall_seconds
from instructvl.study.stats import decided, plain_difference, summarize, summarize_curve
from instructvl.study.task_types import TASK_TYPES, task_type


def _versions(env: dict | None) -> dict[str, Any] | None:
    """The part of a recorded environment that says what code ran: packages and commit."""
    return None if env is None else {"packages": env.get("packages"), "git": env.get("git")}


def run_environment(run: Run, results: dict[str, Any]) -> dict[str, Any]:
    """What a finished run was trained with (its environment.json) and evaluated with
    (its results' run record); None for either where it was not recorded."""
    trained = run.train_dir / "environment.json"
    return {
        "train": _versions(json.loads(trained.read_text()) if trained.is_file() else None),
        "eval": _versions(results.get("run", {}).get("versions")),
    }


def provenance(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's own environment, and each distinct run environment with its runs."""
    groups: list[dict[str, Any]] = []
    for record in records:
        env = record["environment"]
        match = next((g for g in groups if g["environment"] == env), None)
        if match is None:
            match = {"environment": env, "runs": []}
            groups.append(match)
        match["runs"].append(record["run"])
    return {"report": environment(), "runs": groups}


def run_record(run: Run) -> dict[str, Any]:
    """The numbers of one finished run (see the module docstring)."""
    results = load_results(run.eval_dir)
    summary = json.loads((run.train_dir / "train_summary.json").read_text())
    by_type: dict[str, list[float]] = {}
    for t in results["tasks"]:
        if t.get("score") is not None:
            by_type.setdefault(task_type(t["spec"]), []).append(t["score"])
    analyses = {}
    for name in run.analyses:
        if name in EXTRACTORS and result_path(run.analysis_dir, name).is_file():
            analyses[name] = EXTRACTORS[name](json.loads(result_path(run.analysis_dir, name).read_text()))
    return {
        "run": f"{run.cell}/seed-{run.seed}",
        "environment": run_environment(run, results),
        "seed": run.seed,
        "train_seconds": summary["seconds"],
        "wall_seconds": recorded_wall_seconds(run),
        "tasks": {t["task"]: t.get("score") for t in results["tasks"]},
        "task_info": {
            t["task"]: {"group": t["group"], "metric": t["metric"], "type": task_type(t["spec"])}
            for t in results["tasks"]
        },
        "groups": {g: a["score"] for g, a in results["averages"].items()},
        "task_types": {k: sum(v) / len(v) for k, v in by_type.items()},
        "analyses": analyses,
        "values": run_values(run.eval_dir, results),
        "text_regression": regression_numbers(results.get("text_regression")),
    }


def task_runs(records: list[dict]) -> dict[str, list[TaskValues]]:
    """{task: its scored samples in each of the cell's runs (one per seed)}."""
    out: dict[str, list[TaskValues]] = {}
    for record in records:
        for task, values in record["values"].items():
            out.setdefault(task, []).append(values)
    return out


def measure_tasks(kind: str, name: str, task_info: dict[str, dict]) -> list[str]:
    """The tasks a measure averages: `tasks.<t>` one task, `groups.<g>` / `task_types.<t>` those of it."""
    if kind == "tasks":
        return [name]
    key = "group" if kind == "groups" else "type"
    return [t for t, info in task_info.items() if info[key] == name]


def measure(entries: dict[str, Replicated], kind: str, name: str, task_info: dict[str, dict]) -> Replicated | None:
    """A measure (the mean over its tasks) from per-task replicated scores or differences."""
    return averaged([entries[t] for t in measure_tasks(kind, name, task_info) if t in entries])


def _summaries(records: list[dict], key: str, names: list[str]) -> dict[str, Any]:
    return {n: summarize([r[key].get(n) for r in records]) for n in names}


def _analyses(records: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in dict.fromkeys(n for r in records for n in r["analyses"]):
        runs = [r["analyses"][name] for r in records if name in r["analyses"]]
        out[name] = {
            "x_label": runs[0]["x_label"],
            "curves": {
                c: {"x": curve["x"], **summarize_curve([run["curves"][c]["y"] for run in runs])}  # type: ignore[dict-item]
                for c, curve in runs[0]["curves"].items()
            },
            "references": {k: summarize([run["references"].get(k) for run in runs]) for k in runs[0]["references"]},
        }
    return out


def aggregate_cell(records: list[dict], name: str, task_info: dict[str, dict]) -> dict[str, Any]:
    """Mean / std over the cell's runs of every task, group, task type, training seconds
    and analysis curve; tasks, groups and types also with a hierarchical 95% interval (`ci`)."""
    tasks = list(dict.fromkeys(t for r in records for t in r["tasks"]))
    groups = list(dict.fromkeys(g for r in records for g in r["groups"]))
    types = [t for t in TASK_TYPES if any(t in r["task_types"] for r in records)]
    out = {
        "seeds": [r["seed"] for r in records],
        "tasks": _summaries(records, "tasks", tasks),
        "groups": _summaries(records, "groups", groups),
        "task_types": _summaries(records, "task_types", types),
        "train_seconds": summarize([r["train_seconds"] for r in records]),
        "analyses": _analyses(records),
        "text_regression": _summaries(
            records, "text_regression", list(dict.fromkeys(k for r in records for k in r.get("text_regression", {})))
        ),
    }
    scores = cell_scores(task_runs(records), name)
    for kind in ("tasks", "groups", "task_types"):
        for measure_name, summary in out[kind].items():
            entry = measure(scores, kind, measure_name, task_info)
            if summary is not None:
                summary["ci"] = None if entry is None else interval(entry.reps)
    return out


class CellPairs:
    """Paired per-task differences between cells (`uncertainty.paired_tasks`), bootstrapped
    once per (cell, versus) however many tables and claims read them."""

    def __init__(self, task_values: dict[str, dict]) -> None:
        self.task_values = task_values
        self._pairs: dict[tuple[str, str], dict[str, Replicated]] = {}

    def has(self, cell: str) -> bool:
        """Whether `cell` has finished runs."""
        return cell in self.task_values

    def paired(self, cell: str, versus: str) -> dict[str, Replicated]:
        """`cell` minus `versus` on each task both have."""
        key = (cell, versus)
        if key not in self._pairs:
            self._pairs[key] = paired_tasks(self.task_values[cell], self.task_values[versus], key)
        return self._pairs[key]


def differences(
    name: str, reference: str, pairs: CellPairs, cells: dict[str, Any], task_info: dict[str, dict]
) -> dict[str, Any]:
    """Cell `name` minus the `reference` cell, per task, group and task type as paired
    differences with interval and verdict (`stats.decided`), and in training seconds."""
    paired = pairs.paired(name, reference)
    out = {
        kind: {n: decided(measure(paired, kind, n, task_info)) for n in cells[name][kind]}
        for kind in ("tasks", "groups", "task_types")
    }
    out["train_seconds"] = plain_difference(cells[name]["train_seconds"], cells[reference]["train_seconds"])
    return out


CLAIM_VERDICTS = {  # (expected, measured) -> verdict
    ("higher", "higher"): "agrees",
    ("higher", "lower"): "disagrees",
    ("higher", "same"): "no difference",
    ("higher", "inconclusive"): "inconclusive",
    ("same", "same"): "agrees",
    ("same", "higher"): "disagrees (higher)",
    ("same", "lower"): "disagrees (lower)",
    ("same", "inconclusive"): "inconclusive",
}


def samples_to_decide(entry: dict[str, Any], tasks: int) -> int | None:
    """Samples per task at which the minimum detectable effect would shrink to the claim's
    smallest effect, if the sample noise dominates (it falls as 1 / sqrt(n); seed noise
    does not): n x (mde / d)^2. None when the mde is already below d or unmeasured."""
    if entry["mde"] is None or entry["mde"] <= entry["min_effect"] or not entry["n"]:
        return None
    return math.ceil(entry["n"] / tasks * (entry["mde"] / entry["min_effect"]) ** 2)


def check_claim(claim, pairs: CellPairs, task_info: dict[str, dict]) -> dict[str, Any]:
    """A claim (`grid.Claim`) decided by the paired difference `cell` minus `versus` on its
    measure: its 95% interval against 0 and +-`claim.min_effect` (see `stats`), the
    minimum detectable effect, and the samples per task that would decide it; "not
    measured" while either cell (or the measure) has no finished run."""
    kind, name = claim.measure.split(".", 1)
    entry = None
    if pairs.has(claim.cell) and pairs.has(claim.versus):
        paired = pairs.paired(claim.cell, claim.versus)
        entry = decided(measure(paired, kind, name, task_info), claim.min_effect)
    if entry is None or entry["verdict"] is None:
        return {**claim.model_dump(), "difference": entry, "verdict": "not measured", "samples_to_decide": None}
    tasks = sum(t in pairs.task_values[claim.cell] for t in measure_tasks(kind, name, task_info)) or 1
    return {
        **claim.model_dump(),
        "difference": entry,
        "verdict": CLAIM_VERDICTS[claim.expect, entry["verdict"]],
        "samples_to_decide": samples_to_decide(entry, tasks) if entry["verdict"] == "inconclusive" else None,
    }


def aggregate(plan: StudyPlan) -> dict[str, Any]:
    """The study's results document over every finished run of the grid."""
    grid = plan.grid
    finished = [r for r in plan.runs if is_finished(r)]
    records = {c.name: [run_record(r) for r in finished if r.cell == c.name] for c in grid.cells}
    first_runs = {c.name: next(r for r in plan.runs if r.cell == c.name) for c in grid.cells}
    task_info = {t: info for rs in records.values() for r in rs for t, info in r["task_info"].items()}
    pairs = CellPairs({name: task_runs(rs) for name, rs in records.items() if rs})
    cells = {}
    for cell in grid.cells:
        if records[cell.name]:
            run = first_runs[cell.name]
            cells[cell.name] = {
                "description": cell.description,
                "config": run.config.model_dump(mode="json"),
                "evaluation": run.evaluation.model_dump(),
                **aggregate_cell(records[cell.name], cell.name, task_info),
            }
    ref = grid.reference_cell
    walls = [r["wall_seconds"] for rs in records.values() for r in rs if r["wall_seconds"] is not None]
    return {
        "study": grid.name,
        "description": grid.description,
        "grid": str(plan.path),
        "scale": plan.scale,
        "out": str(plan.out),
        "seeds": grid.seeds,
        "reference": ref,
        "runs": {
            "planned": len(plan.runs),
            "finished": len(finished),
            "missing": [f"{r.cell}/seed-{r.seed}" for r in plan.runs if r not in finished],
            "wall_seconds": sum(walls),
            "timed": len(walls),
        },
        "provenance": provenance([r for rs in records.values() for r in rs]),
        "task_info": task_info,
        "group_names": [g for g in GROUP_ORDER if any(g in c["groups"] for c in cells.values())],
        "task_type_names": [t for t in TASK_TYPES if any(t in c["task_types"] for c in cells.values())],
        "cells": cells,
        "differences": {
            name: differences(name, ref, pairs, cells, task_info) for name in cells if name != ref and ref in cells
        },
        "series": [
            {
                "name": s.name,
                "x_key": s.x,
                "points": [
                    {"cell": n, "x": config_value(cells[n]["config"], s.x), "groups": cells[n]["groups"]}
                    for n in s.cells
                    if n in cells
                ],
            }
            for s in grid.series
        ],
        "claims": [check_claim(c, pairs, task_info) for c in grid.claims],
    }
