"""`synthvl-clip:<size>`: the default offline towers, trained once into the cache."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from instructvl.artefacts import Artefact, cache_dir, register
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
    from rich.console import Console

    from instructvl.vision_pretrain.train import pretrain_vision

    target = tower_dir(size)
    if (target / "config.json").is_file():
        return target
    recipe = RECIPES[size]
    console = Console(stderr=True)
    with _build_lock(target, console if show_progress else None):
        if (target / "config.json").is_file():  # another process built it while we waited
            return target
        if show_progress:
            console.print(
                f"building the offline vision tower {SCHEME}{size} once ({recipe.steps} steps of "
                f"contrastive training on SynthVL; a few minutes), cached in {target}",
                highlight=False,
            )
        start = time.perf_counter()
        pretrain_vision(target, recipe=recipe, show_progress=show_progress, console=console)
        if show_progress:
            console.print(f"built {SCHEME}{size} in {time.perf_counter() - start:.0f} s", highlight=False)
    return target


@contextmanager
def _build_lock(target: Path, console):
    """An exclusive lock on `<target>.lock`, so concurrent first uses build once (POSIX;
    elsewhere each process builds and the atomic rename keeps one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(target.parent / f"{target.name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if console is not None:
                console.print(f"waiting for another process that is building {target.name}", highlight=False)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def resolve_scheme(source: str) -> str:
    """The local folder of a `synthvl-clip:<size>` source (built on first use).

    `synthvl-clip:<size>@<key>` pins a recipe (the key in the folder name and in
    `pretrain_report.json`): it must be the current recipe's or already be in the cache,
    built by this or an earlier training-code version (the key covers the version)."""
    size, _, key = source[len(SCHEME) :].partition("@")
    if key and key != tower_dir(size).name.rsplit("-", 1)[-1]:
        built = sorted(
            p for p in tower_dir(size).parent.glob(f"synthvl-clip-{size}-v*-{key}") if (p / "config.json").is_file()
        )
        if built:
            return str(built[-1])
        raise InstructVLError(
            f"{source}: that recipe is not the current one ({RECIPES[size].key()}) and no "
            f"synthvl-clip-{size}-v*-{key} folder is in {tower_dir(size).parent}"
        )
    return str(ensure_tower(size))


def pin_scheme(source: str) -> str:
    """`synthvl-clip:<size>` pinned to its current recipe: `synthvl-clip:<size>@<key>`."""
    return f"{source}@{tower_dir(source[len(SCHEME) :]).name.rsplit('-', 1)[-1]}"


register(Artefact(SCHEME, resolve_scheme, pin_scheme))
