"""`synthvl-clip:<size>`: the default offline towers, trained once into the cache."""

from __future__ import annotations

from pathlib import Path

from instructvl.artefacts import Artefact, build_once, cache_dir, pin_keyed, register, resolve_keyed
from instructvl.errors import InstructVLError
from instructvl.vision_pretrain.recipe import RECIPES, VERSION

SCHEME = "synthvl-clip:"


def tower_dir(size: str) -> Path:
    """`$INSTRUCTVL_CACHE/vision/synthvl-clip-<size>-v<VERSION>-<recipe key>` (may not exist yet)."""
    if size not in RECIPES:
        raise InstructVLError(f"{SCHEME}{size}: unknown size; choose one of {', '.join(RECIPES)}")
    return cache_dir() / "vision" / f"synthvl-clip-{size}-v{VERSION}-{RECIPES[size].key()}"


def ensure_tower(size: str, show_progress: bool = True) -> Path:
    """The cached tower of `RECIPES[size]`, trained first if missing (a message and a
    progress bar on stderr say so). The recipe fixes seed and data, so a rebuild gives
    the same weights; the folder appears atomically, complete or not at all."""
    from instructvl.vision_pretrain.train import pretrain_vision

    target = tower_dir(size)
    recipe = RECIPES[size]
    return build_once(
        target,
        "config.json",
        f"{SCHEME}{size}",
        "the offline vision tower",
        f"{recipe.steps} steps of {_objective(recipe)} on SynthVL {recipe.corpus}; a few minutes",
        lambda console: pretrain_vision(target, recipe=recipe, show_progress=show_progress, console=console),
        show_progress,
    )


def _objective(recipe) -> str:
    scenes = recipe.corpus == "web" and recipe.scene_weight > 0
    return "contrastive + scene-target training" if scenes else "contrastive training"


def resolve_scheme(source: str) -> str:
    """The local folder of a `synthvl-clip:<size>` source (built on first use).

    `synthvl-clip:<size>@<key>` pins a recipe (the key in the folder name and in
    `pretrain_report.json`): it must be the current recipe's or already be in the cache,
    built by this or an earlier training-code version (the key covers the version)."""
    return resolve_keyed(source, SCHEME, tower_dir, ensure_tower, "config.json")


def pin_scheme(source: str) -> str:
    """`synthvl-clip:<size>` pinned to its current recipe: `synthvl-clip:<size>@<key>`."""
    return pin_keyed(source, SCHEME, tower_dir)


register(Artefact(SCHEME, resolve_scheme, pin_scheme))
