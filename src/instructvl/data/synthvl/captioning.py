"""Image captioning: coco-cap and webcap (held-in), nocaps and flickr (held-out).

Captions are derived from the scene; `references` holds five differently phrased
captions (for CIDEr) and the target is one of them. webcap is the large, noisy web set:
short captions, some with junk words, a dropped colour or a wrong colour (the noise
applied is recorded in `metadata["noise"]`).
"""

from __future__ import annotations

import random

from instructvl.data.synthvl.qa import Example, article, describe, join_phrases
from instructvl.data.synthvl.scenes import (
    HELD_IN_COLOURS,
    NOVEL_COLOURS,
    NOVEL_SHAPES,
    SHAPES,
    Scene,
    clear_relation,
    plural,
    random_scene,
)


def caption_references(scene: Scene, rng: random.Random, where: str = "", n: int = 5) -> list[str]:
    """`n` distinct captions of the scene in different phrasings (`where` ends some)."""
    objs = scene.objects
    things = join_phrases([describe(o, scene) for o in objs])
    sized = join_phrases([describe(o, scene, with_size=True) for o in objs])
    placed = join_phrases([describe(o, scene, with_position=True) for o in objs])
    bg = f"on {article(scene.background)} background" if scene.style == "plain" else where
    count = len(objs)
    noun = "shape" if all(o.kind not in ("sign", "text") for o in objs) else "object"
    out = [
        f"{things} {bg}",
        f"{sized}",
        f"{placed}",
        f"{'one' if count == 1 else count} {plural(noun, count)}: {things}",
        f"a picture of {things}",
        f"an image showing {sized} {bg}",
    ]
    if count == 2:
        rel = clear_relation(objs[0], objs[1], rng)
        if rel:
            out.append(f"{describe(objs[0], scene)} {rel} {describe(objs[1], scene)}")
    out = [c.strip() for c in dict.fromkeys(out)]
    rng.shuffle(out)
    return out[:n]


def _caption_example(scene: Scene, rng: random.Random, where: str = "") -> Example:
    refs = caption_references(scene, rng, where)
    target = rng.choice(refs)
    return Example([scene], [("user", ""), ("assistant", target)], references=refs)


def gen_coco_cap(rng: random.Random, size: int) -> Example:
    """coco-cap: plain scenes of 1-3 shapes; five reference captions."""
    return _caption_example(random_scene(rng, size, n_objects=(1, 3)), rng)


JUNK = ("stock photo", "clipart", "free download", "vector image", "hd wallpaper", "icon set")


def gen_webcap(rng: random.Random, size: int) -> Example:
    """webcap: short, noisy captions (noise recorded in metadata["noise"])."""
    scene = random_scene(rng, size, n_objects=(1, 2))
    o = rng.choice(scene.objects)
    noise = rng.choices(["none", "junk", "drop-colour", "wrong-colour"], weights=[5, 3, 1, 1])[0]
    colour = o.colour
    if noise == "wrong-colour":
        colour = rng.choice([c for c in HELD_IN_COLOURS if c != o.colour])
    caption = o.kind if noise == "drop-colour" else f"{colour} {o.kind}"
    if noise == "junk":
        caption = f"{caption} {rng.choice(JUNK)}"
    return Example(
        [scene],
        [("user", ""), ("assistant", caption)],
        references=[caption],
        meta={"noise": noise, "subject": scene.objects.index(o)},
    )


def gen_nocaps(rng: random.Random, size: int) -> Example:
    """nocaps: every object has a novel kind or colour, never seen in held-in data."""
    domain = rng.choice(["out", "near-kind", "near-colour"])
    kinds = NOVEL_SHAPES if domain != "near-colour" else SHAPES
    colours = NOVEL_COLOURS if domain != "near-kind" else HELD_IN_COLOURS
    ex = _caption_example(random_scene(rng, size, n_objects=(1, 3), kinds=kinds, colours=colours), rng)
    ex.meta["domain"] = domain
    return ex


def gen_flickr(rng: random.Random, size: int) -> Example:
    """flickr: another scene style: objects in the sky or on the ground under a horizon."""
    ground = rng.choice(["grass", "sand"])
    scene = random_scene(rng, size, n_objects=(1, 3), background=ground, style="horizon")
    field = "a green field" if ground == "grass" else "a sandy beach"
    sky = [o for o in scene.objects if o.y < size * 0.55]
    where = f"above {field}" if sky else f"on {field}"
    return _caption_example(scene, rng, where)
