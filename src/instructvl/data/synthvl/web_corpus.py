"""Writing SynthVL-web to disk, disjoint from a suite.

Layout, like a suite's (so `instructvl data check` / `show` read it):

    OUT/manifest.json                 suite "synthvl-web", seed, size, the suite it avoids
    OUT/synthvl-web/dataset.json
    OUT/synthvl-web/train.jsonl       one raw `Sample.to_json()` per line: an empty user
                                      turn, the alt text as the assistant's turn and the
                                      only reference; metadata: style and scene record
    OUT/synthvl-web/images/train/000042.png      (clips: 000042_f0.png ... _f3.png)

An item is redrawn (next attempt) while any of its images has the bytes of an image of
the suite it avoids, or its scene record equals one of that suite's scenes: no corpus
image is an image of any held-in or held-out split.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from instructvl.data.schema import Sample, Turn
from instructvl.data.seeding import rng_for
from instructvl.data.synthvl.loader import suite_samples
from instructvl.data.synthvl.render import png_bytes, render
from instructvl.data.synthvl.web import NAME, WebItem, web_item
from instructvl.errors import InstructVLError

FORMAT_VERSION = 2
MAX_ATTEMPTS = 50
WEB_SIZES = {"small": 24000, "full": 240000}
"""Corpus items per scale (the small one is sized for this CPU's tower build)."""


def scene_key(record: dict[str, Any]) -> str:
    """A scene record's identity: the sha256 of its canonical JSON."""
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def suite_fingerprints(suite: str | Path) -> tuple[set[str], set[str]]:
    """The sha256 of every image file and the `scene_key` of every scene in `suite`."""
    images: set[str] = set()
    scenes: set[str] = set()
    for _, _, samples in suite_samples(suite):
        for s in samples:
            images.update(hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in s.images)
            if "scene" in s.metadata:
                scenes.add(scene_key(s.metadata["scene"]))
    return images, scenes


def draw_item(
    index: int, seed: int, image_size: int, images: set[str], scenes: set[str]
) -> tuple[WebItem, list[bytes], int]:
    """Item `index` rendered; redrawn while an image hash is in `images` or its scene in
    `scenes`. Returns the item, its PNG images and the attempt used."""
    for attempt in range(MAX_ATTEMPTS):
        item = web_item(rng_for(seed, NAME, "train", index, attempt), image_size)
        pngs = [png_bytes(render(s)) for s in item.scenes]
        if scene_key(item.record) not in scenes and not any(hashlib.sha256(b).hexdigest() in images for b in pngs):
            return item, pngs, attempt
    raise InstructVLError(f"{NAME}/{index}: no item unseen in the suite after {MAX_ATTEMPTS} tries")


def to_sample(index: int, item: WebItem, paths: list[str], attempt: int) -> Sample:
    """The stored sample of an item."""
    meta: dict[str, Any] = {"task": "caption", "category": "web alt text", "split": "train", "style": item.style}
    meta["scene"] = item.record
    if attempt:
        meta["attempt"] = attempt
    return Sample(
        id=f"{NAME}/train/{index:06d}",
        dataset=NAME,
        images=paths,
        turns=[Turn("user", ""), Turn("assistant", item.caption)],
        references=[item.caption],
        metadata=meta,
    )


def write_web(
    out: str | Path,
    size: int,
    seed: int,
    suite: str | Path,
    image_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Writes `size` corpus items under `out`, avoiding `suite`'s images and scenes (see
    the module docstring); `progress(k)` is told every k items written. Returns the manifest."""
    if size < 1:
        raise InstructVLError(f"a SynthVL-web corpus needs at least 1 item, not {size}")
    root = Path(out)
    ddir = root / NAME
    (ddir / "images" / "train").mkdir(parents=True, exist_ok=True)
    avoid_images, avoid_scenes = suite_fingerprints(suite)
    styles: dict[str, int] = {}
    redrawn = 0
    with open(ddir / "train.jsonl", "w", encoding="utf-8") as f:
        for i in range(size):
            item, pngs, attempt = draw_item(i, seed, image_size, avoid_images, avoid_scenes)
            redrawn += attempt > 0
            styles[item.style] = styles.get(item.style, 0) + 1
            stem = f"images/train/{i:06d}"
            paths = [f"{stem}.png"] if len(pngs) == 1 else [f"{stem}_f{k}.png" for k in range(len(pngs))]
            for p, b in zip(paths, pngs):
                (ddir / p).write_bytes(b)
            f.write(json.dumps(to_sample(i, item, paths, attempt).to_json(), ensure_ascii=False) + "\n")
            if progress and (i + 1) % 1000 == 0:
                progress(1000)
    if progress and size % 1000:
        progress(size % 1000)
    record = {
        "name": NAME,
        "category": "web alt text",
        "split": "pretraining",
        "task": "caption",
        "sizes": {"train": size},
        "size": size,
        "seed": seed,
        "image_size": image_size,
        "styles": dict(sorted(styles.items())),
        "redrawn_to_avoid_suite": redrawn,
        "paths": "image paths in the JSONL are relative to this directory",
    }
    (ddir / "dataset.json").write_text(json.dumps(record, indent=2) + "\n")
    manifest = {
        "suite": NAME,
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "image_size": image_size,
        "avoids": str(suite),
        "datasets": {NAME: record},
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
