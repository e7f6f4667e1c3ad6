"""Image-caption pairs from a SynthVL suite: held-in training data only.

Every held-in training image gets a pool of captions: the `references` of captioning
datasets (coco-cap, webcap, textcaps) and, with `scene_captions`, short attribute
descriptions derived from its scene (`metadata["scene"]`). A training step draws
one caption per image. Held-out datasets are never read for training: naming one is an
error. Evaluation sets (a held-in val split, held-out test splits) are read separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from instructvl.data.synthvl.loader import load_manifest, load_raw
from instructvl.data.synthvl.qa import describe, join_phrases
from instructvl.data.synthvl.registry import get_spec
from instructvl.data.synthvl.scenes import Scene
from instructvl.errors import InstructVLError

# Evaluation sets, in report order: (dataset, split, what it measures).
EVAL_SETS = (
    ("coco-cap", "val", "held-in val"),
    ("flickr", "test", "held-out test (new scene style)"),
    ("nocaps", "test", "held-out test (novel colours and shapes)"),
)


@dataclass
class Pairs:
    """Training images (uint8 [N, 3, H, W]), the caption pool of each (ids into
    `captions`), and, for a SynthVL-web corpus, the scene of each (for `targets`)."""

    images: torch.Tensor
    pools: list[list[int]]
    captions: list[str]
    datasets: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    scenes: list[Scene] | None = None


@dataclass
class EvalSet:
    """Images, the caption of each (its target caption), and their scenes."""

    name: str
    what: str
    images: torch.Tensor
    captions: list[str]
    scenes: list[Scene]


def load_images(paths: list[str], size: int) -> torch.Tensor:
    """RGB images as uint8 [N, 3, size, size]; other sizes are resized (bicubic), as the
    CLIP image processor does for square images."""
    out = torch.empty((len(paths), 3, size, size), dtype=torch.uint8)
    for i, p in enumerate(paths):
        try:
            with Image.open(p) as im:
                im = im.convert("RGB")
                if im.size != (size, size):
                    im = im.resize((size, size), Image.Resampling.BICUBIC)
                out[i] = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
        except OSError as exc:
            raise InstructVLError(f"cannot read image {p}: {exc}") from None
    return out


def training_names(root: str | Path, names: list[str] | None = None) -> list[str]:
    """The held-in datasets to train on: `names` (checked) or every held-in one in the suite.

    A held-out dataset, or one missing from the suite, is an `InstructVLError`."""
    present = load_manifest(root)["datasets"]
    if names is None:
        names = [n for n in present if not get_spec(n).held_out]
    for n in names:
        if get_spec(n).held_out:
            raise InstructVLError(
                f"{n!r} is a held-out (zero-shot evaluation) dataset; the vision tower trains on held-in data only"
            )
        if n not in present:
            raise InstructVLError(f"dataset {n!r} is not in {root}/manifest.json")
    if not names:
        raise InstructVLError(f"{root}: no held-in dataset to train on")
    return list(names)


def scene_caption_pool(scene: dict) -> list[str]:
    """Short attribute descriptions of a scene: its objects (colour and kind), with their
    sizes, with their positions ("a red circle and a blue square", "a small red circle
    and ...", "a red circle at the top left and ..."). Plain phrases recur across images,
    so batches hold identical captions and the distinct captions stay few to embed."""
    sc = Scene.from_dict(scene)
    if not sc.objects:
        return []
    return [
        join_phrases([describe(o, sc, **kw) for o in sc.objects])
        for kw in ({}, {"with_size": True}, {"with_position": True})
    ]


def training_pairs(
    root: str | Path, image_size: int, names: list[str] | None = None, scene_captions: bool = True
) -> Pairs:
    """The image-caption pairs of the held-in `train` splits of `root`."""
    names = training_names(root, names)
    ids: dict[str, int] = {}
    paths, pools, datasets, counts = [], [], [], {}
    for name in names:
        samples, _ = load_raw(root, name, "train", check_images=False)
        counts[name] = 0
        for s in samples:
            if len(s.images) != 1:
                continue
            pool = list(s.references or []) if get_spec(name).task == "caption" else []
            if scene_captions and "scene" in s.metadata:
                pool += scene_caption_pool(s.metadata["scene"])
            pool = [c for c in dict.fromkeys(c.strip() for c in pool) if c]
            if not pool:
                continue
            paths.append(s.images[0])
            pools.append([ids.setdefault(c, len(ids)) for c in pool])
            datasets.append(name)
            counts[name] += 1
    if not paths:
        raise InstructVLError(f"{root}: no captioned training image in {', '.join(names)}")
    return Pairs(load_images(paths, image_size), pools, list(ids), datasets, counts)


def eval_sets(root: str | Path, image_size: int, limit: int | None = None) -> list[EvalSet]:
    """The evaluation sets of `EVAL_SETS` present in the suite (at most `limit` images each)."""
    present = load_manifest(root)["datasets"]
    out = []
    for name, split, what in EVAL_SETS:
        if name not in present or split not in present[name]["sizes"]:
            continue
        samples, _ = load_raw(root, name, split, check_images=False)
        samples = samples[:limit] if limit else samples
        if not samples:
            continue
        out.append(
            EvalSet(
                f"{name}/{split}",
                what,
                load_images([s.images[0] for s in samples], image_size),
                [s.turns[-1].content for s in samples],
                [Scene.from_dict(s.metadata["scene"]) for s in samples],
            )
        )
    return out


def web_pairs(root: str | Path, image_size: int) -> Pairs:
    """The still images of the SynthVL-web corpus at `root`, each with its alt text as
    its one caption and its scene (clips are left to the BLIP-2 stage)."""
    from instructvl.data.synthvl.web import NAME

    samples, _ = load_raw(root, NAME, "train", check_images=False)
    stills = [s for s in samples if len(s.images) == 1]
    if not stills:
        raise InstructVLError(f"{root}: no still image in the SynthVL-web corpus")
    ids: dict[str, int] = {}
    pools = [[ids.setdefault(s.turns[-1].content, len(ids))] for s in stills]
    return Pairs(
        load_images([s.images[0] for s in stills], image_size),
        pools,
        list(ids),
        [NAME] * len(stills),
        {NAME: len(stills)},
        [Scene.from_dict(s.metadata["scene"]) for s in stills],
    )
