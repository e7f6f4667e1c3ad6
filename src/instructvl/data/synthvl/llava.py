"""LLaVA-Instruct-like (held-in): llava-conv, llava-detail, llava-reason.

Conversation: several questions with full-sentence answers. Detail: a paragraph
describing every object (size, colour, kind, position) and a relation. Reasoning: a
question whose answer explains a small inference (largest object, what is left after
removing one, whether all colours match).
"""

from __future__ import annotations

import random
from typing import Any

from instructvl.data.synthvl.qa import Example, article, attribute_question, describe
from instructvl.data.synthvl.scenes import (
    Scene,
    clear_relation,
    count,
    plural,
    position_word,
    random_scene,
    relation_holds,
)


def sentence(program: dict[str, Any], answer: str) -> str:
    """A full-sentence answer to an attribute question program."""
    t, kind, colour = program["type"], program.get("kind", ""), program.get("colour", "")
    if t == "colour":
        return f"The {kind} is {answer}."
    if t == "shape":
        return f"The {colour} object is {article(answer)}."
    if t == "count":
        n = int(answer)
        return f"There {'is' if n == 1 else 'are'} {n} {plural(kind, n)} in the image."
    if t == "exists":
        return (
            f"Yes, there is {article(colour + ' ' + kind)} in the image."
            if answer == "yes"
            else f"No, there is no {colour} {kind} in the image."
        )
    if t == "position":
        return (
            f"The {colour} {kind} is in the center of the image."
            if answer == "center"
            else f"The {colour} {kind} is at the {answer} of the image."
        )
    return f"The {colour} {kind} is {answer}."


def gen_llava_conv(rng: random.Random, size: int) -> Example:
    """llava-conv: 2-3 rounds of question and full-sentence answer."""
    scene = random_scene(rng, size, n_objects=(1, 4))
    turns, programs = [], []
    for _ in range(rng.randint(2, 3)):
        q, a, program = attribute_question(rng, scene)
        if any(p["type"] == program["type"] for p in programs):
            continue  # one question per attribute keeps the conversation natural
        turns += [("user", q), ("assistant", sentence(program, a))]
        programs.append({**program, "answer": a})
    return Example([scene], turns, meta={"programs": programs})


def detail_paragraph(scene: Scene, rng: random.Random) -> str:
    """A detailed description: count, background, each object, one relation, overlaps."""
    n = len(scene.objects)
    parts = [f"The image shows {n} {plural('shape', n)} on {article(scene.background)} background."]
    for o in scene.objects:
        parts.append(describe(o, scene, with_size=True, with_position=True).capitalize() + ".")
    if n >= 2:
        a, b = rng.sample(scene.objects, 2)
        rel = clear_relation(a, b, rng)
        if rel:
            parts.append(f"The {a.name()} is {rel} the {b.name()}.")
    for i, a in enumerate(scene.objects):
        for b in scene.objects[i + 1 :]:
            if relation_holds(b, a, "overlapping"):
                parts.append(f"The {b.name()} partly covers the {a.name()}.")
    return " ".join(parts)


def gen_llava_detail(rng: random.Random, size: int) -> Example:
    """llava-detail: a paragraph describing the whole scene (the instruction is templated)."""
    scene = random_scene(rng, size, n_objects=(1, 4))
    return Example([scene], [("user", ""), ("assistant", detail_paragraph(scene, rng))])


def gen_llava_reason(rng: random.Random, size: int) -> Example:
    """llava-reason: a question needing a small inference, answered with its explanation."""
    scene = random_scene(rng, size, n_objects=(2, 4))
    objs = sorted(scene.objects, key=lambda o: o.size, reverse=True)
    options = ["remove", "same-colour"] + (["largest"] if objs[0].size - objs[1].size >= 3 else [])
    t = rng.choice(options)
    if t == "largest":
        o = objs[0]
        q = "Which object is the largest, and where is it?"
        pos = position_word(o, scene)
        a = f"The largest object is the {o.name()}; it sits " + (
            "in the center of the image." if pos == "center" else f"at the {pos} of the image."
        )
    elif t == "remove":
        o = rng.choice(scene.objects)
        n = len(scene.objects)
        q = f"If the {o.name()} were removed, how many shapes would be left?"
        a = f"There are {n} shapes now, so {n - 1} would be left after removing the {o.name()}."
    else:
        colours = sorted({o.colour for o in scene.objects})
        q = "Are all the shapes the same colour? Explain."
        a = (
            f"Yes, every shape is {colours[0]}."
            if len(colours) == 1
            else f"No. The shapes have {len(colours)} different colours: {', '.join(colours)}."
        )
    program = {"type": t, "subject": scene.objects.index(o) if t != "same-colour" else None}
    return Example([scene], [("user", q), ("assistant", a)], meta={"program": program, "n_objects": count(scene)})
