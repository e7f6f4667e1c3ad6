"""Image question generation (held-in): vqa-qg, okvqa-qg, aokvqa-qg.

The QA example of the source dataset is turned around: the raw input is the answer and
the target is a question that answer answers. The question is asked afresh from the
source's question program (`metadata["program"]`), in one of many wordings, about the
object picked out by a random true detail of its scene (size, position, a neighbour,
the background: `phrasing.pick_out`), so that the questions follow the image instead of a
handful of strings fitting every image. `references` holds the target and up to four
other such questions (`phrasing.wordings`); `metadata["qa_answer"]` keeps the answer.
"""

from __future__ import annotations

import random
from typing import Any

from instructvl.data.synthvl.image_qa import gen_vqa
from instructvl.data.synthvl.knowledge import gen_aokvqa, gen_okvqa
from instructvl.data.synthvl.phrasing import pick_out, sentence_case, wordings
from instructvl.data.synthvl.qa import Example, Generator, article
from instructvl.data.synthvl.scenes import Scene, count, plural

_ATTRIBUTE = {
    "colour": (
        "What colour is {obj}?",
        "What is the colour of {obj}?",
        "Which colour does {obj} have?",
        "Can you tell me the colour of {obj}?",
        "{obj} is painted in which colour?",
        "What colour has been used for {obj}?",
    ),
    "shape": (
        "What shape is {obj}?",
        "What is the shape of {obj}?",
        "Which kind of shape is {obj}?",
        "What form does {obj} take?",
        "Can you name the shape of {obj}?",
        "{obj} has which shape?",
    ),
    "count": (
        "How many {kinds} are there?",
        "How many {kinds} can you see?",
        "What number of {kinds} are drawn on the {bg} background?",
        "Of the {shapes} in the picture, how many are {kinds}?",
        "The image shows {shapes}; how many of them are {kinds}?",
        "If you count the {kinds}, what do you get?",
        "What is the total number of {kinds} in this image?",
        "Among the {shapes} on the {bg} background, how many {kinds} are there?",
        "What is the count of {kinds} here?",
        "How many {kinds} are shown in total?",
    ),
    "exists": (
        "Is there {a_obj}?",
        "Can you see {a_obj} anywhere?",
        "Does the image contain {a_obj}?",
        "Is {a_obj} drawn on the {bg} background?",
        "Do you spot {a_obj} in this picture?",
        "Is {a_obj} one of the {shapes} shown?",
        "The picture has {shapes}; is {a_obj} among them?",
        "Among the {shapes} on the {bg} background, is there {a_obj}?",
        "Would you find {a_obj} here?",
        "Has somebody drawn {a_obj} in this image?",
    ),
    "position": (
        "Where is {obj}?",
        "In which part of the image is {obj}?",
        "Where is {obj} located?",
        "Where can {obj} be found?",
        "Which area of the picture holds {obj}?",
        "Where in the frame does {obj} sit?",
    ),
    "size": (
        "What size is {obj}?",
        "How big is {obj}?",
        "Is {obj} small, medium or large?",
        "How large does {obj} look?",
        "What is the size of {obj}?",
        "Would you call {obj} small, medium or large?",
    ),
}
_FACT = {
    "colour_food": (
        "Which food has the same colour as {obj}?",
        "Which fruit or food is the colour of {obj}?",
        "What food shares its colour with {obj}?",
        "Which fruit or vegetable matches the hue of {obj}?",
        "Looking at {obj}, which food has that shade?",
        "What could you eat that is coloured like {obj}?",
        "What is something edible in the tint of {obj}?",
        "If {obj} were a food of the same colour, what could it be?",
        "Which produce item matches {obj} in colour?",
        "What would you find at the market in the shade of {obj}?",
    ),
    "sides": (
        "How many sides does {obj} have?",
        "What is the number of sides of {obj}?",
        "Counting its edges, how many sides has {obj} got?",
        "{obj} has how many sides?",
        "How many straight edges make up {obj}?",
        "How many corners does {obj} have?",
        "How many sides is {obj} made of?",
        "If you traced {obj}, how many lines would you draw?",
        "What count of edges belongs to {obj}?",
        "How many straight lines form the outline of {obj}?",
    ),
    "meaning": (
        "What does {obj} usually stand for?",
        "What is {obj} commonly used to represent?",
        "What idea is {obj} meant to suggest?",
        "When people draw {obj}, what do they usually mean?",
        "What does {obj} symbolise?",
        "What is {obj} a common sign for?",
        "Seeing {obj}, what would most people think of?",
        "What concept is usually shown with {obj}?",
        "What is {obj} associated with?",
        "Which notion does {obj} evoke?",
    ),
}
_GENERIC_NOUNS = {"colour_food": ("shape", "object"), "sides": ("shape", "figure"), "meaning": ("symbol", "icon")}
_OPENERS = (  # none, a third of the time
    "",
    "",
    "",
    "Looking at the picture, ",
    "In this image, ",
    "Based on what is drawn, ",
    "Quick question about the picture: ",
    "From what you can see, ",
    "Please check the image: ",
)
_OBJECT_NOUNS = ("object", "shape", "figure")


