"""Instruction templates, kept as data: one YAML file per task type in this folder.

Each file has `task`, `apply_to` ("first" or "last": which user turn is templated),
`short_answer` (whether the templates ask for a short answer) and 10-15 `templates`
using the placeholders `{input}` (the raw input) and, for multiple choice, `{options}`;
also `{context}` (`metadata["context"]`), `{ocr}` (the OCR tokens) and `{history}` (the
dialog before the templated turn), which `instructvl.data.formatting` fills.

`protocols.yaml` holds the fixed prompts of published evaluation protocols (one prompt per
benchmark, not a draw from 10-15): `load_templates("<protocol>/<prompt>")` gives one as a
one-template set with the `apply_to` and `short_answer` of the task type it stands for.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from importlib import resources

import yaml

from instructvl.data.seeding import stable_seed
from instructvl.errors import InstructVLError

PLACEHOLDERS = {"input", "options", "context", "ocr", "history"}
MIN_TEMPLATES, MAX_TEMPLATES = 10, 15
PROTOCOLS = "protocols"


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


def placeholders(template: str) -> set[str]:
    """The `{name}` fields a template uses."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def _check_placeholders(templates: tuple[str, ...], source: str) -> None:
    for t in templates:
        unknown = placeholders(str(t)) - PLACEHOLDERS
        if unknown:
            raise InstructVLError(f"{source}: template {t!r} uses unknown placeholders {sorted(unknown)}")


def _check(task: str, data: object, source: str) -> TemplateSet:
    if not isinstance(data, dict) or not isinstance(data.get("templates"), list):
        raise InstructVLError(f"{source}: expected a mapping with a 'templates' list")
    templates = tuple(data["templates"])
    if not MIN_TEMPLATES <= len(templates) <= MAX_TEMPLATES:
        raise InstructVLError(f"{source}: {len(templates)} templates, expected {MIN_TEMPLATES}-{MAX_TEMPLATES}")
    _check_placeholders(templates, source)
    if data.get("apply_to", "first") not in ("first", "last"):
        raise InstructVLError(f"{source}: apply_to must be 'first' or 'last'")
    return TemplateSet(
        task=data.get("task", task),
        templates=templates,
        apply_to=data.get("apply_to", "first"),
        short_answer=bool(data.get("short_answer", False)),
    )


def _read(name: str) -> object:
    return yaml.safe_load(resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8"))


@functools.cache
def load_templates(task: str) -> TemplateSet:
    """The template set of task type `task` (templates/<task>.yaml), or the fixed prompt
    `<protocol>/<prompt>` of protocols.yaml; unknown names are errors listing the known ones."""
    if "/" in task:
        return protocol_prompt(task)
    if task not in task_types():
        known = ", ".join(task_types() + protocol_prompts())
        raise InstructVLError(f"no instruction templates for task {task!r}; known: {known}")
    return _check(task, _read(task), f"templates/{task}.yaml")


def protocol_prompt(name: str) -> TemplateSet:
    """The fixed prompt `<protocol>/<prompt>` of protocols.yaml as a one-template set of its
    `task` type (whose `apply_to` and `short_answer` it takes)."""
    protocol, _, prompt = name.partition("/")
    entry = (_protocols().get(protocol) or {}).get("prompts", {}).get(prompt)
    if entry is None:
        raise InstructVLError(f"no protocol prompt {name!r} in templates/{PROTOCOLS}.yaml; known: {protocol_prompts()}")
    source = f"templates/{PROTOCOLS}.yaml, {name}"
    if not isinstance(entry, dict) or set(entry) != {"task", "prompt"}:
        raise InstructVLError(f"{source}: expected a mapping with 'task' (a template task type) and 'prompt'")
    base = load_templates(entry["task"])
    _check_placeholders((entry["prompt"],), source)
    return TemplateSet(base.task, (entry["prompt"],), apply_to=base.apply_to, short_answer=base.short_answer)


@functools.cache
def _protocols() -> dict:
    data = _read(PROTOCOLS)
    if not isinstance(data, dict) or not all(isinstance(v, dict) and "prompts" in v for v in data.values()):
        raise InstructVLError(f"templates/{PROTOCOLS}.yaml: expected protocols, each with 'source' and 'prompts'")
    return data


def protocol_prompts() -> list[str]:
    """Every `<protocol>/<prompt>` name of protocols.yaml."""
    return [f"{protocol}/{prompt}" for protocol, entry in _protocols().items() for prompt in entry["prompts"]]


def task_types() -> list[str]:
    """All task types with a template file (protocols.yaml holds fixed prompts, not a task type)."""
    names = (p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))
    return sorted(n for n in names if n != PROTOCOLS)
