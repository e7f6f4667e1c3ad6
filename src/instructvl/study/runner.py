"""Running a study: each selected run in turn (train, evaluate, analyse), then the report.

Everything a run finished is reused: the training (`train_or_reuse`), the evaluation's
predictions, the analyses' results, and the whole run once `done.json` records that it
finished with its current settings, so an interrupted study resumes where it stopped.
A run folder holding a training run of another config (the grid changed) is an error
rather than a silent mix. A run that fails is reported and the study goes on; the report
covers the others and the study ends with an error listing the failures. Progress: which
run of how many, and the time left, from the plan's estimates scaled by how long the runs
done so far took against theirs."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from instructvl.errors import InstructVLError
from instructvl.eval.provenance import fingerprint
from instructvl.study.expand import Run, StudyPlan
from instructvl.train.config import saved_config_matches

DONE_FILE = "done.json"
WALL_KEY = "wall_s"
"""In `done.json`: the seconds the run took in the session that finished it (training,
unless reused, evaluation and analyses)."""


def run_key(run: Run) -> dict:
    """What a finished run was made with (written to `done.json`; its training config
    as a fingerprint, for the record: `is_finished` checks the saved config itself)."""
    return {
        "train_config": fingerprint(run.config.model_dump(mode="json")),
        "evaluation": run.evaluation.model_dump(),
        "analyses": list(run.analyses),
        "analysis": run.analysis.model_dump(),
    }


def is_finished(run: Run) -> bool:
    """Whether the run finished (training, evaluation, analyses) with its current settings."""
    from instructvl.train.reuse import finished_run

    done = run.folder / DONE_FILE
    if not done.is_file():
        return False
    return (
        _settings(json.loads(done.read_text())) == _settings(run_key(run))
        and finished_run(run.train_dir, run.config) is not None
    )


def recorded_wall_seconds(run: Run) -> float | None:
    """The wall seconds a finished run's `done.json` records, or None for a run finished
    before wall times were kept."""
    return json.loads((run.folder / DONE_FILE).read_text()).get(WALL_KEY)


def _settings(key: dict) -> dict:
    """A run key without its training-config fingerprint (a fingerprint of an older
    schema's dump differs although the config is the same) and its wall time."""
    return {k: v for k, v in key.items() if k not in ("train_config", WALL_KEY)}


class Eta:
    """Time left: the estimates of the runs left, times measured / estimated so far."""

    def __init__(self) -> None:
        self.measured = 0.0
        self.estimated = 0.0

    def add(self, run: Run, seconds: float) -> None:
        """Counts a run just done in `seconds`."""
        self.measured += seconds
        self.estimated += run.estimated_seconds()

    def left(self, runs: list[Run]) -> float:
        """Seconds the `runs` should take."""
        ratio = self.measured / self.estimated if self.estimated else 1.0
        return ratio * sum(r.estimated_seconds() for r in runs)


def duration(seconds: float) -> str:
    """ "1 h 05 min", "12 min" or "40 s"."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _check_folder(run: Run) -> None:
    saved = run.train_dir / "config.yaml"
    if saved.is_file() and not saved_config_matches(saved, run.config):
        raise InstructVLError(
            f"{run.train_dir} holds a training run of another config (the grid changed?): "
            f"delete {run.folder} or run the study with another --out"
        )


def execute(run: Run, data: Path, console) -> None:
    """Trains (or reuses), evaluates and analyses one run (on a GPU when there is one),
    then marks it done."""
    import torch

    from instructvl.eval.harness import evaluate
    from instructvl.models.vlm import VisionLanguageModel
    from instructvl.study.analyses import run_analyses
    from instructvl.train.reuse import finished_run, train_or_reuse

    started = time.perf_counter()
    _check_folder(run)
    if finished_run(run.train_dir, run.config) is None:
        for stale in (run.eval_dir, run.analysis_dir):  # made from an earlier model of this folder
            shutil.rmtree(stale, ignore_errors=True)
    train_or_reuse(run.config, run.train_dir, console=console)
    model_dir = run.train_dir / "model"
    model = VisionLanguageModel.from_pretrained(model_dir).to("cuda" if torch.cuda.is_available() else "cpu")
    ev = run.evaluation
    evaluate(
        model,
        ev.tasks,
        run.eval_dir,
        limit=ev.limit,
        data=data,
        data_root=ev.data_root,
        mode=ev.mode,
        model_name=str(model_dir),
        announce=lambda text: console.print(text, highlight=False),
    )
    run_analyses(
        run.analyses,
        model,
        data,
        run.analysis_dir,
        seed=run.seed,
        scale=run.analysis.scale,
        options=run.analysis.options,
    )
    done = {**run_key(run), WALL_KEY: round(time.perf_counter() - started, 1)}
    (run.folder / DONE_FILE).write_text(json.dumps(done, indent=2))


def run_study(plan: StudyPlan, console) -> dict:
    """Runs the plan's selected runs that are not finished, then writes the report over
    every finished run of the grid (`report.md`, `results.json`, PNGs in `plan.out`);
    returns the aggregated results."""
    from instructvl.data.synthvl.cache import default_suite
    from instructvl.study.report import write_study_report

    data = plan.data or default_suite(announce=console.print)
    todo = [r for r in plan.selected if not is_finished(r)]
    console.print(
        f"study {plan.grid.name}: {len(plan.selected)} runs selected, {len(plan.selected) - len(todo)} already "
        f"finished; estimated {duration(sum(r.estimated_seconds() for r in todo))} for the rest",
        highlight=False,
    )
    eta, failed = Eta(), []
    for i, run in enumerate(todo):
        console.rule(
            f"run {i + 1}/{len(todo)}: cell {run.cell}, seed {run.seed} (left: about {duration(eta.left(todo[i:]))})"
        )
        started = time.perf_counter()
        try:
            execute(run, data, console)
            status = "done"
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop a study of hours; reported below
            failed.append(f"{run.cell}/seed-{run.seed}: {type(exc).__name__}: {exc}")
            console.print_exception(max_frames=4)
            status = "failed"
        eta.add(run, time.perf_counter() - started)
        console.print(
            f"cell {run.cell}, seed {run.seed} {status} in {duration(time.perf_counter() - started)}", highlight=False
        )
    doc = write_study_report(plan)
    if failed:
        raise InstructVLError(
            f"{len(failed)} of {len(todo)} runs failed (the report covers the others; rerun to retry them):\n  "
            + "\n  ".join(failed)
        )
    return doc
