"""Per category: the stored answers are right for the rendered image.

Answers are re-derived here from `metadata["scene"]` with small independent helpers
(not the generators' own functions), and some are checked on the pixels.
"""

from __future__ import annotations

import re

from conftest import raw_samples
from PIL import Image

from instructvl.data.synthvl.knowledge import FACTS
from instructvl.data.synthvl.reading_qa import GENRES
from instructvl.data.synthvl.scenes import COLOURS, NOVEL_COLOURS, NOVEL_SHAPES, NUMBER_WORDS, SIDES, Scene, plural
from instructvl.data.synthvl.video import frame_scenes

FILLED = {"circle", "square", "triangle", "star", "diamond", "hexagon", "pentagon", "cross", "trapezoid"}


def scene_of(s) -> Scene:
    return Scene.from_dict(s.metadata["scene"])


def uncovered(scene: Scene, i: int) -> bool:
    """No later object's box and no occluder reaches object i's centre (with a margin)."""
    o = scene.objects[i]
    boxes = [
        (p.x - p.size / 2 - 2, p.y - p.size / 2 - 2, p.x + p.size / 2 + 2, p.y + p.size / 2 + 2)
        for p in scene.objects[i + 1 :]
    ]
    if scene.degrade.get("occluder"):
        boxes.append(tuple(scene.degrade["occluder"]))
    return not any(b[0] <= o.x <= b[2] and b[1] <= o.y <= b[3] for b in boxes)


def check_centre_pixels(root, name, s, image_index=0, scene=None):
    """Every uncovered filled shape shows its colour at its centre; returns how many were checked."""
    scene = scene or scene_of(s)
    img = Image.open(root / name / s.images[image_index]).convert("RGB")
    checked = 0
    for i, o in enumerate(scene.objects):
        if o.kind in FILLED and uncovered(scene, i) and not scene.degrade:
            assert img.getpixel((o.x, o.y)) == COLOURS[o.colour], (s.id, o)
            checked += 1
    return checked


