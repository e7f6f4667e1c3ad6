"""Instruction templates, kept as data: one YAML file per task type in this folder.

Each file has `task`, `apply_to` ("first" or "last": which user turn is templated),
`short_answer` (whether the templates ask for a short answer) and 10-15 `templates`
using the placeholders `{input}` (the raw input) and, for multiple choice, `{options}`.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from importlib import resources

import yaml

from instructvl.data.seeding import stable_seed
from instructvl.errors import InstructVLError

PLACEHOLDERS = {"input", "options"}
MIN_TEMPLATES, MAX_TEMPLATES = 10, 15


@dataclass(frozen=True)
class TemplateSet:
    """The templates of one task type."""

    task: str
    templates: tuple[str, ...]
    apply_to: str = "first"
    short_answer: bool = False

    def pick(self, seed: int, key: str) -> tuple[int, str]:
        """A template drawn uniformly, deterministically from (`seed`, `key`): (index, text)."""
        i = stable_seed("template", seed, key) % len(self.templates)
        return i, self.templates[i]


def _check(task: str, data: object, source: str) -> TemplateSet:
    if not isinstance(data, dict) or not isinstance(data.get("templates"), list):
        raise InstructVLError(f"{source}: expected a mapping with a 'templates' list")
    templates = tuple(data["templates"])
    if not MIN_TEMPLATES <= len(templates) <= MAX_TEMPLATES:
        raise InstructVLError(f"{source}: {len(templates)} templates, expected {MIN_TEMPLATES}-{MAX_TEMPLATES}")
    for t in templates:
        names = {f for _, f, _, _ in string.Formatter().parse(str(t)) if f is not None}
        if not names <= PLACEHOLDERS:
            raise InstructVLError(f"{source}: template {t!r} uses unknown placeholders {sorted(names - PLACEHOLDERS)}")
    if data.get("apply_to", "first") not in ("first", "last"):
        raise InstructVLError(f"{source}: apply_to must be 'first' or 'last'")
    return TemplateSet(
        task=data.get("task", task),
        templates=templates,
        apply_to=data.get("apply_to", "first"),
        short_answer=bool(data.get("short_answer", False)),
    )


@functools.cache
def load_templates(task: str) -> TemplateSet:
    """The template set of task type `task` (templates/<task>.yaml); unknown tasks are errors."""
    res = resources.files(__name__).joinpath(f"{task}.yaml")
    if not res.is_file():
        raise InstructVLError(f"no instruction templates for task {task!r}; known: {', '.join(task_types())}")
    return _check(task, yaml.safe_load(res.read_text(encoding="utf-8")), f"templates/{task}.yaml")


def task_types() -> list[str]:
    """All task types with a template file."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))
