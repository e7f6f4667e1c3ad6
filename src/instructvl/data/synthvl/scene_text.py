"""A SynthVL scene written as plain English: what a perfect perceiver would see.

`describe_scene(metadata["scene"])` renders both stored layouts: an image scene
(`Scene.to_dict()`: objects on a background, any damage) and a clip
(`{"base", "event", "frames"}`, see `video.py`: every frame, then what changes). It
uses the words the questions and captions use: colours and kinds, "small" / "medium" /
"large", the 3x3 grid positions ("at the top left", "in the center"), signs "that
say" their word. It describes the picture, never a question about it, and is
deterministic (no randomness, objects in drawing order).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from instructvl.data.synthvl.image_qa import HEAVY_BLUR
from instructvl.data.synthvl.qa import article, join_phrases
from instructvl.data.synthvl.scenes import (
    NUMBER_WORDS,
    Obj,
    Scene,
    plural,
    position_word,
    relation_holds,
    size_word,
    visible_fraction,
)
from instructvl.data.synthvl.video import frame_scenes
from instructvl.errors import InstructVLError

SCENE_KEYS = frozenset(f.name for f in dataclasses.fields(Scene))
CLIP_KEYS = frozenset({"base", "event", "frames"})
GROUNDS = {"grass": ("a green field", "on the field"), "sand": ("a sandy beach", "on the beach")}
"""horizon ground colour -> (what it is, where an object below the horizon is); others: "a <colour> ground"."""
HORIZON = 0.55
"""The sky's share of a horizon picture's height (as render draws it)."""
CHANGES = {
    "move": "moves {direction}",
    "grow": "grows",
    "shrink": "shrinks",
    "recolour": "turns {to_colour}",
    "appear": "appears",
    "disappear": "disappears",
}
"""clip event type -> what its object does."""


def number(n: int) -> str:
    """ "one", "two", ... (digits past twelve)."""
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)


def ground(colour: str) -> tuple[str, str]:
    """A horizon picture's ground: (what it is, where an object on it is)."""
    return GROUNDS.get(colour, (article(f"{colour} ground"), "on the ground"))


def at(position: str) -> str:
    """A grid position word as a place: "at the top left", "in the center"."""
    return "in the center" if position == "center" else f"at the {position}"


def where(o: Obj, scene: Scene) -> str:
    """Where `o` is: "at the top left", "in the center", ...; horizon pictures add sky or ground."""
    text = at(position_word(o, scene))
    if scene.style == "horizon":
        text += " in the sky" if o.y < scene.height * HORIZON else f" {ground(scene.background)[1]}"
    return text


def thing(o: Obj, scene: Scene, n: int = 1) -> str:
    """What `n` objects like `o` are, without where: "a small red circle", "two large
    blue stars", "a blue sign that says CAT", 'black text reading "Red River"'."""
    if o.kind == "text":
        return f'{o.colour} text reading "{o.text}"'
    if o.kind == "sign":
        return f"{article(o.colour + ' sign')} that says {o.text}"
    noun = f"{size_word(o, scene)} {o.colour} {plural(o.kind, n)}"
    return article(noun) if n == 1 else f"{number(n)} {noun}"


def hidden(o: Obj, scene: Scene) -> bool:
    """Whether less than half of `o` shows (covered by later objects or the occluder)."""
    return o.kind != "text" and visible_fraction(o, scene) < 0.5


def object_phrases(scene: Scene) -> list[str]:
    """One phrase per group of look-alike objects (same words, same visibility), in
    drawing order; a group's places in reading order: "a small red circle at the top",
    "three small red hearts (at the top left, at the top, in the center)"."""
    groups: dict[tuple[str, bool], list[Obj]] = {}
    for o in scene.objects:
        groups.setdefault((thing(o, scene), hidden(o, scene)), []).append(o)
    phrases = []
    for (_, covered), objs in groups.items():
        places = [where(o, scene) for o in sorted(objs, key=lambda o: (o.y, o.x))]
        text = thing(objs[0], scene, len(objs)) + (f" {places[0]}" if len(objs) == 1 else f" ({', '.join(places)})")
        phrases.append(text + (" (mostly hidden)" if covered else ""))
    return phrases


def overlaps(scene: Scene) -> list[str]:
    """ "The blue square partly covers the red circle." for each overlapping pair of
    differently named objects (later ones are drawn on top; text is left out)."""
    solid = [o for o in scene.objects if o.kind != "text"]
    return [
        f"The {b.name()} partly covers the {a.name()}."
        for i, a in enumerate(solid)
        for b in solid[i + 1 :]
        if a.name() != b.name() and relation_holds(b, a, "overlapping")
    ]


