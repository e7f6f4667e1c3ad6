"""Shared fixtures: one reduced SynthVL suite generated once per test session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instructvl.data.schema import Sample
from instructvl.data.synthvl.generate import Scale, generate_suite

TINY = Scale(train=40, val=10, test=30)


@pytest.fixture(scope="session")
def suite(tmp_path_factory) -> Path:
    """All 26 datasets at a reduced scale (40 train / 10 val / 30 test), seed 7."""
    root = tmp_path_factory.mktemp("synthvl")
    generate_suite(root, TINY, seed=7)
    return root


def raw_samples(root: Path, name: str, split: str) -> list[Sample]:
    """The raw samples of one split, straight from the JSONL (no loader)."""
    lines = (root / name / f"{split}.jsonl").read_text().splitlines()
    return [Sample.from_json(json.loads(line)) for line in lines]
