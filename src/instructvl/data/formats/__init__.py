"""Readers for public dataset formats, each producing the one `Sample` schema.

    result = read_dataset("vqav2", ["v2_OpenEnded_mscoco_val2014_questions.json",
                                    "v2_mscoco_val2014_annotations.json"], "coco/val2014")
    result.samples, result.skipped, result.summary()

`FORMATS` maps a format name to its reader; `read_dataset` checks the name and options,
runs the reader and returns a `ReadResult` (samples, skipped problems, filter counts).
Readers give the RAW question (user turn and `metadata["question"]`) and answer
(assistant turn when there is one answer, `answer`, `references`); instruction
templates are applied later.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from instructvl.data.formats.base import Problem, ReadContext, ReadResult
from instructvl.data.formats.binary import read_hateful_memes, read_vsr
from instructvl.data.formats.captions import read_coco_captions, read_karpathy
from instructvl.data.formats.conversation import read_llava_instruct
from instructvl.data.formats.dialog import read_visdial
from instructvl.data.formats.hf import read_hf
from instructvl.data.formats.science import read_iconqa, read_scienceqa
from instructvl.data.formats.textrich import read_ocrvqa, read_textcaps, read_textvqa
from instructvl.data.formats.videoqa import read_ivqa, read_msrvtt_qa, read_msvd_qa
from instructvl.data.formats.vqa import read_aokvqa, read_gqa, read_vizwiz, read_vqa
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError

Reader = Callable[..., Iterator[Sample]]
"""reader(ctx: ReadContext, paths: list[Path], image_root: Path, **options) -> samples"""

FORMATS: dict[str, Reader] = {
    "coco_captions": read_coco_captions,
    "nocaps": read_coco_captions,
    "flickr30k": read_karpathy,
    "karpathy": read_karpathy,
    "vqav2": read_vqa,
    "okvqa": read_vqa,
    "vizwiz": read_vizwiz,
    "aokvqa": read_aokvqa,
    "gqa": read_gqa,
    "vsr": read_vsr,
    "iconqa": read_iconqa,
    "scienceqa": read_scienceqa,
    "textvqa": read_textvqa,
    "textcaps": read_textcaps,
    "ocrvqa": read_ocrvqa,
    "hateful_memes": read_hateful_memes,
    "visdial": read_visdial,
    "msvd_qa": read_msvd_qa,
    "msrvtt_qa": read_msrvtt_qa,
    "ivqa": read_ivqa,
    "llava_instruct": read_llava_instruct,
    "hf": read_hf,
}

_FIXED_PARAMS = 3  # ctx, paths, image_root


def format_options(format: str) -> dict[str, object]:
    """The options a format's reader takes, with their defaults."""
    params = list(inspect.signature(get_reader(format)).parameters.values())[_FIXED_PARAMS:]
    return {p.name: p.default for p in params}


def get_reader(format: str) -> Reader:
    """The reader for `format`, or an `InstructVLError` listing the known formats."""
    if format not in FORMATS:
        raise InstructVLError(f"unknown dataset format {format!r}; known formats: {', '.join(sorted(FORMATS))}")
    return FORMATS[format]


def read_dataset(
    format: str,
    annotations: str | Path | Sequence[str | Path],
    image_root: str | Path | None = None,
    *,
    strict: bool = False,
    check_files: bool = True,
    dataset: str | None = None,
    limit: int | None = None,
    **options: object,
) -> ReadResult:
    """Reads one dataset split in a public format into `Sample`s.

    `annotations` is the annotation file (or the files, in the order the format's reader
    documents, e.g. VQAv2 questions then annotations); `image_root` is where image paths
    are resolved (default: the first annotation file's folder; the video folder for video
    formats). `strict=True` stops at the first bad record with an `InstructVLError`
    naming file and line / record; otherwise bad records are skipped and listed in
    `ReadResult.skipped`. `check_files=False` skips image existence checks. `dataset`
    names the samples' dataset (default: the format name); `limit` stops after that
    many samples. Other keyword `options` go to the reader (see `format_options`)."""
    reader = get_reader(format)
    valid = format_options(format)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InstructVLError(f"format {format!r} has no options {unknown}; its options: {sorted(valid) or 'none'}")
    paths = [Path(annotations)] if isinstance(annotations, (str, Path)) else [Path(a) for a in annotations]
    if not paths:
        raise InstructVLError(f"format {format!r}: no annotation file given")
    root = Path(image_root) if image_root is not None else paths[0].parent
    ctx = ReadContext(dataset or format, strict=strict, check_files=check_files)
    for sample in reader(ctx, paths, root, **options):
        ctx.result.samples.append(sample)
        if limit is not None and len(ctx.result.samples) >= limit:
            break
    return ctx.result


__all__ = ["FORMATS", "Problem", "ReadContext", "ReadResult", "Reader", "format_options", "get_reader", "read_dataset"]
