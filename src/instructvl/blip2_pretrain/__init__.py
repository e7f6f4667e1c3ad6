"""BLIP-2's two-stage pretraining of the Q-Former, offline, on the SynthVL-web corpus.

Stage 1 (`stage1`) trains the Q-Former against the frozen tower with BLIP-2's ITC, ITM
and ITG losses; stage 2 (`stage2`) trains it with the projection through the frozen LLM
on captions. The result is saved in LAVIS' BLIP-2 layout (`save`), which `head.init`
loads into a Q-Former head, instruction-aware ones included, as InstructBLIP starts from
BLIP-2. `synthvl-blip2:<size>` (an artefact: instructvl.artefacts) builds it once into
the instructvl cache.

    from instructvl.blip2_pretrain import pretrain_blip2, ensure_blip2, RECIPES
    report = pretrain_blip2("runs/blip2", RECIPES["tiny"])
    path = ensure_blip2("tiny")      # $INSTRUCTVL_CACHE/blip2/synthvl-blip2-tiny-v1-<key>
"""

from instructvl.blip2_pretrain.build import SCHEME, blip2_dir, ensure_blip2
from instructvl.blip2_pretrain.recipe import RECIPES, Blip2Recipe
from instructvl.blip2_pretrain.train import pretrain_blip2

__all__ = ["RECIPES", "SCHEME", "Blip2Recipe", "blip2_dir", "ensure_blip2", "pretrain_blip2"]
