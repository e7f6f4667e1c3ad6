"""Writing the SynthVL suite to disk, deterministically.

Layout (all paths in a JSONL line are relative to that dataset's directory):

    OUT/manifest.json                 every dataset's dataset.json, plus seed, scale, size
    OUT/<name>/dataset.json           name, category, split, metric, output, task, sizes, seed
    OUT/<name>/<split>.jsonl          one raw `Sample.to_json()` per line
    OUT/<name>/images/<split>/000042.png        (video: 000042_f0.png ... _f3.png)

Splits: held-in sets have `train` and `val`; held-out sets have `test` (what is
evaluated) and `dev`, drawn by the same generator as test but as a stream of its own:
never trained on, never scored, it is what a held-out task's majority baseline is
counted on (so that no baseline peeks at the test answers).

Example i of a split is drawn from `rng_for(seed, name, split, i, attempt)`. Held-in
train sets are written first, then held-in val (redrawing, with the next attempt, any
example whose image bytes equal a train image), then held-out test sets (redrawing any
whose image equals a held-in one), so no held-out image occurs in held-in data; then
held-out dev sets (redrawing any whose image equals a held-in or a test image). Dev
comes last, so the earlier splits are the same bytes as in suites without it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from instructvl.data.schema import Sample, Turn
from instructvl.data.seeding import rng_for
from instructvl.data.synthvl.qa import Example
from instructvl.data.synthvl.registry import DATASETS, DatasetSpec, get_spec
from instructvl.data.synthvl.render import png_bytes, render
from instructvl.errors import InstructVLError

FORMAT_VERSION = 3  # 2: held-out sets have a dev split; 3: varied, scene-aware question-generation and LLaVA targets
MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class Scale:
    """Examples per split (held-in train / val, held-out test / dev), before a dataset's
    size factor; `dev` defaults to `val` (a baseline needs far fewer examples than a score)."""

    train: int
    val: int
    test: int
    dev: int | None = None

    def __post_init__(self) -> None:
        if self.dev is None:
            object.__setattr__(self, "dev", self.val)


SCALES = {
    "small": Scale(train=300, val=50, test=200, dev=50),
    "full": Scale(train=5000, val=500, test=1000, dev=500),
}


def split_size(spec: DatasetSpec, split: str, scale: Scale) -> int:
    """How many examples `spec` gets in `split` at `scale`."""
    return round(getattr(scale, split) * spec.size_factor)


def make_example(
    spec: DatasetSpec, split: str, index: int, seed: int, image_size: int, forbidden: frozenset[str] = frozenset()
) -> tuple[Example, list[bytes], int]:
    """Draws example `index` and renders it; redraws while an image hash is in `forbidden`.

    Returns the example, its PNG images (one, or one per video frame) and the attempt used.
    """
    for attempt in range(MAX_ATTEMPTS):
        ex = spec.generator(rng_for(seed, spec.name, split, index, attempt), image_size)
        images = [png_bytes(render(s)) for s in ex.scenes]
        if not any(hashlib.sha256(b).hexdigest() in forbidden for b in images):
            return ex, images, attempt
    raise InstructVLError(f"{spec.name}/{split}/{index}: no image unseen in earlier splits after {MAX_ATTEMPTS} tries")


def to_sample(spec: DatasetSpec, split: str, index: int, ex: Example, image_paths: list[str], attempt: int) -> Sample:
    """The raw sample stored in JSONL (turns without templates; scene in metadata)."""
    meta: dict[str, Any] = {
        "task": spec.task,
        "category": spec.category,
        "split": split,
        "scene": ex.scene_record or ex.scenes[0].to_dict(),
        **ex.meta,
    }
    if attempt:
        meta["attempt"] = attempt
    return Sample(
        id=f"{spec.name}/{split}/{index:06d}",
        dataset=spec.name,
        images=image_paths,
        turns=[Turn(r, c) for r, c in ex.turns],
        candidates=ex.candidates,
        answer=ex.answer,
        references=ex.references,
        ocr_tokens=ex.ocr_tokens,
        metadata=meta,
    )


def write_split(
    spec: DatasetSpec,
    split: str,
    n: int,
    seed: int,
    root: Path,
    image_size: int,
    forbidden: frozenset[str] = frozenset(),
) -> set[str]:
    """Writes `root/<name>/<split>.jsonl` and its images; returns the images' sha256 hashes."""
    ddir = root / spec.name
    idir = ddir / "images" / split
    idir.mkdir(parents=True, exist_ok=True)
    hashes: set[str] = set()
    with open(ddir / f"{split}.jsonl", "w", encoding="utf-8") as f:
        for i in range(n):
            ex, images, attempt = make_example(spec, split, i, seed, image_size, forbidden)
            paths = (
                [f"images/{split}/{i:06d}.png"]
                if len(images) == 1
                else [f"images/{split}/{i:06d}_f{k}.png" for k in range(len(images))]
            )
            for p, b in zip(paths, images):
                (ddir / p).write_bytes(b)
                hashes.add(hashlib.sha256(b).hexdigest())
            f.write(json.dumps(to_sample(spec, split, i, ex, paths, attempt).to_json(), ensure_ascii=False) + "\n")
    return hashes


