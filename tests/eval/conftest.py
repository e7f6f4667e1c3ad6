"""Shared fixtures: a tiny SynthVL subset and a tiny random model (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructvl.data.synthvl.generate import Scale, generate_suite
from instructvl.threads import torch_threads
from tests.models.helpers import build

NAMES = ["vsr", "iconqa", "memes", "visdial", "gqa", "nocaps", "vqa"]


@pytest.fixture(scope="session")
def suite(tmp_path_factory) -> Path:
    """Seven SynthVL datasets (every output type and metric), 12 train / 6 val / 8 test."""
    root = tmp_path_factory.mktemp("synthvl-eval")
    generate_suite(root, Scale(train=12, val=6, test=8), seed=3, names=NAMES)
    return root


@pytest.fixture(scope="session")
def model(tiny_parts):
    """A tiny random Llama with an instruction-aware Q-Former (4 visual tokens)."""
    return build(tiny_parts)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run far faster on one thread, above all on a shared machine (OpenMP
    threads wait on each other); the setting is restored after each test."""
    with torch_threads(1):
        yield


class PromptSpy:
    """Stands for `model`, recording every prompt sample its collator batches into `seen`."""

    def __init__(self, model, seen: list) -> None:
        self._model, self._seen = model, seen

    def __getattr__(self, name):
        return getattr(self._model, name)

    def collator(self, **kw):
        col = self._model.collator(**kw)
        inner = col.prompt_batch
        col.prompt_batch = lambda samples: (self._seen.extend(samples), inner(samples))[1]
        return col
