"""Trainability in one place: `apply_freeze_policy` sets requires_grad per module, keeps
frozen modules in eval mode, and reports trainable / frozen parameter counts per module."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from torch import nn

from instructvl.config.schema import FreezePolicy
from instructvl.errors import InstructVLError


@dataclass
class ModuleCount:
    """Parameter counts of one module."""

    module: str
    trainable: int
    frozen: int


@dataclass
class TrainabilityReport:
    """Per-module counts after applying a policy."""

    rows: list[ModuleCount]

    @property
    def trainable(self) -> int:
        return sum(r.trainable for r in self.rows)

    @property
    def total(self) -> int:
        return sum(r.trainable + r.frozen for r in self.rows)

    def table(self) -> Table:
        """A rich table: module, trainable, frozen, total."""
        table = Table(title="parameters")
        for col in ("module", "trainable", "frozen", "total"):
            table.add_column(col, justify="left" if col == "module" else "right")
        for r in [*self.rows, ModuleCount("all", self.trainable, self.total - self.trainable)]:
            table.add_row(r.module, f"{r.trainable:,}", f"{r.frozen:,}", f"{r.trainable + r.frozen:,}")
        return table


def _set(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def _llm_params(model, policy: FreezePolicy) -> None:
    llm = model.llm
    if policy.llm == "full":
        _set(llm, True)
    elif policy.llm == "lora":
        lora = [p for n, p in llm.named_parameters() if ".lora_" in n]
        if not lora:
            raise InstructVLError("freeze policy llm: lora needs a model built with llm.lora set (LoRA adapters)")
        for p in lora:
            p.requires_grad_(True)
    elif policy.llm == "layers":
        start, end = policy.llm_layers
        if end > len(llm.layers):
            raise InstructVLError(f"llm_layers [{start}, {end}) but the language model has {len(llm.layers)} layers")
        for layer in llm.layers[start:end]:
            _set(layer, True)


def count_parameters(model) -> TrainabilityReport:
    """Trainable and frozen counts for vision, head, projector and llm."""
    rows = []
    for name in ("vision", "head", "projector", "llm"):
        params = list(getattr(model, name).parameters())
        trainable = sum(p.numel() for p in params if p.requires_grad)
        rows.append(ModuleCount(name, trainable, sum(p.numel() for p in params) - trainable))
    return TrainabilityReport(rows)


def apply_freeze_policy(model, policy: FreezePolicy, console=None) -> TrainabilityReport:
    """Applies `policy` to a VisionLanguageModel: requires_grad per module, frozen modules
    in eval mode (they stay so through `model.train()`), and every parameter that becomes
    trainable recorded in `model.trained_keys` (so it is saved). Prints the counts table
    to `console` when given."""
    _set(model, False)
    _set(model.vision, policy.vision)
    _set(model.head, policy.head)
    _set(model.projector, policy.projector)
    _llm_params(model, policy)
    model.frozen_modules = [
        m
        for m in (model.vision, model.head, model.projector, model.llm)
        if not any(p.requires_grad for p in m.parameters())
    ]
    model.trained_keys |= {n for n, p in model.named_parameters() if p.requires_grad}
    model.train(model.training)
    report = count_parameters(model)
    if console is not None:
        console.print(report.table())
    return report
