"""A tiny SynthVL suite and tiny training configs for the training tests."""

from __future__ import annotations

import pytest

from tests.tiny import model_config

NAMES = ["vqa", "coco-cap", "aokvqa"]


@pytest.fixture(scope="session")
def tiny_suite(tmp_path_factory):
    from instructvl.data.synthvl.generate import Scale, generate_suite

    root = tmp_path_factory.mktemp("suite")
    generate_suite(root, Scale(train=24, val=8, test=4), seed=0, names=NAMES)
    return root


def train_dict(parts, suite, head="mlp", steps=6, **top) -> dict:
    """A TrainConfig dict over the tiny model and suite."""
    cfg = {
        "model": model_config(parts, head),
        "data_dir": str(suite),
        "batch_size": 4,
        "stages": [{"name": "s1", "steps": steps, "lr": 1e-2, "warmup_steps": 2, "data": {"datasets": NAMES}}],
    }
    cfg.update(top)
    return cfg
