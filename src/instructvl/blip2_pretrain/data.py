"""The BLIP-2 stage's data: still images of the SynthVL-web corpus with their alt text,
a seeded training pool and a disjoint evaluation set.
Only the web corpus is read (never a suite, so no held-out split)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError


@dataclass
class WebCaptions:
    """Training and evaluation stills (disjoint), each a web Sample whose last turn is its
    alt text, plus the number of stills the corpus has."""

    train: list[Sample]
    eval: list[Sample]
    available: int

    @property
    def all(self) -> list[Sample]:
        return self.train + self.eval


def caption(sample: Sample) -> str:
    """A web sample's alt text."""
    return sample.turns[-1].content


def web_captions(root: str | Path, pool: int, eval_images: int, seed: int) -> WebCaptions:
    """`eval_images` stills of the corpus at `root` for evaluation and up to `pool` others
    for training, drawn by a seeded permutation (a corpus that is not SynthVL-web is an
    error)."""
    from instructvl.data.synthvl.loader import load_manifest, load_raw
    from instructvl.data.synthvl.web import NAME

    if load_manifest(root).get("suite") != NAME:
        raise InstructVLError(f"{root} is not a SynthVL-web corpus: BLIP-2 pretraining reads web alt text only")
    samples, _ = load_raw(root, NAME, "train", check_images=False)
    stills = [s for s in samples if len(s.images) == 1 and caption(s).strip()]
    if len(stills) < eval_images + 2:
        raise InstructVLError(f"{root}: {len(stills)} captioned stills, fewer than {eval_images} to evaluate + 2")
    order = torch.randperm(len(stills), generator=torch.Generator().manual_seed(seed)).tolist()
    held = [stills[i] for i in order[:eval_images]]
    train = [stills[i] for i in order[eval_images : eval_images + pool]]
    return WebCaptions(train, held, len(stills))
