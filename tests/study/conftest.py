"""A tiny SynthVL suite, a tiny preset and a tiny 2-cell study grid for the study tests."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.tiny import model_config

NAMES = ["vqa", "coco-cap", "vsr"]


@pytest.fixture(scope="session")
def study_suite(tmp_path_factory):
    from instructvl.data.synthvl.generate import Scale, generate_suite

    root = tmp_path_factory.mktemp("study-suite")
    generate_suite(root, Scale(train=16, val=4, test=4), seed=0, names=NAMES)
    return root


def tiny_grid(parts: dict, suite, folder, **changes) -> dict:
    """A 2-cell x 2-seed grid over the tiny model (its preset written into `folder`)."""
    preset = folder / "tiny.yaml"
    preset.write_text(yaml.safe_dump(json.loads(json.dumps(model_config(parts)))))
    grid = {
        "name": "tiny",
        "description": "two heads",
        "base": {
            "model": "tiny.yaml",
            "data": str(suite),
            "train": {"batch_size": 2, "keep_last": 1},
            "stage": {"steps": 2, "lr": 1e-3, "warmup_steps": 1, "data": {"datasets": ["vqa", "coco-cap"]}},
            "evaluation": {"tasks": ["vsr", "vqa"], "limit": 2},
            "estimate": {"train_step_s": 1.0, "eval_sample_s": 0.5, "run_overhead_s": 2.0, "analysis_s": 10.0},
        },
        "seeds": [0, 1],
        "cells": [
            {"name": "qformer", "description": "instruction-aware Q-Former", "analyses": ["probes"]},
            {
                "name": "mlp",
                "description": "MLP projector",
                "model_overrides": ["head.type=mlp"],
                "stage": {"trainable": {"head": False}},
            },
        ],
    }
    grid.update(changes)
    return grid


def write_grid(folder, grid: dict):
    """Writes `grid` as folder/grid.yaml and returns the path."""
    path = folder / "grid.yaml"
    path.write_text(yaml.safe_dump(grid, sort_keys=False))
    return path
