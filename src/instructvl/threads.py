"""The number of torch CPU threads for a block of work."""

from __future__ import annotations

import os
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int):
    """Runs the block with `n` torch threads (at least 1, at most the CPU count), then
    restores the previous number."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(n, os.cpu_count() or 1)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
