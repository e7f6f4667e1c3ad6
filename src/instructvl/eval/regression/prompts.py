"""The fixed text-only prompts of the KL measure: the first `PER_TASK` prompts of every
held-in SynthVL task with the image removed, and `GENERAL` instructions; each ends with
its reference answer (the gold answer; the written one), on which both models are
teacher-forced."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from instructvl.data.schema import Sample, Turn
from instructvl.eval.infer import strip_images
from instructvl.eval.prepare import prepare_samples
from instructvl.eval.spec import resolve_tasks
from instructvl.eval.targets import gold_text

PER_TASK = 4
HELD_IN_GROUP = "held-in"
HELD_IN = "held-in (no image)"
GENERAL_SET = "general"
GENERAL = (
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Name three primary colours.", "Red, yellow and blue."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("Write one sentence about the sea.", "The sea is wide, deep and always moving."),
    ("What is 12 plus 7?", "12 plus 7 is 19."),
    ("Give a synonym for happy.", "Joyful."),
    ("Translate 'thank you' into French.", "Merci."),
    ("Why do we need sleep?", "Sleep lets the body and the brain rest and recover."),
    ("List the days of the weekend.", "Saturday and Sunday."),
    ("What does a thermometer measure?", "A thermometer measures temperature."),
    ("Suggest a name for a black cat.", "Shadow."),
    ("Explain in one sentence what a verb is.", "A verb is a word that names an action or a state."),
)


def general_prompts() -> list[Sample]:
    """The general instructions, each with its written answer."""
    return [
        Sample(f"general-{i}", GENERAL_SET, turns=[Turn("user", q), Turn("assistant", a)])
        for i, (q, a) in enumerate(GENERAL)
    ]


def held_in_prompts(data: str | Path | None, seed: int = 0, per_task: int = PER_TASK) -> list[Sample]:
    """The first `per_task` prompts of each held-in SynthVL task, without the image, each
    with its gold answer as the assistant's turn (samples without one are left out)."""
    out = []
    for spec in resolve_tasks(HELD_IN_GROUP):
        for sample in prepare_samples(spec, data, None, seed, per_task):
            answer = gold_text(spec, sample)
            if answer:
                text = strip_images(sample)
                out.append(dataclasses.replace(text, dataset=HELD_IN, turns=[*text.turns, Turn("assistant", answer)]))
    return out


def text_prompts(data: str | Path | None, seed: int = 0) -> list[Sample]:
    """The whole fixed prompt set (held-in without images, then the general instructions)."""
    return held_in_prompts(data, seed) + general_prompts()
