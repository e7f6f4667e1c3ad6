"""LLaVA-Instruct-like (held-in): llava-conv, llava-detail, llava-reason.

Conversation: 2-3 questions, each answered with a full sentence in one of several
wordings and one or two true remarks on the object's surroundings. Detail: a paragraph
describing every object (size, colour, kind, position) in varied sentences and orders, a
relation or two, the overlaps and a closing remark. Reasoning: a question needing a small
inference, answered with its explanation (`llava_reason`). Every text is computed from
the scene and the question program, in random words (`phrasing`), so the targets follow
the image instead of repeating a few strings; `references` holds the target and up to
four other wordings of the same answer.
"""

from __future__ import annotations

import random
from functools import partial
from typing import Any

from instructvl.data.synthvl.llava_reason import SIZE_GAP, explain, reasoning
from instructvl.data.synthvl.phrasing import (
    RELATION_WORDS,
    be,
    listed,
    located,
    sentence_case,
    sized,
    wordings,
)
from instructvl.data.synthvl.qa import Example, article, at_position, attribute_question, join_phrases
from instructvl.data.synthvl.scenes import (
    Obj,
    Scene,
    clear_relation,
    count,
    plural,
    random_scene,
    relation_holds,
)

# --- conversation -------------------------------------------------------------------------

_REPLIES = {
    "colour": (
        "The {kind} is {answer}.",
        "The colour of the {kind} is {answer}.",
        "The {kind} in the picture is {answer}.",
        "That {kind} is coloured {answer}.",
        "The {kind} is painted {answer}.",
        "I can see that the {kind} is {answer}.",
    ),
    "shape": (
        "The {colour} object is {a_answer}.",
        "The {colour} shape is {a_answer}.",
        "That {colour} thing is {a_answer}.",
        "The {colour} one is shaped like {a_answer}.",
        "The {colour} figure is {a_answer}.",
        "Looking at the {colour} object, it is {a_answer}.",
    ),
    "position": (
        "The {name} is {at}.",
        "The {name} is {at} of the image.",
        "You can find the {name} {at}.",
        "The {name} sits {at} of the picture.",
        "Look {at}: that is where the {name} is.",
    ),
    "size": (
        "The {name} is {answer}.",
        "The {name} looks {answer}.",
        "The {name} is {a_answer} shape.",
        "Compared with the image, the {name} is {answer}.",
        "I would call the {name} {answer}.",
    ),
    "count": (
        "There {be} {answer} {kinds} in the image.",
        "I count {answer} {kinds}.",
        "The image has {answer} {kinds}.",
        "You can see {answer} {kinds} here.",
        "In total there {be} {answer} {kinds}.",
    ),
    "exists-yes": (
        "Yes, there is {a_obj} {at}.",
        "Yes, {a_obj} is in the image, {at}.",
        "Yes. The picture shows {a_obj} {at}.",
        "Yes, you can see {a_obj} {at}.",
    ),
    "exists-no": (
        "No, there is no {colour} {kind} in the image.",
        "No, I do not see {a_obj}.",
        "No. The picture has no {colour} {kind}.",
        "No, {a_obj} is not part of this image.",
    ),
}
_LISTINGS = {  # what follows a count, or a "no": the objects counted, or all there are
    "counted": ("{they} {listed}.", "I see {listed}.", "Namely, {listed}."),
    "all": ("The image shows {listed} instead.", "There {be} only {listed}.", "It contains {listed}."),
}
_REMARKS = {
    "position": ("It is {at}.", "You can find it {at}.", "It sits {at}."),
    "size": ("It is {a_size} one.", "It looks {size}.", "Its size is {size}."),
    "relation": ("It is {rel} the {other}.", "It sits {rel} the {other}.", "It is placed {rel} the {other}."),
    "others": (
        "The image also shows {others}.",
        "Besides it, there {be} {others}.",
        "Next to it you can see {others}.",
    ),
}


def _remarks(o: Obj, scene: Scene, rng: random.Random, asked: str) -> str:
    """One or two random true remarks, in random words, about `o` and not about the
    attribute `asked`: its position, its size, a neighbour, the other objects."""
    others = [p for p in scene.objects if p is not o]
    other = rng.choice(others) if others else None
    rel = clear_relation(o, other, rng) if other else None
    options = [r for r in ("position", "size") if r != asked] + ["others"] * bool(others) + ["relation"] * bool(rel)
    size = sized(o, scene, rng)
    fields = {
        "at": located(o, scene, rng),
        "size": size,
        "a_size": article(size),
        "rel": rng.choice(RELATION_WORDS[rel]) if rel else "",
        "other": other.name() if other else "",
        "others": listed(others, scene, rng) if others else "",
        "be": be(len(others)),
    }
    chosen = rng.sample(options, min(len(options), rng.randint(1, 2)))
    return " ".join(rng.choice(_REMARKS[r]).format(**fields) for r in chosen)


def reply(scene: Scene, program: dict[str, Any], answer: str, rng: random.Random) -> str:
    """A full-sentence answer to an attribute question program (see
    `qa.attribute_question`) whose short answer is `answer`, in random words: the answer
    (containing `answer` as written), then remarks on the object's surroundings, or the
    objects counted, or (for an absent object) the objects there are."""
    t, kind, colour = program["type"], program.get("kind", ""), program.get("colour", "")
    subject = [o for o in scene.objects if (o.kind == kind or not kind) and (o.colour == colour or not colour)]
    head = rng.choice(_REPLIES[f"exists-{answer}" if t == "exists" else t]).format(
        kind=kind,
        kinds=plural(kind, 1 if answer == "1" else 2),
        colour=colour,
        answer=answer,
        a_answer=article(answer),
        name=subject[0].name() if subject else "",
        be=be(int(answer)) if t == "count" else "",
        a_obj=article(f"{colour} {kind}"),
        at=at_position(subject[0], scene) if subject else "",
    )
    if subject and t != "count":
        tail = _remarks(subject[0], scene, rng, "position" if t == "exists" else t)
    else:
        shown = subject or scene.objects
        tail = rng.choice(_LISTINGS["counted" if subject else "all"]).format(
            listed=listed(shown, scene, rng), they="It is" if len(shown) == 1 else "They are", be=be(len(shown))
        )
    return f"{head} {tail}"


