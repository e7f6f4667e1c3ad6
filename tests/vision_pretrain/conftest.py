"""A micro tower size and micro SynthVL suites, so pretraining runs take seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from instructvl.data.synthvl.generate import Scale, generate_suite
from instructvl.vision_pretrain import SIZES, Recipe

MICRO_ARCH = dict(
    image_size=64, patch_size=16, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2
)
MICRO = Recipe(size="micro", steps=30, batch_size=32, lr=2e-3, warmup=2)


@pytest.fixture(autouse=True)
def micro_size(monkeypatch):
    """Registers the "micro" tower size for the test."""
    monkeypatch.setitem(SIZES, "micro", MICRO_ARCH)


@pytest.fixture(scope="session", autouse=True)
def shared_text_encoder():
    """The real MiniLM, loaded once for the session, each caption embedded once (speed)."""
    from instructvl.vision_pretrain import text, train

    real = text.SentenceEncoder()
    memo: dict[str, torch.Tensor] = {}

    class Shared:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def encode(self, texts, batch_size=256, progress=None):
            missing = [t for t in dict.fromkeys(texts) if t not in memo]
            if missing:
                memo.update(zip(missing, real.encode(missing, batch_size)))
            if progress:
                progress(len(texts))
            return torch.stack([memo[t] for t in texts])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(train, "SentenceEncoder", Shared)
        yield


@pytest.fixture(scope="session")
def held_in_suite(tmp_path_factory) -> Path:
    """Only held-in datasets (no held-out data exists to be read)."""
    root = tmp_path_factory.mktemp("held_in")
    generate_suite(root, Scale(train=16, val=8, test=8), seed=3, names=["coco-cap", "webcap", "vqa", "ocrvqa"])
    return root


@pytest.fixture(scope="session")
def mixed_suite(tmp_path_factory) -> Path:
    """Held-in datasets and two held-out caption sets (for evaluation only)."""
    root = tmp_path_factory.mktemp("mixed")
    generate_suite(root, Scale(train=8, val=4, test=6), seed=3, names=["coco-cap", "vqa", "flickr", "nocaps"])
    return root
