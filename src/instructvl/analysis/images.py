"""The images the analyses look at: simple SynthVL scenes that no model was trained on.

Every distinct image of a SynthVL folder's evaluation splits (the `val` split of held-in
datasets, the `test` split of held-out ones) whose scene is plain (flat background, no
damage) and holds 1-4 shapes of the training colours. Scenes are deduplicated (two
datasets may draw the same one), so train / test splits taken from this pool never share
an image.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from instructvl.data.synthvl.loader import load_manifest, load_raw
from instructvl.data.synthvl.scenes import HELD_IN_COLOURS, SHAPES, Scene
from instructvl.errors import InstructVLError

MAX_OBJECTS = 4


@dataclass(frozen=True)
class SceneImage:
    """One image (absolute path) and the scene it was drawn from."""

    path: str
    scene: Scene


def is_simple(scene: object) -> bool:
    """Whether a stored scene record is plain, undamaged, and has 1-4 training shapes."""
    if not isinstance(scene, dict) or scene.get("style") != "plain" or scene.get("degrade"):
        return False
    objects = scene.get("objects") or []
    return 1 <= len(objects) <= MAX_OBJECTS and all(
        o.get("kind") in SHAPES and o.get("colour") in HELD_IN_COLOURS for o in objects
    )


def scene_images(root: str | Path, seed: int = 0) -> list[SceneImage]:
    """Every distinct simple scene image of the evaluation splits of `root`, in an order
    shuffled by `seed` (an `InstructVLError` if there is none)."""
    found: dict[str, SceneImage] = {}
    for name, info in sorted(load_manifest(root)["datasets"].items()):
        split = "test" if info["split"] == "held-out" else "val"
        if split not in info.get("sizes", {}):
            continue
        samples, _ = load_raw(root, name, split, check_images=False)
        for sample in samples:
            scene = sample.metadata.get("scene")
            if len(sample.images) == 1 and is_simple(scene):
                key = json.dumps(scene, sort_keys=True)
                found.setdefault(key, SceneImage(sample.images[0], Scene.from_dict(scene)))
    if not found:
        raise InstructVLError(f"{root} has no simple scene images in its val / test splits")
    images = [found[k] for k in sorted(found)]
    random.Random(seed).shuffle(images)
    return images


def take(images: list[SceneImage], count: int, what: str, minimum: int = 1) -> list[SceneImage]:
    """The first `count` images, at least `minimum` (small scales round down to nothing);
    fewer than that in the data is an error naming `what` they are for."""
    count = max(count, minimum)
    if count > len(images):
        raise InstructVLError(
            f"{what} needs {count} images but the data has {len(images)} simple scenes; "
            "lower --scale or pass a larger --data"
        )
    return images[:count]
