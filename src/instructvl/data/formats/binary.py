"""Binary-label JSONL formats: VSR (caption true/false of the image) and Hateful Memes
(meme text, hateful or not). The text is the user turn, `candidates` are the two labels'
words and `answer` is the 0/1 label (absent on unlabelled test files).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from instructvl.data.formats.base import BadRecord, ReadContext, iter_jsonl, need, optional, qa_sample, unpack_paths
from instructvl.data.formats.images import first_existing, in_folders
from instructvl.data.schema import Sample

VSR_CANDIDATES = ["False", "True"]
HATEFUL_CANDIDATES = ["no", "yes"]
VSR_FOLDERS = ("images", "train2017", "val2017")
"""VSR's images.zip unpacks to `images/`; its images are also COCO 2017's `train2017/` and `val2017/`."""


def read_labelled_jsonl(
    ctx: ReadContext,
    paths: list[Path],
    image_root: Path,
    *,
    text_key: str,
    candidates: list[str],
    id_of: Callable[[dict], tuple[str, str]],
    folders: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> Iterator[Sample]:
    """One sample per JSONL line: {<image key>, <text_key>, label 0/1, ...}; `id_of(record)`
    gives (sample id, image path relative to `image_root` or one of `folders`); `keep`
    fields go to metadata."""
    (path,) = unpack_paths(ctx.dataset, paths, ["annotations jsonl"])

    def build(record: dict) -> Sample:
        sample_id, image = id_of(record)
        label = optional(record, "label", int)
        if label not in (None, 0, 1):
            raise BadRecord(f"field 'label' is {label!r}; expected 0 or 1")
        text = need(record, text_key)
        return qa_sample(
            ctx.dataset, sample_id, [first_existing(ctx, image_root, in_folders([image], folders))], text,
            candidates=list(candidates), answer=label, text=text, **{k: record.get(k) for k in keep},
        )  # fmt: skip

    yield from ctx.each(path, iter_jsonl(ctx, path), build)


def read_vsr(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """VSR (Visual Spatial Reasoning) JSONL: {image, caption, label, relation, ...}; the
    caption is the statement to judge, `candidates` = ["False", "True"]. VSR has no ids:
    the id is the image stem and a hash of the caption."""

    def id_of(record: dict) -> tuple[str, str]:
        image = need(record, "image")
        digest = hashlib.sha1(need(record, "caption").encode("utf-8")).hexdigest()[:8]
        return f"{Path(image).stem}-{digest}", image

    yield from read_labelled_jsonl(
        ctx, paths, image_root, text_key="caption", candidates=VSR_CANDIDATES, id_of=id_of, folders=VSR_FOLDERS,
        keep=("relation",),
    )  # fmt: skip


def read_hateful_memes(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """Hateful Memes JSONL: {id, img ("img/42953.png"), label, text}; the meme text is the
    user turn, `candidates` = ["no", "yes"] (is it hateful)."""

    def id_of(record: dict) -> tuple[str, str]:
        return str(need(record, "id", (int, str))), need(record, "img")

    yield from read_labelled_jsonl(ctx, paths, image_root, text_key="text", candidates=HATEFUL_CANDIDATES, id_of=id_of)
