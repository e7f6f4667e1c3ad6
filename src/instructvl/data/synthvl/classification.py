"""Image classification (whole category held out): memes (HatefulMemes-like, AUC).

A meme is a picture of one symbol with a two-word caption "<ADJECTIVE> <THING>"
overlaid at the top. It is "hateful" (answer "yes") only when the adjective is insulting
AND the thing named is the one pictured; an insult aimed at something not pictured, or
a kind word about the pictured thing, are the benign confounders (answer "no").
"""

from __future__ import annotations

import random

from instructvl.data.synthvl.qa import Example
from instructvl.data.synthvl.scenes import HELD_IN_COLOURS, Obj, Scene

INSULTS = ("UGLY", "DUMB", "VILE", "BAD")
PRAISE = ("NICE", "COOL", "GOOD", "CUTE")
SUBJECTS = ("heart", "sun", "moon", "drop", "bolt", "leaf", "flame")


def meme_label(scene: Scene) -> str:
    """ "yes" when the caption insults the pictured thing, else "no"."""
    caption = next(o.text for o in scene.objects if o.kind == "text")
    pictured = next(o.kind for o in scene.objects if o.kind != "text")
    adjective, thing = caption.lower().split()
    return "yes" if adjective.upper() in INSULTS and thing == pictured else "no"


def gen_memes(rng: random.Random, size: int) -> Example:
    """memes: picture + caption; is it hateful? (candidates "no" / "yes")."""
    k = size / 64
    pictured = rng.choice(SUBJECTS)
    case = rng.choice(["hateful", "hateful", "other-thing", "praise"])
    adjective = rng.choice(PRAISE if case == "praise" else INSULTS)
    thing = rng.choice([s for s in SUBJECTS if s != pictured]) if case == "other-thing" else pictured
    caption = f"{adjective} {thing.upper()}"
    scene = Scene(width=size, height=size, background=rng.choice(["white", "cream", "sky", "gray"]), style="meme")
    scene.objects = [
        Obj(
            pictured,
            rng.choice(HELD_IN_COLOURS),
            round(rng.uniform(30, 38) * k),
            size // 2 + rng.randint(-4, 4),
            round(40 * k),
        ),
        Obj("text", "black", round(9 * k), size // 2, round(8 * k), text=caption),
    ]
    label = meme_label(scene)
    return Example(
        [scene],
        [("user", caption), ("assistant", label)],
        answer=label,
        candidates=["no", "yes"],
        ocr_tokens=caption.split(),
        meta={"case": case},
    )
