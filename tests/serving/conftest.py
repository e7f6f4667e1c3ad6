"""Fixtures for the serving tests: a tiny random model saved to disk (built once) and a
server for it in a thread."""

from __future__ import annotations

import pytest

from instructvl.threads import torch_threads
from tests.models.helpers import build
from tests.serving.helpers import running


@pytest.fixture(scope="session")
def tiny_model(tiny_parts):
    """A tiny random Llama with an instruction-aware Q-Former (4 visual tokens)."""
    return build(tiny_parts)


@pytest.fixture(scope="session")
def tiny_dir(tiny_model, tmp_path_factory):
    """The tiny model saved as an instructvl model folder (what `serve --model` loads)."""
    return tiny_model.save_pretrained(tmp_path_factory.mktemp("served") / "model")


@pytest.fixture(scope="session")
def server(tiny_model):
    """A server with the default bounds (small max_tokens for speed) serving the tiny model."""
    with running(tiny_model, max_tokens=64) as url:
        yield url


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run far faster on one thread, above all on a shared machine."""
    with torch_threads(1):
        yield
