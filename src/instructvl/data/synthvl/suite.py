"""Training on a generated suite: its mixture entries, a sampler, and a stream of
formatted samples drawn from it.

Typical use (training code)::

    stream = TrainingStream.open(root, mode="instruction", seed=0)
    sample = stream.next()              # a formatted Sample ending with its target
    state = stream.state_dict()         # save with the checkpoint
    stream.load_state_dict(state)       # resume: the same draws continue
    stream.sampler.write_log(run_dir / "mixture_log.json")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructvl.data.formatting import CAPTION_TASKS, format_sample
from instructvl.data.mixture import MixtureEntry, MixtureSampler, build_sampler
from instructvl.data.schema import Sample
from instructvl.data.seeding import stable_seed
from instructvl.data.synthvl.loader import LoadReport, load_manifest, load_raw
from instructvl.errors import InstructVLError

DEFAULT_FACTORS = {"okvqa": 2.0, "aokvqa": 0.5}
"""InstructBLIP's manual adjustments: OKVQA up, A-OKVQA (multiple choice) down."""


def mixture_entries(
    root: str | Path,
    names: list[str] | None = None,
    *,
    factors: dict[str, float] | None = None,
    weights: dict[str, float] | None = None,
    mode: str = "instruction",
    split: str = "train",
) -> list[MixtureEntry]:
    """Mixture entries for a generated suite: by default every held-in dataset (caption
    datasets only in caption-only mode); a held-out name gives an error later."""
    datasets = load_manifest(root)["datasets"]
    factors = DEFAULT_FACTORS if factors is None else factors
    if names is None:
        names = [
            n
            for n, d in datasets.items()
            if d["split"] == "held-in" and (mode != "caption-only" or d["task"] in CAPTION_TASKS)
        ]
    entries = []
    for n in names:
        if n not in datasets:
            raise InstructVLError(f"dataset {n!r} is not in {root}/manifest.json")
        d = datasets[n]
        if mode == "caption-only" and d["task"] not in CAPTION_TASKS:
            raise InstructVLError(f"caption-only mixtures take caption datasets only; {n!r} is a {d['task']!r} task")
        entries.append(
            MixtureEntry(
                n,
                d["sizes"].get(split, 0) if d["split"] == "held-in" else d["size"],
                factors.get(n, 1.0),
                (weights or {}).get(n),
                d["split"] == "held-out",
            )
        )
    return entries


def training_mixture(
    root: str | Path,
    names: list[str] | None = None,
    *,
    rule: str = "sqrt",
    seed: int = 0,
    factors: dict[str, float] | None = None,
    weights: dict[str, float] | None = None,
    mode: str = "instruction",
) -> MixtureSampler:
    """A `MixtureSampler` over the suite's training splits (errors on held-out names)."""
    entries = mixture_entries(root, names, factors=factors, weights=weights, mode=mode)
    if weights is not None:
        missing = [e.name for e in entries if e.weight is None]
        if missing:
            raise InstructVLError(f"explicit weights given but none for {', '.join(missing)}")
    return build_sampler(entries, rule, seed)


class TrainingStream:
    """Formatted training samples drawn by a `MixtureSampler` from loaded train splits.

    The template of a draw comes from (seed, epoch of its dataset, sample id), so an
    example seen again in a later epoch usually gets another instruction.
    """

    def __init__(
        self,
        sampler: MixtureSampler,
        data: dict[str, list[Sample]],
        mode: str = "instruction",
        seed: int = 0,
        reports: list[LoadReport] | None = None,
    ):
        for name, size in sampler.sizes.items():
            if len(data.get(name, [])) != size:
                raise InstructVLError(
                    f"{name}: sampler expects {size} samples, {len(data.get(name, []))} loaded "
                    "(see the load report for skipped lines)"
                )
        self.sampler, self.data, self.mode, self.seed = sampler, data, mode, seed
        self.reports = reports or []

    @classmethod
    def open(
        cls,
        root: str | Path,
        names: list[str] | None = None,
        *,
        mode: str = "instruction",
        seed: int = 0,
        rule: str = "sqrt",
        factors: dict[str, float] | None = None,
        weights: dict[str, float] | None = None,
        strict: bool = False,
    ) -> TrainingStream:
        """Loads the train splits of a suite and builds its mixture; skipped lines shrink a
        dataset's size in the mixture (and are listed in `reports`)."""
        entries = mixture_entries(root, names, factors=factors, weights=weights, mode=mode)
        data, reports = {}, []
        for e in entries:
            if e.held_out:
                continue  # build_sampler below names it in its error
            data[e.name], report = load_raw(root, e.name, "train", strict=strict)
            e.size = len(data[e.name])
            reports.append(report)
        return cls(build_sampler(entries, rule, seed), data, mode, seed, reports)

    def next(self) -> Sample:
        """The next formatted sample (ends with its assistant target)."""
        d = self.sampler.draw()
        raw = self.data[d.dataset][d.index]
        return format_sample(raw, self.mode, stable_seed(self.seed, d.epoch), with_target=True)

    def state_dict(self) -> dict[str, Any]:
        """The sampler's state (all a resume needs, with the same data and mode)."""
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continues from a saved state."""
        self.sampler.load_state_dict(state)
