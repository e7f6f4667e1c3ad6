"""The default SynthVL suite: generated once (per format version) into the instructvl cache, then reused."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from instructvl.models.sources import cache_dir


def default_suite(scale: str = "small", seed: int = 0, announce=None) -> Path:
    """`$INSTRUCTVL_CACHE/synthvl-<scale>-seed<seed>-v<format version>`, generated
    (atomically) if missing; `announce(text)` is told when that happens. The format
    version in the name means a suite of an older format is never reused."""
    from instructvl.data.synthvl.generate import FORMAT_VERSION, generate_suite

    root = cache_dir() / f"synthvl-{scale}-seed{seed}-v{FORMAT_VERSION}"
    if (root / "manifest.json").is_file():
        return root
    if announce is not None:
        announce(f"generating SynthVL ({scale}, seed {seed}) into {root} (once, a few seconds)")
    staging = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
    try:
        generate_suite(staging, scale, seed=seed)
        if not (root / "manifest.json").is_file():
            shutil.rmtree(root, ignore_errors=True)
            os.replace(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root
