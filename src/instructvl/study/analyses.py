"""The analyses a cell lists (`analyses: [probes, interventions]`): run on each trained
run of the cell through `instructvl.analysis.run_analysis` (which writes `<name>.json`,
`.md` and `.png` into the run's `analysis/` folder), and read back as curves the study
averages over seeds.

A curve is {"x": [...], "y": [...]} with an axis label; reference values (baselines)
are plain numbers. Extractors exist for the analyses' result formats below; an analysis
without one is still run and kept in its folder, but not aggregated."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def result_path(folder: Path, name: str) -> Path:
    """Where analysis `name` of a run leaves its JSON result."""
    return folder / f"{name}.json"


def check_analyses(names: list[str]) -> None:
    """An `InstructVLError` (from `instructvl.analysis`) if a name is not an analysis."""
    for name in names:
        importlib.import_module("instructvl.analysis").check_name(name)


def run_analyses(
    names: tuple[str, ...],
    model,
    data_dir: Path,
    folder: Path,
    *,
    seed: int,
    scale: float,
    options: dict[str, dict[str, Any]],
) -> None:
    """Runs every analysis in `names` whose result is not in `folder` yet."""
    run_analysis = importlib.import_module("instructvl.analysis").run_analysis
    for name in names:
        if not result_path(folder, name).is_file():
            run_analysis(name, model, data_dir, folder, seed=seed, scale=scale, **options.get(name, {}))


def _probes(result: dict) -> dict[str, Any]:
    curves = {
        f"{feature}: {attribute}": list(acc)
        for feature, by in result["accuracy"].items()
        for attribute, acc in by.items()
    }
    return {
        "x_label": "input of layer i (last: output of the last layer)",
        "curves": {name: {"x": list(range(len(y))), "y": y} for name, y in curves.items()},
        "references": {f"majority: {a}": v for a, v in result["majority"].items()},
    }


def _interventions(result: dict) -> dict[str, Any]:
    starts = [w["layers"][0] for w in result["windows"]]
    return {
        "x_label": f"first layer of the cut window ({result['window']} layers)",
        "curves": {
            key: {"x": starts, "y": [w[key] for w in result["windows"]]}
            for key in ("accuracy", "drop", "p_correct", "p_drop")
            if key in result["windows"][0]
        },
        "references": {**{name: r["accuracy"] for name, r in result["reference"].items()}, "chance": result["chance"]},
    }


EXTRACTORS: dict[str, Callable[[dict], dict[str, Any]]] = {"probes": _probes, "interventions": _interventions}
