"""The training config: the model, the data, and a list of stages (what trains, at which
learning rate, on which mixture, for how many steps). Loaded from YAML with `key=value`
overrides; the fully resolved config is written into every run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from instructvl.config.loader import apply_overrides, load_model_config, read_yaml, validate
from instructvl.config.schema import FreezePolicy, ModelConfig
from instructvl.errors import InstructVLError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    steps: int
    lr: float = 1e-5
    warmup_steps: int = 1000
    warmup_start_lr: float = 1e-8
    min_lr_ratio: float = 0.0
    trainable: FreezePolicy = Field(default_factory=FreezePolicy)
    lr_multipliers: dict[Literal["vision", "head", "projector", "llm"], float] = Field(default_factory=dict)
    data: MixtureConfig = Field(default_factory=MixtureConfig)

    @model_validator(mode="after")
    def _check(self) -> StageConfig:
        if self.steps < 1 or self.warmup_steps < 0 or self.lr <= 0:
            raise ValueError("a stage needs steps >= 1, warmup_steps >= 0 and lr > 0")
        return self


class TrainConfig(_Strict):
    """A whole training run. `batch_size` is per process and micro-step; the global batch is
    batch_size x grad_accum x processes. AdamW with the paper's defaults.

    `distributed` is the strategy for several processes: `ddp` replicates the model;
    `fsdp` shards parameters, gradients and optimizer state across processes (torch FSDP2,
    `torch.distributed.fsdp.fully_shard`), for models whose trainable part does not fit one
    device (e.g. a fully tuned 7B LLM). Ignored with one process."""

    model: ModelConfig
    data_dir: str | None = None
    stages: list[StageConfig]
    batch_size: int = 8
    grad_accum: int = 1
    max_grad_norm: float | None = 1.0
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    max_length: int | None = None
    seed: int = 0
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    gradient_checkpointing: bool = False
    feature_cache: bool = False
    distributed: Literal["ddp", "fsdp"] = "ddp"
    log_every: int = 1
    eval_every: int = 0
    eval_samples_per_dataset: int = 16
    save_every: int = 0
    keep_last: int = 2

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if not self.stages:
            raise ValueError("stages must list at least one stage")
        if self.batch_size < 1 or self.grad_accum < 1 or self.keep_last < 1:
            raise ValueError("batch_size, grad_accum and keep_last must be >= 1")
        return self

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


def saved_config_matches(path: str | Path, cfg: TrainConfig) -> bool:
    """Whether the training config a run saved at `path` (its `config.yaml`) is `cfg`. The
    file is read through the current schema, so settings added since take their defaults;
    a missing file, or one no longer valid (a setting since removed), does not match."""
    from pydantic import ValidationError

    path = Path(path)
    if not path.is_file():
        return False
    try:
        saved = TrainConfig.model_validate(read_yaml(path))
    except ValidationError:
        return False
    return saved.model_dump(mode="json") == cfg.model_dump(mode="json")
