"""One sample schema for every dataset: images or frames, structured turns, candidates.

Every reader (SynthVL, real public formats) produces `Sample`s; the collator and the
evaluator consume them. A sample round-trips through JSON (`to_json` / `from_json`).
`check_sample` is the one validation every loader runs on what it read (the format
readers' `ReadContext.each`, which the SynthVL loader uses too); it raises a `SchemaError`
saying what was expected, and the loader adds the file and line.
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


class SchemaError(InstructVLError):
    """A sample that breaks the schema; the message says what was expected (a loader adds
    the file and line, and skips the record)."""


@dataclass
class Turn:
    """One message of a conversation. Assistant turns are the training targets."""

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise SchemaError(f"turn role {self.role!r} is not one of {ROLES}")
        if not isinstance(self.content, str):
            raise SchemaError(f"{self.role} turn content is {describe(self.content)}; expected a string")


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
        """Builds a sample from `to_json` output; unknown or missing keys and wrongly typed
        fields (`check_fields`) are `SchemaError`s."""
        if not isinstance(obj, dict):
            raise SchemaError(f"a sample must be a JSON object, got {describe(obj)}")
        known = set(cls.__dataclass_fields__)
        unknown = set(obj) - known
        if unknown:
            raise SchemaError(f"unknown sample keys {sorted(unknown)}; valid keys: {sorted(known)}")
        for key in ("id", "dataset"):
            if key not in obj:
                raise SchemaError(f"sample is missing required key {key!r}")
        turns = obj.get("turns", [])
        if not isinstance(turns, list):
            raise SchemaError(f"'turns' is {describe(turns)}; expected a list of {{role, content}} objects")
        sample = cls(**{**obj, "turns": [_turn(i, t) for i, t in enumerate(turns)]})
        check_fields(sample)
        return sample

    @property
    def prompt_turns(self) -> list[Turn]:
        """The conversation without a final assistant turn (what a model is asked)."""
        if self.turns and self.turns[-1].role == "assistant":
            return self.turns[:-1]
        return list(self.turns)


def _turn(index: int, obj: Any) -> Turn:
    """Turn `index` of a sample's JSON (a {role, content} object)."""
    if not isinstance(obj, dict) or set(obj) != {"role", "content"}:
        raise SchemaError(f"turn {index} is {describe(obj)}; expected an object with keys 'role' and 'content'")
    try:
        return Turn(**obj)
    except SchemaError as exc:
        raise SchemaError(f"turn {index}: {exc}") from None


JSON_TYPES = {
    type(None): "null",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}


def describe(value: Any) -> str:
    """A value as an error message names it: its JSON type, with the value itself when short."""
    kind = JSON_TYPES.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text}" if value is not None and len(text) <= 40 else kind


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_fields(sample: Sample) -> None:
    """Raises `SchemaError` naming the first field of the wrong type: `id` and `dataset`
    non-empty strings, `images` a list of paths, `turns` a list of `Turn`s, `candidates` /
    `references` / `ocr_tokens` lists of strings or null, `answer` a string, an index into
    `candidates` or null, `metadata` an object."""
    for key in ("id", "dataset"):
        value = getattr(sample, key)
        if not isinstance(value, str) or not value:
            raise SchemaError(f"{key!r} is {describe(value)}; expected a non-empty string")
    if not _strings(sample.images):
        raise SchemaError(f"'images' is {describe(sample.images)}; expected a list of image paths (strings)")
    if not isinstance(sample.turns, list) or not all(isinstance(t, Turn) for t in sample.turns):
        raise SchemaError(f"'turns' is {describe(sample.turns)}; expected a list of turns")
    for key in ("candidates", "references", "ocr_tokens"):
        value = getattr(sample, key)
        if value is not None and not _strings(value):
            raise SchemaError(f"{key!r} is {describe(value)}; expected a list of strings or null")
    if not isinstance(sample.metadata, dict):
        raise SchemaError(f"'metadata' is {describe(sample.metadata)}; expected an object")
    _check_answer(sample)


def _check_answer(sample: Sample) -> None:
    """An answer is null, a string, or (not a boolean) an index into `candidates`."""
    answer, count = sample.answer, len(sample.candidates or [])
    if answer is None or isinstance(answer, str):
        return
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < count:
        return
    index = f"an index 0..{count - 1} into 'candidates'" if count else "an index into 'candidates' (it has none)"
    raise SchemaError(f"'answer' is {describe(answer)}; expected a string, {index}, or null")


def check_markers(turns: list[Turn], n_images: int) -> None:
    """Raises `SchemaError` unless the image markers fit the images: none in an assistant
    turn, none without images, and either one or one per image."""
    if any(IMAGE_MARKER in t.content for t in turns if t.role == "assistant"):
        raise SchemaError(
            f"the image marker {IMAGE_MARKER} may not appear in an assistant turn; expected it in user turns only"
        )
    markers = sum(t.content.count(IMAGE_MARKER) for t in turns)
    if markers and not n_images:
        raise SchemaError(f"{markers} image marker(s) but no images; expected no {IMAGE_MARKER} marker")
    if markers not in (0, 1, n_images):
        raise SchemaError(f"{markers} image markers for {n_images} images; expected 1, or one per image")


def check_sample(sample: Sample, *, target: bool = False) -> None:
    """The schema check every loader runs: field types (`check_fields`), image markers
    (`check_markers`), and a user turn among the turns; a record with no turns at all
    passes (a caption, whose template is the whole instruction) unless `target` asks for
    a conversation to train on: a user turn and an assistant turn (the target).
    Raises `SchemaError` saying what was expected."""
    check_fields(sample)
    check_markers(sample.turns, len(sample.images))
    roles = {t.role for t in sample.turns}
    if (target or roles) and "user" not in roles:
        raise SchemaError("no user turn; expected at least one turn with role 'user'")
    if target and "assistant" not in roles:
        raise SchemaError("no assistant turn; expected one as the training target")
