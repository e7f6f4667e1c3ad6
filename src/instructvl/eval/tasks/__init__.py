"""The packaged task files: YAML documents whose `tasks` map task names to `TaskSpec`
fields (see `instructvl.eval.spec`, which validates them). Listing names here reads the
files without validating them, cheaply enough for help texts."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

FIRST = "synthvl.yaml"
GROUPS = {
    "held-in": "SynthVL held-in tasks (their val split)",
    "held-out": "SynthVL held-out tasks (test split)",
    "synthvl": "all 26 SynthVL tasks",
    "real": "the 13 real held-out benchmarks of InstructBLIP's Table 1, real-* (need --data-root)",
    "real-held-in": "the real held-in benchmarks on their val splits, real-* (need --data-root)",
    "all": "every packaged task",
}
"""Task groups `--tasks` takes, and what each selects."""


def task_files() -> list[Path]:
    """The packaged task files, synthvl.yaml first, then by name."""
    folder = Path(str(resources.files(__name__)))
    return sorted(folder.glob("*.yaml"), key=lambda p: (p.name != FIRST, p.name))


def task_names() -> list[str]:
    """Every packaged task name, in file order (unvalidated: for help texts)."""
    return [name for path in task_files() for name in (yaml.safe_load(path.read_text(encoding="utf-8"))["tasks"])]
