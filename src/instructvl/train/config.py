"""The training config: the model, the data, and a list of stages (what trains, at which
learning rate, on which mixture, for how many steps). Loaded from YAML with `key=value`
overrides; the fully resolved config is written into every run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from instructvl.config.loader import apply_overrides, load_model_config, read_yaml, validate
from instructvl.config.schema import FreezePolicy, ModelConfig
from instructvl.errors import InstructVLError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_Beta = Annotated[float, Field(ge=0, lt=1)]


class MixtureConfig(_Strict):
    """Which held-in datasets, formatted how, weighted how (sqrt of size x factor by
    default; `weights` sets them explicitly). `datasets: null` means every held-in set."""

    datasets: list[str] | None = None
    mode: Literal["instruction", "multitask", "caption-only"] = "instruction"
    rule: Literal["sqrt", "size", "uniform"] = "sqrt"
    factors: dict[str, float] | None = None
    weights: dict[str, float] | None = None


class StageConfig(_Strict):
    """One training stage. The learning rate warms up linearly from `warmup_start_lr` to
    `lr` over `warmup_steps`, then follows a cosine to `lr * min_lr_ratio`.
    `lr_multipliers` scales the rate per module (vision, head, projector, llm)."""

    name: str = "instruction-tuning"
    steps: int = Field(ge=1)
    lr: float = Field(1e-5, gt=0)
    warmup_steps: int = Field(1000, ge=0)
    warmup_start_lr: float = Field(1e-8, ge=0)
    min_lr_ratio: float = Field(0.0, ge=0, le=1)
    trainable: FreezePolicy = Field(default_factory=FreezePolicy)
    lr_multipliers: dict[Literal["vision", "head", "projector", "llm"], float] = Field(default_factory=dict)
    data: MixtureConfig = Field(default_factory=MixtureConfig)


class TrainConfig(_Strict):
    """A whole training run. `batch_size` is per process and micro-step; the global batch is
    batch_size x grad_accum x processes. AdamW with the paper's defaults.

    `distributed` is the strategy for several processes: `ddp` replicates the model;
    `fsdp` shards parameters, gradients and optimizer state across processes (torch FSDP2,
    `torch.distributed.fsdp.fully_shard`), for models whose trainable part does not fit one
    device (e.g. a fully tuned 7B LLM). Ignored with one process.

    Held-in validation (`eval_every` > 0) runs before the first step, every `eval_every`
    steps and after the last one, on the first `eval_samples_per_dataset` val samples of
    each dataset of the current stage, in batches of `eval_batch_size` (no gradients, so it
    can be larger than `batch_size`)."""

    model: ModelConfig
    data_dir: str | None = None
    stages: list[StageConfig] = Field(min_length=1)
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_grad_norm: float | None = Field(1.0, gt=0)
    weight_decay: float = Field(0.05, ge=0)
    betas: tuple[_Beta, _Beta] = (0.9, 0.999)
    max_length: int | None = Field(None, ge=1)
    seed: int = Field(0, ge=0)
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    gradient_checkpointing: bool = False
    feature_cache: bool = False
    distributed: Literal["ddp", "fsdp"] = "ddp"
    log_every: int = Field(1, ge=1)
    eval_every: int = Field(0, ge=0)
    eval_samples_per_dataset: int = Field(16, ge=1)
    eval_batch_size: int = Field(16, ge=1)
    save_every: int = Field(0, ge=0)
    keep_last: int = Field(2, ge=1)

    @property
    def total_steps(self) -> int:
        return sum(s.steps for s in self.stages)


def resolve_model(model: str, overrides: list[str], relative_to: Path) -> ModelConfig:
    """The model config of a preset name, a model directory or a YAML path (relative to
    `relative_to`), with `key=value` overrides."""
    ref = relative_to / model if model.endswith((".yaml", ".yml")) else model
    return load_model_config(str(ref), overrides)


def load_train_config(path: str, overrides: list[str] | None = None) -> TrainConfig:
    """Reads a training YAML, applies overrides, and resolves its `model` (a preset name, a
    YAML path relative to the file, or an inline mapping; `model_overrides` apply to it)."""
    file = Path(path)
    if not file.is_file():
        raise InstructVLError(f"training config not found: {path}")
    data: dict[str, Any] = apply_overrides(read_yaml(file), overrides or [])
    model = data.get("model")
    model_overrides = data.pop("model_overrides", None) or []
    if isinstance(model, str):
        data["model"] = resolve_model(model, model_overrides, file.parent).model_dump(mode="json")
    elif isinstance(model, dict):
        data["model"] = apply_overrides(model, model_overrides)
    else:
        raise InstructVLError(f"{path}: `model` must be a preset name, a YAML path or a mapping")
    return validate(TrainConfig, data, f"({path})")  # type: ignore[return-value]


OUTPUT_ONLY_KEYS = ("log_every", "save_every", "keep_last", "eval_every", "eval_batch_size")
"""Training keys a resumed run may change: they decide what is logged, checkpointed and
validated when, never the weights or the losses of a step."""


def load_saved_config(path: str | Path) -> TrainConfig:
    """The training config a run saved at `path` (its `config.yaml`), read through the
    current schema, so settings added since take their defaults. A missing file, or one no
    longer valid (a setting since removed), is an `InstructVLError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InstructVLError(f"{path} not found: the run's record of its training config is missing")
    return validate(TrainConfig, read_yaml(path), f"({path})")  # type: ignore[return-value]


def saved_config_matches(path: str | Path, cfg: TrainConfig) -> bool:
    """Whether the training config a run saved at `path` (see `load_saved_config`) is `cfg`;
    a missing or no longer valid file does not match."""
    try:
        saved = load_saved_config(path)
    except InstructVLError:
        return False
    return saved.model_dump(mode="json") == cfg.model_dump(mode="json")


def _differences(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) for every leaf that differs between two nested
    dicts / lists (a list index is a key part: `stages.0.steps`; a missing entry is None)."""
    if isinstance(old, list) and isinstance(new, list):
        old, new = dict(enumerate(old)), dict(enumerate(new))
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [] if old == new else [(prefix.rstrip("."), old, new)]
    return [d for k in sorted(set(old) | set(new)) for d in _differences(old.get(k), new.get(k), f"{prefix}{k}.")]


def training_changes(recorded: TrainConfig, cfg: TrainConfig) -> list[str]:
    """`key: old -> new` for every key in which `cfg` would train differently from
    `recorded` (model and training keys alike; `OUTPUT_ONLY_KEYS` are left out)."""
    return [
        f"{key}: {old!r} -> {new!r}"
        for key, old, new in _differences(recorded.model_dump(mode="json"), cfg.model_dump(mode="json"))
        if key not in OUTPUT_ONLY_KEYS
    ]
