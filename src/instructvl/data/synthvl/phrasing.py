"""True facts about a scene in random words, for the free-text targets of question
generation and the LLaVA-like sets.

A free-text target scored by CIDEr says little when a few strings cover most samples:
the most frequent training answer then scores high on every image. These helpers word
the same fact in several ways ("near the top left", "the big red circle beneath the blue
star") and `wordings` draws several wordings of one content (the target and the
references), so that a target depends on its scene and a right answer in other words
still matches one of its references. Every helper draws only from the `rng` it is given.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from instructvl.data.synthvl.qa import article, join_phrases
from instructvl.data.synthvl.scenes import Obj, Scene, clear_relation, position_word, size_word

N_WORDINGS = 5
"""Wordings drawn per free-text example: the first is the target, the distinct ones its references."""

_SIZE_WORDS = {
    "small": ("small", "smallish"),
    "medium": ("medium", "medium-sized", "mid-sized"),
    "large": ("large", "big"),
}
_AT = ("at the {pos}", "near the {pos}", "toward the {pos}", "over at the {pos}")
_CENTRE = ("in the center", "in the middle", "near the middle", "at the center")
RELATION_WORDS = {
    "left of": ("to the left of", "left of", "on the left side of"),
    "right of": ("to the right of", "right of", "on the right side of"),
    "above": ("above", "over", "higher up than"),
    "below": ("below", "under", "beneath"),
}
"""`scenes.RELATIONS` in words."""
_ON = ("on the {bg} background", "against the {bg} background", "on the {bg} backdrop")
PLACES = ("position", "relation", "background")
"""The details `pick_out` places an object with."""


def wordings(draw: Callable[[], str], n: int = N_WORDINGS) -> list[str]:
    """The distinct texts of `n` calls of `draw` (a random wording of one fixed content), in
    order: a free-text example's target (the first) and references (all of them)."""
    return list(dict.fromkeys(draw() for _ in range(n)))


def be(n: int) -> str:
    """ "is" for one, else "are"."""
    return "is" if n == 1 else "are"


def sentence_case(text: str) -> str:
    """`text` with its first letter in upper case (the rest as it is)."""
    return text[:1].upper() + text[1:]


def sized(o: Obj, scene: Scene, rng: random.Random) -> str:
    """`o`'s size word in a random wording: "small" or "smallish", "large" or "big", ..."""
    return rng.choice(_SIZE_WORDS[size_word(o, scene)])


def located(o: Obj, scene: Scene, rng: random.Random) -> str:
    """`qa.at_position` in a random wording: "near the top left", "in the middle", ..."""
    pos = position_word(o, scene)
    return rng.choice(_CENTRE) if pos == "center" else rng.choice(_AT).format(pos=pos)


def the_names(objs: list[Obj]) -> str:
    """ "the red circle and the blue square"."""
    return join_phrases([f"the {o.name()}" for o in objs])


def listed(objs: list[Obj], scene: Scene, rng: random.Random) -> str:
    """ "a big red circle near the top left and a blue square in the middle": every object
    of `objs` with its position and, half the time, its size, in random words and order."""
    objs = rng.sample(objs, len(objs))
    named = [f"{sized(o, scene, rng)} {o.name()}" if rng.random() < 0.5 else o.name() for o in objs]
    return join_phrases([f"{article(n)} {located(o, scene, rng)}" for n, o in zip(named, objs)])


def pick_out(o: Obj, scene: Scene, rng: random.Random, noun: str | None = None, skip: tuple[str, ...] = ()) -> str:
    """ "the <noun>" (default `o.name()`) with random true details in random words: its
    size (half the time, unless "size" is in `skip`) and one of `PLACES` not in `skip`:
    "the small red circle near the top left", "the red circle beneath the blue star",
    "the big red circle against the gray background".

    The details only add to a phrase that already names `o` alone; a relation is one that
    clearly holds (`scenes.clear_relation`), and is left out when none does.
    """
    noun = noun or o.name()
    if "size" not in skip and rng.random() < 0.5:
        noun = f"{sized(o, scene, rng)} {noun}"
    place = rng.choice([p for p in PLACES if p not in skip] or ["none"])
    if place == "position":
        return f"the {noun} {located(o, scene, rng)}"
    if place == "background":
        return f"the {noun} " + rng.choice(_ON).format(bg=scene.background)
    others = [p for p in scene.objects if p is not o]
    if place == "relation" and others:
        other = rng.choice(others)
        rel = clear_relation(o, other, rng)
        if rel:
            return f"the {noun} {rng.choice(RELATION_WORDS[rel])} the {other.name()}"
    return f"the {noun}"
