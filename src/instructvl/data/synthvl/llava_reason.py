"""LLaVA-like complex reasoning (llava-reason): questions needing a small inference about
the scene, and answers that explain it.

A question program is {"type", "subject"} (the index of the object asked about; None
for "same-colour"), plus "side" for "furthest" and "colour" for "recolour":

- largest / smallest: which object it is, and where (asked only when it beats the next
  one by `SIZE_GAP` pixels);
- furthest: which object is nearest the left, right, top or bottom edge (by `SIDE_GAP`);
- remove: how many shapes are left without the subject;
- add: how many of the subject's kind there are with one more;
- recolour: how many shapes have `colour` once the subject is painted so;
- same-colour: whether every shape has one colour.

An answer is a premise naming the objects it reasons over, then the conclusion, each in
one of several wordings (`phrasing`), its numbers all in digits or all in words.
"""

from __future__ import annotations

import random
from typing import Any

from instructvl.data.synthvl.phrasing import be, listed, located, sentence_case, the_names
from instructvl.data.synthvl.qa import at_position, join_phrases
from instructvl.data.synthvl.scenes import HELD_IN_COLOURS, NUMBER_WORDS, Obj, Scene, count, plural, size_word

SIZE_GAP = 3
"""Pixels by which the largest (smallest) object must beat the next one to be asked about."""
SIDE_GAP = 8
"""Pixels by which the object nearest an edge must beat the next one to be asked about."""

_SIDES = {  # side -> (sort key: smallest nearest that side, superlative, the opposite side)
    "left": (lambda o: o.x, "leftmost", "right"),
    "right": (lambda o: -o.x, "rightmost", "left"),
    "top": (lambda o: o.y, "topmost", "bottom"),
    "bottom": (lambda o: -o.y, "lowest", "top"),
}
_QUESTIONS = {
    "largest": (
        "Which object is the largest, and where is it?",
        "Which shape is the biggest, and where is it located?",
        "What is the largest thing in the picture, and where does it sit?",
    ),
    "smallest": (
        "Which object is the smallest, and where is it?",
        "Which shape is the tiniest, and where can it be found?",
        "What is the smallest thing in the picture, and where does it sit?",
    ),
    "furthest": (
        "Which shape is closest to the {side} edge of the picture?",
        "What is the {most} shape in the image?",
        "Of all the shapes, which one lies nearest the {side}?",
    ),
    "remove": (
        "If the {name} were removed, how many shapes would be left?",
        "Suppose we take away the {name}. How many shapes remain?",
        "How many shapes would stay in the picture without the {name}?",
    ),
    "add": (
        "If one more {kind} were added, how many {kinds} would there be?",
        "Imagine adding another {kind}. How many {kinds} would the picture have?",
        "How many {kinds} would there be after drawing one more {kind}?",
    ),
    "recolour": (
        "If the {name} were painted {colour}, how many {colour} shapes would there be?",
        "Suppose the {name} turned {colour}. How many shapes would be {colour} then?",
        "How many shapes would be {colour} after repainting the {name} {colour}?",
    ),
    "same-colour": (
        "Are all the shapes the same colour? Explain.",
        "Do all the objects share one colour? Why?",
        "Is every shape in the picture the same colour? Explain.",
    ),
}
_SIZES = ("Comparing {the_all}: {sizes}.", "The picture has {listed}.", "Looking at {listed}, their sizes differ.")
_EACH = ("{each}.", "The shapes are {listed}.", "Looking at each shape: {each_lower}.")
_RECOLOURED = (
    "Painting the {name} {colour} makes {m_more}.",
    "So there would be {m_more} {colour} {shapes_more}.",
    "With the {name} repainted, {m_more} {shapes_more} would be {colour}.",
)
_EXPLANATIONS = {  # (premises, conclusions): an answer is one of each
    "largest": (
        _SIZES,
        (
            "The {name} is the largest one, {at}.",
            "So the largest object is the {name}; it sits {at}.",
            "The biggest is clearly the {name}, which is {at} and bigger than {the_rest}.",
        ),
    ),
    "smallest": (
        _SIZES,
        (
            "The {name} is the smallest one, {at}.",
            "So the smallest object is the {name}; it sits {at}.",
            "The tiniest is clearly the {name}, which is {at} and smaller than {the_rest}.",
        ),
    ),
    "furthest": (
        (
            "From {side} to {opposite}, the shapes are {the_ordered}.",
            "The picture has {listed}.",
            "Comparing where {the_all} are placed settles it.",
        ),
        (
            "So the {name} is the {most} one, {at}.",
            "The {name} lies nearest the {side} edge, {at}.",
            "The {most} shape is the {name}.",
        ),
    ),
    "remove": (
        (
            "There {be_n} {n} {shapes}: {listed}.",
            "The image contains {n} {shapes} ({the_all}).",
            "Right now I count {n} {shapes}: {the_all}.",
        ),
        (
            "Taking away the {name} leaves {n_left}.",
            "So {n_left} would be left after removing the {name}.",
            "Without the {name}, {n_left} remain: {the_rest}.",
            "Removing the {name} leaves {the_rest}, which makes {n_left}.",
        ),
    ),
    "add": (
        (
            "There {be_k} {k} {kinds} now: {listed_same}.",
            "I count {k} {kinds} ({the_same}) among the {n} {shapes}.",
            "The picture shows {listed}, so there {be_k} {k} {kinds} now.",
        ),
        (
            "Adding one makes {k_more}.",
            "One more would give {k_more} {kinds_more}.",
            "With another {kind} there would be {k_more}.",
            "So after adding one, there would be {k_more} {kinds_more}.",
        ),
    ),
    "recolour": (
        (
            "There {be_m} {m} {colour} {shapes_m} now: {the_coloured}.",
            "Right now {m} {shapes_m} {be_m} {colour}: {the_coloured}.",
        ),
        _RECOLOURED,
    ),
    "recolour-none": (
        (
            "No shape is {colour} right now; the picture has {listed}.",
            "At the moment nothing is {colour}: {each_lower}.",
        ),
        _RECOLOURED,
    ),
    "same-colour-yes": (
        _EACH,
        (
            "So yes, every shape is {colour}.",
            "Yes: they all share the colour {colour}.",
            "The answer is yes, all are {colour}.",
        ),
    ),
    "same-colour-no": (
        _EACH,
        (
            "So no, there are {n_colours} different colours.",
            "No, the shapes come in {n_colours} colours: {colours}.",
            "That makes {n_colours} colours, so the answer is no.",
        ),
    ),
}