def attr(scene: Scene, p: dict) -> str:
    """Independent re-derivation of an attribute question's answer."""
    objs = scene.objects
    if p["type"] == "colour":
        return [o.colour for o in objs if o.kind == p["kind"]][0]
    if p["type"] == "shape":
        return [o.kind for o in objs if o.colour == p["colour"]][0]
    if p["type"] == "count":
        return str(len([o for o in objs if o.kind == p["kind"]]))
    if p["type"] == "exists":
        return "yes" if any(o.kind == p["kind"] and o.colour == p["colour"] for o in objs) else "no"
    o = [o for o in objs if o.kind == p["kind"] and o.colour == p["colour"]][0]
    if p["type"] == "size":
        f = o.size / scene.width
        return "small" if f < 0.25 else "medium" if f < 0.355 else "large"
    col = ["left", "", "right"][min(2, 3 * o.x // scene.width)]
    row = ["top", "", "bottom"][min(2, 3 * o.y // scene.height)]
    return " ".join(w for w in (row, col) if w) or "center"


POSITION = re.compile(
    r"\b(?:at|near|toward|over at) the (top left|top right|bottom left|bottom right|top|bottom|left|right)\b",
    re.IGNORECASE,
)
CENTRE_WORDS = ("center", "middle")
SIZE_WORDINGS = {
    "small": ("small", "smallish"),
    "medium": ("medium", "medium-sized", "mid-sized"),
    "large": ("large", "big"),
}


def placed_at(o, scene: Scene) -> str:
    """Independent re-derivation of an object's 3x3 grid position."""
    col = ["left", "", "right"][min(2, 3 * o.x // scene.width)]
    row = ["top", "", "bottom"][min(2, 3 * o.y // scene.height)]
    return " ".join(w for w in (row, col) if w) or "center"


def claimed_positions(text: str) -> set[str]:
    """The grid cells `text` places something in: "top left", ..., "center"."""
    return {p.lower() for p in POSITION.findall(text)} | ({"center"} if any(w in text for w in CENTRE_WORDS) else set())


def has_number(text: str, n: int) -> bool:
    """`n` occurs in `text` as a word: in digits or spelled out."""
    return bool(re.search(rf"\b({n}|{NUMBER_WORDS[n]})\b", text, re.IGNORECASE))


# --- image captioning / captioning with reading ---------------------------------------


def test_captions_name_every_object_and_pixels_match(suite):
    checked = 0
    for name, split in (("coco-cap", "train"), ("nocaps", "test"), ("flickr", "test")):
        for s in raw_samples(suite, name, split):
            scene = scene_of(s)
            assert len(s.references) == 5 and s.turns[-1].content in s.references
            for ref in s.references:
                for o in scene.objects:
                    assert o.kind in ref and o.colour in ref, (ref, o)
            checked += check_centre_pixels(suite, name, s)
            if name == "nocaps":
                assert all(o.kind in NOVEL_SHAPES or o.colour in NOVEL_COLOURS for o in scene.objects)
            if name == "flickr":
                assert scene.style == "horizon"
    assert checked > 50


def test_webcap_noise_is_as_recorded(suite):
    for s in raw_samples(suite, "webcap", "train"):
        o = scene_of(s).objects[s.metadata["subject"]]
        cap, noise = s.turns[-1].content, s.metadata["noise"]
        if noise == "none":
            assert cap == f"{o.colour} {o.kind}"
        elif noise == "drop-colour":
            assert cap == o.kind
        elif noise == "wrong-colour":
            assert cap.endswith(o.kind) and not cap.startswith(o.colour)
        else:
            assert cap.startswith(f"{o.colour} {o.kind} ")


def test_textcaps_read_the_sign(suite):
    for s in raw_samples(suite, "textcaps", "train"):
        signs = [o for o in scene_of(s).objects if o.kind == "sign"]
        assert s.ocr_tokens == [o.text for o in signs]
        assert all(signs[0].text in ref for ref in s.references)


# --- image QA -------------------------------------------------------------------------


def test_vqa_answers_and_pixels(suite):
    for s in raw_samples(suite, "vqa", "train"):
        scene, p = scene_of(s), s.metadata["program"]
        assert s.answer == attr(scene, p) == s.turns[-1].content
        assert s.references.count(s.answer) >= 5 and len(s.references) == 10
        if p["type"] == "colour":
            i = next(i for i, o in enumerate(scene.objects) if o.kind == p["kind"])
            if p["kind"] in FILLED and uncovered(scene, i):
                img = Image.open(suite / "vqa" / s.images[0]).convert("RGB")
                assert img.getpixel((scene.objects[i].x, scene.objects[i].y)) == COLOURS[s.answer]


def test_vizwiz_unanswerable_only_when_hidden_or_blurred(suite):
    kinds = set()
    for s in raw_samples(suite, "vizwiz", "test"):
        scene, p = scene_of(s), s.metadata["program"]
        if scene.degrade.get("blur", 0) >= 2.5:
            assert s.answer == "unanswerable"
        elif not scene.degrade.get("occluder"):
            assert s.answer == attr(scene, p)
        elif s.answer != "unanswerable":
            assert s.answer == attr(scene, p)
        kinds.add(s.answer == "unanswerable")
    assert kinds == {True, False}


# --- visual reasoning -------------------------------------------------------------------


def _rel(a, b, rel, m):
    return {"left of": a.x + m < b.x, "right of": a.x > b.x + m, "above": a.y + m < b.y, "below": a.y > b.y + m}[rel]


def test_gqa(suite):
    for s in raw_samples(suite, "gqa", "test"):
        scene, p = scene_of(s), s.metadata["program"]
        by_kind = {o.kind: o for o in scene.objects}
        if p["type"] == "more":
            a, b = (sum(o.kind == k for o in scene.objects) for k in p["kinds"])
            assert s.answer == ("yes" if a > b else "no")
        elif p["type"] == "same-colour":
            a, b = (by_kind[k] for k in p["kinds"])
            assert s.answer == ("yes" if a.colour == b.colour else "no")
        else:
            anchor = by_kind[p["anchor"]]
            hits = [o for o in scene.objects if o is not anchor and _rel(o, anchor, p["rel"], 0)]
            assert len(hits) == 1
            assert s.answer == (hits[0].colour if p["type"] == "relate-colour" else hits[0].kind)


def test_vsr(suite):
    answers = set()
    for s in raw_samples(suite, "vsr", "test"):
        scene, p = scene_of(s), s.metadata["program"]
        a, b = scene.objects
        if p["rel"] == "overlapping":
            truth = abs(a.x - b.x) * 2 < a.size + b.size and abs(a.y - b.y) * 2 < a.size + b.size
        else:
            truth = _rel(a, b, p["rel"], 0)
        assert s.answer == ("true" if truth else "false") and s.candidates == ["true", "false"]
        assert p["rel"] in s.turns[0].content
        answers.add(s.answer)
    assert answers == {"true", "false"}


def test_iconqa(suite):
    for s in raw_samples(suite, "iconqa", "test"):
        scene, p = scene_of(s), s.metadata["program"]
        n = [sum(o.kind == k for o in scene.objects) for k in p["kinds"]]
        expected = {"count": n[0], "total": sum(n), "more": n[0] - n[-1], "add": n[0] + p.get("add", 0)}[p["type"]]
        assert s.answer == str(expected) and s.answer in s.candidates and len(set(s.candidates)) == 4


# --- knowledge-grounded QA --------------------------------------------------------------


def _fact_answer(scene: Scene, relation: str) -> str:
    o = scene.objects[0]
    return FACTS[relation][o.colour if relation == "colour_food" else o.kind][0]


def test_okvqa_and_aokvqa_use_the_fact_table(suite):
    for name in ("okvqa", "aokvqa"):
        for s in raw_samples(suite, name, "train"):
            scene, p = scene_of(s), s.metadata["program"]
            assert s.answer == _fact_answer(scene, p["relation"])
            assert s.references.count(s.answer) >= 3
            if name == "aokvqa":
                assert s.answer in s.candidates and s.answer in s.metadata["rationale"]


def test_scienceqa(suite):
    for s in raw_samples(suite, "scienceqa", "test"):
        scene, t = scene_of(s), s.metadata["program"]["type"]
        kinds = [o.kind for o in scene.objects]
        if t == "temperature":
            expected = "hot" if kinds[0] in ("sun", "flame") else "cold"
        elif t == "light":
            expected = [k for k in kinds if k in ("sun", "flame", "bolt")][0]
        else:
            expected = max(kinds, key=SIDES.get)
        assert s.answer == expected and s.answer in s.candidates


# --- QA with reading ------------------------------------------------------------------


def test_ocrvqa_and_textvqa_read_the_text(suite):
    for s in raw_samples(suite, "ocrvqa", "train"):
        scene, p = scene_of(s), s.metadata["program"]
        texts = {o.role: o.text for o in scene.objects if o.kind == "text"}
        genre = GENRES[[o.kind for o in scene.objects if o.kind != "text"][0]]
        expected = {
            "title": texts["title"],
            "author": texts["author"],
            "genre": genre,
            "is-genre": "yes" if p.get("genre") == genre else "no",
        }[p["type"]]
        assert s.answer == expected
        assert s.ocr_tokens == texts["title"].split() + texts["author"].split()
    for s in raw_samples(suite, "textvqa", "test"):
        scene, p = scene_of(s), s.metadata["program"]
        signs = [o for o in scene.objects if o.kind == "sign"]
        if p["type"] == "sign-colour":
            target = [o for o in signs if o.colour == p["colour"]]
        else:
            by_y = sorted(signs, key=lambda o: o.y)
            target = by_y[:1] if p["where"] == "top" else by_y[-1:]
        assert len(target) == 1 and s.answer == target[0].text and s.answer in s.ocr_tokens


# --- question generation ----------------------------------------------------------------


def _subject_words(scene: Scene, p: dict) -> str:
    """What a question about program `p` must name: the kind, the colour, or both."""
    if p["type"] == "fact":
        return ""
    if p["type"] == "shape":
        return p["colour"]
    if p["type"] == "count":
        return plural(p["kind"], 2)
    return f"{p['colour']} {p['kind']}" if p["type"] == "exists" else p["kind"]


def _subject(scene: Scene, p: dict):
    """The one object a question program is about (None for count and exists)."""
    if p["type"] == "fact":
        return scene.objects[0]
    if p["type"] in ("count", "exists"):
        return None
    return next(o for o in scene.objects if o.kind == p.get("kind", o.kind) and o.colour == p.get("colour", o.colour))


def test_generated_questions_have_the_given_answer(suite):
    for name in ("vqa-qg", "okvqa-qg", "aokvqa-qg"):
        n_refs = []
        for s in raw_samples(suite, name, "train"):
            scene, p = scene_of(s), s.metadata["program"]
            answer = _fact_answer(scene, p["relation"]) if name != "vqa-qg" else attr(scene, p)
            assert answer == s.turns[0].content == s.metadata["qa_answer"]
            assert s.turns[-1].content == s.references[0] and len(set(s.references)) == len(s.references)
            n_refs.append(len(s.references))
            o = _subject(scene, p)
            for q in s.references:
                assert q.endswith("?") and q[0].isupper(), q
                assert _subject_words(scene, p) in q, (q, p)
                if o is not None:  # where the question places its subject is where it is
                    assert claimed_positions(q) <= {placed_at(o, scene)}, (q, placed_at(o, scene))
                if name != "vqa-qg":
                    assert any(w in q for w in (o.kind, o.colour, "symbol", "icon", "shape", "object", "figure")), q
        assert sum(n_refs) / len(n_refs) >= 4, name  # five drawn, the distinct ones kept


# --- video QA -----------------------------------------------------------------------------


def test_video_answers_follow_the_frames(suite):
    for name in ("msvd", "msrvtt", "ivqa"):
        for s in raw_samples(suite, name, "test"):
            rec = s.metadata["scene"]
            frames = frame_scenes(Scene.from_dict(rec["base"]), rec["event"], rec["frames"])
            assert len(s.images) == rec["frames"] == 4
            ev, i = rec["event"], rec["event"]["object"]
            first, last = frames[0], frames[-1]
            if ev["type"] == "move":
                dx = last.objects[i].x - first.objects[i].x
                dy = last.objects[i].y - first.objects[i].y
                direction = "left" if dx < 0 else "right" if dx > 0 else "up" if dy < 0 else "down"
                assert direction == ev["direction"]
                if name == "msvd":
                    assert s.answer in (direction, f"moving {direction}")
            if ev["type"] in ("appear", "disappear"):
                counts = (len(first.objects), len(last.objects))
                assert counts[0] < counts[1] if ev["type"] == "appear" else counts[0] > counts[1]
            if ev["type"] == "recolour" and name != "msrvtt":
                assert last.objects[i].colour in s.answer
            if name == "ivqa":
                assert len(s.references) == 5 and s.references.count(s.answer) >= 3
            for f in (0, 3):
                check_centre_pixels(suite, name, s, f, frames[f])


# --- visual dialog / classification ---------------------------------------------------


def test_visdial(suite):
    for s in raw_samples(suite, "visdial", "test"):
        scene = scene_of(s)
        assert len(s.candidates) == 100 == len(set(s.candidates))
        assert s.candidates[s.metadata["answer_index"]] == s.answer == s.turns[-1].content
        assert s.answer == attr(scene, s.metadata["program"])
        history = s.turns[1:-2:2]
        for turn, p in zip(history, s.metadata["history_programs"]):
            assert turn.content == attr(scene, p)


def test_memes(suite):
    labels = set()
    for s in raw_samples(suite, "memes", "test"):
        scene = scene_of(s)
        adjective, thing = scene.objects[1].text.lower().split()
        hateful = adjective in ("ugly", "dumb", "vile", "bad") and thing == scene.objects[0].kind
        assert s.answer == ("yes" if hateful else "no") and s.candidates == ["no", "yes"]
        labels.add(s.answer)
    assert labels == {"yes", "no"}


# --- LLaVA-like ---------------------------------------------------------------------------


def test_llava_conversation_answers(suite):
    for s in raw_samples(suite, "llava-conv", "train"):
        scene = scene_of(s)
        answers = [t.content for t in s.turns if t.role == "assistant"]
        assert answers[-1] == s.references[0] and len(s.references) >= 2
        for text, p in zip(answers, s.metadata["programs"]):
            assert attr(scene, p) in text.lower(), (text, p)
        p = s.metadata["programs"][-1]
        for text in s.references:  # every wording holds the answer, and what backs it
            assert attr(scene, p) in text.lower(), (text, p)
            if p["type"] == "count":
                assert all(o.name() in text for o in scene.objects if o.kind == p["kind"]), text
            if p["type"] == "exists" and p["answer"] == "no":
                assert all(o.name() in text for o in scene.objects), text


def test_llava_detail_describes_every_object_where_it_is(suite):
    for s in raw_samples(suite, "llava-detail", "train"):
        scene = scene_of(s)
        assert s.turns[-1].content == s.references[0] and len(s.references) >= 2
        for text in s.references:
            sentences = text.split(". ")
            assert f"{len(scene.objects)} {plural('shape', len(scene.objects))}" in sentences[0]
            for o in scene.objects:
                placing = next(x for x in sentences if o.name() in x)  # its own sentence comes first
                assert claimed_positions(placing) == {placed_at(o, scene)}, (placing, o)
                size = next(w for w, words in SIZE_WORDINGS.items() if any(f"{v} {o.name()}" in placing for v in words))
                assert size == attr(scene, {"type": "size", "kind": o.kind, "colour": o.colour}), (placing, o)
        check_centre_pixels(suite, "llava-detail", s)


def _clear_first(objs, key, gap):
    ranked = sorted(objs, key=key)
    return ranked[0] if key(ranked[1]) - key(ranked[0]) >= gap else None


def test_llava_reasoning_answers(suite):
    types = set()
    for s in raw_samples(suite, "llava-reason", "train"):
        scene, p = scene_of(s), s.metadata["program"]
        objs, t = scene.objects, p["type"]
        o = objs[p["subject"]] if p["subject"] is not None else None
        types.add(t)
        assert s.turns[-1].content == s.references[0]
        for text in s.references:
            if t == "remove":
                assert has_number(text, len(objs) - 1) and o.name() in text, text
            elif t == "add":
                assert has_number(text, sum(q.kind == o.kind for q in objs) + 1), text
            elif t == "recolour":
                assert p["colour"] != o.colour and p["colour"] in s.turns[0].content
                assert has_number(text, sum(q.colour == p["colour"] for q in objs) + 1), text
            elif t in ("largest", "smallest"):
                by_size = (lambda q: -q.size) if t == "largest" else (lambda q: q.size)
                assert o is _clear_first(objs, by_size, 3) and o.name() in text, text
            elif t == "furthest":
                key = {"left": lambda q: q.x, "right": lambda q: -q.x, "top": lambda q: q.y, "bottom": lambda q: -q.y}
                assert o is _clear_first(objs, key[p["side"]], 8) and o.name() in text, text
            else:
                one_colour = len({q.colour for q in objs}) == 1
                assert t == "same-colour" and ("yes" if one_colour else "no") in text.lower(), text
    assert types >= {"remove", "add", "recolour", "same-colour"}, types
