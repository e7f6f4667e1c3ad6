"""The default SynthVL suite and SynthVL-web corpus: generated once (per format version)
into the instructvl cache, then reused."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from instructvl.artefacts import cache_dir


def cached_folder(root: Path, build: Callable[[Path], object], announce=None, message: str = "") -> Path:
    """`root`, built by `build(staging)` into a staging folder and renamed into place if
    `root/manifest.json` is missing (so it appears complete or not at all); `announce(message)`
    is told when that happens."""
    if (root / "manifest.json").is_file():
        return root
    if announce is not None:
        announce(message)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
    try:
        build(staging)
        if not (root / "manifest.json").is_file():
            shutil.rmtree(root, ignore_errors=True)
            os.replace(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def default_suite(scale: str = "small", seed: int = 0, announce=None) -> Path:
    """`$INSTRUCTVL_CACHE/synthvl-<scale>-seed<seed>-v<format version>`, generated
    (atomically) if missing. The format version in the name means a suite of an older
    format is never reused."""
    from instructvl.data.synthvl.generate import FORMAT_VERSION, generate_suite

    root = cache_dir() / f"synthvl-{scale}-seed{seed}-v{FORMAT_VERSION}"
    message = f"generating SynthVL ({scale}, seed {seed}) into {root} (once, a few seconds)"
    return cached_folder(root, lambda staging: generate_suite(staging, scale, seed=seed), announce, message)


def default_web(scale: str = "small", seed: int = 0, announce=None, progress=None) -> Path:
    """`$INSTRUCTVL_CACHE/synthvl-web-<scale>-seed<seed>-v<format version>-avoids-<suite
    folder>`: the SynthVL-web corpus of `WEB_SIZES[scale]` items, disjoint from the default
    suite of the same scale and seed (generated first if missing; its folder is in the
    name, so a suite of a new format gets a corpus checked against it); `progress(k)` as
    in `write_web`."""
    from instructvl.data.synthvl.web_corpus import FORMAT_VERSION, WEB_SIZES, write_web
    from instructvl.errors import InstructVLError

    if scale not in WEB_SIZES:
        raise InstructVLError(f"unknown SynthVL-web scale {scale!r}; choose one of {', '.join(WEB_SIZES)}")
    suite = default_suite(scale, seed, announce)
    root = cache_dir() / f"synthvl-web-{scale}-seed{seed}-v{FORMAT_VERSION}-avoids-{suite.name}"
    message = f"generating SynthVL-web ({WEB_SIZES[scale]} items, seed {seed}) into {root} (once)"

    def build(staging: Path) -> None:
        write_web(staging, WEB_SIZES[scale], seed, suite, progress=progress)

    return cached_folder(root, build, announce, message)
