"""Visual reasoning (whole category held out): gqa, vsr, iconqa.

gqa asks compositional questions (an object found through a relation to another,
comparisons); vsr asks whether a spatial statement is true; iconqa counts drawn icons
and does small arithmetic, as multiple choice.
"""

from __future__ import annotations

import random
from typing import Any

from instructvl.data.synthvl.qa import Example, options, qa_example
from instructvl.data.synthvl.scenes import (
    HELD_IN_COLOURS,
    ICONS,
    OPPOSITE,
    RELATIONS,
    SHAPES,
    Obj,
    Scene,
    count,
    place,
    plural,
    random_scene,
    relation_holds,
    sample_size,
)

# --- gqa --------------------------------------------------------------------------------


def related(scene: Scene, anchor: Obj, rel: str) -> list[Obj]:
    """Objects clearly `rel` the anchor, or [] when any other object is borderline."""
    clear = [o for o in scene.objects if o is not anchor and relation_holds(o, anchor, rel, 8)]
    loose = [o for o in scene.objects if o is not anchor and relation_holds(o, anchor, rel, 0)]
    return clear if len(clear) == len(loose) else []


def answer_gqa(scene: Scene, program: dict[str, Any]) -> str:
    """The answer to a gqa program."""
    t = program["type"]
    find = lambda kind: next(o for o in scene.objects if o.kind == kind)  # noqa: E731
    if t in ("relate-colour", "relate-shape"):
        (target,) = related(scene, find(program["anchor"]), program["rel"])
        return target.colour if t == "relate-colour" else target.kind
    if t == "same-colour":
        return "yes" if find(program["kinds"][0]).colour == find(program["kinds"][1]).colour else "no"
    if t == "more":
        a, b = (count(scene, kind=k) for k in program["kinds"])
        return "yes" if a > b else "no"
    raise ValueError(f"unknown gqa program {t!r}")


def _distinct_kinds_scene(rng: random.Random, size: int, n: int) -> Scene:
    scene = Scene(width=size, height=size, background=rng.choice(["white", "cream"]))
    for kind in rng.sample(SHAPES, n):
        s = sample_size(rng, size, rng.choice(["small", "medium"]))
        scene.objects.append(Obj(kind, rng.choice(HELD_IN_COLOURS), s, *place(rng, scene, s)))
    return scene


def gen_gqa(rng: random.Random, size: int) -> Example:
    """gqa: relate-colour / relate-shape / same-colour / more questions."""
    t = rng.choice(["relate-colour", "relate-shape", "same-colour", "more"])
    if t == "more":
        k1, k2 = rng.sample(SHAPES, 2)
        scene = random_scene(rng, size, n_objects=(3, 6), kinds=(k1, k2), distinct=False, overlap_p=0.0)
        program: dict[str, Any] = {"type": t, "kinds": [k1, k2]}
        q = f"Are there more {plural(k1, 2)} than {plural(k2, 2)}?"
    elif t == "same-colour":
        scene = _distinct_kinds_scene(rng, size, rng.randint(2, 3))
        a, b = rng.sample(scene.objects, 2)
        if rng.random() < 0.5:
            b.colour = a.colour
        program = {"type": t, "kinds": [a.kind, b.kind]}
        q = f"Is the {a.kind} the same colour as the {b.kind}?"
    else:
        while True:
            scene = _distinct_kinds_scene(rng, size, rng.randint(2, 3))
            anchor = rng.choice(scene.objects)
            rels = [r for r in RELATIONS if len(related(scene, anchor, r)) == 1]
            if rels:
                break
        rel = rng.choice(rels)
        program = {"type": t, "anchor": anchor.kind, "rel": rel}
        what = "What colour is the shape" if t == "relate-colour" else "What shape is"
        q = f"{what} {rel} the {anchor.colour} {anchor.kind}?"
    return qa_example(scene, q, answer_gqa(scene, program), program)


# --- vsr --------------------------------------------------------------------------------


