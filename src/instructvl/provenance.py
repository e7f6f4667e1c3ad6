"""What produced a result: package versions and the machine, for run directories and reports."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

PACKAGES = ("instructvl", "torch", "transformers", "accelerate", "peft", "safetensors", "tokenizers", "numpy", "pillow", "scikit-learn")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape results (None when absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment() -> dict:
    """Package versions plus Python, platform, torch threads and accelerator."""
    import torch

    return {
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
