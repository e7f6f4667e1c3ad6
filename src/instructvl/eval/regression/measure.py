"""Both text-regression measures of one evaluation run into `<run>/text_regression.json`
(per-prompt KL values in `<run>/text-regression/kl.jsonl`): the KL measure on the fixed
prompts, and the scene oracle of the run (`<run>/text-regression/oracle/`) against the
untouched LLM's (kept in `<cache>/oracle-untouched/<key>/`: it depends on the language
model, data, seed and tasks only, so every run of that LLM shares it), paired on the same
samples. A rerun with the same model and settings reuses the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from instructvl.eval.compare import paired_rows
from instructvl.eval.prepare import ensure_suite
from instructvl.eval.provenance import fingerprint, model_record
from instructvl.eval.records import read_json, write_json, write_jsonl
from instructvl.eval.regression.kl import next_token_kl, untouched_model
from instructvl.eval.regression.prompts import text_prompts
from instructvl.eval.spec import SynthVLSource, TaskSpec, spec_hash
from instructvl.eval.uncertainty import TaskValues, run_interval

REGRESSION_FILE = "text_regression.json"
RUN_LABEL, UNTOUCHED_LABEL = "run", "untouched LLM"
KL_MEASURE = "kl"
ORACLE_MEASURE = "oracle {group}"


def regression_numbers(doc: dict[str, Any] | None) -> dict[str, float]:
    """A run's text-regression measures as numbers (what a study averages over seeds):
    `kl`, the mean KL, and `oracle <group>`, the scene-oracle score of the run minus the
    untouched LLM's per group; empty without a measurement."""
    if not doc:
        return {}
    numbers = {KL_MEASURE: doc["kl"]["mean"]}
    for row in doc["oracle"].get("paired", []):
        if row["task"] == f"{row['group']} average":
            numbers[ORACLE_MEASURE.format(group=row["group"])] = row["diff"]
    return numbers


def kl_summary(rows: list[dict]) -> dict[str, Any]:
    """The mean over prompts of their KL, with its 95% bootstrap interval, and per prompt set."""
    values = np.array([r["kl"] for r in rows])
    task = TaskValues("kl", tuple(r["id"] for r in rows), values)
    sets = {
        name: {
            "mean": float(np.mean([r["kl"] for r in rows if r["set"] == name])),
            "n": sum(r["set"] == name for r in rows),
        }
        for name in dict.fromkeys(r["set"] for r in rows)
    }
    return {
        "direction": "KL(run || untouched LLM), nats per answer token (mean over prompts)",
        "mean": float(values.mean()),
        "ci": run_interval("text-regression:kl", task)["ci"],
        "n_prompts": len(rows),
        "n_positions": sum(r["positions"] for r in rows),
        "sets": sets,
    }


def untouched_oracle_dir(reference, specs: list[TaskSpec], data: Path, seed: int, batch_size: int | None) -> Path:
    """Where the untouched LLM's scene-oracle run of `specs` is kept in the cache."""
    from instructvl.artefacts import cache_dir

    key = fingerprint(
        {
            "model": model_record(reference, None, oracle="scene")["config_hash"],
            "data": str(data.resolve()),
            "seed": seed,
            "tasks": [spec_hash(s) for s in specs],
            "batch_size": batch_size,
        }
    )
    return cache_dir() / "oracle-untouched" / key


def oracle_comparison(
    model, reference, run_dir: Path, specs: list[TaskSpec], data: Path, model_name: str | None, **common
) -> dict[str, Any]:
    """The scene-oracle results of `model` and of `reference` on the SynthVL tasks of
    `specs` (unjudged): group averages of each and their paired differences (run minus
    untouched)."""
    from instructvl.eval.harness import evaluate

    synth = [s.model_copy(update={"judge": None}) for s in specs if isinstance(s.source, SynthVLSource)]
    if not synth:
        return {"tasks": [], "note": "no SynthVL task evaluated: the scene oracle needs SynthVL scenes"}
    untouched_dir = untouched_oracle_dir(reference, synth, data, common["seed"], common["batch_size"])
    own_dir = run_dir / "text-regression" / "oracle"
    oracle = dict(oracle="scene", data=data, text_regression=False, **common)
    untouched = evaluate(reference, synth, untouched_dir, **oracle)
    own = evaluate(model, synth, own_dir, model_name=model_name, **oracle)
    return {
        "tasks": [s.name for s in synth],
        "folders": {UNTOUCHED_LABEL: str(untouched_dir), RUN_LABEL: str(own_dir)},
        "averages": {UNTOUCHED_LABEL: untouched["averages"], RUN_LABEL: own["averages"]},
        "paired": paired_rows([untouched_dir, own_dir], [untouched, own], [UNTOUCHED_LABEL, RUN_LABEL]),
    }


def measure_text_regression(
    model,
    run_dir: Path,
    specs: list[TaskSpec],
    *,
    data: str | Path | None,
    seed: int,
    limit: int | None,
    batch_size: int | None,
    model_name: str | None,
    progress: bool,
    announce: Callable[[str], None],
) -> dict[str, Any]:
    """Measures (or reuses) both text-regression measures of `model` (see the module docstring)."""
    suite = ensure_suite(data, announce)
    key = {
        "model": model_record(model, model_name)["config_hash"],
        "data": str(suite.resolve()),
        "seed": seed,
        "limit": limit,
        "batch_size": batch_size,
        "tasks": [spec_hash(s) for s in specs],
    }
    existing = read_json(run_dir / REGRESSION_FILE)
    if existing and existing.get("key") == key:
        return existing
    announce("text regression: the language model changed; comparing it with the untouched one")
    reference = untouched_model(model)
    rows = next_token_kl(model, reference, text_prompts(suite, seed))
    write_jsonl(run_dir / "text-regression" / "kl.jsonl", rows)
    common = dict(seed=seed, limit=limit, batch_size=batch_size, progress=progress, announce=announce)
    doc = {
        "key": key,
        "kl": kl_summary(rows),
        "oracle": oracle_comparison(model, reference, run_dir, specs, suite, model_name=model_name, **common),
    }
    write_json(run_dir / REGRESSION_FILE, doc)
    return doc