def _kind_of(o: Obj, scene: Scene) -> str:
    """`o`'s kind, with its position when another object has that kind ("square at the top")."""
    return o.kind if count(scene, kind=o.kind) == 1 else f"{o.kind} {at_position(o, scene)}"


def _clear_first(objs: list[Obj], key, gap: int) -> Obj | None:
    """The object with the smallest `key`, when it beats the next one by `gap`; else None."""
    ranked = sorted(objs, key=key)
    return ranked[0] if key(ranked[1]) - key(ranked[0]) >= gap else None


def _program(scene: Scene, rng: random.Random) -> dict[str, Any]:
    """A random reasoning question program for `scene` (see the module docstring)."""
    objs = scene.objects
    clear = {
        "largest": _clear_first(objs, lambda o: -o.size, SIZE_GAP),
        "smallest": _clear_first(objs, lambda o: o.size, SIZE_GAP),
    }
    sides = [s for s, (key, *_) in _SIDES.items() if _clear_first(objs, key, SIDE_GAP)]
    types = (
        ["remove", "add", "recolour", "same-colour"] + [t for t, o in clear.items() if o] + ["furthest"] * bool(sides)
    )
    t = rng.choice(types)
    program: dict[str, Any] = {"type": t}
    if t == "furthest":
        program["side"] = rng.choice(sides)
        subject = _clear_first(objs, _SIDES[program["side"]][0], SIDE_GAP)
    else:
        subject = clear.get(t) or (None if t == "same-colour" else rng.choice(objs))
    program["subject"] = None if subject is None else objs.index(subject)
    if t == "recolour":
        program["colour"] = rng.choice([c for c in HELD_IN_COLOURS if c != subject.colour])
    return program


def reasoning(scene: Scene, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A random reasoning question about `scene`, in a random wording, and its program."""
    program = _program(scene, rng)
    o = scene.objects[program["subject"]] if program["subject"] is not None else None
    side = program.get("side", "left")
    question = rng.choice(_QUESTIONS[program["type"]]).format(
        name=o.name() if o else "",
        kind=o.kind if o else "",
        kinds=plural(o.kind, 2) if o else "",
        colour=program.get("colour", ""),
        side=side,
        most=_SIDES[side][1],
    )
    return question, program


def explain(scene: Scene, program: dict[str, Any], rng: random.Random) -> str:
    """The answer to a reasoning program with its explanation, in random words: a premise
    about the objects it reasons over, then the conclusion (which holds the answer)."""
    t, objs = program["type"], scene.objects
    o = objs[program["subject"]] if program["subject"] is not None else objs[0]  # same-colour: any
    rest, same = [p for p in objs if p is not o], [p for p in objs if p.kind == o.kind]
    colours = sorted({p.colour for p in objs})
    colour = program.get("colour", colours[0])
    coloured = [p for p in objs if p.colour == colour]
    if t == "same-colour":
        t += "-yes" if len(colours) == 1 else "-no"
    if t == "recolour" and not coloured:
        t += "-none"
    key, most, opposite = _SIDES[program.get("side", "left")]
    each = join_phrases([f"the {_kind_of(p, scene)} is {p.colour}" for p in objs])
    n, k, m = len(objs), len(same), len(coloured)
    num = str if rng.random() < 0.5 else NUMBER_WORDS.__getitem__
    fields = {
        "n": num(n),
        "n_left": num(n - 1),
        "be_n": be(n),
        "shapes": plural("shape", n),
        "k": num(k),
        "k_more": num(k + 1),
        "be_k": be(k),
        "kind": o.kind,
        "kinds": plural(o.kind, k),
        "kinds_more": plural(o.kind, k + 1),
        "m": num(m),
        "m_more": num(m + 1),
        "be_m": be(m),
        "shapes_m": plural("shape", m),
        "shapes_more": plural("shape", m + 1),
        "the_coloured": the_names(coloured) if coloured else "",
        "name": o.name(),
        "at": located(o, scene, rng),
        "side": program.get("side", ""),
        "opposite": opposite,
        "most": most,
        "the_ordered": the_names(sorted(objs, key=key)),
        "listed": listed(objs, scene, rng),
        "listed_same": listed(same, scene, rng),
        "the_all": the_names(objs),
        "the_rest": the_names(rest),
        "the_same": the_names(same),
        "sizes": join_phrases([f"the {p.name()} is {size_word(p, scene)}" for p in objs]),
        "each": sentence_case(each),
        "each_lower": each,
        "colour": colour,
        "colours": join_phrases(colours),
        "n_colours": num(len(colours)),
    }
    premises, conclusions = _EXPLANATIONS[t]
    return f"{rng.choice(premises)} {rng.choice(conclusions)}".format(**fields)
