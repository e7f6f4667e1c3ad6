"""Image QA: vqa (held-in) and vizwiz (held-out).

vqa asks about one attribute (colour, shape, count, existence, position, size) and
stores 10 annotator `references` with synonyms. vizwiz images are blurred, noisy or
partly covered; when the asked-about object is mostly hidden, or the blur is heavy,
the answer is "unanswerable".
"""

from __future__ import annotations

import random

from instructvl.data.seeding import stable_seed
from instructvl.data.synthvl.qa import Example, attribute_question, qa_example, vqa_references
from instructvl.data.synthvl.scenes import Scene, random_scene, visible_fraction

HEAVY_BLUR = 2.5
"""A blur radius at or above which every vizwiz question is unanswerable."""


def gen_vqa(rng: random.Random, size: int) -> Example:
    """vqa: an attribute question with 10 references."""
    scene = random_scene(rng, size, n_objects=(1, 4))
    q, a, program = attribute_question(rng, scene)
    return qa_example(scene, q, a, program, references=vqa_references(rng, a))


def _damage(rng: random.Random, scene: Scene) -> None:
    kind = rng.choice(["blur", "noise", "occluder", "blur+noise"])
    deg: dict = {}
    if "blur" in kind:
        deg["blur"] = rng.choice([1.0, 1.5, 3.0])
    if "noise" in kind:
        deg["noise"] = rng.choice([12, 24])
        deg["noise_seed"] = stable_seed(rng.random())
    if kind == "occluder":
        s = scene.width
        w, h = rng.randint(s // 3, s // 2), rng.randint(s // 3, s // 2)
        x, y = rng.randint(0, s - w), rng.randint(0, s - h)
        deg["occluder"] = [x, y, x + w, y + h]
    scene.degrade = deg


def vizwiz_answerable(scene: Scene, program: dict) -> bool:
    """Whether the question can be answered: no heavy blur, and its object mostly visible."""
    if scene.degrade.get("blur", 0) >= HEAVY_BLUR:
        return False
    if program["type"] in ("count", "exists"):
        objs = [o for o in scene.objects if o.kind == program["kind"]]
    else:
        objs = [
            o
            for o in scene.objects
            if o.kind == program.get("kind", o.kind) and o.colour == program.get("colour", o.colour)
        ]
    return all(visible_fraction(o, scene) >= 0.5 for o in objs)


def gen_vizwiz(rng: random.Random, size: int) -> Example:
    """vizwiz: damaged images; "unanswerable" when the object is hidden or blur is heavy."""
    scene = random_scene(rng, size, n_objects=(1, 3), overlap_p=0.0)
    _damage(rng, scene)
    q, a, program = attribute_question(rng, scene, types=("colour", "shape", "count", "exists"))
    if not vizwiz_answerable(scene, program):
        a = "unanswerable"
    return qa_example(scene, q, a, program, references=vqa_references(rng, a))
