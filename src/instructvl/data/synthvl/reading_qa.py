"""QA with reading comprehension: ocrvqa (held-in) and textvqa (held-out).

ocrvqa images are book covers: a title at the top, a genre symbol, an author at the
bottom. textvqa images hold one or two signs among shapes. Both give the words in the
image as `ocr_tokens` (the formatter appends them to the instruction).
"""

from __future__ import annotations

import random
from typing import Any

from instructvl.data.synthvl.qa import Example, qa_example
from instructvl.data.synthvl.scenes import (
    HELD_IN_COLOURS,
    Obj,
    Scene,
    add_sign,
    random_scene,
)

TITLES = (
    "Silent Sea",
    "Red River",
    "Night Owl",
    "Old Roads",
    "Deep Woods",
    "Lost City",
    "Iron Gate",
    "Blue Hill",
    "Cold Star",
    "Dark Lake",
    "Wild Sky",
    "Bright Day",
    "Stone Path",
    "Last Ship",
)
FIRST = ("Ann", "Bo", "Cy", "Dee", "Eli", "Flo", "Gus", "Ida", "Jo", "Kai", "Lu", "Max", "Ned", "Ola")
LAST = ("Lee", "Ray", "Fox", "Hale", "Moss", "Kent", "Ives", "Park", "Webb", "Dunn", "Ford", "Lowe")
GENRES = {
    "heart": "romance",
    "flame": "thriller",
    "leaf": "gardening",
    "sun": "travel",
    "bolt": "science",
    "moon": "fantasy",
}
"""cover symbol -> genre."""


def cover_field(scene: Scene, role: str) -> str:
    """The text with `role` ("title", "author") on a cover."""
    return next(o.text for o in scene.objects if o.role == role)


def answer_ocrvqa(scene: Scene, program: dict[str, Any]) -> str:
    """The answer to an ocrvqa program, read off the cover scene."""
    t = program["type"]
    genre = GENRES[next(o.kind for o in scene.objects if o.kind in GENRES)]
    if t in ("title", "author"):
        return cover_field(scene, t)
    if t == "genre":
        return genre
    return "yes" if program["genre"] == genre else "no"


def gen_ocrvqa(rng: random.Random, size: int) -> Example:
    """ocrvqa: title / author / genre / is-this-a-<genre>-book questions on a cover."""
    k = size / 64
    scene = Scene(width=size, height=size, background=rng.choice(["cream", "white", "sky", "sand"]), style="cover")
    ink = rng.choice(["black", "blue", "brown", "purple"])
    symbol = rng.choice(list(GENRES))
    scene.objects = [
        Obj("text", ink, round(10 * k), size // 2, round(12 * k), text=rng.choice(TITLES), role="title"),
        Obj(symbol, rng.choice(HELD_IN_COLOURS[:6]), round(20 * k), size // 2, round(33 * k)),
        Obj(
            "text",
            ink,
            round(9 * k),
            size // 2,
            round(53 * k),
            text=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            role="author",
        ),
    ]
    t = rng.choice(["title", "author", "genre", "is-genre"])
    program: dict[str, Any] = {"type": t}
    if t == "is-genre":
        program["genre"] = GENRES[symbol] if rng.random() < 0.5 else rng.choice(list(GENRES.values()))
    q = {
        "title": "What is the title of this book?",
        "author": "Who wrote this book?",
        "genre": "What is the genre of this book?",
        "is-genre": f"Is this a {program.get('genre')} book?",
    }[t]
    ocr = cover_field(scene, "title").split() + cover_field(scene, "author").split()
    return qa_example(scene, q, answer_ocrvqa(scene, program), program, ocr_tokens=ocr)


def gen_textvqa(rng: random.Random, size: int) -> Example:
    """textvqa: what does the <colour> sign / the sign at the top|bottom say?"""
    scene = random_scene(rng, size, n_objects=(0, 2), overlap_p=0.0)
    signs = [add_sign(rng, scene) for _ in range(rng.choice([1, 1, 2]))]
    target = rng.choice(signs)
    program: dict[str, Any] = {"type": "sign-colour", "colour": target.colour}
    q = rng.choice(["What does the {c} sign say?", "What word is written on the {c} sign?"]).format(c=target.colour)
    if len(signs) == 2 and abs(signs[0].y - signs[1].y) > target.size:
        if rng.random() < 0.5:
            where = "top" if target.y == min(s.y for s in signs) else "bottom"
            program = {"type": "sign-at", "where": where}
            q = f"What is written on the sign at the {where}?"
    elif len(signs) == 1 and rng.random() < 0.5:
        q = "What word is written on the sign?"
    ocr = [o.text for o in sorted(scene.objects, key=lambda o: (o.y, o.x)) if o.kind == "sign"]
    return qa_example(scene, q, target.text, program, ocr_tokens=ocr)
