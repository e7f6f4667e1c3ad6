"""Captioning with reading comprehension: textcaps (held-in).

A sign with a word stands among shapes; the captions must read the word. The words
in the image are given as `ocr_tokens` (left to right).
"""

from __future__ import annotations

import random

from instructvl.data.synthvl.qa import Example, article, describe, join_phrases
from instructvl.data.synthvl.scenes import add_sign, position_word, random_scene


def gen_textcaps(rng: random.Random, size: int) -> Example:
    """textcaps: captions that quote the sign's word; five references."""
    scene = random_scene(rng, size, n_objects=(0, 2), overlap_p=0.0)
    s = add_sign(rng, scene)
    others = [describe(o, scene) for o in scene.objects if o is not s]
    pos = position_word(s, scene)
    where = "in the center" if pos == "center" else f"at the {pos}"
    a_sign = article(f"{s.colour} sign")
    refs = [
        f"{a_sign} that says {s.text}",
        f"a sign with the word {s.text} on it",
        f"the word {s.text} written on {a_sign} {where}",
        f"{a_sign} reading {s.text}",
    ]
    if others:
        refs += [
            f"{a_sign} that says {s.text} next to {join_phrases(others)}",
            f"{join_phrases(others)} and a sign saying {s.text}",
        ]
    else:
        refs += [f"{article(s.colour)} {s.text} sign on {article(scene.background)} background"]
    rng.shuffle(refs)
    refs = refs[:5]
    ocr = [o.text for o in sorted(scene.objects, key=lambda o: o.x) if o.kind == "sign"]
    return Example([scene], [("user", ""), ("assistant", rng.choice(refs))], references=refs, ocr_tokens=ocr)
