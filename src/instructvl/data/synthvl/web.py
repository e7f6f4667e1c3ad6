"""SynthVL-web: the pretraining corpus, this world's LAION / CapFilt.

Fresh images with web alt-text captions, for pretraining the vision tower and the BLIP-2
stage. It covers every visual concept the suite uses anywhere, held-out ones included
(as web data covers NoCaps' novel objects): all shapes (novel ones too), icons, all
colours, sizes, positions, counts up to six, overlaps, signs and bare words, the
horizon and book-cover styles, vizwiz-style damage, object-centric photos of one object,
and 4-frame clips with every motion event. Captions are alt text: varied wording, often
partial (some objects left out), sometimes noisy (junk tokens, a wrong colour); never a
question, a task format or an instruction template.

Item i is drawn from `rng_for(seed, "synthvl-web", "train", i, attempt)`, a stream of
its own; `generate.write_web` redraws any item whose image or scene occurs in a suite.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from instructvl.data.synthvl.qa import article, join_phrases
from instructvl.data.synthvl.scenes import (
    HELD_IN_COLOURS,
    ICONS,
    NOVEL_COLOURS,
    NOVEL_SHAPES,
    SHAPES,
    WORDS,
    Obj,
    Scene,
    add_sign,
    plural,
    position_word,
    random_scene,
    size_word,
)
from instructvl.data.synthvl.video import ACTIONS, action_phrase, frame_scenes, random_video

NAME = "synthvl-web"
KINDS = SHAPES + NOVEL_SHAPES + ICONS
COLOURS = HELD_IN_COLOURS + NOVEL_COLOURS
JUNK = ("hd", "free download", "stock photo", "png", "img_2041", "clipart", "wallpaper", "vector", "4k", "best")
DAMAGE = ({"blur": 1.0}, {"blur": 1.5}, {"blur": 3.0}, {"noise": 12}, {"noise": 24})
STYLES = ("object",) * 4 + ("plain",) * 4 + ("many", "horizon", "sign", "words", "cover", "damaged", "clip")
"""Drawn uniformly: object-centric photos (one object, as much of the web is) and plain
scenes are most of the corpus; single objects make the tower's shape targets clean."""


@dataclass
class WebItem:
    """One corpus item: its scenes (one image, or the frames of a clip), the alt-text
    caption, the style it was drawn in, and the scene record stored in metadata (a
    scene's dict, or {"base", "event", "frames"} for a clip, as the video sets store it)."""

    scenes: list[Scene]
    caption: str
    style: str
    record: dict[str, Any]


def mention(o: Obj, scene: Scene, rng: random.Random) -> str:
    """One object as alt text words: "red circle", "large red circle", "a red circle at
    the top left", "sign saying STOP", "the word CAFE"."""
    if o.kind == "sign":
        return rng.choice(
            [f"{o.colour} sign saying {o.text}", f'"{o.text}" sign', f"{o.text} on {article(o.colour)} sign"]
        )
    if o.kind == "text":
        return rng.choice([f"the word {o.text}", f"{o.colour} text {o.text}", f'"{o.text}"'])
    words = o.name()
    if rng.random() < 0.35:
        words = f"{size_word(o, scene)} {words}"
    if rng.random() < 0.5:
        words = article(words)
    if rng.random() < 0.25:
        where = position_word(o, scene)
        words += " in the center" if where == "center" else f" at the {where}"
    return words


def counted(scene: Scene) -> str | None:
    """ "three circles and two stars" when some kind repeats, else None."""
    from instructvl.data.synthvl.scenes import NUMBER_WORDS

    kinds = [o.kind for o in scene.objects]
    if len(set(kinds)) == len(kinds):
        return None
    groups = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
    return join_phrases([f"{NUMBER_WORDS[n]} {plural(k, n)}" for k, n in groups.items()])


