"""Turning a raw sample (as stored in JSONL) into the formatted `Sample` a model sees.

Raw samples keep the conversation without instructions: the templated user turn holds
the raw input (a question, a statement, an answer for question generation, the text
of a meme, or "" for captions and detailed descriptions), `metadata["task"]` names the
template set, and the last assistant turn holds the target. Templates are applied at
load time, so one stored suite serves every mode:

- `instruction`: a template of the task, drawn uniformly from (seed, sample id) (a
  protocol's fixed prompt is the only one of its set), with `{input}`, `{options}`,
  `{context}`, `{ocr}` and `{history}` filled. OCR tokens, when present and the template
  has no `{ocr}`, are appended to the raw input (" OCR tokens: a, b, c."), so they sit
  before any trailing "Answer:" cue. A template with `{history}` folds the turns before
  the templated one into the prompt (caption first), which becomes the first turn.
- `multitask`: no natural instruction, the paper's multitask baseline:
  "[<dataset>] <raw input>" (plus "options: ..." for multiple choice and OCR tokens).
- `caption-only`: BLIP-2-like pretraining: only caption tasks, with one fixed prompt.
"""

from __future__ import annotations

import dataclasses

from instructvl.data.schema import Sample, Turn
from instructvl.data.templates import TemplateSet, load_templates, placeholders
from instructvl.errors import InstructVLError

MODES = ("instruction", "multitask", "caption-only")
CAPTION_TASKS = frozenset({"caption"})
CAPTION_ONLY_PROMPT = "A short image caption:"


def render_options(candidates: list[str] | None) -> str:
    """Candidates as "(a) red (b) blue (c) green"."""
    return " ".join(f"({chr(97 + i)}) {c}" for i, c in enumerate(candidates or []))


def ocr_suffix(tokens: list[str] | None) -> str:
    """ " OCR tokens: a, b." when there are tokens, else ""."""
    return f" OCR tokens: {', '.join(tokens)}." if tokens else ""


def _uses_options(tset: TemplateSet) -> bool:
    return any("{options}" in t for t in tset.templates)


def templated_turn(raw: Sample) -> int:
    """Index of the user turn that gets the instruction (first or last, per task)."""
    users = [i for i, t in enumerate(raw.turns) if t.role == "user"]
    if not users:
        raise InstructVLError(f"sample {raw.id!r} has no user turn to format")
    return users[0] if load_templates(task_of(raw)).apply_to == "first" else users[-1]


def task_of(raw: Sample) -> str:
    """The sample's template task type (`metadata["task"]`)."""
    task = raw.metadata.get("task")
    if not task:
        raise InstructVLError(f"sample {raw.id!r} has no metadata['task'] naming its template set")
    return task


def render_history(raw: Sample) -> str:
    """The dialog before the templated turn as one line: `metadata["caption"]` (round 0 of
    a visual dialog), then each earlier turn as "Q: <question>" / "A: <answer>"."""
    marks = {"user": "Q", "assistant": "A"}
    earlier = [f"{marks[t.role]}: {t.content}" for t in raw.turns[: templated_turn(raw)] if t.role in marks]
    caption = raw.metadata.get("caption")
    return " ".join(([caption] if caption else []) + earlier)


def raw_input(raw: Sample, with_ocr: bool = True) -> str:
    """The templated turn's raw content, with the OCR tokens appended unless `with_ocr` is False."""
    return (raw.turns[templated_turn(raw)].content + (ocr_suffix(raw.ocr_tokens) if with_ocr else "")).strip()


def fill_template(raw: Sample, template: str) -> str:
    """`template` with the sample's fields filled (see the module docstring)."""
    fields = placeholders(template)
    text_input = raw_input(raw, with_ocr="ocr" not in fields)
    text = template.format(
        input=text_input,
        options=render_options(raw.candidates),
        context=raw.metadata.get("context") or "",
        ocr=", ".join(raw.ocr_tokens or []),
        history=render_history(raw) if "history" in fields else "",
    )
    if "input" not in fields and text_input:  # e.g. OCR tokens for a caption template
        text = f"{text} {text_input}"
    return text


def instruction_text(raw: Sample, mode: str = "instruction", seed: int = 0) -> tuple[str, int | None]:
    """The formatted content of the templated user turn, and the template index used."""
    task = task_of(raw)
    tset = load_templates(task)
    if mode == "instruction":
        index, template = tset.pick(seed, raw.id)
        return fill_template(raw, template), index
    if mode == "multitask":
        text = f"[{raw.dataset}] {raw_input(raw)}".rstrip()
        if raw.candidates and _uses_options(tset):
            text += f" options: {render_options(raw.candidates)}"
        return text, None
    if mode == "caption-only":
        if tset.task not in CAPTION_TASKS:
            raise InstructVLError(f"caption-only mode takes caption data only; {raw.dataset!r} is a {task!r} task")
        return CAPTION_ONLY_PROMPT, None
    raise InstructVLError(f"unknown formatting mode {mode!r}; choose one of {', '.join(MODES)}")


def format_sample(raw: Sample, mode: str = "instruction", seed: int = 0, *, with_target: bool = True) -> Sample:
    """The formatted sample for `mode` (see the module docstring).

    With `with_target=False` a final assistant turn is dropped (evaluation prompts);
    `answer`, `references` and `candidates` are kept either way. The template index and
    mode are recorded in `metadata`.
    """
    text, index = instruction_text(raw, mode, seed)
    turns = list(raw.turns)
    ti = templated_turn(raw)
    turns[ti] = Turn("user", text)
    if index is not None and "history" in placeholders(load_templates(task_of(raw)).templates[index]):
        turns = turns[ti:]  # the earlier turns are in the prompt's {history}
    if not with_target and turns and turns[-1].role == "assistant":
        turns = turns[:-1]
    meta = {**raw.metadata, "mode": mode, "template_index": index}
    return dataclasses.replace(raw, turns=turns, metadata=meta)
