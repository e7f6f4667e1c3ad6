"""Visual Dialog v1.0: {"split", "data": {"dialogs": [{image_id, caption, dialog: [{question,
answer, answer_options (100 indices), gt_index}]}], "questions": [...], "answers": [...]}}.

One sample per round that has answer options: earlier rounds are user/assistant history
turns, `candidates` are the round's options, `answer` is `gt_index` (absent on test).
The caption goes into `metadata["caption"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from instructvl.data.formats.base import (
    BadRecord,
    ReadContext,
    enumerated,
    json_section,
    load_json,
    need,
    optional,
    qa_sample,
    unpack_paths,
)
from instructvl.data.formats.images import IdIndex, in_folders
from instructvl.data.schema import Sample, Turn


def lookup(table: list[str], index: object, what: str) -> str:
    """`table[index]` for an index into the shared questions / answers list."""
    if not isinstance(index, int) or not 0 <= index < len(table):
        raise BadRecord(f"{what} index {index!r} is outside the shared {what}s list (0..{len(table) - 1})")
    return table[index]


def read_visdial(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """VisDial v1.0 json; images `VisualDialog_<split>_<image_id:012d>.jpg` (val / test),
    directly under `image_root`, in its `images/` or in `VisualDialog_<split>/` (as the
    archives unpack), else any image file under it ending in the id (COCO train2014 names)."""
    (path,) = unpack_paths(ctx.dataset, paths, ["visdial_1.0_<split>.json"])
    top = load_json(path, dict)
    split = top.get("split", "")
    data = json_section(path, top, "data", dict)
    questions, answers = json_section(path, data, "questions"), json_section(path, data, "answers")
    index = IdIndex(image_root)

    def build(dialog: dict) -> list[Sample]:
        image_id = need(dialog, "image_id", int)
        names = in_folders([f"VisualDialog_{split}_{image_id:012d}.jpg"], ("images", f"VisualDialog_{split}"))
        image = index.find(ctx, image_id, names)
        history: list[Turn] = []
        samples = []
        for number, round_ in enumerate(need(dialog, "dialog", list), start=1):
            question = lookup(questions, need(round_, "question", int), "question")
            answer = optional(round_, "answer", int)
            answer_text = None if answer is None else lookup(answers, answer, "answer")
            options = optional(round_, "answer_options", list)
            if options is not None:
                candidates = [lookup(answers, o, "answer") for o in options]
                gt = optional(round_, "gt_index", int)
                if gt is not None and not 0 <= gt < len(candidates):
                    raise BadRecord(f"round {number}: gt_index {gt} is not in 0..{len(candidates) - 1}")
                samples.append(
                    qa_sample(
                        ctx.dataset,
                        f"{image_id}_{number}",
                        [image],
                        question,
                        candidates=candidates,
                        answer=gt,
                        history=list(history),
                        task="dialog",
                        image_id=image_id,
                        round=number,
                        caption=dialog.get("caption"),
                    )  # fmt: skip
                )
            history.append(Turn("user", question))
            if answer_text is not None:
                history.append(Turn("assistant", answer_text))
        return samples

    yield from ctx.each(path, enumerated(json_section(path, data, "dialogs"), "dialogs"), build)
