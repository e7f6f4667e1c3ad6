"""From finished runs to the study's numbers: per run the task scores, group averages
(held-in / held-out / real, as the evaluation computes them), task-type averages (plain
means over the run's scored tasks of each type), training and run wall seconds; per cell
their mean and standard deviation over seeds, the analyses' curves point by point, and each cell's
differences from the reference cell with the "no difference" verdict, and the papers'
claims checked against those numbers; its provenance: the environment that wrote the
report and the distinct environments (package versions, instructvl commit) its runs were
trained and evaluated in."""

from __future__ import annotations

import json
from typing import Any

from instructvl.eval.compare import load_results
from instructvl.eval.report import GROUP_ORDER
from instructvl.provenance import environment
from instructvl.study.analyses import EXTRACTORS, result_path
from instructvl.study.expand import Run, StudyPlan, config_value
from instructvl.study.runner import is_finished, recorded_wall_seconds
from instructvl.study.stats import difference, summarize, summarize_curve
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
    }


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


def aggregate_cell(records: list[dict]) -> dict[str, Any]:
    """Mean / std over the cell's runs of every task, group, task type, training seconds
    and analysis curve."""
    tasks = list(dict.fromkeys(t for r in records for t in r["tasks"]))
    groups = list(dict.fromkeys(g for r in records for g in r["groups"]))
    types = [t for t in TASK_TYPES if any(t in r["task_types"] for r in records)]
    return {
        "seeds": [r["seed"] for r in records],
        "tasks": _summaries(records, "tasks", tasks),
        "groups": _summaries(records, "groups", groups),
        "task_types": _summaries(records, "task_types", types),
        "train_seconds": summarize([r["train_seconds"] for r in records]),
        "analyses": _analyses(records),
    }


def differences(cell: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """The cell minus the reference, per task, group, task type and training seconds."""
    out = {
        key: {n: difference(v, reference[key].get(n)) for n, v in cell[key].items()}
        for key in ("tasks", "groups", "task_types")
    }
    out["train_seconds"] = difference(cell["train_seconds"], reference["train_seconds"])
    return out


CLAIM_VERDICTS = {  # (expected, measured) -> verdict
    ("higher", "higher"): "agrees",
    ("higher", "lower"): "disagrees",
    ("higher", "no difference"): "no difference",
    ("same", "no difference"): "agrees",
    ("same", "higher"): "disagrees (higher)",
    ("same", "lower"): "disagrees (lower)",
    ("higher", "spread unknown"): "spread unknown (one seed)",
    ("same", "spread unknown"): "spread unknown (one seed)",
}


def check_claim(claim, cells: dict[str, Any]) -> dict[str, Any]:
    """A claim (`grid.Claim`) against the cells' numbers: `cell` minus `versus` on its
    measure, and the verdict. A difference counts only beyond the larger standard
    deviation of the two ("no difference" within it), so a claim of `higher` agrees only
    when the cell is higher by more than the spread, and a claim of `same` when the
    difference stays within it. "spread unknown (one seed)" with one seed; "not measured"
    while either cell (or the measure) has no finished run."""
    kind, name = claim.measure.split(".", 1)
    diff = difference(*(cells.get(c, {}).get(kind, {}).get(name) for c in (claim.cell, claim.versus)))
    verdict = "not measured" if diff is None else CLAIM_VERDICTS[claim.expect, diff["verdict"]]
    return {**claim.model_dump(), "difference": diff, "verdict": verdict}


def aggregate(plan: StudyPlan) -> dict[str, Any]:
    """The study's results document over every finished run of the grid."""
    grid = plan.grid
    finished = [r for r in plan.runs if is_finished(r)]
    records = {c.name: [run_record(r) for r in finished if r.cell == c.name] for c in grid.cells}
    first_runs = {c.name: next(r for r in plan.runs if r.cell == c.name) for c in grid.cells}
    cells = {}
    for cell in grid.cells:
        if records[cell.name]:
            run = first_runs[cell.name]
            cells[cell.name] = {
                "description": cell.description,
                "config": run.config.model_dump(mode="json"),
                "evaluation": run.evaluation.model_dump(),
                **aggregate_cell(records[cell.name]),
            }
    ref = grid.reference_cell
    walls = [r["wall_seconds"] for rs in records.values() for r in rs if r["wall_seconds"] is not None]
    task_info = {t: info for rs in records.values() for r in rs for t, info in r["task_info"].items()}
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
        "differences": {name: differences(c, cells[ref]) for name, c in cells.items() if name != ref and ref in cells},
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
        "claims": [check_claim(c, cells) for c in grid.claims],
    }
