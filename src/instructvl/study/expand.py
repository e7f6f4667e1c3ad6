"""A grid expanded into runs: one per cell x seed, each a `TrainConfig` (the base with the
cell's overrides; model and training seeded with the run's seed; step counts scaled), an
evaluation, and a folder `<out>/<cell>/seed-<s>/` holding `train/`, `eval/` and
`analysis/`. `--scale F` multiplies the stage's `steps` and `warmup_steps`, the training
`save_every` / `eval_every` and the evaluation limit (each at least 1; 0 stays 0), and
the analyses' scale."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from instructvl.config.loader import validate
from instructvl.errors import InstructVLError
from instructvl.study.analyses import check_analyses
from instructvl.study.grid import (
    RESERVED_TRAIN_KEYS,
    AnalysisSettings,
    Cell,
    Estimate,
    Evaluation,
    StudyGrid,
    load_grid,
    merged,
)
from instructvl.train.config import StageConfig, TrainConfig, resolve_model

SCALED_STAGE_KEYS = ("steps", "warmup_steps")
SCALED_TRAIN_KEYS = ("save_every", "eval_every")


@dataclass(frozen=True)
class Run:
    """One cell x seed: what to train, how to evaluate, which analyses, where."""

    cell: str
    seed: int
    config: TrainConfig
    evaluation: Evaluation
    analyses: tuple[str, ...]
    analysis: AnalysisSettings
    estimate: Estimate
    folder: Path

    @property
    def train_dir(self) -> Path:
        return self.folder / "train"

    @property
    def eval_dir(self) -> Path:
        return self.folder / "eval"

    @property
    def analysis_dir(self) -> Path:
        return self.folder / "analysis"

    def eval_samples(self) -> int | None:
        """Samples the evaluation scores at most (None: every sample, not known here)."""
        from instructvl.eval.spec import resolve_tasks

        limit = self.evaluation.limit
        return len(resolve_tasks(self.evaluation.tasks)) * limit if limit else None

    def estimated_seconds(self) -> float:
        """The plan's estimate: steps, evaluated samples, overhead and analyses."""
        e = self.estimate
        return (
            self.config.total_steps * e.train_step_s
            + (self.eval_samples() or 0) * e.eval_sample_s
            + e.run_overhead_s
            + len(self.analyses) * e.analysis_s * self.analysis.scale
        )


@dataclass(frozen=True)
class StudyPlan:
    """Every run of the grid (`runs`, what the report covers) and those selected to run now."""

    grid: StudyGrid
    path: Path
    scale: float
    out: Path
    data: Path | None
    runs: list[Run]
    selected: list[Run]


def scaled(n: int, scale: float) -> int:
    """`n` x `scale`, rounded, at least 1; 0 stays 0."""
    return 0 if n == 0 else max(1, round(n * scale))


def _scale_keys(data: dict, keys: tuple[str, ...], scale: float) -> dict:
    return {k: scaled(v, scale) if k in keys and isinstance(v, int) else v for k, v in data.items()}


def _path(value: str | None, grid_file: Path) -> str | None:
    return None if value is None else str(grid_file.parent / value)


def _run(grid: StudyGrid, grid_file: Path, cell: Cell, seed: int, scale: float, out: Path) -> Run:
    base = grid.base
    where = f"(study {grid.name}, cell {cell.name!r}"
    reserved = sorted(set(cell.train) & set(RESERVED_TRAIN_KEYS))
    if reserved:
        raise InstructVLError(f"{where}): train cannot set {reserved}; the study sets model, stages, data_dir and seed")
    try:
        model = resolve_model(
            base.model, [*base.model_overrides, *cell.model_overrides, f"seed={seed}"], grid_file.parent
        )
    except InstructVLError as exc:
        raise InstructVLError(f"{where}): {exc}") from None
    stage = validate(
        StageConfig, _scale_keys(merged(base.stage, cell.stage), SCALED_STAGE_KEYS, scale), f"{where}, stage)"
    )
    train = _scale_keys(merged(base.train, cell.train), SCALED_TRAIN_KEYS, scale)
    config = validate(
        TrainConfig,
        {
            **train,
            "model": model.model_dump(mode="json"),
            "stages": [stage.model_dump(mode="json")],
            "data_dir": _path(base.data, grid_file),
            "seed": seed,
        },
        f"{where}, train)",
    )
    evaluation = validate(Evaluation, merged(base.evaluation.model_dump(), cell.evaluation), f"{where}, evaluation)")
    evaluation = evaluation.model_copy(
        update={"limit": scaled(evaluation.limit, scale), "data_root": _path(evaluation.data_root, grid_file)}
    )
    estimate = validate(Estimate, merged(base.estimate.model_dump(), cell.estimate), f"{where}, estimate)")
    analysis = base.analysis.model_copy(update={"scale": base.analysis.scale * scale})
    return Run(
        cell.name,
        seed,
        config,
        evaluation,
        tuple(cell.analyses),
        analysis,
        estimate,  # type: ignore[arg-type]
        out / cell.name / f"seed-{seed}",
    )


def config_value(config: dict, dotted: str):
    """The value at a dotted key of a config dump (a numeric part indexes a list)."""
    for part in dotted.split("."):
        config = config[int(part)] if isinstance(config, list) else config[part]
    return config


def _check_series(grid: StudyGrid, runs: list[Run]) -> None:
    for series in grid.series:
        for run in (r for r in runs if r.cell in series.cells):
            try:
                config_value(run.config.model_dump(mode="json"), series.x)
            except (KeyError, IndexError, ValueError, TypeError):
                raise InstructVLError(
                    f"series {series.name!r}: {series.x!r} is not a key of cell {run.cell!r}'s training config"
                ) from None


def default_out(grid: StudyGrid, scale: float) -> Path:
    """`runs/study/<name>`, or `runs/study/<name>-x<scale>` when scaled."""
    return Path("runs") / "study" / (grid.name if scale == 1 else f"{grid.name}-x{scale:g}")


def plan_study(
    name_or_path: str,
    *,
    scale: float = 1.0,
    seeds: int | None = None,
    cells: list[str] | None = None,
    out: str | Path | None = None,
) -> StudyPlan:
    """The study's runs (every cell x seed of the grid) and the selection to run: the
    first `seeds` seeds, the named `cells`. Every cell's config is validated here."""
    if scale <= 0:
        raise InstructVLError(f"--scale must be > 0, got {scale}")
    grid, path = load_grid(name_or_path)
    names = [c.name for c in grid.cells]
    unknown = sorted(set(cells or []) - set(names))
    if unknown:
        raise InstructVLError(f"unknown cells {unknown} in study {grid.name}; cells: {', '.join(names)}")
    if seeds is not None and not 1 <= seeds <= len(grid.seeds):
        raise InstructVLError(f"--seeds must be between 1 and {len(grid.seeds)} (the grid's seeds: {grid.seeds})")
    check_analyses(sorted({a for c in grid.cells for a in c.analyses}))
    folder = Path(out) if out else default_out(grid, scale)
    runs = [_run(grid, path, cell, seed, scale, folder) for seed in grid.seeds for cell in grid.cells]  # seed-major
    _check_series(grid, runs)
    chosen_seeds = grid.seeds[: seeds or len(grid.seeds)]
    selected = [r for r in runs if r.seed in chosen_seeds and (not cells or r.cell in cells)]
    return StudyPlan(
        grid, path, scale, folder, None if grid.base.data is None else Path(_path(grid.base.data, path)), runs, selected
    )