def _subject(scene: Scene, program: dict[str, Any], rng: random.Random) -> str:
    """The phrase naming the object an attribute program asks about, with a random detail."""
    t, kind, colour = program["type"], program.get("kind"), program.get("colour")
    if t == "shape":
        o = next(o for o in scene.objects if o.colour == colour)
        return pick_out(o, scene, rng, noun=f"{colour} {rng.choice(_OBJECT_NOUNS)}")
    if t == "colour":
        return pick_out(next(o for o in scene.objects if o.kind == kind), scene, rng, noun=kind)
    o = next(o for o in scene.objects if o.kind == kind and o.colour == colour)
    noun = o.name() if count(scene, kind=kind) > 1 else rng.choice([kind, o.name()])
    return pick_out(o, scene, rng, noun=noun, skip=("size",) if t == "size" else ("position", "relation"))


def ask(scene: Scene, program: dict[str, Any], rng: random.Random) -> str:
    """A question about `scene` whose answer is `program`'s: an attribute program of
    `qa.attribute_question` or a fact program of `knowledge` (about the one object shown),
    in a random wording, the object picked out by a random true detail."""
    t = program["type"]
    if t == "fact":
        o, relation = scene.objects[0], program["relation"]
        generic = rng.choice(_GENERIC_NOUNS[relation])
        noun = rng.choice([o.kind, o.name(), generic, f"{o.colour} {generic}"])
        question = rng.choice(_FACT[relation]).format(obj=pick_out(o, scene, rng, noun=noun))
    elif t in ("count", "exists"):
        kind, colour, n = program["kind"], program.get("colour", ""), len(scene.objects)
        question = rng.choice(_ATTRIBUTE[t]).format(
            kinds=plural(kind, 2),
            a_obj=article(f"{colour} {kind}"),
            bg=scene.background,
            shapes=f"{n} {plural('shape', n)}",
        )
    else:
        question = rng.choice(_ATTRIBUTE[t]).format(obj=_subject(scene, program, rng))
    opener = rng.choice(_OPENERS)
    return sentence_case(opener + (question[0].lower() if opener else question[0]) + question[1:])


def question_generation(source: Generator) -> Generator:
    """A generator that asks for a question of `source`'s examples given their answer."""

    def gen(rng: random.Random, size: int) -> Example:
        ex = source(rng, size)
        answer = ex.turns[-1][1]
        questions = wordings(lambda: ask(ex.scenes[0], ex.meta["program"], rng))
        return Example(
            ex.scenes,
            [("user", answer), ("assistant", questions[0])],
            references=questions,
            meta={**ex.meta, "qa_answer": answer},
        )

    gen.__doc__ = f"question generation from {source.__name__}: answer in, question out."
    gen.__name__ = f"qg_{source.__name__}"
    return gen


gen_vqa_qg = question_generation(gen_vqa)
gen_okvqa_qg = question_generation(gen_okvqa)
gen_aokvqa_qg = question_generation(gen_aokvqa)
