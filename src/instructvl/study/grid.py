"""A study grid: one YAML file under `configs/study/` naming a base run (model, training
stage, evaluation), the seeds, and the cells, each a set of overrides of that base.

    name: families
    description: ...
    base:
      model: tiny-offline            # preset, YAML path (relative to the grid) or model dir
      model_overrides: []            # key=value, as `--set`
      data: null                     # training / SynthVL folder (null: the cached default suite)
      train: {batch_size: 8}         # TrainConfig fields (not model, stages, data_dir, seed)
      stage: {steps: 40, lr: 1.0e-3, trainable: {...}, data: {mode: instruction}}  # StageConfig
      evaluation: {tasks: [held-in, held-out], limit: 8}
      estimate: {train_step_s: 4.0, eval_sample_s: 0.8, run_overhead_s: 30, analysis_s: 300}
      analysis: {scale: 0.5, options: {interventions: {window: 3}}}   # for cells' analyses
      power: {sample_sd: 0.4, seed_sd: 0.02}   # planning assumptions for the dry-run's mde per claim
    seeds: [0, 1, 2]
    reference: instructblip          # the cell others are compared with (default: the first)
    cells:
      - name: blip2
        description: ...
        model_overrides: [head.type=qformer]   # appended to the base's
        stage: {trainable: {llm: lora}}          # merged into the base's (mappings key by key)
        evaluation: {...}; train: {...}; estimate: {...}; analyses: [probes]
    series:                          # optional line plots: a training config key against the score
      - {name: injection layer, x: model.llm.inject_layer, cells: [inject-0, inject-10]}
    claims:                          # optional: the source papers' claims, checked in the report
      - {claim: instruction-aware features help on held-out tasks, source: "InstructBLIP, Table 5",
         cell: instructblip, versus: blip2, measure: groups.held-out}          # expect: higher (default) or same
                                     # min_effect: 0.03 (default 0.02: d, in score units, for "no difference")

Unknown keys are errors naming the key and listing the valid ones; cell overrides are
checked when the grid is expanded into training configs (`instructvl.study.expand`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from instructvl.config.loader import read_yaml, validate
from instructvl.errors import InstructVLError
from instructvl.study.stats import DEFAULT_MIN_EFFECT

STUDY_DIR = Path("configs") / "study"
RESERVED_TRAIN_KEYS = ("model", "stages", "data_dir", "seed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evaluation(_Strict):
    """What each run is evaluated on: task names or groups, samples per task (the first
    N of each; 0: all, and `--scale` leaves it so), an optional template mode override,
    and where real benchmarks live (`data_root`)."""

    tasks: list[str] = Field(min_length=1)
    limit: int = Field(ge=0)
    mode: str | None = None
    data_root: str | None = None


class Estimate(_Strict):
    """Seconds the dry-run plan assumes: per training step, per evaluated sample, per run
    (building and loading models), and per analysis of a trained run at analysis scale 1."""

    train_step_s: float = Field(gt=0)
    eval_sample_s: float = Field(gt=0)
    run_overhead_s: float = Field(0.0, ge=0)
    analysis_s: float = Field(0.0, ge=0)


class Power(_Strict):
    """Planning assumptions for the dry-run's minimum detectable effect per claim
    (`study.power`): the per-sample standard deviation of a task's paired difference
    between two cells, and the standard deviation of a cell's measure over training seeds,
    both in score units. The defaults are conservative figures for 0-1 metrics; a finished
    report measures the real ones."""

    sample_sd: float = Field(0.4, gt=0)
    seed_sd: float = Field(0.02, ge=0)


class AnalysisSettings(_Strict):
    """How the cells' analyses run: `scale` multiplies their sample counts (and so does
    `--scale`); `options` are keyword arguments per analysis (e.g. interventions: window)."""

    scale: float = Field(1.0, gt=0)
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Base(_Strict):
    """The run every cell starts from (see the module docstring)."""

    model: str
    model_overrides: list[str] = Field(default_factory=list)
    data: str | None = None
    train: dict[str, Any] = Field(default_factory=dict)
    stage: dict[str, Any]
    evaluation: Evaluation
    estimate: Estimate
    power: Power = Field(default_factory=Power)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)

    @model_validator(mode="after")
    def _check(self) -> Base:
        reserved = sorted(set(self.train) & set(RESERVED_TRAIN_KEYS))
        if reserved:
            raise ValueError(f"base.train cannot set {reserved}: the study sets model, stages, data_dir and seed")
        return self


class Cell(_Strict):
    """One configuration of the study: overrides of the base (merged key by key)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str
    model_overrides: list[str] = Field(default_factory=list)
    train: dict[str, Any] = Field(default_factory=dict)
    stage: dict[str, Any] = Field(default_factory=dict)
    evaluation: dict[str, Any] = Field(default_factory=dict)
    estimate: dict[str, Any] = Field(default_factory=dict)
    analyses: list[str] = Field(default_factory=list)