def damage(scene: Scene) -> list[str]:
    """Sentences for vizwiz-style damage: blur (slight or heavy), noise, a covering box."""
    deg = scene.degrade
    looks = []
    if deg.get("blur"):
        looks.append("heavily blurred" if deg["blur"] >= HEAVY_BLUR else "slightly blurred")
    if deg.get("noise"):
        looks.append("noisy")
    out = [f"The picture is {join_phrases(looks)}."] if looks else []
    if deg.get("occluder"):
        x0, y0, x1, y1 = deg["occluder"]
        pos = position_word(Obj("box", "gray", 0, (x0 + x1) // 2, (y0 + y1) // 2), scene)
        out.append(f"A dark gray box covers part of the picture {at(pos)}.")
    return out


def setting(scene: Scene) -> str:
    """What the picture is: "a white background", "the sky above a green field", ..."""
    style, bg = scene.style, scene.background
    if style == "plain":
        return article(f"{bg} background")
    if style == "horizon":
        return f"the sky above {ground(bg)[0]}"
    if style == "cover":
        return article(f"{bg} book cover")
    if style == "meme":
        return article(f"{bg} meme picture")
    raise InstructVLError(f"scene style {style!r} has no description; known: plain, horizon, cover, meme")


def contents(scene: Scene) -> str:
    """The objects as one list ("no objects" when there are none)."""
    return join_phrases(object_phrases(scene)) if scene.objects else "no objects"


def describe_image(scene: Scene) -> str:
    """One picture: its setting, its objects, their overlaps and any damage."""
    n = len(scene.objects)
    head = f"{setting(scene)} with {number(n)} {plural('object', n)}"
    head = head[0].upper() + head[1:]
    body = f"{head}: {contents(scene)}." if n else f"{head}."
    return " ".join([body, *overlaps(scene), *damage(scene)])


def describe_change(base: Scene, event: dict[str, Any]) -> str:
    """What the clip's event does to its object: "Over the frames, the red circle moves left."."""
    kind = event.get("type")
    if kind not in CHANGES:
        raise InstructVLError(f"clip event type {kind!r} has no description; known: {', '.join(CHANGES)}")
    subject = base.objects[event["object"]]
    return f"Over the frames, the {subject.name()} {CHANGES[kind].format(**event)}."


def describe_clip(record: dict[str, Any]) -> str:
    """A clip: its setting, each frame's objects ("Frame 1: ..."), then the change."""
    missing = sorted(CLIP_KEYS - set(record))
    if missing:
        raise InstructVLError(f"clip scene record lacks key(s) {', '.join(missing)}; a clip has base, event, frames")
    base = Scene.from_dict(scene_dict(record["base"]))
    frames = frame_scenes(base, record["event"], record["frames"])
    parts = [f"A video of {number(len(frames))} frames showing {setting(base)}."]
    parts += [f"Frame {i}: {contents(frame)}." for i, frame in enumerate(frames, 1)]
    return " ".join([*parts, describe_change(base, record["event"])])


def scene_dict(record: dict[str, Any]) -> dict[str, Any]:
    """`record` checked to be an image scene's dict (unknown keys are named)."""
    unknown = sorted(set(record) - SCENE_KEYS)
    if unknown:
        raise InstructVLError(
            f"scene record has unknown key(s) {', '.join(map(repr, unknown))}; an image scene has "
            f"{', '.join(sorted(SCENE_KEYS))}"
        )
    return record


def describe_scene(scene_record: dict[str, Any]) -> str:
    """The English description of a stored `metadata["scene"]`: an image scene (has
    "objects") or a clip (has "base" and "event"); any other layout is an
    `InstructVLError` naming its keys."""
    if not isinstance(scene_record, dict):
        raise InstructVLError(f"a scene record is a dict, got {type(scene_record).__name__}")
    if "base" in scene_record or "event" in scene_record:
        return describe_clip(scene_record)
    if "objects" in scene_record:
        return describe_image(Scene.from_dict(scene_dict(scene_record)))
    raise InstructVLError(
        f"unknown scene layout with key(s) {', '.join(map(repr, sorted(scene_record))) or 'none'}: expected an "
        "image scene ('objects', ...) or a clip ('base', 'event', 'frames')"
    )
