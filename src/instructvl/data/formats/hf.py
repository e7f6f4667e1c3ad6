"""Optional: a question-answer dataset from the Hugging Face hub via `datasets` (lazy
import; needs `pip install datasets` and internet). Rows give an image (PIL image, saved
once into a cache folder as PNG), a question and an answer or list of answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from instructvl.data.formats.base import CACHE_ROOT, BadRecord, ReadContext, most_common, need, qa_sample, unpack_paths
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError


def import_datasets():
    """The `datasets` module, or an `InstructVLError` saying how to install it."""
    try:
        import datasets
    except ImportError:
        raise InstructVLError("reading from the Hugging Face hub needs `datasets`: pip install datasets") from None
    return datasets


def read_hf(
    ctx: ReadContext,
    paths: list[Path],
    image_root: Path | None = None,
    split: str = "train",
    config: str | None = None,
    question_field: str = "question",
    answer_field: str = "answer",
    image_field: str = "image",
    cache_dir: Path = CACHE_ROOT / "hf",
) -> Iterator[Sample]:
    """Rows of hub dataset `paths[0]` (e.g. "HuggingFaceM4/VQAv2"), split `split`; images
    are written to `cache_dir/<name>/<split>/<row>.png`."""
    (name,) = unpack_paths(ctx.dataset, paths, ["hub dataset name"])
    rows = import_datasets().load_dataset(str(name), config, split=split)
    out = Path(cache_dir) / re.sub(r"[^\w.-]+", "_", str(name)) / split
    out.mkdir(parents=True, exist_ok=True)

    def build(item: tuple[int, dict]) -> Sample:
        i, row = item
        image = row.get(image_field)
        if not hasattr(image, "save"):
            raise BadRecord(f"field {image_field!r} is not an image")
        path = out / f"{i}.png"
        if not path.exists():
            image.convert("RGB").save(path)
        answer = row.get(answer_field)
        references = [str(a) for a in answer] if isinstance(answer, list) else None
        return qa_sample(
            ctx.dataset, row.get("question_id", i), [str(path)], need(row, question_field),
            answer=most_common(references) if references else answer, references=references,
        )  # fmt: skip

    yield from ctx.each(str(name), ((f"row {i}", (i, row)) for i, row in enumerate(rows)), build)
