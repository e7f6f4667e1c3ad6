"""Visual dialog (whole category held out): visdial.

A caption-like opening, then rounds of questions about the scene. The history is kept
as earlier (user, assistant) turns; the last question's answer is ranked among 100
`candidates` (MRR). `answer` is the right candidate's text and
`metadata["answer_index"]` its index.
"""

from __future__ import annotations

import random

from instructvl.data.synthvl.qa import Example, attribute_question, describe
from instructvl.data.synthvl.scenes import (
    HELD_IN_COLOURS,
    NUMBER_WORDS,
    SHAPES,
    SIZE_WORDS,
    random_scene,
)

N_CANDIDATES = 100
_POSITIONS = ("top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right")
CANDIDATE_POOL: tuple[str, ...] = tuple(
    dict.fromkeys(
        ["yes", "no", "i can't tell", "maybe", "not sure", "none"]
        + list(HELD_IN_COLOURS)
        + list(SHAPES)
        + list(SIZE_WORDS)
        + list(_POSITIONS)
        + [str(n) for n in range(13)]
        + list(NUMBER_WORDS)
        + [f"{c} {k}" for c in HELD_IN_COLOURS for k in SHAPES[:4]]
        + [f"yes, it is {c}" for c in HELD_IN_COLOURS]
        + [f"no, it is {c}" for c in HELD_IN_COLOURS]
    )
)


def gen_visdial(rng: random.Random, size: int) -> Example:
    """visdial: 2-3 history rounds + a question; the answer ranked among 100 candidates."""
    scene = random_scene(rng, size, n_objects=(2, 4))
    turns: list[tuple[str, str]] = []
    programs = []
    for r in range(rng.randint(3, 4)):
        q, a, program = attribute_question(rng, scene)
        if r == 0:
            q = f"The image shows {describe(rng.choice(scene.objects), scene)} and more. {q}"
        turns += [("user", q), ("assistant", a)]
        programs.append(program)
    answer = turns[-1][1]
    cands = [answer] + rng.sample([c for c in CANDIDATE_POOL if c != answer], N_CANDIDATES - 1)
    rng.shuffle(cands)
    return Example(
        [scene],
        turns,
        answer=answer,
        candidates=cands,
        meta={"program": programs[-1], "history_programs": programs[:-1], "answer_index": cands.index(answer)},
    )
