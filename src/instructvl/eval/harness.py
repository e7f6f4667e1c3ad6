"""`evaluate`: prepare, infer and score a list of tasks into a run folder.

    from instructvl.eval.harness import evaluate
    results = evaluate(model, "held-out", "runs/eval-tiny")              # the model
    evaluate(model, "held-out", "runs/eval-tiny-text", no_image=True)    # text-only baseline
    evaluate(model, "held-out", "runs/eval-tiny-oracle", oracle="scene")  # images replaced by their scene in words
    evaluate(model, "held-out", "runs/eval-tiny", judge=JudgeConfig(model="local"))  # + the judge's relative score
    results["tasks"][i]["score"], ["baseline"], results["averages"]["held-out"]

A model whose LLM weights changed also gets the text-regression measures
(`instructvl.eval.regression`: KL from the untouched LLM, scene oracle against it),
in `results["text_regression"]`; judged runs get `results["judge_calibration"]`.

Phases can run separately (`phases=("prepare",)`, `("infer",)`, `("score",)`); each is
resumable. Several processes can share the inference: give each `shard=(i, n)` and
`phases=("prepare", "infer")`, then score once. The run folder records what produced
it (`run.json`); reusing a folder with a different model, seed, image setting or task
spec is an error, so predictions of different setups never mix.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.eval import baselines
from instructvl.eval.infer import infer_task, shard_of
from instructvl.eval.judge.calibration import calibration
from instructvl.eval.judge.config import JudgeConfig
from instructvl.eval.judge.score import Judges
from instructvl.eval.metrics import compute
from instructvl.eval.oracle import check_oracle, oracle_prompts
from instructvl.eval.prepare import baseline_answers, prepare_task
from instructvl.eval.progress import task_progress
from instructvl.eval.provenance import model_record
from instructvl.eval.records import prediction_path, read_json, read_jsonl, read_predictions, write_json, write_jsonl
from instructvl.eval.regression.kl import llm_changed
from instructvl.eval.regression.measure import REGRESSION_FILE, measure_text_regression
from instructvl.eval.report import build_results, write_report
from instructvl.eval.scoring import gold_logprobs, metric_inputs, metric_options_for
from instructvl.eval.spec import TaskSpec, resolve_tasks, spec_hash, with_judge, with_overrides
from instructvl.eval.uncertainty import TaskValues, run_interval
from instructvl.provenance import environment

PHASES = ("prepare", "infer", "score")


def select_specs(tasks: str | list, mode: str | None = None, judge: JudgeConfig | None = None) -> list[TaskSpec]:
    """Specs from names / groups (or specs as they are), with the template mode overridden
    and every generate task judged by `judge` (when given)."""
    if isinstance(tasks, str) or all(isinstance(t, str) for t in tasks):
        specs = resolve_tasks(tasks)
    else:
        specs = list(tasks)
    return [with_judge(with_overrides(s, mode=mode), judge) for s in specs]


def _check_same(existing: dict, run: dict, run_dir: Path) -> None:
    for key in ("no_image", "seed", "oracle"):
        if key in existing and existing[key] != run[key]:
            raise InstructVLError(
                f"{run_dir} holds a run with {key}={existing[key]!r}, not {run[key]!r}; use another --out"
            )
    old, new = (existing.get("model") or {}).get("config_hash"), (run.get("model") or {}).get("config_hash")
    if old and new and old != new:
        raise InstructVLError(
            f"{run_dir} holds predictions of another model (config {old}, now {new}); use another --out"
        )
    for name, digest in run["tasks"].items():
        if existing.get("tasks", {}).get(name, digest) != digest:
            raise InstructVLError(
                f"{run_dir}: task {name!r} was run with spec {existing['tasks'][name]}, now {digest}; use another --out"
            )


def set_aside_stale(run_dir: Path, specs: list[TaskSpec]) -> list[str]:
    """Moves the files of every task whose recorded spec differs from its spec in `specs`
    (prepared/, predictions/, scored/) into `run_dir/stale/<task>-<old spec hash>/` and
    drops it from run.json, so the next evaluation redoes just those tasks; returns their
    names. For folders the caller owns (the quickstart's): `instructvl eval` refuses a
    changed spec instead."""
    import os

    run = read_json(run_dir / "run.json")
    if not run:
        return []
    stale = [s.name for s in specs if run["tasks"].get(s.name, spec_hash(s)) != spec_hash(s)]
    for name in stale:
        aside = run_dir / "stale" / f"{name}-{run['tasks'][name]}"
        for sub in ("prepared", "predictions", "scored"):
            for path in sorted((run_dir / sub).glob(f"{name}.*")):
                (aside / sub).mkdir(parents=True, exist_ok=True)
                os.replace(path, aside / sub / path.name)
        del run["tasks"][name]
    if stale:
        write_json(run_dir / "run.json", run)
    return stale


def open_run(
    run_dir: Path,
    specs: list[TaskSpec],
    model,
    model_name: str | None,
    no_image: bool,
    seed: int,
    oracle: str | None = None,
) -> dict:
    """Creates or checks run.json (what produced the run) and returns it, merged."""
    run = {
        "model": model_record(model, model_name, no_image, oracle) if model is not None else None,
        "no_image": no_image,
        "oracle": oracle,
        "seed": seed,
        "versions": environment(),
        "tasks": {s.name: spec_hash(s) for s in specs},
    }
    existing = read_json(run_dir / "run.json")
    if existing:
        _check_same(existing, run, run_dir)
        run = {
            **existing,
            **{k: v for k, v in run.items() if v is not None},
            "tasks": {**existing["tasks"], **run["tasks"]},
        }
    write_json(run_dir / "run.json", run)
    return run


def prepared(
    run_dir: Path, spec: TaskSpec, limit: int | None, seed: int, data, data_root, keep_limit: bool = False
) -> list[Sample]:
    """The task's prompts from <run>/prepared, made now unless they were made with these
    settings (with `keep_limit`, whatever limit they were made with). The records skipped
    reading the source are listed in <run>/prepared/<task>.json (`skipped`)."""
    path, meta_path = run_dir / "prepared" / f"{spec.name}.jsonl", run_dir / "prepared" / f"{spec.name}.json"
    meta = {"spec_hash": spec_hash(spec), "limit": limit, "seed": seed}
    old = read_json(meta_path)
    same = old and all(old.get(k) == v for k, v in meta.items() if not (keep_limit and k == "limit"))
    if same and path.is_file():
        return [Sample.from_json(row) for row in read_jsonl(path)]
    samples, skipped = prepare_task(spec, data, data_root, seed, limit)
    majority = None if spec.output == "rank" else baselines.majority_answer(*baseline_answers(spec, data, data_root))
    write_jsonl(path, (s.to_json() for s in samples))
    listed = [dataclasses.asdict(p) for p in skipped]
    write_json(meta_path, {**meta, "n": len(samples), "majority": majority, "skipped": listed})
    return samples


def effective_limit(spec: TaskSpec, limit: int | None) -> int | None:
    """`limit` if given (0: every sample), else the spec's default limit."""
    if limit is None:
        return spec.limit
    return limit or None


def companion_score(spec: TaskSpec, samples: list[Sample], rows: dict[str, dict]) -> dict[str, Any] | None:
    """The mean per-token log-probability of the gold answers with its 95% bootstrap
    interval (`scoring.gold_logprobs`); None where predictions lack it."""
    values = gold_logprobs(spec, samples, rows)
    if values is None:
        return None
    task = TaskValues("logprob", tuple(s.id for s in samples), np.asarray(values))
    return {"mean": float(np.mean(values)), "ci": run_interval(f"{spec.name}:logprob", task)["ci"]}


def task_record(
    run_dir: Path, spec: TaskSpec, samples: list[Sample], seed: int, judges: Judges | None = None
) -> tuple[dict[str, Any], Any]:
    """Scores one task, writes <run>/scored/<task>.jsonl, and returns its results entry
    (with the score's 95% bootstrap interval, `ci`, the records skipped reading the
    source, `skipped`, `n_skipped` of them, and where the spec names a judge its record,
    `judge`) and the bootstrap replicates (None when the task could not be scored)."""
    rows = read_predictions(run_dir, spec.name)
    meta = read_json(run_dir / "prepared" / f"{spec.name}.json") or {}
    skipped = meta.get("skipped", [])
    record: dict[str, Any] = {
        "task": spec.name,
        "group": spec.group,
        "metric": spec.metric,
        "n": len(samples),
        "n_skipped": len(skipped),
        "skipped": skipped,
        "score": None,
        "ci": None,
        "extra": {},
        "spec": spec.resolved(),
        "spec_hash": spec_hash(spec),
        "seed": seed,
        "mode": spec.mode,
        "template": spec.template or "dataset's own",
        "limit": meta.get("limit"),
        "normalisation": spec.normalisation if spec.output == "rank" else None,
        "seconds": round(sum(rows[s.id].get("seconds", 0.0) for s in samples if s.id in rows), 2),
    }
    preds, refs = metric_inputs(spec, samples, rows)  # missing predictions: an error
    replicates = None
    try:
        result = compute(spec.metric, preds, refs, **metric_options_for(spec))
    except InstructVLError as exc:  # e.g. AUC on a sample with one class: shown in the report
        record["error"] = str(exc)
    else:
        scored = [
            {"id": s.id, "prediction": p, "reference": r, "value": v}
            for s, p, r, v in zip(samples, preds, refs, result.per_sample)
        ]
        bootstrap = run_interval(spec.name, TaskValues.from_rows(spec.metric, scored))
        record.update(score=result.score, ci=bootstrap["ci"], extra=result.extra)
        replicates = bootstrap["replicates"]
        write_jsonl(run_dir / "scored" / f"{spec.name}.jsonl", scored)
    record["gold_logprob"] = companion_score(spec, samples, rows)
    if spec.judge is not None:
        record["judge"] = (judges or Judges()).record(spec, samples, preds, run_dir)
    majority = tuple(meta["majority"]) if meta.get("majority") else None
    record["baseline"] = baselines.baseline(spec, samples, majority)  # type: ignore[arg-type]
    return record, replicates


def evaluate(
    model,
    tasks: str | list,
    out_dir: str | Path,
    *,
    limit: int | None = None,
    no_image: bool = False,
    oracle: str | None = None,
    data: str | Path | None = None,
    data_root: str | Path | None = None,
    seed: int = 0,
    mode: str | None = None,
    batch_size: int | None = None,
    shard: tuple[int, int] = (0, 1),
    phases: tuple[str, ...] = PHASES,
    model_name: str | None = None,
    progress: bool = True,
    announce: Callable[[str], None] = print,
    judge: JudgeConfig | None = None,
    text_regression: bool = True,
) -> dict[str, Any] | None:
    """Evaluates `model` on `tasks` (names, groups such as "held-out", or specs) into
    `out_dir`; returns the results (None when the score phase did not run).

    `limit`: samples per task (None: each spec's default, 0: all). `no_image`: the
    text-only baseline. `oracle="scene"`: the scene-description oracle (SynthVL tasks
    only; see `instructvl.eval.oracle`). `data`: a SynthVL folder (default: the cached
    small suite); `data_root`: where real benchmarks are. `mode`: template mode override.
    `judge`: an LLM judge for every generate task (beside a task spec's own `judge`).
    `text_regression`: measure what tuning the LLM cost in text, when the model's LLM
    weights changed (on the first shard of the infer phase; not for text-only or oracle
    runs)."""
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise InstructVLError(f"unknown phases {sorted(unknown)}; phases: {', '.join(PHASES)}")
    if "infer" in phases and model is None:
        raise InstructVLError("the infer phase needs a model")
    if not (len(shard) == 2 and 0 <= shard[0] < shard[1]):
        raise InstructVLError(f"shard must be (index, count) with 0 <= index < count, got {shard}")
    if oracle is not None and no_image:
        raise InstructVLError("the oracle already removes the images; do not ask for no_image as well")
    run_dir = Path(out_dir)
    specs = select_specs(tasks, mode, judge)
    if oracle is not None:
        check_oracle(oracle, specs)
    run = open_run(run_dir, specs, model, model_name, no_image, seed, oracle)
    keep = "prepare" not in phases
    samples = {s.name: prepared(run_dir, s, effective_limit(s, limit), seed, data, data_root, keep) for s in specs}
    if "infer" in phases:
        inputs = {s.name: oracle_prompts(s, samples[s.name]) for s in specs} if oracle else samples
        model.eval()
        with task_progress(progress) as bars:
            for spec in specs:
                mine = shard_of(inputs[spec.name], shard)
                done = set(read_predictions(run_dir, spec.name))
                advance = bars.add(spec.name, total=len(mine), completed=sum(s.id in done for s in mine))
                infer_task(
                    model,
                    spec,
                    mine,
                    prediction_path(run_dir, spec.name, shard),
                    done,
                    no_image=no_image,
                    batch_size=batch_size,
                    on_batch=advance,
                )
        if text_regression and shard[0] == 0 and oracle is None and not no_image and llm_changed(model):
            measure_text_regression(
                model,
                run_dir,
                specs,
                data=data,
                seed=seed,
                limit=limit,
                batch_size=batch_size,
                model_name=model_name,
                progress=progress,
                announce=announce,
            )
    if "score" not in phases:
        return None
    started = time.perf_counter()
    judges = Judges(announce=announce)
    scored = {s.name: task_record(run_dir, s, samples[s.name], seed, judges) for s in specs}
    records = [record for record, _ in scored.values()]
    results = build_results(run, records, {name: reps for name, (_, reps) in scored.items() if reps is not None})
    sections = {
        "judge_calibration": calibration(run_dir, records),
        "text_regression": read_json(run_dir / REGRESSION_FILE),
    }
    results.update({k: v for k, v in sections.items() if v is not None})
    json_path, md_path = write_report(run_dir, results)
    announce(f"scored {len(records)} tasks in {time.perf_counter() - started:.1f} s: {md_path}, {json_path}")
    return results