def dataset_record(spec: DatasetSpec, sizes: dict[str, int], seed: int, image_size: int, scale: str) -> dict:
    """The dataset.json content."""
    return {
        "name": spec.name,
        "category": spec.category,
        "split": spec.split,
        "metric": spec.metric,
        "output": spec.output,
        "task": spec.task,
        "sizes": sizes,
        "size": sum(sizes.values()),
        "seed": seed,
        "image_size": image_size,
        "scale": scale,
        "generator": f"{spec.generator.__module__}.{spec.generator.__name__}",
        "paths": "image paths in the JSONL are relative to this directory",
    }


def _job(args: tuple) -> tuple[str, str, int, set[str]]:
    name, split, n, seed, root, image_size, forbidden = args
    return name, split, n, write_split(get_spec(name), split, n, seed, Path(root), image_size, forbidden)


def generate_suite(
    out: str | Path,
    scale: str | Scale = "small",
    seed: int = 0,
    image_size: int = 64,
    names: list[str] | None = None,
    workers: int = 1,
    progress: Callable[[str, str, int], None] | None = None,
) -> dict[str, Any]:
    """Generates the SynthVL datasets `names` (default: all 26) under `out`; returns the manifest.

    Phases run in order (held-in train, held-in val, held-out test, held-out dev) so later
    phases can avoid earlier images; inside a phase, datasets run in `workers` processes.
    """
    root = Path(out)
    scale_name = scale if isinstance(scale, str) else "custom"
    if isinstance(scale, str):
        if scale not in SCALES:
            raise InstructVLError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
        scale = SCALES[scale]
    specs = [get_spec(n) for n in names] if names else list(DATASETS)
    root.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, dict[str, int]] = {s.name: {} for s in specs}
    seen: set[str] = set()
    phases = [("train", False), ("val", False), ("test", True), ("dev", True)]
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        for split, held_out in phases:
            jobs = [
                (s.name, split, split_size(s, split, scale), seed, str(root), image_size, frozenset(seen))
                for s in specs
                if s.held_out == held_out
            ]
            results = pool.map(_job, jobs) if pool else map(_job, jobs)
            for name, sp, n, hashes in results:
                sizes[name][sp] = n
                seen |= hashes
                if progress:
                    progress(name, sp, n)
    finally:
        if pool:
            pool.shutdown()
    records = {}
    for s in specs:
        records[s.name] = dataset_record(s, sizes[s.name], seed, image_size, scale_name)
        (root / s.name / "dataset.json").write_text(json.dumps(records[s.name], indent=2) + "\n")
    manifest = {
        "suite": "synthvl",
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "scale": scale_name,
        "scale_sizes": asdict(scale),
        "image_size": image_size,
        "datasets": records,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
