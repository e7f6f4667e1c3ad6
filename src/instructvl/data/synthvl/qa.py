"""Shared building blocks for generators: the `Example` they return, attribute
questions answerable from a scene, VQA-style reference sets and multiple-choice options.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from instructvl.data.synthvl.scenes import (
    HELD_IN_COLOURS,
    NUMBER_WORDS,
    SHAPES,
    Obj,
    Scene,
    count,
    plural,
    position_word,
    size_word,
    unique_objects,
)


@dataclass
class Example:
    """What a generator returns: the scene(s) to render and the raw sample fields.

    `turns` is the raw conversation as (role, content) pairs, without any instruction
    template, ending with the assistant's target; `scene_record` is what is stored in
    `metadata["scene"]` (defaults to the first scene's dict); `meta` is merged into
    the sample's metadata (the question program, a rationale, ...).
    """

    scenes: list[Scene]
    turns: list[tuple[str, str]]
    answer: str | None = None
    candidates: list[str] | None = None
    references: list[str] | None = None
    ocr_tokens: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    scene_record: dict[str, Any] | None = None


Generator = Callable[[random.Random, int], Example]
"""A dataset generator: (rng, image size in px) -> Example."""


def article(phrase: str) -> str:
    """`phrase` with "a" or "an" in front."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def qa_example(
    scene: Scene, question: str, answer: str, program: dict[str, Any], references: list[str] | None = None, **kw: Any
) -> Example:
    """An Example for a single question about one scene."""
    return Example(
        [scene],
        [("user", question), ("assistant", answer)],
        answer=answer,
        references=references,
        meta={"program": program, **kw.pop("meta", {})},
        **kw,
    )


# --- attribute questions ----------------------------------------------------------------

ATTRIBUTE_TYPES = ("colour", "shape", "count", "exists", "position", "size")
_PHRASES = {
    "colour": ("What colour is the {kind}?", "What is the colour of the {kind}?", "Which colour is the {kind}?"),
    "shape": (
        "What shape is the {colour} object?",
        "What is the shape of the {colour} object?",
        "Which shape is {colour}?",
    ),
    "count": ("How many {kinds} are there?", "How many {kinds} are in the image?", "What is the number of {kinds}?"),
    "exists": ("Is there {a_obj}?", "Is there {a_obj} in the image?", "Can you see {a_obj}?"),
    "position": ("Where is the {obj}?", "In which part of the image is the {obj}?", "Where is the {obj} located?"),
    "size": ("What size is the {obj}?", "How big is the {obj}?", "Is the {obj} small, medium or large?"),
}


def answer_attribute(scene: Scene, program: dict[str, Any]) -> str:
    """The answer to an attribute question program (see `attribute_question`)."""
    t, kind, colour = program["type"], program.get("kind"), program.get("colour")
    if t == "colour":
        return next(o.colour for o in scene.objects if o.kind == kind)
    if t == "shape":
        return next(o.kind for o in scene.objects if o.colour == colour)
    if t == "count":
        return str(count(scene, kind=kind))
    if t == "exists":
        return "yes" if count(scene, kind=kind, colour=colour) else "no"
    target = next(o for o in scene.objects if o.kind == kind and o.colour == colour)
    return position_word(target, scene) if t == "position" else size_word(target, scene)


def attribute_question(
    rng: random.Random,
    scene: Scene,
    types: tuple[str, ...] = ATTRIBUTE_TYPES,
    kinds: tuple[str, ...] = SHAPES,
    colours: tuple[str, ...] = HELD_IN_COLOURS,
) -> tuple[str, str, dict[str, Any]]:
    """A random question about one attribute, its answer and its program.

    Only unambiguous questions are asked: "the <kind>" names exactly one object.
    """
    uniq = unique_objects(scene)
    uniq_colour = [o for o in scene.objects if count(scene, colour=o.colour) == 1]
    while True:
        t = rng.choice(types)
        if t in ("colour", "position", "size") and uniq:
            o = rng.choice(uniq)
            program = {"type": t, "kind": o.kind} if t == "colour" else {"type": t, "kind": o.kind, "colour": o.colour}
        elif t == "shape" and uniq_colour:
            program = {"type": t, "colour": rng.choice(uniq_colour).colour}
        elif t == "count":
            present = [o.kind for o in scene.objects]
            program = {"type": t, "kind": rng.choice(present if rng.random() < 0.8 else list(kinds))}
        elif t == "exists":
            if rng.random() < 0.5:
                o = rng.choice(scene.objects)
                program = {"type": t, "kind": o.kind, "colour": o.colour}
            else:
                program = {"type": t, "kind": rng.choice(kinds), "colour": rng.choice(colours)}
        else:
            continue
        break
    kind, colour = program.get("kind", ""), program.get("colour", "")
    obj = f"{colour} {kind}".strip() if t in ("position", "size") and count(scene, kind=kind) > 1 else kind
    question = rng.choice(_PHRASES[t]).format(
        kind=kind, colour=colour, kinds=plural(kind, 2), a_obj=article(f"{colour} {kind}"), obj=obj
    )
    return question, answer_attribute(scene, program), program


# --- references and options ------------------------------------------------------------

SYNONYMS: dict[str, tuple[str, ...]] = {
    "purple": ("violet",),
    "gray": ("grey",),
    "square": ("box", "rectangle"),
    "circle": ("round", "ball"),
    "diamond": ("rhombus",),
    "star": ("star shape",),
    "yes": ("yeah", "yes it is"),
    "no": ("nope", "no it is not"),
    "large": ("big",),
    "small": ("tiny", "little"),
    "medium": ("medium sized",),
    "center": ("middle",),
    "left": ("on the left",),
    "right": ("on the right",),
    "top": ("at the top",),
    "bottom": ("at the bottom",),
    "unanswerable": ("unsuitable",),
}
SYNONYMS.update({str(n): (w,) for n, w in enumerate(NUMBER_WORDS)})


def vqa_references(rng: random.Random, answer: str, n: int = 10, max_other: int = 3) -> list[str]:
    """`n` annotator answers: mostly `answer`, up to `max_other` of its synonyms.

    The canonical answer is always the majority, so VQA accuracy of it is 1.0.
    """
    syn = SYNONYMS.get(answer, ())
    k = rng.randint(0, max_other) if syn else 0
    refs = [answer] * (n - k) + [rng.choice(syn) for _ in range(k)]
    rng.shuffle(refs)
    return refs


def options(rng: random.Random, answer: str, pool: list[str] | tuple[str, ...], k: int = 4) -> list[str]:
    """`k` shuffled distinct options: `answer` plus distractors from `pool`."""
    others = [p for p in dict.fromkeys(pool) if p != answer]
    opts = [answer] + rng.sample(others, min(k - 1, len(others)))
    rng.shuffle(opts)
    return opts


def describe(o: Obj, scene: Scene, with_size: bool = False, with_position: bool = False) -> str:
    """A phrase for `o`: "a red circle", "a large red circle at the top left"."""
    text = o.name() if not with_size else f"{size_word(o, scene)} {o.name()}"
    text = article(text)
    if o.kind == "sign":
        text += f" that says {o.text}"
    if with_position:
        text += " " + at_position(o, scene)
    return text


def at_position(o: Obj, scene: Scene) -> str:
    """Where `o` is, as a phrase: "at the top left", "in the center"."""
    pos = position_word(o, scene)
    return "in the center" if pos == "center" else f"at the {pos}"


def join_phrases(parts: list[str]) -> str:
    """ "a, b and c"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
