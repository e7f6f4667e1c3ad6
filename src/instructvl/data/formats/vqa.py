"""Open-ended and multiple-choice VQA formats: VQAv2 / OK-VQA (questions + annotations
JSON), VizWiz (one annotation list), A-OKVQA (choices, direct answers, rationales) and
GQA (questions keyed by id).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from instructvl.data.formats.base import (
    BadRecord,
    ReadContext,
    choice_index,
    enumerated,
    json_section,
    keyed,
    load_json,
    most_common,
    need,
    optional,
    qa_sample,
    strings,
    unpack_paths,
)
from instructvl.data.formats.images import IdIndex, first_existing, in_folders
from instructvl.data.schema import Sample

VIZWIZ_FOLDERS = ("images", "val", "train", "test")
"""VizWiz's archives unpack to `train/`, `val/` and `test/`."""
GQA_FOLDERS = ("images",)
"""GQA's images.zip unpacks to `images/`."""


def answer_texts(record: dict) -> list[str]:
    """The `answers` list of VQA-style records ([{answer, answer_confidence, ...}])."""
    return [need(a, "answer") for a in need(record, "answers", list)]


def read_vqa(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """VQAv2 / OK-VQA: a questions JSON ({"data_subtype", "questions": [{question_id,
    image_id, question}]}) and, except for test splits, an annotations JSON
    ({"annotations": [{question_id, answers: [10 x {answer}], multiple_choice_answer}]}).

    Images are `COCO_<data_subtype>_<image_id:012d>.jpg` directly under `image_root` or in
    its `<data_subtype>/` folder, else any file under it ending in the image id.
    `references` are the 10 answers; `answer` is `multiple_choice_answer` (else the most
    frequent answer)."""
    questions_path, annotations_path = unpack_paths(ctx.dataset, paths, ["questions json"], ["annotations json"])
    questions = load_json(questions_path, dict)
    subtype = questions.get("data_subtype", "")
    index = IdIndex(image_root)
    annotations: dict = {}
    if annotations_path is not None:
        data = load_json(annotations_path, dict)

        def remember(ann: dict) -> None:
            annotations[need(ann, "question_id", (int, str))] = ann

        list(ctx.each(annotations_path, enumerated(json_section(annotations_path, data, "annotations")), remember))

    def build(q: dict) -> Sample:
        qid = need(q, "question_id", (int, str))
        image_id = need(q, "image_id", int)
        question = need(q, "question")
        name = f"COCO_{subtype}_{image_id:012d}.jpg"
        image = index.find(ctx, image_id, [name, f"{subtype}/{name}"])
        answer = references = ann = None
        if annotations_path is not None:
            ann = annotations.get(qid)
            if ann is None:
                raise BadRecord(f"question_id {qid} has no entry in {annotations_path}")
            references = answer_texts(ann)
            answer = optional(ann, "multiple_choice_answer") or most_common(references)
        return qa_sample(
            ctx.dataset, qid, [image], question,
            answer=answer, references=references, image_id=image_id,
            question_type=ann and ann.get("question_type"), answer_type=ann and ann.get("answer_type"),
        )  # fmt: skip

    records = json_section(questions_path, questions, "questions")
    yield from ctx.each(questions_path, enumerated(records, "questions"), build)


def read_vizwiz(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """VizWiz VQA: a JSON list of {image, question, answers (absent on test), answerable,
    answer_type}; the sample id is the image name's stem (one question per image). Images
    are under `image_root` or one of `VIZWIZ_FOLDERS`."""
    (path,) = unpack_paths(ctx.dataset, paths, ["annotations json"])

    def build(record: dict) -> Sample:
        image = need(record, "image")
        references = answer_texts(record) if record.get("answers") is not None else None
        return qa_sample(
            ctx.dataset, Path(image).stem, [first_existing(ctx, image_root, in_folders([image], VIZWIZ_FOLDERS))],
            need(record, "question"),
            answer=most_common(references or []), references=references,
            answerable=record.get("answerable"), answer_type=record.get("answer_type"),
        )  # fmt: skip

    yield from ctx.each(path, enumerated(load_json(path, list)), build)


def read_aokvqa(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """A-OKVQA: a JSON list of {question_id, image_id, split, question, choices,
    correct_choice_idx, direct_answers, rationales, difficult_direct_answer} (answers are
    absent on test). Images are COCO 2017: `<split>2017/<image_id:012d>.jpg`.
    `candidates` = choices, `answer` = correct_choice_idx, `references` = direct answers."""
    (path,) = unpack_paths(ctx.dataset, paths, ["aokvqa_v1p0_<split>.json"])
    index = IdIndex(image_root)

    def build(record: dict) -> Sample:
        image_id = need(record, "image_id", int)
        split = optional(record, "split") or ""
        name = f"{image_id:012d}.jpg"
        choices = strings(record, "choices")
        answer = optional(record, "correct_choice_idx", int)
        return qa_sample(
            ctx.dataset, need(record, "question_id"), [index.find(ctx, image_id, [f"{split}2017/{name}", name])],
            need(record, "question"),
            candidates=choices,
            answer=None if answer is None else choice_index(choices, answer),
            references=strings(record, "direct_answers") if record.get("direct_answers") else None,
            image_id=image_id, split=split or None, rationales=record.get("rationales"),
            difficult_direct_answer=record.get("difficult_direct_answer"),
        )  # fmt: skip

    yield from ctx.each(path, enumerated(load_json(path, list)), build)


def read_gqa(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """GQA: questions JSON keyed by question id: {imageId, question, answer, fullAnswer,
    types, isBalanced, ...} (no answers in the submission split). Images are
    `<imageId>.jpg` under `image_root` or its `images/`."""
    (path,) = unpack_paths(ctx.dataset, paths, ["questions json"])

    def build(item: tuple[str, dict]) -> Sample:
        qid, record = item
        image_id = need(record, "imageId")
        return qa_sample(
            ctx.dataset, qid, [first_existing(ctx, image_root, in_folders([f"{image_id}.jpg"], GQA_FOLDERS))],
            need(record, "question"),
            answer=optional(record, "answer"), image_id=image_id, full_answer=record.get("fullAnswer"),
            types=record.get("types"), is_balanced=record.get("isBalanced"),
        )  # fmt: skip

    yield from ctx.each(path, keyed(load_json(path, dict)), build)
