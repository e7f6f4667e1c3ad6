"""Problem-set formats keyed by problem id: ScienceQA (problems.json + pid_splits.json)
and IconQA (a folder per problem with data.json + image.png, or the combined
problems.json + pid_splits.json).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from instructvl.data.formats.base import (
    ReadContext,
    choice_index,
    keyed,
    load_json,
    need,
    optional,
    qa_sample,
    strings,
    unpack_paths,
)
from instructvl.data.formats.images import first_existing, in_folders
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError

SPLITS = ("train", "val", "test")
SCIENCEQA_FOLDERS = ("images",)
"""ScienceQA's image archives (train.zip, val.zip, test.zip) unpack into its `images/`."""


def split_filter(ctx: ReadContext, splits_path: Path | None, split: str | None):
    """A predicate `keep(pid, record)` for `split`: membership in pid_splits.json (keys
    `<split>` as in ScienceQA, or `<task>_<split>` as in IconQA) if given, else the record's
    own `split` field. Records it rejects are counted as filtered."""
    members: set[str] | None = None
    if split is not None and splits_path is not None:
        splits = load_json(splits_path, dict)
        members = {str(p) for key, pids in splits.items() if key == split or key.endswith("_" + split) for p in pids}

    def keep(pid: str, record: dict) -> bool:
        ok = split is None or (pid in members if members is not None else record.get("split") == split)
        if not ok:
            ctx.filter_out(f"not in split {split!r}")
        return ok

    return keep


def split_folders(record: dict, split: str | None) -> list[str]:
    """Split folder names where a problem's files may be, most likely first."""
    return list(dict.fromkeys(s for s in (record.get("split"), split, *SPLITS) if s))


def read_scienceqa(
    ctx: ReadContext, paths: list[Path], image_root: Path, split: str | None = None, image_only: bool = False
) -> Iterator[Sample]:
    """ScienceQA problems.json ({pid: {question, choices, answer, hint, image, split,
    subject, lecture, solution, ...}}) with optional pid_splits.json. `image_only` keeps
    only questions with an image (`<split>/<pid>/image.png` under `image_root` or its
    `images/`); the hint goes into `metadata["context"]`."""
    problems_path, splits_path = unpack_paths(ctx.dataset, paths, ["problems.json"], ["pid_splits.json"])
    keep = split_filter(ctx, splits_path, split)

    def build(item: tuple[str, dict]) -> Sample | None:
        pid, record = item
        image_name = optional(record, "image")
        if not keep(pid, record):
            return None
        if image_only and not image_name:
            ctx.filter_out("no image")
            return None
        images = []
        if image_name:
            names = [f"{s}/{pid}/{image_name}" for s in split_folders(record, split)] + [f"{pid}/{image_name}"]
            images = [first_existing(ctx, image_root, in_folders(names, SCIENCEQA_FOLDERS))]
        choices = strings(record, "choices")
        return qa_sample(
            ctx.dataset, pid, images, need(record, "question"),
            candidates=choices, answer=choice_index(choices, need(record, "answer", int)),
            context=record.get("hint") or None, split=record.get("split"),
            **{k: record.get(k) for k in ("subject", "topic", "category", "skill", "grade", "lecture", "solution")},
        )  # fmt: skip

    yield from ctx.each(problems_path, keyed(load_json(problems_path, dict)), build)


def iconqa_sample(ctx: ReadContext, pid: str, record: dict, folders: list[Path]) -> Sample:
    """One IconQA problem whose files (image.png, choice images) are in one of `folders`."""
    ques_type = need(record, "ques_type")
    folder = Path(first_existing(ctx, Path(), [f / "image.png" for f in folders])).parent
    choices = strings(record, "choices") if ques_type.startswith("choose") else None
    answer: Any = record.get("answer")
    if choices is not None:
        answer = choice_index(choices, int(answer)) if answer is not None else None
    elif answer is not None:
        answer = str(answer)
    choice_images = [ctx.existing(folder / c) for c in choices] if ques_type == "choose_img" else None
    return qa_sample(
        ctx.dataset, pid, [str(folder / "image.png")], need(record, "question"),
        candidates=choices, answer=answer, ques_type=ques_type, choice_images=choice_images,
        grade=record.get("grade"), label=record.get("label"), split=record.get("split"),
    )  # fmt: skip


def read_iconqa(
    ctx: ReadContext, paths: list[Path], image_root: Path, split: str | None = None, task: str | None = None
) -> Iterator[Sample]:
    """IconQA, either a folder tree (`<split>/<task>/<pid>/data.json` + image.png at any depth,
    e.g. iconqa_data.zip's `iconqa_data/iconqa/test/choose_txt/<pid>/`, read by giving the
    folder as the annotation path) or problems.json (+ pid_splits.json) with
    images under `image_root/<split>/<task>/<pid>/`. `task` keeps one of choose_txt,
    choose_img, fill_in_blank. choose_* answers index `candidates`; choose_img's choice
    images go into `metadata["choice_images"]`; fill_in_blank answers are strings."""
    first, splits_path = unpack_paths(ctx.dataset, paths, ["problems.json or problem folder"], ["pid_splits.json"])
    keep = split_filter(ctx, splits_path, split)

    def build(pid: str, record: dict, folders: list[Path]) -> Sample | None:
        if task is not None and need(record, "ques_type") != task:
            ctx.filter_out(f"not task {task!r}")
            return None
        if not keep(pid, record):
            return None
        return iconqa_sample(ctx, pid, record, folders)

    if not first.is_dir():

        def from_combined(item: tuple[str, dict]) -> Sample | None:
            pid, record = item
            folders = [image_root / s / need(record, "ques_type") / pid for s in split_folders(record, split)]
            return build(pid, record, folders + [image_root / pid])

        yield from ctx.each(first, keyed(load_json(first, dict)), from_combined)
        return
    problem_files = sorted(first.rglob("data.json"))
    if not problem_files:
        raise InstructVLError(
            f"{first}: no IconQA problem folders (<split>/<task>/<pid>/data.json) under it; expected iconqa_data.zip "
            f"unpacked there (iconqa_data/iconqa/test/choose_txt/<pid>/) or a problems.json file"
        )
    for data_path in problem_files:
        folder = data_path.parent
        try:
            record = load_json(data_path, dict)
        except InstructVLError as exc:
            ctx.problem(data_path, "whole file", str(exc))
            continue
        record.setdefault("ques_type", folder.parent.name)
        if folder.parent.parent.name in SPLITS:
            record.setdefault("split", folder.parent.parent.name)
        yield from ctx.each(data_path, [("record", record)], lambda r, folder=folder: build(folder.name, r, [folder]))
