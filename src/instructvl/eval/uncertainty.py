"""Uncertainty of scores: percentile bootstrap intervals over samples, over seeds and
samples (hierarchical), and of paired differences between runs scored on the same samples.

A task's statistic on a resample is recomputed from its per-sample values: the mean of
the per-sample values for every metric whose score is that mean (top-1, VQA / iVQA
accuracy, MRR; CIDEr-D with the document frequencies of the full set held fixed, the usual
approximation), and ROC AUC recomputed from the resampled (score, label) pairs (a
resample with one class only is dropped). An average over tasks is, per replicate, the
mean of its tasks' replicates (each task resampled on its own).

Several seeds (one run per seed, scored on the same samples): replicate b draws the
seeds with replacement, and for each drawn seed draws the samples with replacement; the
statistic is the mean over the drawn seeds. A paired difference between two cells uses
the same sample draws for both (the samples are shared), and seed draws of each cell's
own. Draws depend only on (seed, task), so every cell and every run sees the same sample
indices: differences of replicates are paired.

Intervals are 95% percentile intervals from `RESAMPLES` replicates with a fixed seed.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from instructvl.errors import InstructVLError

RESAMPLES = 2000
LEVEL = 0.95
SEED = 0
POWER_Z = 1.959964 + 0.841621
"""z(0.975) + z(0.80): a true effect of POWER_Z standard errors is detected (95% interval
excluding 0) with probability 0.8; the minimum detectable effect is POWER_Z x SE."""


@dataclass(frozen=True)
class TaskValues:
    """One run's scored samples of one task: ids, per-sample metric values, and for ROC AUC
    the scores and 0/1 labels (the statistic is recomputed from them)."""

    metric: str
    ids: tuple[str, ...]
    values: np.ndarray
    labels: np.ndarray | None = None

    @classmethod
    def from_rows(cls, metric: str, rows: list[dict[str, Any]]) -> TaskValues:
        """From scored rows ({"id", "prediction", "reference", "value"}, as `scored/<task>.jsonl`)."""
        if not rows:
            raise InstructVLError(f"{metric}: no scored samples to bootstrap")
        ids = tuple(str(r["id"]) for r in rows)
        if metric == "auc":
            scores = np.array([float(r["prediction"]) for r in rows])
            return cls(metric, ids, scores, np.array([int(r["reference"]) for r in rows]))
        return cls(metric, ids, np.array([float(r["value"]) for r in rows]))

    def restricted(self, ids: tuple[str, ...]) -> TaskValues:
        """The same task on `ids` only (all of them must be present), in that order."""
        where = {i: k for k, i in enumerate(self.ids)}
        missing = [i for i in ids if i not in where]
        if missing:
            raise InstructVLError(f"{len(missing)} samples missing from a run (e.g. {missing[:3]})")
        order = np.array([where[i] for i in ids], dtype=int)
        return TaskValues(self.metric, ids, self.values[order], None if self.labels is None else self.labels[order])


def _auc(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """ROC AUC along the last axis (Mann-Whitney with average ranks); NaN where one class is absent."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=-1)
    positives = labels.sum(-1)
    negatives = labels.shape[-1] - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * labels).sum(-1) - positives * (positives + 1) / 2) / (positives * negatives)
    return np.where((positives == 0) | (negatives == 0), np.nan, auc)


def statistic(metric: str, values: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """The task statistic along the last axis of `values` (the samples of each resample)."""
    if metric == "auc":
        if labels is None:
            raise InstructVLError("auc needs labels to bootstrap")
        return _auc(values, labels)
    return values.mean(-1)


def _rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(k.encode("utf-8")) for k in keys)])


