"""Evaluation tasks as data: a typed `TaskSpec` per task, read from `eval/tasks/*.yaml`.

A task file holds `defaults` (merged under every task of the file) and `tasks`, a
mapping from task name to its fields. A spec names its data source (a SynthVL dataset
and split, or a public-format reader with annotation paths), the prompt template set and
formatting mode, the output type (`generate` or `rank`) and, for ranking, the candidates,
the length normalisation (`sum` or `mean` log-probability per token) and the positive
candidate for AUC; the answer post-processing, the metric and its options, and the
generation length and search (greedy, or beam search with a length penalty), and for
generate tasks an optional LLM `judge` (`instructvl.eval.judge`) scored beside the metric.
`spec_hash` fingerprints the resolved spec but the judge, which changes no prediction
(a judge can be added to a finished run); results record both.

`resolve_tasks` takes task names, group names (`GROUPS`) and task files: a YAML path
(`my_tasks.yaml`) selects every task the file defines, as lmms-eval's `--include_path`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from instructvl.config.loader import read_yaml, validate
from instructvl.errors import InstructVLError
from instructvl.eval.judge.config import JudgeConfig
from instructvl.eval.metrics import METRICS, metric_options
from instructvl.eval.postprocess import check_ops
from instructvl.eval.provenance import fingerprint
from instructvl.eval.tasks import GROUPS, task_files

RANK_METRICS = ("top1", "auc", "mrr")
TASK_FILE_SUFFIXES = (".yaml", ".yml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SynthVLSource(_Strict):
    """A split of a SynthVL dataset (under `--data`, or the cached small suite)."""

    kind: Literal["synthvl"] = "synthvl"
    dataset: str
    split: str


class BaselineSplit(_Strict):
    """A training split of a public-format source, whose answers a generate task's majority
    baseline counts: its annotation files (default: the source's own) and reader options
    (merged over the source's, e.g. `{split: train}` for a Karpathy file)."""

    annotations: list[str] | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class FormatSource(_Strict):
    """A public dataset read by `instructvl.data.formats.read_dataset`. Paths are
    relative to the data root (`--data-root`), or absolute. `baseline`: a training split
    for the majority baseline (without one, a generate task has no majority baseline)."""

    kind: Literal["format"] = "format"
    format: str
    annotations: list[str]
    image_root: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    baseline: BaselineSplit | None = None

    def baseline_reading(self) -> tuple[list[str], dict[str, Any]] | None:
        """(annotations, reader options) of the baseline split, the source's own where it
        names none; None without a baseline split."""
        if self.baseline is None:
            return None
        return self.baseline.annotations or self.annotations, {**self.options, **self.baseline.options}

    @model_validator(mode="after")
    def _baseline_is_another_split(self) -> FormatSource:
        if self.baseline_reading() == (self.annotations, self.options):
            raise ValueError("the baseline split is the evaluated one: give it other annotations or reader options")
        return self

    @model_serializer(mode="wrap")
    def _without_unset_baseline(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The source as data; no `baseline` key when there is none (fingerprints stay as before the field)."""
        data = handler(self)
        if self.baseline is None:
            data.pop("baseline", None)
        return data


class TaskSpec(_Strict):
    """One evaluation task (see the module docstring)."""

    name: str
    version: int = 1
    suite: Literal["synthvl", "real"]
    held_out: bool
    category: str = ""
    source: SynthVLSource | FormatSource
    template: str | None = None  # template task type; None keeps the sample's own
    mode: str = "instruction"
    output: Literal["generate", "rank"]
    candidates: Literal["sample"] | list[str] = "sample"
    normalisation: Literal["sum", "mean"] = "sum"
    positive: str | None = None
    max_new_tokens: int = Field(10, ge=1)
    num_beams: int = Field(1, ge=1)  # 1: greedy decoding
    length_penalty: float = 1.0  # beam search only: score / length**penalty (-1 favours short answers)
    postprocess: list[str] = Field(default_factory=lambda: ["first_line", "strip"])
    metric: str
    metric_options: dict[str, Any] = Field(default_factory=dict)
    limit: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    judge: JudgeConfig | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TaskSpec:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; known: {sorted(METRICS)}")
        unknown = sorted(set(self.metric_options) - set(metric_options(self.metric)))
        if unknown:
            raise ValueError(
                f"metric {self.metric!r} has no options {unknown}; it takes {sorted(metric_options(self.metric))}"
            )
        if self.output == "rank" and self.metric not in RANK_METRICS:
            raise ValueError(f"a rank task is scored by one of {RANK_METRICS}, not {self.metric!r}")
        if self.metric == "auc" and (self.output != "rank" or not self.positive):
            raise ValueError("an auc task ranks candidates and names its `positive` candidate")
        if self.length_penalty != 1.0 and self.num_beams == 1:
            raise ValueError("length_penalty applies to beam search only: set num_beams > 1")
        if self.judge is not None and self.output != "generate":
            raise ValueError("a judge scores generated answers: a rank task cannot have one")
        check_ops(self.postprocess)
        return self

    @property
    def group(self) -> str:
        """Where the task's score is averaged: held-in, held-out (SynthVL), real (held-out
        real benchmarks) or real-held-in."""
        if self.suite == "real":
            return "real" if self.held_out else "real-held-in"
        return "held-out" if self.held_out else "held-in"

    def resolved(self) -> dict[str, Any]:
        """The spec as plain JSON data (what results record). Greedy decoding leaves out the
        beam-search fields, and a spec without a judge the `judge` field, so specs keep the
        fingerprints they had before those existed (an evaluation folder refuses a task
        whose fingerprint changed)."""
        data = self.model_dump(mode="json")
        if self.num_beams == 1:
            del data["num_beams"], data["length_penalty"]
        if self.judge is None:
            del data["judge"]
        return data


def spec_hash(spec: TaskSpec) -> str:
    """A short fingerprint of the resolved spec without its judge (changes whenever any
    field that can change a prediction does)."""
    return fingerprint({k: v for k, v in spec.resolved().items() if k != "judge"})


def parse_task_file(path: Path) -> dict[str, TaskSpec]:
    """The specs of one task file (`defaults` merged under each entry of `tasks`)."""
    data = read_yaml(path)
    unknown = set(data) - {"defaults", "tasks"}
    if unknown or not isinstance(data.get("tasks"), dict):
        raise InstructVLError(
            f"{path}: expected keys 'defaults' and 'tasks' (a mapping of task names), got {sorted(data)}"
        )
    defaults = data.get("defaults") or {}
    specs = {}
    for name, fields in data["tasks"].items():
        merged = {**defaults, **(fields or {}), "name": name}
        specs[name] = validate(TaskSpec, merged, f"task {name!r} in {path.name}")
    return specs


@functools.cache
def all_specs() -> dict[str, TaskSpec]:
    """Every packaged task spec by name."""
    specs: dict[str, TaskSpec] = {}
    for path in task_files():
        for name, spec in parse_task_file(path).items():
            if name in specs:
                raise InstructVLError(f"task {name!r} is defined twice (again in {path.name})")
            specs[name] = spec
    return specs


def group_members(group: str) -> list[str]:
    """Task names in a group (see `GROUPS`)."""
    specs = all_specs().values()
    if group == "synthvl":
        return [s.name for s in specs if s.suite == group]
    if group == "all":
        return [s.name for s in specs]
    return [s.name for s in specs if s.group == group]


def file_specs(path: Path) -> dict[str, TaskSpec]:
    """The specs of a task file given on the command line; its names must not be packaged ones."""
    if not path.is_file():
        raise InstructVLError(f"task file {path} does not exist; expected a YAML file with 'defaults' and 'tasks'")
    specs = parse_task_file(path)
    taken = sorted(set(specs) & set(all_specs()))
    if taken:
        raise InstructVLError(f"{path}: task name(s) {taken} are packaged tasks; give your tasks other names")
    return specs


def resolve_tasks(selection: str | list[str]) -> list[TaskSpec]:
    """Specs for a comma-separated list (or list) of task names, group names and task files."""
    items = selection.split(",") if isinstance(selection, str) else list(selection)
    chosen: dict[str, TaskSpec] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        if item.endswith(TASK_FILE_SUFFIXES):
            found = file_specs(Path(item))
        elif item in GROUPS:
            found = {n: all_specs()[n] for n in group_members(item)}
        elif item in all_specs():
            found = {item: all_specs()[item]}
        else:
            raise InstructVLError(
                f"unknown task {item!r}; groups: {', '.join(GROUPS)}; or a task file (.yaml); "
                f"tasks: {', '.join(all_specs())}"
            )
        for name, spec in found.items():
            if chosen.setdefault(name, spec) != spec:
                raise InstructVLError(f"task {name!r} is selected twice with different specs (from {item!r} again)")
    if not chosen:
        raise InstructVLError(f"no task selected; name tasks, a group ({', '.join(GROUPS)}) or a task file")
    return list(chosen.values())


def with_judge(spec: TaskSpec, judge: JudgeConfig | None) -> TaskSpec:
    """`spec` judged by `judge` when it is a generate task (rank tasks, and None, leave it as it is)."""
    if judge is None or spec.output != "generate":
        return spec
    return with_overrides(spec, judge=judge.model_dump())


def with_overrides(spec: TaskSpec, **fields: Any) -> TaskSpec:
    """A copy of `spec` with fields replaced (None values are ignored), re-validated."""
    changes = {k: v for k, v in fields.items() if v is not None}
    if not changes:
        return spec
    return validate(TaskSpec, {**spec.resolved(), **changes}, f"task {spec.name!r}")  # type: ignore[return-value]
