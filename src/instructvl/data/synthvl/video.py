"""Video QA (whole category held out): msvd, msrvtt, ivqa.

A video is a base scene plus one event on one object (move, grow, shrink, change
colour, appear, disappear) rendered as `FRAMES` separate frames. The stored
`metadata["scene"]` is {"base": scene, "event": event, "frames": n}; `frame_scenes`
re-creates every frame from it.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from instructvl.data.synthvl.qa import Example, qa_example
from instructvl.data.synthvl.scenes import HELD_IN_COLOURS, Scene, random_scene

FRAMES = 4
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
ACTIONS = ("move", "grow", "shrink", "recolour", "appear", "disappear")


def frame_scenes(base: Scene, event: dict[str, Any], frames: int = FRAMES) -> list[Scene]:
    """The scene at each frame: the event's object changes linearly over the frames."""
    out = []
    for f in range(frames):
        s = copy.deepcopy(base)
        o = s.objects[event["object"]]
        t = f / (frames - 1)
        kind = event["type"]
        if kind == "move":
            dx, dy = DIRECTIONS[event["direction"]]
            o.x += round(dx * event["distance"] * t)
            o.y += round(dy * event["distance"] * t)
        elif kind in ("grow", "shrink"):
            o.size = round(o.size + (event["to_size"] - o.size) * t)
        elif kind == "recolour" and f >= frames / 2:
            o.colour = event["to_colour"]
        elif (kind == "appear" and f < frames / 2) or (kind == "disappear" and f >= frames / 2):
            s.objects.remove(o)
        out.append(s)
    return out


def random_video(rng: random.Random, size: int, actions: tuple[str, ...] = ACTIONS) -> tuple[Scene, dict]:
    """A base scene (1-3 shapes of distinct kinds) and a random event on one object."""
    while True:
        base = random_scene(rng, size, n_objects=(1, 3), overlap_p=0.0)
        if len({o.kind for o in base.objects}) == len(base.objects):
            break
    i = rng.randrange(len(base.objects))
    o = base.objects[i]
    kind = rng.choice(actions)
    event: dict[str, Any] = {"object": i, "type": kind}
    if kind == "move":
        dist = round(size * 0.3)
        half = o.size // 2 + 1
        room = {"left": o.x - half, "right": size - half - o.x, "up": o.y - half, "down": size - half - o.y}
        fits = [d for d, r in room.items() if r >= dist]
        d = rng.choice(fits) if fits else max(room, key=room.get)
        event.update(direction=d, distance=min(dist, room[d]))
    elif kind in ("grow", "shrink"):
        o.size = round(size * (0.18 if kind == "grow" else 0.42))
        o.x = min(max(o.x, round(size * 0.22)), size - round(size * 0.22))
        o.y = min(max(o.y, round(size * 0.22)), size - round(size * 0.22))
        event["to_size"] = round(size * (0.42 if kind == "grow" else 0.18))
    elif kind == "recolour":
        event["to_colour"] = rng.choice([c for c in HELD_IN_COLOURS if c != o.colour])
    return base, event


def action_phrase(event: dict[str, Any]) -> str:
    """What the object does: "moving left", "growing", "changing colour", ..."""
    return {
        "move": f"moving {event.get('direction')}",
        "grow": "growing",
        "shrink": "shrinking",
        "recolour": f"turning {event.get('to_colour')}",
        "appear": "appearing",
        "disappear": "disappearing",
    }[event["type"]]


def _video_example(base: Scene, event: dict, q: str, a: str, program: dict, **kw: Any) -> Example:
    ex = qa_example(base, q, a, program, **kw)
    ex.scenes = frame_scenes(base, event)
    ex.scene_record = {"base": base.to_dict(), "event": event, "frames": FRAMES}
    return ex


def gen_msvd(rng: random.Random, size: int) -> Example:
    """msvd: what is the <object> doing / which way does it move?"""
    base, event = random_video(rng, size)
    o = base.objects[event["object"]]
    if event["type"] == "move" and rng.random() < 0.5:
        q, a = f"Which direction does the {o.kind} move?", event["direction"]
    else:
        q, a = f"What is the {o.colour} {o.kind} doing?", action_phrase(event)
    return _video_example(base, event, q, a, {"type": "action", "object": event["object"]})


def gen_msrvtt(rng: random.Random, size: int) -> Example:
    """msrvtt: what colour does it turn / what shape appears, disappears or moves?"""
    base, event = random_video(rng, size, ("move", "recolour", "appear", "disappear", "grow"))
    o = base.objects[event["object"]]
    t = event["type"]
    if t == "recolour":
        q, a = rng.choice(
            [
                (f"What colour does the {o.kind} turn?", event["to_colour"]),
                (f"What colour is the {o.kind} at the start?", o.colour),
            ]
        )
    else:
        verb = {"move": "moves", "appear": "appears", "disappear": "disappears", "grow": "gets bigger"}[t]
        q, a = f"What shape {verb} in the video?", o.kind
    return _video_example(base, event, q, a, {"type": "change", "object": event["object"]})


IVQA_SYNONYMS = {
    "moving": ("going", "sliding"),
    "growing": ("getting bigger", "expanding"),
    "shrinking": ("getting smaller", "contracting"),
    "appearing": ("showing up",),
    "disappearing": ("vanishing",),
    "turning": ("changing to",),
}


def gen_ivqa(rng: random.Random, size: int) -> Example:
    """ivqa: what happens to the <object>? with 5 references (iVQA accuracy)."""
    base, event = random_video(rng, size)
    o = base.objects[event["object"]]
    a = action_phrase(event)
    head, _, rest = a.partition(" ")
    alts = [f"{alt} {rest}".strip() for alt in IVQA_SYNONYMS[head]]
    refs = [a, a, a] + [rng.choice(alts) for _ in range(2)]
    rng.shuffle(refs)
    q = rng.choice(["What happens to the {o}?", "What is the {o} doing in the video?"]).format(o=f"{o.colour} {o.kind}")
    return _video_example(base, event, q, a, {"type": "action", "object": event["object"]}, references=refs)
