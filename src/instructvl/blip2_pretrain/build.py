"""`synthvl-blip2:<size>`: the default offline BLIP-2 Q-Formers, pretrained once into the cache."""

from __future__ import annotations

from pathlib import Path

from instructvl.artefacts import Artefact, build_once, cache_dir, pin_keyed, register, resolve_keyed
from instructvl.blip2_pretrain.recipe import RECIPES, VERSION
from instructvl.blip2_pretrain.save import REPORT
from instructvl.errors import InstructVLError

SCHEME = "synthvl-blip2:"


def blip2_dir(size: str) -> Path:
    """`$INSTRUCTVL_CACHE/blip2/synthvl-blip2-<size>-v<VERSION>-<recipe key>` (may not exist yet)."""
    if size not in RECIPES:
        raise InstructVLError(f"{SCHEME}{size}: unknown size; choose one of {', '.join(RECIPES)}")
    return cache_dir() / "blip2" / f"synthvl-blip2-{size}-v{VERSION}-{RECIPES[size].key()}"


def ensure_blip2(size: str, show_progress: bool = True) -> Path:
    """The cached Q-Former of `RECIPES[size]`, pretrained first if missing (a message and
    progress bars on stderr say so; an exclusive lock makes concurrent first uses build
    once). The recipe fixes seed and data; the folder appears atomically."""
    from instructvl.blip2_pretrain.train import pretrain_blip2

    target = blip2_dir(size)
    recipe = RECIPES[size]
    what = (
        f"{recipe.stage1_steps} steps of ITC + ITM + ITG against {recipe.tower}, then "
        f"{recipe.stage2_steps} caption steps through the frozen LLM; a few minutes"
    )
    return build_once(
        target,
        REPORT,
        f"{SCHEME}{size}",
        "the offline BLIP-2 Q-Former",
        what,
        lambda console: pretrain_blip2(target, recipe, show_progress=show_progress, console=console),
        show_progress,
    )


def resolve_scheme(source: str) -> str:
    """The local folder of a `synthvl-blip2:<size>` source (built on first use);
    `synthvl-blip2:<size>@<key>` pins a recipe (current, or already in the cache)."""
    return resolve_keyed(source, SCHEME, blip2_dir, ensure_blip2, REPORT)


def pin_scheme(source: str) -> str:
    """`synthvl-blip2:<size>` pinned to its current recipe: `synthvl-blip2:<size>@<key>`."""
    return pin_keyed(source, SCHEME, blip2_dir)


register(Artefact(SCHEME, resolve_scheme, pin_scheme))