def gen_vsr(rng: random.Random, size: int) -> Example:
    """vsr: "The <a> is <relation> the <b>." -> true / false (ranked)."""
    scene = Scene(width=size, height=size, background=rng.choice(["white", "cream", "gray"]))
    truth = rng.random() < 0.5
    kinds, colours = rng.sample(SHAPES, 2), rng.sample(HELD_IN_COLOURS, 2)
    s1, s2 = sample_size(rng, size), sample_size(rng, size)
    a = Obj(kinds[0], colours[0], s1, *place(rng, scene, s1))
    scene.objects.append(a)
    if rng.random() < 0.25:
        rel = "overlapping"
        if truth:
            dx, dy = rng.randint(-s1 // 3, s1 // 3), rng.randint(-s1 // 3, s1 // 3)
            x = min(max(a.x + dx, s2 // 2 + 1), size - s2 // 2 - 1)
            y = min(max(a.y + dy, s2 // 2 + 1), size - s2 // 2 - 1)
        else:
            x, y = place(rng, scene, s2 + 4, tries=200)
        b = Obj(kinds[1], colours[1], s2, x, y)
    else:
        while True:
            b = Obj(kinds[1], colours[1], s2, *place(rng, scene, s2))
            held = [r for r in RELATIONS if relation_holds(a, b, r, 8)]
            if held:
                break
        rel = rng.choice(held) if truth else OPPOSITE[rng.choice(held)]
    scene.objects.append(b)
    answer = "true" if relation_holds(a, b, rel, 0) else "false"
    statement = f"The {a.colour} {a.kind} is {rel} the {b.colour} {b.kind}."
    program = {"type": "relation", "rel": rel, "subject": 0, "object": 1}
    return qa_example(scene, statement, answer, program, candidates=["true", "false"])


# --- iconqa -----------------------------------------------------------------------------


def answer_iconqa(scene: Scene, program: dict[str, Any]) -> str:
    """The answer to an iconqa program."""
    t, kinds = program["type"], program["kinds"]
    n = [count(scene, kind=k) for k in kinds]
    if t == "count":
        return str(n[0])
    if t == "total":
        return str(sum(n))
    if t == "more":
        return str(n[0] - n[1])
    return str(n[0] + program["add"])


def gen_iconqa(rng: random.Random, size: int) -> Example:
    """iconqa: icons on a grid; count / total / how-many-more / add-more (4 options)."""
    t = rng.choice(["count", "total", "more", "add"])
    kinds = rng.sample(ICONS, 2 if t in ("total", "more") else 1)
    ns = [rng.randint(1, 8)] if len(kinds) == 1 else sorted(rng.sample(range(1, 6), 2), reverse=True)
    if t == "total":
        rng.shuffle(ns)
    cell = size // 4
    cells = rng.sample(range(16), sum(ns))
    scene = Scene(width=size, height=size, background="white")
    for kind, n in zip(kinds, ns):
        colour = rng.choice(HELD_IN_COLOURS)
        for c in cells[:n]:
            scene.objects.append(Obj(kind, colour, cell - 3, (c % 4) * cell + cell // 2, (c // 4) * cell + cell // 2))
        cells = cells[n:]
    program: dict[str, Any] = {"type": t, "kinds": kinds}
    names = [plural(k, 2) for k in kinds]
    if t == "count":
        q = f"How many {names[0]} are there?"
    elif t == "total":
        q = f"There are {names[0]} and {names[1]}. How many icons are there in total?"
    elif t == "more":
        q = f"How many more {names[0]} than {names[1]} are there?"
    else:
        program["add"] = rng.randint(1, 4)
        q = f"If you add {program['add']} more {plural(kinds[0], program['add'])}, how many {names[0]} will there be?"
    a = answer_iconqa(scene, program)
    pool = [str(int(a) + d) for d in range(-3, 4) if int(a) + d >= 0]
    return qa_example(scene, q, a, program, candidates=options(rng, a, pool))
