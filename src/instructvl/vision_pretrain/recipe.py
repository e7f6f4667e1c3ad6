"""Tower sizes and the fixed recipes that build the cached default towers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from instructvl.errors import InstructVLError

VERSION = 3
"""Bumped when the training code changes what a recipe produces (part of the cache name).
2: dense per-patch scene targets. 3: balanced dense losses, weighted (`targets.LOSS_WEIGHTS`)."""

# CLIP-architecture ViTs at SynthVL's 64 px: 8 x 8 patches of 8 px, plus the class token.
SIZES: dict[str, dict] = {
    "tiny": dict(
        image_size=64, patch_size=8, hidden_size=192, intermediate_size=768, num_hidden_layers=4, num_attention_heads=3
    ),
    "small": dict(
        image_size=64, patch_size=8, hidden_size=384, intermediate_size=1536, num_hidden_layers=6, num_attention_heads=6
    ),
}


CORPORA = ("suite", "web")


@dataclass(frozen=True)
class Recipe:
    """Everything that determines a trained tower: size, steps, optimisation, data, seed."""

    size: str = "tiny"
    steps: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup: int = 10
    seed: int = 0
    corpus: str = "suite"  # the default data: "suite" (held-in splits) or "web" (the SynthVL-web corpus)
    data_scale: str = "small"  # its scale (generated once into the cache) ...
    data_seed: int = 0  # ... and its generation seed
    scene_captions: bool = True  # suite only: also caption other held-in datasets' images from their scenes
    scene_weight: float = 1.0  # web only: weight of the supervised scene targets (0: contrastive only)

    def __post_init__(self) -> None:
        if self.corpus not in CORPORA:
            raise InstructVLError(f"unknown pretraining corpus {self.corpus!r}; choose one of {', '.join(CORPORA)}")
        if self.scene_weight < 0:
            raise InstructVLError(f"scene_weight must be >= 0, not {self.scene_weight}")

    def key(self) -> str:
        """A short hash of the recipe, its architecture and `VERSION` (names the cache folder)."""
        raw = json.dumps({"version": VERSION, **asdict(self), "arch": arch_for(self.size)}, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:8]


def arch_for(size: str) -> dict:
    """The `CLIPVisionConfig` keyword arguments of a size; unknown sizes are an error."""
    if size not in SIZES:
        raise InstructVLError(f"unknown vision tower size {size!r}; choose one of {', '.join(SIZES)}")
    return dict(SIZES[size])


# The recipes `synthvl-clip:<size>` builds on first use (fixed seed, fixed data): SynthVL-web
# with dense scene targets beside the contrastive loss. Measured on the tiny tower (probes
# on the small suite of seed 1, `instructvl analyze tower`), 1000 steps of 64, about 380 s
# of training on 2 idle cores: VERSION 3 (balanced, weighted scene losses) shape 0.88,
# colour 0.99, size 0.90, column 0.97, count 0.87; VERSION 2 shape 0.69 (0.88 at 2000
# steps); scene weight 4 with lr 2e-3 gave 0.59; the suite recipe of VERSION 1, 0.34.
RECIPES: dict[str, Recipe] = {
    "tiny": Recipe(size="tiny", corpus="web", steps=1000, batch_size=64),
    "small": Recipe(size="small", corpus="web", steps=1000, batch_size=64),
}
