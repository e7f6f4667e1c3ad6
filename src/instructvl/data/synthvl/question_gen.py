"""Image question generation (held-in): vqa-qg, okvqa-qg, aokvqa-qg.

The QA example of the source dataset is turned around: the raw input is the answer and
the target is the question (`metadata["qa_answer"]` keeps the answer, `program` the
question program, so a test can check the question really has that answer).
"""

from __future__ import annotations

import random

from instructvl.data.synthvl.image_qa import gen_vqa
from instructvl.data.synthvl.knowledge import gen_aokvqa, gen_okvqa
from instructvl.data.synthvl.qa import Example, Generator


def question_generation(source: Generator) -> Generator:
    """A generator that asks for the question of `source`'s examples given their answer."""

    def gen(rng: random.Random, size: int) -> Example:
        ex = source(rng, size)
        (_, question), (_, answer) = ex.turns
        return Example(
            ex.scenes,
            [("user", answer), ("assistant", question)],
            references=[question],
            meta={**ex.meta, "qa_answer": answer},
        )

    gen.__doc__ = f"question generation from {source.__name__}: answer in, question out."
    gen.__name__ = f"qg_{source.__name__}"
    return gen


gen_vqa_qg = question_generation(gen_vqa)
gen_okvqa_qg = question_generation(gen_okvqa)
gen_aokvqa_qg = question_generation(gen_aokvqa)