class Series(_Strict):
    """A line plot of the group averages over `cells` against `x`, a dotted key of their
    training config (e.g. `model.llm.inject_layer`)."""

    name: str
    x: str
    cells: list[str] = Field(min_length=2)


MEASURE_KINDS = ("groups", "task_types", "tasks")


class Claim(_Strict):
    """A source paper's claim about `cell` against `versus` on `measure` (`groups.<group>`,
    `task_types.<type>` or `tasks.<task>`, as in the study's tables): that it scores
    higher (`expect: higher`), or the same (`expect: same`, e.g. "keeps performance").
    `min_effect`: the smallest difference worth seeing, in score units (0.02 = 2 points
    x100): "same" / "no difference" needs the 95% interval of the paired difference
    inside +-min_effect."""

    claim: str
    source: str
    cell: str
    versus: str
    measure: str = Field(pattern=r"^(groups|task_types|tasks)\.[^.]+$")
    expect: Literal["higher", "same"] = "higher"
    min_effect: float = Field(default=DEFAULT_MIN_EFFECT, gt=0)


class StudyGrid(_Strict):
    """A whole study: base, seeds, cells, the reference cell, optional series and the
    papers' claims the report checks."""

    name: str
    description: str
    base: Base
    seeds: list[int] = Field(min_length=1)
    reference: str | None = None
    cells: list[Cell] = Field(min_length=1)
    series: list[Series] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> StudyGrid:
        names = [c.name for c in self.cells]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"cell names must be unique; repeated: {repeated}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds}")
        referenced = {n for s in self.series for n in s.cells} | ({self.reference} if self.reference else set())
        referenced |= {n for c in self.claims for n in (c.cell, c.versus)}
        unknown = sorted(referenced - set(names))
        if unknown:
            raise ValueError(f"reference / series / claims name unknown cells {unknown}; cells: {names}")
        return self

    @property
    def reference_cell(self) -> str:
        """The cell the others are compared with."""
        return self.reference or self.cells[0].name

    def cell(self, name: str) -> Cell:
        """The cell called `name`."""
        return next(c for c in self.cells if c.name == name)


def study_dirs() -> list[Path]:
    """Where study names are looked up: ./configs/study, then the source checkout's."""
    checkout = Path(__file__).resolve().parents[3] / STUDY_DIR
    return list(dict.fromkeys([Path.cwd() / STUDY_DIR, checkout]))


def list_studies() -> list[str]:
    """Names of the study grids found in `study_dirs()`."""
    return sorted({p.stem for d in study_dirs() if d.is_dir() for p in d.glob("*.yaml")})


def study_path(name_or_path: str) -> Path:
    """The grid file of a study name or a path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        if not path.is_file():
            raise InstructVLError(f"study grid not found: {path}")
        return path
    for folder in study_dirs():
        if (folder / f"{name_or_path}.yaml").is_file():
            return folder / f"{name_or_path}.yaml"
    raise InstructVLError(
        f"unknown study {name_or_path!r}; studies: {', '.join(list_studies()) or 'none found'} "
        f"(in {', '.join(map(str, study_dirs()))}), or give a path to a grid YAML"
    )


def load_grid(name_or_path: str) -> tuple[StudyGrid, Path]:
    """The validated grid of a study name or path, and its file."""
    path = study_path(name_or_path)
    return validate(StudyGrid, read_yaml(path), f"({path})"), path  # type: ignore[return-value]


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`base` with `override` applied: mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
