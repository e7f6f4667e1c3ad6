"""The instructvl cache and the offline artefacts built into it on first use.

An artefact is a model part named by a source scheme, such as `synthvl-clip:tiny` (the
offline vision tower) or `synthvl-blip2:tiny` (the offline BLIP-2 Q-Former): the code
that builds it registers an `Artefact` here, and `models.sources.resolve` looks the
scheme up, so the model core never imports its builders. The builders of this package
are imported the first time one of their schemes is looked up (`PROVIDERS`).
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from instructvl.errors import InstructVLError


def cache_dir() -> Path:
    """The instructvl cache: `$INSTRUCTVL_CACHE`, else `~/.cache/instructvl` (created)."""
    root = os.environ.get("INSTRUCTVL_CACHE") or Path.home() / ".cache" / "instructvl"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Artefact:
    """A source scheme and what it means: `resolve(source)` returns the local folder of a
    source of this scheme (building it first if it is missing); `pin(source)` returns the
    source pinned to the recipe currently built (`...@<key>`), which `resolve` accepts."""

    scheme: str
    resolve: Callable[[str], str]
    pin: Callable[[str], str]


PROVIDERS = {
    "synthvl-clip:": "instructvl.vision_pretrain.build",
    "synthvl-blip2:": "instructvl.blip2_pretrain.build",
}
"""The module that registers each built-in scheme (imported on first lookup)."""

_REGISTRY: dict[str, Artefact] = {}


def register(artefact: Artefact) -> None:
    """Makes `artefact.scheme` resolvable (a later registration of a scheme replaces it)."""
    if not artefact.scheme.endswith(":"):
        raise InstructVLError(f"an artefact scheme ends with ':', not {artefact.scheme!r}")
    _REGISTRY[artefact.scheme] = artefact


def lookup(source: str) -> Artefact | None:
    """The artefact whose scheme `source` starts with, or None for any other source."""
    scheme = next((s for s in {**PROVIDERS, **_REGISTRY} if source.startswith(s)), None)
    if scheme is None:
        return None
    if scheme not in _REGISTRY:
        importlib.import_module(PROVIDERS[scheme])
    if scheme not in _REGISTRY:
        raise InstructVLError(f"{PROVIDERS[scheme]} did not register the artefact scheme {scheme!r}")
    return _REGISTRY[scheme]


@contextmanager
def build_lock(target: Path, console=None):
    """An exclusive lock on `<target>.lock` for building `target`, so concurrent first
    uses build once (POSIX; elsewhere each process builds and the atomic rename keeps
    one). With a rich `console`, a line says when another process holds it."""
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


def build_once(
    target: Path, marker: str, source: str, kind: str, what: str, build: Callable, show_progress: bool = True
) -> Path:
    """`target` once it holds `marker`; if it does not, `build(console)` makes it under
    `build_lock` (checked again after the wait: another process may have built it). With
    `show_progress`, stderr says what is built ("building <kind> <source> once (<what>),
    cached in <target>") and how long it took. `build` gets the stderr console and
    writes `target` atomically."""
    import time

    from rich.console import Console

    if (target / marker).is_file():
        return target
    console = Console(stderr=True)
    with build_lock(target, console if show_progress else None):
        if (target / marker).is_file():  # another process built it while we waited
            return target
        if show_progress:
            console.print(f"building {kind} {source} once ({what}), cached in {target}", highlight=False)
        start = time.perf_counter()
        build(console)
        if show_progress:
            console.print(f"built {source} in {time.perf_counter() - start:.0f} s", highlight=False)
    return target


def recipe_key(folder: Path) -> str:
    """The recipe key that ends a keyed artefact folder's name (`...-<key>`)."""
    return folder.name.rsplit("-", 1)[-1]


def resolve_keyed(source: str, scheme: str, folder: Callable[[str], Path], ensure: Callable[[str], Path], marker: str):
    """The local folder of `<scheme><size>[@<key>]`, for artefacts cached in folders named
    `<prefix>-v<VERSION>-<key>` (`folder(size)`: the current recipe's, built by
    `ensure(size)`). A pinned key must be the current recipe's or name a folder already
    in the cache (holding `marker`), built by this or an earlier code version."""
    size, _, key = source[len(scheme) :].partition("@")
    current = folder(size)
    if key and key != recipe_key(current):
        stem = current.name.rsplit("-v", 1)[0]
        built = sorted(p for p in current.parent.glob(f"{stem}-v*-{key}") if (p / marker).is_file())
        if built:
            return str(built[-1])
        raise InstructVLError(
            f"{source}: that recipe is not the current one ({recipe_key(current)}) and no "
            f"{stem}-v*-{key} folder is in {current.parent}"
        )
    return str(ensure(size))


def pin_keyed(source: str, scheme: str, folder: Callable[[str], Path]) -> str:
    """`<scheme><size>` pinned to its current recipe: `<scheme><size>@<key>`."""
    return f"{source}@{recipe_key(folder(source[len(scheme) :]))}"


@contextmanager
def atomic_folder(out: Path):
    """Yields a staging folder beside `out`; when the block succeeds it is renamed to `out`
    (replacing an older one), so `out` appears complete or not at all. A failed block
    leaves `out` as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    try:
        yield staging
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=out.name + ".old.", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(staging, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
