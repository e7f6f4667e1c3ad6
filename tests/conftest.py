"""Shared fixtures: tiny components on disk, built once per test session."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import transformers  # noqa: E402

transformers.utils.logging.disable_progress_bar()
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def tiny_parts(tmp_path_factory):
    from tests.tiny import build_components

    return build_components(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    from tests.tiny import write_images

    return write_images(tmp_path_factory.mktemp("images"))
