"""Training mixtures: declared weights, one deterministic resumable sampler, a draw log.

Dataset d is drawn with probability proportional to sqrt(size_d) x factor_d (the
InstructBLIP rule), size_d x factor_d, factor_d alone, or explicit weights. Draw t picks
a dataset from a uniform number derived from (seed, t), so the sampler's whole state is
a small dict (step, per-dataset epoch and position, counts); inside a dataset, examples
come in a fresh permutation every epoch. A held-out dataset in a training mixture is an
`InstructVLError`.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from instructvl.data.seeding import stable_seed, stable_uniform
from instructvl.errors import InstructVLError

RULES = ("sqrt", "size", "uniform")


@dataclass
class MixtureEntry:
    """One dataset in a mixture: its size, a manual factor or an explicit weight."""

    name: str
    size: int
    factor: float = 1.0
    weight: float | None = None
    held_out: bool = False


def mixture_probabilities(entries: list[MixtureEntry], rule: str = "sqrt") -> dict[str, float]:
    """Normalised sampling probabilities; errors on held-out, empty or mixed weight kinds."""
    if not entries:
        raise InstructVLError("a mixture needs at least one dataset")
    held_out = [e.name for e in entries if e.held_out]
    if held_out:
        raise InstructVLError(
            f"held-out dataset(s) {', '.join(held_out)} cannot be in a training mixture "
            "(they are for zero-shot evaluation only)"
        )
    if rule not in RULES:
        raise InstructVLError(f"unknown mixture rule {rule!r}; choose one of {', '.join(RULES)}")
    explicit = [e.weight is not None for e in entries]
    if any(explicit) and not all(explicit):
        raise InstructVLError("give explicit weights for every dataset of the mixture or for none")
    raw = {}
    for e in entries:
        if e.size <= 0:
            raise InstructVLError(f"dataset {e.name!r} in the mixture is empty")
        if e.weight is not None:
            raw[e.name] = float(e.weight)
        else:
            base = {"sqrt": math.sqrt(e.size), "size": float(e.size), "uniform": 1.0}[rule]
            raw[e.name] = base * e.factor
        if raw[e.name] < 0 or not math.isfinite(raw[e.name]):
            raise InstructVLError(f"dataset {e.name!r} has an invalid weight {raw[e.name]}")
    total = sum(raw.values())
    if total <= 0:
        raise InstructVLError("mixture weights sum to zero")
    return {k: v / total for k, v in raw.items()}


class Draw(NamedTuple):
    """One draw: the dataset, the example index in it, and that dataset's epoch."""

    dataset: str
    index: int
    epoch: int


@dataclass
class MixtureSampler:
    """Deterministic, resumable weighted sampler over datasets (see the module docstring).

    `state_dict()` / `load_state_dict()` save and restore it exactly; `counts` is the
    draw log (how many examples came from each dataset).
    """

    probabilities: dict[str, float]
    sizes: dict[str, int]
    seed: int = 0
    step: int = 0
    cursors: dict[str, list[int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if set(self.probabilities) != set(self.sizes):
            raise InstructVLError("mixture probabilities and sizes name different datasets")
        self._names = list(self.probabilities)
        acc, self._cum = 0.0, []
        for n in self._names:
            acc += self.probabilities[n]
            self._cum.append(acc)
        self.cursors = {n: list(self.cursors.get(n, [0, 0])) for n in self._names}
        self.counts = {n: int(self.counts.get(n, 0)) for n in self._names}
        self._perm: dict[str, tuple[int, list[int]]] = {}

    def _permutation(self, name: str, epoch: int) -> list[int]:
        cached = self._perm.get(name)
        if cached is None or cached[0] != epoch:
            order = list(range(self.sizes[name]))
            random.Random(stable_seed(self.seed, "perm", name, epoch)).shuffle(order)
            self._perm[name] = cached = (epoch, order)
        return cached[1]

    def dataset_at(self, step: int) -> str:
        """The dataset drawn at `step` (a pure function of seed and step)."""
        u = stable_uniform(self.seed, "mix", step) * self._cum[-1]
        return self._names[min(bisect.bisect_right(self._cum, u), len(self._names) - 1)]

    def draw(self) -> Draw:
        """The next (dataset, index, epoch)."""
        name = self.dataset_at(self.step)
        epoch, pos = self.cursors[name]
        index = self._permutation(name, epoch)[pos]
        pos += 1
        self.cursors[name] = [epoch + 1, 0] if pos == self.sizes[name] else [epoch, pos]
        self.counts[name] += 1
        self.step += 1
        return Draw(name, index, epoch)

    def __iter__(self) -> Iterator[Draw]:
        while True:
            yield self.draw()

    def state_dict(self) -> dict[str, Any]:
        """A small JSON-ready dict from which `load_state_dict` continues exactly."""
        return {
            "seed": self.seed,
            "step": self.step,
            "probabilities": dict(self.probabilities),
            "sizes": dict(self.sizes),
            "cursors": {k: list(v) for k, v in self.cursors.items()},
            "counts": dict(self.counts),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a saved state; it must describe the same mixture."""
        if state.get("sizes") != self.sizes or state.get("probabilities") != self.probabilities:
            raise InstructVLError("sampler state is for a different mixture (datasets, sizes or weights differ)")
        self.seed, self.step = int(state["seed"]), int(state["step"])
        self.cursors = {k: list(v) for k, v in state["cursors"].items()}
        self.counts = {k: int(v) for k, v in state["counts"].items()}
        self._perm = {}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MixtureSampler:
        """A sampler rebuilt from `state_dict()` output alone."""
        s = cls(dict(state["probabilities"]), dict(state["sizes"]), int(state["seed"]))
        s.load_state_dict(state)
        return s

    def draw_log(self) -> dict[str, Any]:
        """Per dataset: declared probability, examples drawn, and the empirical share."""
        total = max(1, self.step)
        return {
            "steps": self.step,
            "seed": self.seed,
            "datasets": {
                n: {
                    "probability": self.probabilities[n],
                    "drawn": self.counts[n],
                    "share": self.counts[n] / total,
                    "epoch": self.cursors[n][0],
                }
                for n in self._names
            },
        }

    def write_log(self, path: str | Path) -> None:
        """Writes `draw_log()` as JSON."""
        Path(path).write_text(json.dumps(self.draw_log(), indent=2) + "\n")


def build_sampler(entries: list[MixtureEntry], rule: str = "sqrt", seed: int = 0) -> MixtureSampler:
    """A sampler over `entries` with `mixture_probabilities(entries, rule)`."""
    return MixtureSampler(mixture_probabilities(entries, rule), {e.name: e.size for e in entries}, seed)
