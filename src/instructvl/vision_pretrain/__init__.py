"""Pretraining of a small CLIP-architecture vision tower on SynthVL.

A `CLIPVisionModel` learns to match the frozen MiniLM-L6 sentence embeddings of captions
(symmetric InfoNCE, identical captions counted as positives) and, on the SynthVL-web
corpus, dense supervised scene targets (`targets.py`); it is saved in transformers' CLIP
vision format, so `VisionConfig(kind="clip", source=DIR)` loads it like any real tower.
`synthvl-clip:<size>` (an artefact: instructvl.artefacts) builds the default tower
(`recipe.RECIPES`) once into the instructvl cache.

    from instructvl.vision_pretrain import pretrain_vision, ensure_tower
    report = pretrain_vision("runs/vit", data_root, size="tiny", steps=200)
    path = ensure_tower("tiny")          # $INSTRUCTVL_CACHE/vision/synthvl-clip-tiny-v2-<key>
"""

from instructvl.vision_pretrain.build import SCHEME, ensure_tower, tower_dir
from instructvl.vision_pretrain.recipe import RECIPES, SIZES, Recipe
from instructvl.vision_pretrain.train import pretrain_vision

__all__ = ["RECIPES", "SCHEME", "SIZES", "Recipe", "ensure_tower", "pretrain_vision", "tower_dir"]
