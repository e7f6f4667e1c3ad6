"""Captioning formats: COCO captions (captions_*.json), NoCaps (COCO-style json) and the
Karpathy split JSON (dataset_flickr30k.json, dataset_coco.json). Images are looked for
directly under the image root or in the folders the archives unpack to (`CAPTION_FOLDERS`,
`KARPATHY_FOLDERS`).

One sample per image; `references` holds all its captions; there is no question, so
`turns` is empty (templates add the instruction and the target caption later).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from instructvl.data.formats.base import (
    ReadContext,
    enumerated,
    json_section,
    load_json,
    need,
    optional,
    task_metadata,
    unpack_paths,
)
from instructvl.data.formats.images import first_existing, in_folders
from instructvl.data.schema import Sample

CAPTION_FOLDERS = ("images", "val", "val2014", "val2017")
"""NoCaps' validation images (`val/`), COCO's (`val2014/`, `val2017/`), or an `images/` folder."""
KARPATHY_FOLDERS = ("images", "flickr30k-images", "flickr30k_images")
"""Flickr30K's archive (`flickr30k-images/`) and its Kaggle mirror (`flickr30k_images/`)."""


def caption_sample(dataset: str, sample_id: object, image: str, references: list[str] | None, **metadata) -> Sample:
    """A captioning sample: one image, no turns, the reference captions (None if unknown)."""
    return Sample(
        id=str(sample_id),
        dataset=dataset,
        images=[image],
        references=references or None,
        metadata=task_metadata("caption", **metadata),
    )


def read_coco_captions(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """COCO-style captions: {"images": [{id, file_name, ...}], "annotations": [{image_id,
    caption}]}. Images without annotations (e.g. the NoCaps test split) get no references.
    NoCaps' `domain` and `open_images_id` go into metadata."""
    (path,) = unpack_paths(ctx.dataset, paths, ["captions json"])
    data = load_json(path, dict)
    captions: dict[int, list[str]] = defaultdict(list)

    def add_caption(ann: dict) -> None:
        captions[need(ann, "image_id", (int, str))].append(need(ann, "caption").strip())

    if "annotations" in data:
        list(ctx.each(path, enumerated(json_section(path, data, "annotations"), "annotations"), add_caption))

    def build(image: dict) -> Sample:
        image_id = need(image, "id", (int, str))
        file_name = need(image, "file_name")
        return caption_sample(
            ctx.dataset,
            image_id,
            first_existing(ctx, image_root, in_folders([file_name], CAPTION_FOLDERS)),
            captions.get(image_id),
            image_id=image_id,
            file_name=file_name,
            domain=image.get("domain"),
            open_images_id=image.get("open_images_id"),
        )

    yield from ctx.each(path, enumerated(json_section(path, data, "images"), "images"), build)


def read_karpathy(ctx: ReadContext, paths: list[Path], image_root: Path, split: str | None = None) -> Iterator[Sample]:
    """Karpathy split JSON: {"images": [{filename, filepath?, imgid, cocoid?, split,
    sentences: [{raw, tokens}]}]}. `split` keeps only train / val / test / restval.
    The image is `filepath/filename` (`filepath` is set for COCO only) under `image_root`
    or one of `KARPATHY_FOLDERS`."""
    (path,) = unpack_paths(ctx.dataset, paths, ["dataset_*.json"])
    data = load_json(path, dict)

    def build(image: dict) -> Sample | None:
        image_split = optional(image, "split")
        if split is not None and image_split != split:
            ctx.filter_out(f"not in split {split!r}")
            return None
        filename = need(image, "filename")
        sentences = need(image, "sentences", list)
        image_id = image.get("cocoid", need(image, "imgid", (int, str)))
        return caption_sample(
            ctx.dataset,
            image_id,
            first_existing(ctx, image_root, in_folders([Path(image.get("filepath", "")) / filename], KARPATHY_FOLDERS)),
            [need(s, "raw").strip() for s in sentences],
            image_id=image_id,
            file_name=filename,
            split=image_split,
        )

    yield from ctx.each(path, enumerated(json_section(path, data, "images"), "images"), build)