def alt_text(scene: Scene, rng: random.Random, colours: tuple[str, ...] = COLOURS) -> str:
    """A web-style caption of `scene`: some of its objects in varied wording, sometimes a
    count, the background or style, a junk token, or one colour wrong."""
    objs = list(scene.objects)
    if not objs:
        return rng.choice(["blank", f"plain {scene.background} background", "empty image"])
    shown = objs if len(objs) == 1 or rng.random() < 0.6 else rng.sample(objs, rng.randint(1, len(objs) - 1))
    body = counted(scene) if rng.random() < 0.5 else None
    body = body or rng.choice([join_phrases, ", ".join, " ".join])([mention(o, scene, rng) for o in shown])
    if rng.random() < 0.05:  # a wrong colour, as web captions have
        wrong = [c for c in colours if c not in body]
        right = [c for c in colours if c in body.split()]
        if wrong and right:
            body = body.replace(rng.choice(right), rng.choice(wrong), 1)
    frame = rng.choice(["{}", "{}", "{}", "{} on {bg}", "{} on a {bg} background", "photo of {}", "{} - image"])
    if scene.style == "horizon":
        frame = rng.choice(["{} outdoors", "{} in a field under the sky", "{} on {bg} ground", "{}"])
    elif scene.style == "cover":
        frame = rng.choice(["book cover: {}", "{} cover", "cover with {}"])
    text = frame.format(body, bg=scene.background)
    if rng.random() < 0.15:
        text = f"{text} {rng.choice(JUNK)}" if rng.random() < 0.7 else f"{rng.choice(JUNK)} {text}"
    return text


def clip_caption(base: Scene, event: dict[str, Any], rng: random.Random) -> str:
    """A clip's alt text: what happens, e.g. "green star growing", "a red circle moves left"."""
    o = base.objects[event["object"]]
    what = rng.choice([o.name(), article(o.name())])
    return rng.choice(["{} {}", "video of {} {}", "{} {} clip", "gif: {} {}"]).format(what, action_phrase(event))


def _still(rng: random.Random, size: int, style: str) -> Scene:
    if style == "object":
        return random_scene(rng, size, n_objects=(1, 1), kinds=KINDS, colours=COLOURS)
    if style == "many":
        kinds = tuple(rng.sample(KINDS, rng.randint(1, 2)))
        return random_scene(rng, size, n_objects=(3, 6), kinds=kinds, colours=COLOURS, distinct=False, overlap_p=0.0)
    if style == "horizon":
        ground = rng.choice(["grass", "sand", "gray"])
        return random_scene(rng, size, n_objects=(1, 3), kinds=KINDS, colours=COLOURS, background=ground, style=style)
    scene = random_scene(
        rng,
        size,
        n_objects=(0, 2) if style in ("sign", "words") else (1, 4),
        kinds=KINDS,
        colours=COLOURS,
        overlap_p=0.3,
    )
    if style == "sign":
        for _ in range(rng.choice([1, 1, 2])):
            add_sign(rng, scene)
    elif style == "words" or style == "cover":
        k = size / 64
        scene.objects.append(
            Obj(
                "text",
                rng.choice(HELD_IN_COLOURS),
                round(rng.uniform(8, 11) * k),
                size // 2,
                round(rng.uniform(8, 56) * k),
                text=rng.choice(WORDS),
            )
        )
        scene.style = "cover" if style == "cover" else scene.style
    elif style == "damaged":
        scene.degrade = dict(rng.choice(DAMAGE))
        if "noise" in scene.degrade:
            scene.degrade["noise_seed"] = rng.randrange(2**31)
        if rng.random() < 0.3:
            w, h = rng.randint(size // 4, size // 2), rng.randint(size // 4, size // 2)
            x, y = rng.randint(0, size - w), rng.randint(0, size - h)
            scene.degrade["occluder"] = [x, y, x + w, y + h]
    return scene


def web_item(rng: random.Random, size: int) -> WebItem:
    """One corpus item drawn from `rng` (see the module docstring for what it covers)."""
    style = rng.choice(STYLES)
    if style == "clip":
        base, event = random_video(rng, size, ACTIONS)
        frames = frame_scenes(base, event)
        return WebItem(
            frames,
            clip_caption(base, event, rng),
            style,
            {"base": base.to_dict(), "event": event, "frames": len(frames)},
        )
    scene = _still(rng, size, style)
    return WebItem([scene], alt_text(scene, rng), style, scene.to_dict())
