"""The power a study's design has before it runs: for each claim, the minimum detectable
effect (80% power, two-sided 5%) of its paired difference at the planned evaluation
samples and seeds, from planning assumptions (`grid.Power`), and the samples per task
that would bring it down to the claim's smallest effect d.

The model is the one the report's hierarchical bootstrap measures: a measure averages T
tasks; a task's paired difference has per-sample standard deviation `sample_sd` over its
n samples (the cells are scored on the same samples, and seeds reuse them, so more seeds
do not shrink this part); each cell's measure varies over training seeds with standard
deviation `seed_sd`, independently per cell, so the difference of two k-seed means adds
2 seed_sd^2 / k:

    se^2 = sample_sd^2 / T^2 * sum_t 1 / n_t  +  2 seed_sd^2 / k,   mde = 2.8 se.

Once runs have finished, the report's measured mde replaces these figures."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from instructvl.eval.uncertainty import POWER_Z
from instructvl.study.expand import Run, StudyPlan
from instructvl.study.task_types import task_type


@dataclass(frozen=True)
class ClaimPower:
    """One claim's planned design: tasks in its measure, samples per task (None: all, not
    known before the data is read), seeds per cell, planned mde, the samples per task that
    would make mde = d at these seeds (None: not reachable by samples alone, add seeds),
    and the mde a finished report measured (None before)."""

    claim: str
    measure: str
    tasks: int
    samples: list[int | None]
    seeds: int
    min_effect: float
    mde: float | None
    samples_for_d: int | None
    measured_mde: float | None


def measure_samples(run: Run, measure: str) -> list[int | None]:
    """Samples per task of the tasks `measure` averages in `run`'s evaluation: the smaller
    of the evaluation limit and the task's own cap; None where neither caps it."""
    from instructvl.eval.spec import resolve_tasks
    from instructvl.study.aggregate import measure_tasks

    specs = {s.name: s for s in resolve_tasks(run.evaluation.tasks)}
    info = {n: {"group": s.group, "type": task_type(s.resolved())} for n, s in specs.items()}
    out = []
    for task in measure_tasks(*measure.split(".", 1), info):
        if task in specs:
            caps = [c for c in (run.evaluation.limit or None, specs[task].limit) if c]
            out.append(min(caps) if caps else None)
    return out


def planned_mde(samples: list[int], seeds: int, sample_sd: float, seed_sd: float) -> float:
    """The minimum detectable effect of the design in the module docstring."""
    t = len(samples)
    variance = sample_sd**2 / t**2 * sum(1 / n for n in samples) + 2 * seed_sd**2 / seeds
    return POWER_Z * math.sqrt(variance)


def samples_for_effect(tasks: int, seeds: int, min_effect: float, sample_sd: float, seed_sd: float) -> int | None:
    """Samples per task (equal across tasks) at which the planned mde equals `min_effect`;
    None when seed noise alone already exceeds it."""
    room = (min_effect / POWER_Z) ** 2 - 2 * seed_sd**2 / seeds
    if room <= 0:
        return None
    return math.ceil(sample_sd**2 / (tasks * room))


def measured_mdes(out: Path) -> dict[str, float]:
    """Claim text -> the mde a finished study report (`out`/results.json) measured."""
    path = out / "results.json"
    if not path.is_file():
        return {}
    claims = json.loads(path.read_text()).get("claims", [])
    return {c["claim"]: c["difference"]["mde"] for c in claims if c.get("difference") and c["difference"].get("mde")}


def claim_powers(plan: StudyPlan) -> list[ClaimPower]:
    """The planned power of every claim of the plan's grid, over the selected seeds."""
    power = plan.grid.base.power
    measured = measured_mdes(Path(plan.out))
    rows = []
    for claim in plan.grid.claims:
        runs = [r for r in plan.runs if r.cell == claim.cell]
        seeds = len({r.seed for r in plan.selected if r.cell == claim.cell}) or len(runs)
        samples = measure_samples(runs[0], claim.measure)
        known = [n for n in samples if n]
        complete = bool(samples) and len(known) == len(samples)
        rows.append(
            ClaimPower(
                claim=claim.claim,
                measure=claim.measure,
                tasks=len(samples),
                samples=samples,
                seeds=seeds,
                min_effect=claim.min_effect,
                mde=planned_mde(known, seeds, power.sample_sd, power.seed_sd) if complete else None,
                samples_for_d=samples_for_effect(len(samples), seeds, claim.min_effect, power.sample_sd, power.seed_sd)
                if samples
                else None,
                measured_mde=measured.get(claim.claim),
            )
        )
    return rows


def samples_text(samples: list[int | None]) -> str:
    """E.g. "13 x 100", "13 x 64-128", "2 x all"."""
    known = sorted({n for n in samples if n})
    if not known:
        return f"{len(samples)} x all"
    spread = f"{known[0]}" if len(known) == 1 else f"{known[0]}-{known[-1]}"
    return f"{len(samples)} x {spread}" + (" (+ uncapped)" if None in samples else "")
