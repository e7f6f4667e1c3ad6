"""LLaVA-Instruct-150K style conversations: a JSON list of {id, image (optional for
text-only entries), conversations: [{from: human|gpt|system, value}]}.

Turns are kept as they are, `<image>` markers included (schema.IMAGE_MARKER); the first
user turn goes into `metadata["question"]`, the last assistant turn into `answer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from instructvl.data.formats.base import (
    BadRecord,
    ReadContext,
    enumerated,
    load_json,
    need,
    optional,
    task_metadata,
    unpack_paths,
)
from instructvl.data.schema import IMAGE_MARKER, Sample, Turn

ROLE_OF = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


def conversation_turns(messages: list) -> list[Turn]:
    """[{from, value}] -> Turns; an unknown speaker is a `BadRecord`."""
    turns = []
    for i, message in enumerate(messages):
        speaker = need(message, "from")
        if speaker not in ROLE_OF:
            raise BadRecord(f"conversations[{i}] is from {speaker!r}; expected one of {sorted(ROLE_OF)}")
        turns.append(Turn(ROLE_OF[speaker], need(message, "value")))
    if not any(t.role == "assistant" for t in turns):
        raise BadRecord("conversation has no gpt turn; expected at least one answer to train on")
    return turns


def read_llava_instruct(ctx: ReadContext, paths: list[Path], image_root: Path) -> Iterator[Sample]:
    """LLaVA-Instruct JSON -> multi-turn samples; images are `image_root/<image>`."""
    (path,) = unpack_paths(ctx.dataset, paths, ["conversations json"])

    def build(record: dict) -> Sample:
        turns = conversation_turns(need(record, "conversations", list))
        image = optional(record, "image")
        users = [t.content for t in turns if t.role == "user"]
        return Sample(
            id=str(need(record, "id", (str, int))),
            dataset=ctx.dataset,
            images=[ctx.existing(image_root / image)] if image else [],
            turns=turns,
            answer=[t.content for t in turns if t.role == "assistant"][-1],
            metadata=task_metadata(
                "conversation",
                question=users[0].replace(IMAGE_MARKER, "").strip() if users else None,
                image_file=image,
            ),
        )

    yield from ctx.each(path, enumerated(load_json(path, list)), build)
