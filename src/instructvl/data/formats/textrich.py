"""Text-rich image formats: TextVQA and TextCaps (with OCR tokens, from the record or a
Rosetta OCR JSON) and OCR-VQA (dataset.json, several questions per book cover).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from instructvl.data.formats.base import (
    BadRecord,
    ReadContext,
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
from instructvl.data.formats.captions import caption_sample
from instructvl.data.formats.images import first_existing, in_folders, with_extensions
from instructvl.data.schema import Sample

OCRVQA_SPLITS = {1: "train", 2: "val", 3: "test"}
TEXTVQA_FOLDERS = ("images", "train_images", "test_images")
"""TextVQA's archives (also TextCaps' images) unpack to `train_images/` (train and val) and `test_images/`."""
OCRVQA_FOLDERS = ("images",)
"""OCR-VQA's download script writes `images/`."""


def load_ocr(ctx: ReadContext, path: Path | None) -> dict[str, list[str]]:
    """image_id -> OCR tokens from a Rosetta OCR JSON ({"data": [{image_id, ocr_tokens}]})."""
    tokens: dict[str, list[str]] = {}
    if path is None:
        return tokens

    def remember(entry: dict) -> None:
        tokens[need(entry, "image_id")] = strings(entry, "ocr_tokens")

    list(ctx.each(path, enumerated(json_section(path, load_json(path, dict), "data")), remember))
    return tokens


def ocr_tokens_of(record: dict, ocr: dict[str, list[str]]) -> list[str] | None:
    """The record's own `ocr_tokens` if it has them, else those of its image in `ocr`."""
    if record.get("ocr_tokens") is not None:
        return strings(record, "ocr_tokens")
    return ocr.get(record.get("image_id"))


def read_textvqa(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """TextVQA: {"data": [{question_id, question, image_id, answers (10 strings; absent on
    test), image_classes, set_name, ocr_tokens?}]}, plus an optional OCR JSON. Images are
    `<image_id>.jpg` under `image_root` or one of `TEXTVQA_FOLDERS`; `references` = the 10 answers."""
    path, ocr_path = unpack_paths(ctx.dataset, paths, ["TextVQA json"], ["OCR json"])
    ocr = load_ocr(ctx, ocr_path)

    def build(record: dict) -> Sample:
        image_id = need(record, "image_id")
        references = strings(record, "answers") if record.get("answers") else None
        image = first_existing(ctx, image_root, in_folders([f"{image_id}.jpg"], TEXTVQA_FOLDERS))
        return qa_sample(
            ctx.dataset, need(record, "question_id", (int, str)), [image], need(record, "question"),
            answer=most_common(references or []), references=references,
            ocr_tokens=ocr_tokens_of(record, ocr), image_id=image_id, image_classes=record.get("image_classes"),
            set_name=record.get("set_name"),
        )  # fmt: skip

    yield from ctx.each(path, enumerated(json_section(path, load_json(path, dict), "data"), "data"), build)


def read_textcaps(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """TextCaps: {"data": [{image_id, image_path, caption_str, reference_strs, ...}]}, one
    entry per caption, plus an optional OCR JSON. One sample per image; `references` are
    its `reference_strs` (else all its `caption_str`); none on the test split."""
    path, ocr_path = unpack_paths(ctx.dataset, paths, ["TextCaps json"], ["OCR json"])
    ocr = load_ocr(ctx, ocr_path)
    groups: dict[str, list[dict]] = {}

    def group(record: dict) -> None:
        groups.setdefault(need(record, "image_id"), []).append(record)

    list(ctx.each(path, enumerated(json_section(path, load_json(path, dict), "data"), "data"), group))

    def build(item: tuple[str, list[dict]]) -> Sample:
        image_id, records = item
        first = records[0]
        references = optional(first, "reference_strs", list) or [
            need(r, "caption_str") for r in records if r.get("caption_str") is not None
        ]
        names = [f"{image_id}.jpg"] + ([first["image_path"]] if first.get("image_path") else [])
        image = first_existing(ctx, image_root, in_folders(names, TEXTVQA_FOLDERS))
        sample = caption_sample(
            ctx.dataset, image_id, image, references, image_id=image_id, set_name=first.get("set_name")
        )
        sample.ocr_tokens = ocr_tokens_of(first, ocr)
        return sample

    yield from ctx.each(path, ((f"image_id {k!r}", (k, v)) for k, v in groups.items()), build)


def read_ocrvqa(ctx: ReadContext, paths: list[Path], image_root: Path, split: str | None = None) -> Iterator[Sample]:
    """OCR-VQA dataset.json: {image_id: {imageURL, questions, answers, title, authorName,
    genre, split (1 train, 2 val, 3 test)}}; one sample per question (id
    `<image_id>_<i>`). Images are `<image_id><extension of imageURL>` under `image_root`
    or its `images/`."""
    (path,) = unpack_paths(ctx.dataset, paths, ["dataset.json"])

    def build(item: tuple[str, dict]) -> list[Sample] | None:
        image_id, record = item
        record_split = OCRVQA_SPLITS.get(optional(record, "split", int), None)
        if split is not None and record_split != split:
            ctx.filter_out(f"not in split {split!r}")
            return None
        questions, answers = strings(record, "questions"), strings(record, "answers")
        if len(questions) != len(answers):
            raise BadRecord(f"{len(questions)} questions but {len(answers)} answers; expected one answer per question")
        ext = os.path.splitext(optional(record, "imageURL") or "")[1]
        names = ([image_id + ext] if ext else []) + with_extensions(image_id)
        image = first_existing(ctx, image_root, in_folders(names, OCRVQA_FOLDERS))
        return [
            qa_sample(
                ctx.dataset,
                f"{image_id}_{i}",
                [image],
                q,
                answer=a,
                image_id=image_id,
                split=record_split,
                title=record.get("title"),
                genre=record.get("genre"),
            )  # fmt: skip
            for i, (q, a) in enumerate(zip(questions, answers))
        ]

    yield from ctx.each(path, keyed(load_json(path, dict)), build)