def sample_draws(task: str, n: int, slots: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """[resamples, slots, n] sample indices drawn with replacement, the same for every run
    of `task` (so that replicates of different runs are paired)."""
    return _rng(seed, "samples", task).integers(0, n, size=(resamples, slots, n))


def seed_draws(task: str, who: str, seeds: int, slots: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """[resamples, slots] indices of seeds drawn with replacement for run set `who`
    (zeros for a single seed)."""
    if seeds == 1:
        return np.zeros((resamples, slots), dtype=int)
    return _rng(seed, "seeds", task, who).integers(0, seeds, size=(resamples, slots))


def replicates(runs: list[TaskValues], samples: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """[resamples] bootstrap replicates of the mean over seeds of the task statistic:
    `runs` are one cell's seeds (same ids, same order), `samples` [R, S, n] and `seeds`
    [R, S] the draws."""
    stacked = np.stack([r.values for r in runs])  # [k, n]
    picked = stacked[seeds[..., None], samples]  # [R, S, n]
    labels = None if runs[0].labels is None else runs[0].labels[samples]
    per_slot = statistic(runs[0].metric, picked, labels)  # [R, S]; AUC: NaN where a draw has one class
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a replicate whose every draw is NaN stays NaN
        return np.nanmean(per_slot, axis=-1)


def interval(reps: np.ndarray, level: float = LEVEL) -> list[float] | None:
    """The percentile interval [lo, hi] of replicates (NaNs dropped); None when none are finite."""
    kept = reps[np.isfinite(reps)]
    if kept.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(kept, [tail, 100 - tail])
    return [float(lo), float(hi)]


def standard_error(reps: np.ndarray) -> float | None:
    """The bootstrap standard error (replicates' standard deviation; NaNs dropped)."""
    kept = reps[np.isfinite(reps)]
    return float(kept.std(ddof=1)) if kept.size > 1 else None


def common_ids(sets: list[TaskValues]) -> tuple[str, ...]:
    """The sample ids every run has, in the first run's order."""
    shared = set(sets[0].ids).intersection(*(s.ids for s in sets[1:]))
    return tuple(i for i in sets[0].ids if i in shared)


def cell_replicates(task: str, who: str, runs: list[TaskValues], ids: tuple[str, ...], slots: int) -> np.ndarray:
    """Replicates of one cell's (or run's) task score on samples `ids`, with `slots` seed
    draws per replicate (the larger seed count of the cells being compared)."""
    aligned = [r.restricted(ids) for r in runs]
    samples = sample_draws(task, len(ids), slots)
    return replicates(aligned, samples, seed_draws(task, who, len(aligned), slots))


def run_interval(task: str, values: TaskValues) -> dict[str, Any]:
    """A single run's task score with its interval and replicates (for averages)."""
    reps = cell_replicates(task, "run", [values], values.ids, 1)
    return {"ci": interval(reps), "replicates": reps}


def mean_replicates(per_task: list[np.ndarray]) -> np.ndarray:
    """Replicates of an average over tasks: per replicate, the mean of the tasks' replicates."""
    return np.mean(np.stack(per_task), axis=0)


@dataclass(frozen=True)
class Replicated:
    """A point estimate (a score, or a difference of scores) with its bootstrap replicates
    and the number of samples it rests on."""

    point: float
    reps: np.ndarray
    n: int


def task_point(runs: list[TaskValues], ids: tuple[str, ...]) -> float:
    """The mean over seeds of the task statistic on `ids`."""
    aligned = [r.restricted(ids) for r in runs]
    return float(np.mean([statistic(r.metric, r.values, r.labels) for r in aligned]))


def cell_scores(task_runs: dict[str, list[TaskValues]], who: str) -> dict[str, Replicated]:
    """Each task's score of one cell (its seeds' runs) with hierarchical replicates."""
    out = {}
    for task, runs in task_runs.items():
        ids = common_ids(runs)
        if ids:
            out[task] = Replicated(task_point(runs, ids), cell_replicates(task, who, runs, ids, len(runs)), len(ids))
    return out


def paired_tasks(
    task_runs_a: dict[str, list[TaskValues]], task_runs_b: dict[str, list[TaskValues]], names: tuple[str, str]
) -> dict[str, Replicated]:
    """A minus B on each task both have, on the samples both scored: paired replicates
    (shared sample draws; each side's own seed draws, as many as the larger seed count)."""
    out = {}
    for task in task_runs_a:
        if task not in task_runs_b:
            continue
        runs_a, runs_b = task_runs_a[task], task_runs_b[task]
        ids = common_ids(runs_a + runs_b)
        if not ids:
            continue
        slots = max(len(runs_a), len(runs_b))
        reps = cell_replicates(task, names[0], runs_a, ids, slots) - cell_replicates(task, names[1], runs_b, ids, slots)
        out[task] = Replicated(task_point(runs_a, ids) - task_point(runs_b, ids), reps, len(ids))
    return out


def averaged(entries: list[Replicated]) -> Replicated | None:
    """The mean over tasks (of scores or of differences), replicate by replicate; None for none."""
    if not entries:
        return None
    return Replicated(
        float(np.mean([e.point for e in entries])),
        mean_replicates([e.reps for e in entries]),
        sum(e.n for e in entries),
    )


def paired_difference(
    task_runs_a: dict[str, list[TaskValues]], task_runs_b: dict[str, list[TaskValues]], names: tuple[str, str]
) -> dict[str, Any]:
    """A minus B on each task both have and on the average over those tasks:
    {"tasks": {task: summary}, "average": summary or None} (see `summary`)."""
    tasks = paired_tasks(task_runs_a, task_runs_b, names)
    average = averaged(list(tasks.values()))
    return {
        "tasks": {t: summary(e.point, e.reps, e.n) for t, e in tasks.items()},
        "average": None if average is None else summary(average.point, average.reps, None),
    }


def summary(point: float, reps: np.ndarray, n: int | None) -> dict[str, Any]:
    """A difference (or score) with its 95% interval, standard error and minimum detectable effect."""
    se = standard_error(reps)
    return {"diff": point, "ci": interval(reps), "se": se, "mde": None if se is None else POWER_Z * se, "n": n}


def run_values(run_dir: str | Path, results: dict[str, Any]) -> dict[str, TaskValues]:
    """{task: TaskValues} of an evaluation folder's scored tasks (`scored/<task>.jsonl`)."""
    from instructvl.eval.records import read_jsonl

    out = {}
    for task in results["tasks"]:
        path = Path(run_dir) / "scored" / f"{task['task']}.jsonl"
        if task.get("score") is not None and path.is_file():
            out[task["task"]] = TaskValues.from_rows(task["metric"], list(read_jsonl(path)))
    return out
