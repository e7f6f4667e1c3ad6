"""Shared fixtures: a tiny SynthVL folder of simple scenes and tiny random models."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructvl.data.synthvl.generate import Scale, generate_suite
from instructvl.threads import torch_threads
from tests.models.helpers import build


@pytest.fixture(scope="session")
def scene_suite(tmp_path_factory) -> Path:
    """Two held-in sets (val: 16 each) and one held-out set (test: 16) of simple scenes."""
    root = tmp_path_factory.mktemp("synthvl-analysis")
    generate_suite(root, Scale(train=2, val=16, test=16), seed=5, names=["coco-cap", "vqa", "vsr"])
    return root


@pytest.fixture(scope="session")
def model(tiny_parts):
    """A tiny random Llama (4 layers) with an instruction-aware Q-Former, visual tokens at the input."""
    return build(tiny_parts)


@pytest.fixture(scope="session")
def model_k2(tiny_parts):
    """The same, with visual tokens injected at the input of layer 2."""
    return build(tiny_parts, llm__inject_layer=2)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run far faster on one thread on a shared machine; restored after each test."""
    with torch_threads(1):
        yield
