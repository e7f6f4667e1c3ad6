"""Finding a record's image file under an image root (files are checked, never decoded).

A benchmark's images sit where its archive (or a common mirror) unpacks them: TextVQA's
in `train_images/`, VizWiz's in `val/`, Flickr30K's in `flickr30k-images/`. Readers list
those folders (`in_folders`), so the image root can be the benchmark's folder whichever
layout it holds; a missing image names every path tried."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from instructvl.data.formats.base import MISSING_IMAGE, BadRecord, ReadContext

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp")
_TRAILING_ID = re.compile(r"(\d+)$")


def first_existing(ctx: ReadContext, root: Path, names: Sequence[str | Path], what: str = "image") -> str:
    """The first of `root/name` that exists; a missing-file `BadRecord` naming them all if none.

    With file checks off (`check_files=False`) the first name is taken as is."""
    paths = [root / n for n in names]
    if not ctx.check_files:
        return str(paths[0])
    for path in paths:
        if path.exists():
            return str(path)
    tried = ", ".join(str(p) for p in paths)
    raise BadRecord(f"{what} file not found (tried {tried})", MISSING_IMAGE if what == "image" else "missing_" + what)


def in_folders(names: Sequence[str | Path], folders: Sequence[str]) -> list[str]:
    """Each of `names` directly under the image root, then under each of `folders` (the
    layouts a benchmark unpacks to), in the order `first_existing` tries them."""
    return [str(Path(folder) / name) for folder in ("", *folders) for name in names]


def with_extensions(stem: str, exts: Sequence[str] = IMAGE_EXTS) -> list[str]:
    """`stem` with each extension, for datasets whose file extension is not recorded."""
    return [stem + e for e in exts]


class IdIndex:
    """Image files under a root keyed by the number that ends their name, e.g.
    `COCO_val2014_000000000042.jpg` -> 42; for formats that give only a COCO image id.
    The folder is walked once, on first use."""

    def __init__(self, root: Path):
        self.root = root
        self._index: dict[int, str] | None = None

    def find(self, ctx: ReadContext, image_id: int | str, names: Sequence[str]) -> str:
        """The first of `root/name` that exists, else the image indexed under `image_id`."""
        try:
            return first_existing(ctx, self.root, names)
        except BadRecord:
            return self.lookup(image_id)

    def lookup(self, image_id: int | str) -> str:
        """The path of the image with this id, or a missing-image `BadRecord`."""
        if self._index is None:
            self._index = {}
            for folder, _, files in os.walk(self.root):
                for name in sorted(files):
                    stem, ext = os.path.splitext(name)
                    match = _TRAILING_ID.search(stem)
                    if match and ext.lower() in IMAGE_EXTS:
                        self._index.setdefault(int(match.group(1)), os.path.join(folder, name))
        try:
            return self._index[int(image_id)]
        except (KeyError, ValueError):
            raise BadRecord(f"no image file for image id {image_id} under {self.root}", MISSING_IMAGE) from None
