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
from collections.abc import Callable
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


PROVIDERS = {"synthvl-clip:": "instructvl.vision_pretrain.build"}
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
