"""One sample schema for every dataset: images or frames, structured turns, candidates.

Every reader (SynthVL, real public formats) produces `Sample`s; the collator and the
evaluator consume them. A sample round-trips through JSON (`to_json` / `from_json`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from instructvl.errors import InstructVLError

Role = Literal["system", "user", "assistant"]
ROLES = ("system", "user", "assistant")
IMAGE_MARKER = "<image>"
"""Where a user turn's content names this marker, the visual tokens go there; a sample
with images and no marker gets them at the start of its first user turn."""


@dataclass
class Turn:
    """One message of a conversation. Assistant turns are the training targets."""

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InstructVLError(f"turn role {self.role!r} is not one of {ROLES}")


@dataclass
class Sample:
    """One example: its images (paths; several for video frames), its conversation, and
    what evaluation needs (candidates to rank, reference answers, OCR tokens).

    `turns` ends with an assistant turn for training; for evaluation the last turn is the
    user's question and `references` / `answer` hold the ground truth.
    """

    id: str
    dataset: str
    images: list[str] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    candidates: list[str] | None = None
    answer: str | int | None = None
    references: list[str] | None = None
    ocr_tokens: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (turns as {role, content})."""
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Sample:
        """Builds a sample from `to_json` output; unknown or missing keys are errors."""
        if not isinstance(obj, dict):
            raise InstructVLError(f"a sample must be a JSON object, got {type(obj).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = set(obj) - known
        if unknown:
            raise InstructVLError(f"unknown sample keys {sorted(unknown)}; valid keys: {sorted(known)}")
        for key in ("id", "dataset"):
            if key not in obj:
                raise InstructVLError(f"sample is missing required key {key!r}")
        data = dict(obj)
        turns = data.get("turns", [])
        if not isinstance(turns, list):
            raise InstructVLError("sample 'turns' must be a list of {role, content} objects")
        try:
            data["turns"] = [Turn(**t) for t in turns]
        except TypeError as exc:
            raise InstructVLError(f"bad turn in sample {obj.get('id')!r}: {exc}") from None
        return cls(**data)

    @property
    def prompt_turns(self) -> list[Turn]:
        """The conversation without a final assistant turn (what a model is asked)."""
        if self.turns and self.turns[-1].role == "assistant":
            return self.turns[:-1]
        return list(self.turns)
