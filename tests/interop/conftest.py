"""Tiny transformers checkpoints of each family, built once per test session."""

import pytest

from tests.interop.checkpoints import FAMILIES, build_checkpoint


@pytest.fixture(scope="session")
def hf_checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    return {family: build_checkpoint(family, root / family) for family in FAMILIES}
