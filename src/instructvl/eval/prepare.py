"""The prepare phase: a task's evaluation samples, formatted as prompts.

SynthVL sources read `<data>/<dataset>/<split>.jsonl` (default data: the small suite,
seed 0, generated once into the instructvl cache). Public-format sources run the
format reader on annotation paths under the data root. Either way the raw samples get
the spec's template set (`metadata["task"]`), its fixed candidates if any, and are
formatted in the spec's mode with the final answer removed. The records a reader
skipped (malformed, missing or unreadable image: each a `Problem` naming file and line)
come back with the prompts (`prepare_task`), for the run folder and the report.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from pathlib import Path

from instructvl.data.formats.base import Problem
from instructvl.data.formatting import format_sample
from instructvl.data.schema import Sample, Turn
from instructvl.errors import InstructVLError
from instructvl.eval.spec import FormatSource, SynthVLSource, TaskSpec

log = logging.getLogger("instructvl.eval")


def ensure_suite(data: str | Path | None, announce=print) -> Path:
    """The SynthVL folder to read: `data` (which must exist), or the cached default small
    suite (seed 0), generated on first use (about 6 s)."""
    if data is not None:
        root = Path(data)
        if not (root / "manifest.json").is_file():
            raise InstructVLError(
                f"{root} is not a SynthVL folder (no manifest.json); "
                f"write one with `instructvl data synth --out {root}`"
            )
        return root
    from instructvl.data.synthvl.cache import default_suite

    return default_suite(announce=announce)


def default_data_root() -> Path:
    """Where real benchmarks are looked for without --data-root: $INSTRUCTVL_DATA, else <cache>/data."""
    from instructvl.artefacts import cache_dir

    return Path(os.environ.get("INSTRUCTVL_DATA") or cache_dir() / "data")


def _under(root: Path, path: str) -> Path:
    return Path(path) if Path(path).is_absolute() else root / path


def read_format_source(
    spec: TaskSpec, data_root: str | Path | None, limit: int | None, baseline: bool = False
) -> tuple[list[Sample], list[Problem]]:
    """Raw samples of a public-format source and the records skipped reading it (with
    `baseline`, of its baseline split, image files unchecked: only the answers count);
    missing annotation files are a clear error."""
    from instructvl.data.formats import read_dataset

    src = spec.source
    assert isinstance(src, FormatSource)
    reading = src.baseline_reading() if baseline else (src.annotations, src.options)
    assert reading is not None, f"task {spec.name} names no baseline split"
    annotations, options = reading
    root = Path(data_root) if data_root is not None else default_data_root()
    paths = [_under(root, p) for p in annotations]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InstructVLError(
            f"task {spec.name}: annotation file(s) {missing} not found; put the {src.format} data under "
            f"{root} as the spec says ({', '.join(annotations)}) or pass --data-root"
        )
    image_root = _under(root, src.image_root) if src.image_root else None
    result = read_dataset(
        src.format, paths, image_root, check_files=not baseline, dataset=spec.name, limit=limit, **options
    )
    if result.skipped:
        log.warning("%s", result.summary())
    if not result.samples:
        raise InstructVLError(f"task {spec.name}: no samples read ({result.summary()})")
    return result.samples, result.skipped


def read_raw(
    spec: TaskSpec, data: str | Path | None, data_root: str | Path | None, limit: int | None, split: str | None = None
) -> tuple[list[Sample], list[Problem]]:
    """The raw samples of a task's source (the first `limit`) and the records skipped
    reading it; `split` reads another split of a SynthVL dataset (the train or dev split,
    for the majority baseline)."""
    if isinstance(spec.source, SynthVLSource):
        from instructvl.data.synthvl.loader import load_raw

        root = ensure_suite(data)
        samples, report = load_raw(root, spec.source.dataset, split or spec.source.split)
        if report.skipped:
            log.warning("%s", report.summary())
        return (samples[:limit] if limit else samples), report.problems
    return read_format_source(spec, data_root, limit)


def for_prompt(spec: TaskSpec, raw: Sample, seed: int) -> Sample:
    """One raw sample as the evaluation prompt of `spec` (template, candidates, mode)."""
    metadata = dict(raw.metadata)
    if spec.template:
        metadata["task"] = spec.template
    turns = list(raw.turns)
    if not any(t.role == "user" for t in turns):
        turns.insert(0, Turn("user", ""))  # captions: the template is the whole instruction
    candidates = list(spec.candidates) if isinstance(spec.candidates, list) else raw.candidates
    sample = dataclasses.replace(raw, turns=turns, metadata=metadata, candidates=candidates)
    return format_sample(sample, spec.mode, seed, with_target=False)


def prepare_task(
    spec: TaskSpec, data=None, data_root=None, seed: int = 0, limit: int | None = None
) -> tuple[list[Sample], list[Problem]]:
    """The task's evaluation prompts (the first `limit` samples), with unique ids checked,
    and the records skipped reading its source."""
    raws, skipped = read_raw(spec, data, data_root, limit)
    samples = [for_prompt(spec, raw, seed) for raw in raws]
    repeated = [i for i, n in Counter(s.id for s in samples).items() if n > 1]
    if repeated:
        raise InstructVLError(f"task {spec.name}: sample ids repeat ({repeated[:3]}); predictions are keyed by id")
    return samples, skipped


def prepare_samples(spec: TaskSpec, data=None, data_root=None, seed: int = 0, limit: int | None = None) -> list[Sample]:
    """The task's evaluation prompts alone (see `prepare_task`)."""
    return prepare_task(spec, data, data_root, seed, limit)[0]


def baseline_answers(spec: TaskSpec, data=None, data_root=None) -> tuple[list[str], str]:
    """The answers a generate task's majority baseline counts, and the split they come
    from, never the evaluated one: a held-in SynthVL task's train split ("train"), a
    held-out one's dev split ("dev"), a real task's `baseline` split ("train");
    ([], "none") for a real task whose spec names no baseline split."""
    if isinstance(spec.source, FormatSource):
        if spec.source.baseline is None:
            return [], "none"
        return _answers(spec, read_format_source(spec, data_root, None, baseline=True)[0]), "train"
    split = "dev" if spec.held_out else "train"
    try:
        raws, _ = read_raw(spec, data, None, None, split=split)
    except InstructVLError as exc:
        raise InstructVLError(
            f"{exc}. The majority baseline of {spec.name} is counted on its {split} split; a suite written "
            f"before dev splits existed lacks it: write it again with `instructvl data synth`"
        ) from None
    return _answers(spec, raws), split


def _answers(spec: TaskSpec, samples: list[Sample]) -> list[str]:
    """Every answer text the samples contribute to the task's majority count."""
    return [a for s in samples for a in answers_of(s, spec.metric)]


def answers_of(sample: Sample, metric: str) -> list[str]:
    """The answer texts a sample contributes to a majority count: every reference caption
    for CIDEr, else its answer (or its most common reference)."""
    refs = [r for r in sample.references or [] if isinstance(r, str)]
    if metric == "cider":
        if refs:
            return refs
        last = sample.turns[-1] if sample.turns else None
        return [last.content] if last is not None and last.role == "assistant" else []
    if isinstance(sample.answer, str):
        return [sample.answer]
    return [Counter(refs).most_common(1)[0][0]] if refs else []
