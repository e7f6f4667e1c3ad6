"""Knowledge-grounded QA: okvqa and aokvqa (held-in), scienceqa (held-out).

The answers need a fact from the small `FACTS` table as well as the image (what colour
or shape is shown, which symbol). okvqa is open-ended with 10 references; aokvqa is
multiple choice with a rationale (`metadata["rationale"]`) and 10 direct answers;
scienceqa is multiple choice over relations held-in data never asks about
(temperature, light sources, comparing numbers of sides).
"""

from __future__ import annotations

import random
from typing import Any

from instructvl.data.synthvl.qa import Example, options, qa_example, vqa_references
from instructvl.data.synthvl.scenes import (
    HELD_IN_COLOURS,
    ICONS,
    SIDES,
    Obj,
    Scene,
    place,
    random_scene,
    sample_size,
)

FACTS: dict[str, dict[str, tuple[str, ...]]] = {
    # held-in relations (okvqa, aokvqa)
    "colour_food": {
        "red": ("strawberry", "tomato", "cherry"),
        "yellow": ("banana", "lemon"),
        "green": ("lettuce", "lime", "cucumber"),
        "blue": ("blueberry",),
        "orange": ("carrot", "orange"),
        "purple": ("grape", "plum"),
        "black": ("licorice",),
        "brown": ("chocolate", "coffee"),
    },
    "sides": {k: (str(v),) for k, v in SIDES.items() if k in ("triangle", "square", "diamond", "hexagon")},
    "meaning": {
        "heart": ("love",),
        "bolt": ("electricity", "lightning"),
        "drop": ("water", "rain"),
        "flame": ("fire",),
        "moon": ("night",),
        "sun": ("day", "sunshine"),
        "snowflake": ("snow", "winter"),
        "leaf": ("plant", "nature"),
    },
    # held-out relations (scienceqa only)
    "temperature": {"sun": ("hot",), "flame": ("hot",), "snowflake": ("cold",)},
    "light_source": {
        "sun": ("yes",),
        "flame": ("yes",),
        "bolt": ("yes",),
        "moon": ("no",),
        "leaf": ("no",),
        "drop": ("no",),
        "heart": ("no",),
        "snowflake": ("no",),
    },
}
"""relation -> subject -> accepted answers (the first is canonical)."""

_OK_QUESTIONS = {
    "colour_food": (
        "Which food has the same colour as the {kind}?",
        "Name a fruit or food that is the colour of the {kind}.",
    ),
    "sides": ("How many sides does this shape have?", "How many sides does the shape in the picture have?"),
    "meaning": ("What does this symbol usually stand for?", "What is this symbol commonly used to represent?"),
}
_RATIONALE = {
    "colour_food": "The {kind} is {subject}, and {answer} is a {subject} food.",
    "sides": "The shape is a {subject}, and a {subject} has {answer} sides.",
    "meaning": "The picture shows a {subject}, a symbol usually used for {answer}.",
}


def fact(relation: str, subject: str) -> str:
    """The canonical answer for (relation, subject) from `FACTS`."""
    return FACTS[relation][subject][0]


def _ok_scene(rng: random.Random, size: int) -> tuple[Scene, str, str, str]:
    """A scene for a held-in fact question: (scene, relation, subject, kind asked about)."""
    relation = rng.choice(list(_OK_QUESTIONS))
    if relation == "colour_food":
        scene = random_scene(rng, size, n_objects=(1, 1))
        o = scene.objects[0]
        return scene, relation, o.colour, o.kind
    kinds = tuple(FACTS["sides"]) if relation == "sides" else ICONS
    scene = random_scene(rng, size, n_objects=(1, 1), kinds=kinds)
    return scene, relation, scene.objects[0].kind, scene.objects[0].kind


def _ok_refs(rng: random.Random, relation: str, subject: str) -> list[str]:
    accepted = FACTS[relation][subject]
    refs = vqa_references(rng, accepted[0])
    for i in range(1, len(accepted)):
        refs[i] = accepted[i]  # other accepted answers (shuffled positions already random)
    return refs


def gen_okvqa(rng: random.Random, size: int) -> Example:
    """okvqa: open-ended fact question about the one object shown; 10 references."""
    scene, relation, subject, kind = _ok_scene(rng, size)
    q = rng.choice(_OK_QUESTIONS[relation]).format(kind=kind)
    a = fact(relation, subject)
    program = {"type": "fact", "relation": relation, "subject": subject}
    return qa_example(scene, q, a, program, references=_ok_refs(rng, relation, subject))


def gen_aokvqa(rng: random.Random, size: int) -> Example:
    """aokvqa: 4-way multiple choice with a rationale and 10 direct answers."""
    scene, relation, subject, kind = _ok_scene(rng, size)
    q = rng.choice(_OK_QUESTIONS[relation]).format(kind=kind)
    a = fact(relation, subject)
    pool = [v[0] for s, v in FACTS[relation].items() if v[0] != a]
    program = {"type": "fact", "relation": relation, "subject": subject}
    rationale = _RATIONALE[relation].format(kind=kind, subject=subject, answer=a)
    return qa_example(
        scene,
        q,
        a,
        program,
        candidates=options(rng, a, pool),
        references=_ok_refs(rng, relation, subject),
        meta={"rationale": rationale},
    )


# --- scienceqa ------------------------------------------------------------------------


def answer_science(scene: Scene, program: dict[str, Any]) -> str:
    """The answer to a scienceqa program, from the scene and `FACTS`."""
    t = program["type"]
    if t == "temperature":
        return fact("temperature", scene.objects[0].kind)
    if t == "light":
        return next(o.kind for o in scene.objects if fact("light_source", o.kind) == "yes")
    return max(scene.objects, key=lambda o: SIDES[o.kind]).kind


def _icons_scene(rng: random.Random, size: int, kinds: list[str]) -> Scene:
    scene = Scene(width=size, height=size, background="white")
    for kind in kinds:
        s = sample_size(rng, size, "medium")
        scene.objects.append(Obj(kind, rng.choice(HELD_IN_COLOURS), s, *place(rng, scene, s, tries=200)))
    return scene


def gen_scienceqa(rng: random.Random, size: int) -> Example:
    """scienceqa: hot or cold / which is a light source / which has most sides (multiple choice)."""
    t = rng.choice(["temperature", "light", "sides"])
    if t == "temperature":
        scene = _icons_scene(rng, size, [rng.choice(list(FACTS["temperature"]))])
        q = "Is the pictured object hot or cold? Hint: think about how it would feel to touch."
        cands = ["hot", "cold"]
    elif t == "light":
        dark = [k for k, v in FACTS["light_source"].items() if v[0] == "no"]
        lit = [k for k, v in FACTS["light_source"].items() if v[0] == "yes"]
        kinds = [rng.choice(lit)] + rng.sample(dark, rng.randint(1, 2))
        rng.shuffle(kinds)
        scene = _icons_scene(rng, size, kinds)
        q = "Which object in the image is a source of light? Hint: a light source gives off its own light."
        cands = list(kinds)
    else:
        kinds = rng.choice(
            [
                ["triangle", "square"],
                ["triangle", "hexagon"],
                ["square", "hexagon"],
                ["diamond", "hexagon"],
                ["triangle", "square", "hexagon"],
                ["triangle", "diamond"],
            ]
        )
        kinds = rng.sample(kinds, len(kinds))
        scene = _icons_scene(rng, size, kinds)
        q = "Which of these shapes has the most sides?"
        cands = list(kinds)
    program = {"type": t}
    return qa_example(scene, q, answer_science(scene, program), program, candidates=cands)