# --- detailed description ------------------------------------------------------------------

_OPENINGS = (
    "The image shows {n} {shapes} on {a_bg} background.",
    "This picture contains {n} {shapes} drawn on {a_bg} background.",
    "On {a_bg} background there {be} {n} {shapes}.",
    "We can see {n} {shapes} against {a_bg} backdrop.",
    "The picture has {a_bg} background with {n} {shapes} on it.",
)
_PLACINGS = ("{obj} sits {at}.", "{at} there is {obj}.", "There is {obj} {at}.", "{obj} appears {at}.")
_RELATING = ("The {a} is {rel} the {b}.", "The {a} lies {rel} the {b}.", "You can see the {a} {rel} the {b}.")
_COVERING = ("The {b} partly covers the {a}.", "The {b} overlaps the {a}.", "Part of the {a} is hidden by the {b}.")
_ORDERS = {
    "as drawn": lambda o: 0,
    "left to right": lambda o: o.x,
    "top to bottom": lambda o: o.y,
    "largest first": lambda o: -o.size,
}


def _closing(scene: Scene, rng: random.Random) -> str:
    """Up to two random summary sentences: the colours, the kinds, the largest object (for
    several objects), or that the object is alone (for one)."""
    objs = sorted(scene.objects, key=lambda o: o.size, reverse=True)
    colours = sorted({o.colour for o in objs})
    kinds = sorted({plural(o.kind, 2) for o in objs})
    if len(objs) == 1:
        summaries = ["It is the only shape in the picture.", f"The rest of the picture is plain {scene.background}."]
    else:
        summaries = [
            f"Every shape is {colours[0]}." if len(colours) == 1 else f"The colours are {join_phrases(colours)}.",
            f"All of them are {kinds[0]}." if len(kinds) == 1 else f"The picture mixes {join_phrases(kinds)}.",
        ]
        if objs[0].size - objs[1].size >= SIZE_GAP:
            summaries.append(f"The largest shape is the {objs[0].name()}.")
    return " ".join(rng.sample(summaries, rng.randint(0, 2)))


def detail_paragraph(scene: Scene, rng: random.Random) -> str:
    """A detailed description in random words: count and background, each object (in a
    random order: as drawn, left to right, top to bottom or largest first), clear
    relations of up to two pairs, every overlap, and a closing summary."""
    n = len(scene.objects)
    parts = [rng.choice(_OPENINGS).format(n=n, shapes=plural("shape", n), a_bg=article(scene.background), be=be(n))]
    for o in sorted(scene.objects, key=_ORDERS[rng.choice(list(_ORDERS))]):
        obj = article(f"{sized(o, scene, rng)} {o.name()}")
        parts.append(sentence_case(rng.choice(_PLACINGS).format(obj=obj, at=located(o, scene, rng))))
    pairs = [(a, b) for i, a in enumerate(scene.objects) for b in scene.objects[i + 1 :]]
    for a, b in rng.sample(pairs, min(2, len(pairs))):
        a, b = (a, b) if rng.random() < 0.5 else (b, a)
        rel = clear_relation(a, b, rng)
        if rel:
            parts.append(rng.choice(_RELATING).format(a=a.name(), b=b.name(), rel=rng.choice(RELATION_WORDS[rel])))
    for i, a in enumerate(scene.objects):
        for b in scene.objects[i + 1 :]:
            if relation_holds(b, a, "overlapping"):
                parts.append(rng.choice(_COVERING).format(a=a.name(), b=b.name()))
    parts.append(_closing(scene, rng))
    return " ".join(p for p in parts if p)


# --- the generators --------------------------------------------------------------------------


def gen_llava_conv(rng: random.Random, size: int) -> Example:
    """llava-conv: 2-3 rounds of question and full-sentence answer; the last answer's
    wordings are the references."""
    scene = random_scene(rng, size, n_objects=(1, 4))
    turns, programs = [], []
    for _ in range(rng.randint(2, 3)):
        q, a, program = attribute_question(rng, scene)
        if any(p["type"] == program["type"] for p in programs):
            continue  # one question per attribute keeps the conversation natural
        refs = wordings(partial(reply, scene, program, a, rng))
        turns += [("user", q), ("assistant", refs[0])]
        programs.append({**program, "answer": a})
    return Example([scene], turns, references=refs, meta={"programs": programs})


def gen_llava_detail(rng: random.Random, size: int) -> Example:
    """llava-detail: a paragraph describing the whole scene (the instruction is templated)."""
    scene = random_scene(rng, size, n_objects=(1, 4))
    refs = wordings(lambda: detail_paragraph(scene, rng))
    return Example([scene], [("user", ""), ("assistant", refs[0])], references=refs)


def gen_llava_reason(rng: random.Random, size: int) -> Example:
    """llava-reason: a question needing a small inference, answered with its explanation."""
    scene = random_scene(rng, size, n_objects=(2, 4))
    question, program = reasoning(scene, rng)
    refs = wordings(lambda: explain(scene, program, rng))
    return Example(
        [scene],
        [("user", question), ("assistant", refs[0])],
        references=refs,
        meta={"program": program, "n_objects": count(scene)},
    )
