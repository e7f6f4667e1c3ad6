"""What every format reader shares: problems and results, file loaders, record checks.

A reader is a generator `reader(ctx, paths, image_root, **options) -> Iterator[Sample]`.
It walks records through `ReadContext.each`, which checks every sample built against the
schema (`schema.check_sample`) and, with file checks on, that its images decode; a bad
record (a `BadRecord`, a `SchemaError`, or a KeyError / TypeError / ValueError /
IndexError while converting it) becomes a `Problem` naming the file and line, record
index or key; the record is skipped and counted, or with `strict=True` reading stops with
an `InstructVLError`. Nothing is dropped silently: records left out on purpose (a split
or image filter) are counted in `ReadResult.filtered`. The SynthVL loader reads its JSONL
through the same `ReadContext`.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from instructvl.data.schema import Sample, SchemaError, Turn, check_sample
from instructvl.errors import InstructVLError

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "instructvl"
"""Where decoded video frames and hub images are written (readers take a `cache_dir`)."""

MALFORMED = "malformed"
MISSING_IMAGE = "missing_image"
UNREADABLE_IMAGE = "unreadable_image"
MISSING_VIDEO = "missing_video"


@dataclass(frozen=True)
class Problem:
    """One record that could not be read: where it is, what was wrong, of which kind."""

    file: str
    where: str  # "line 3", "record 5", "key '123'"
    reason: str
    kind: str = MALFORMED

    @property
    def place(self) -> str:
        """ "file:N" for a line, else "file, <where>" (a record index or key)."""
        if self.where.startswith("line "):
            return f"{self.file}:{self.where.removeprefix('line ')}"
        return f"{self.file}, {self.where}"

    def __str__(self) -> str:
        return f"{self.place}: {self.reason}"


@dataclass
class ReadResult:
    """The samples a reader produced, the records it skipped, and those it filtered out."""

    dataset: str
    samples: list[Sample] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    filtered: Counter = field(default_factory=Counter)

    @property
    def counts(self) -> dict[str, int]:
        """Skipped records per problem kind (malformed, missing_image, unreadable_image, missing_video)."""
        return dict(Counter(p.kind for p in self.skipped))

    def summary(self) -> str:
        """One line: samples read, records skipped by kind, records filtered by reason."""
        text = f"{self.dataset}: {len(self.samples)} samples read, {len(self.skipped)} skipped"
        if self.skipped:
            text += " (" + ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items())) + ")"
        if self.filtered:
            text += "; filtered out: " + ", ".join(f"{n} {k}" for k, n in sorted(self.filtered.items()))
        return text


class BadRecord(Exception):
    """Raised while converting one record; `ReadContext.each` reports and skips it."""

    def __init__(self, reason: str, kind: str = MALFORMED):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class ReadContext:
    """Collects problems and filter counts for one read (a `read_dataset` call, or one
    SynthVL JSONL file). `targets=True` asks every sample for a training target (see
    `schema.check_sample`); `check_files` checks that image files exist and decode."""

    def __init__(self, dataset: str, strict: bool = False, check_files: bool = True, targets: bool = False):
        self.dataset = dataset
        self.strict = strict
        self.check_files = check_files
        self.targets = targets
        self.result = ReadResult(dataset)
        self._image_checks: dict[str, BadRecord | None] = {}  # path -> its check's outcome

    def problem(self, file: str | Path, where: str, reason: str, kind: str = MALFORMED) -> None:
        """Records a skipped record, or raises `InstructVLError` in strict mode."""
        found = Problem(str(file), where, reason, kind)
        if self.strict:
            raise InstructVLError(f"{found} (strict mode stops at the first bad record)")
        self.result.skipped.append(found)

    def filter_out(self, reason: str) -> None:
        """Counts a record left out on purpose (split, image-only filter)."""
        self.result.filtered[reason] += 1

    def each(
        self,
        file: str | Path,
        items: Iterable[tuple[str, Any]],
        build: Callable[[Any], Sample | list[Sample] | None],
    ) -> Iterator[Sample]:
        """Converts each (where, record) with `build` and checks the samples (`check`);
        bad records become problems.

        `build` returns a sample, a list of samples, or None for a record it filtered out
        (having called `filter_out`)."""
        for where, record in items:
            try:
                out = build(record)
                samples = [] if out is None else out if isinstance(out, list) else [out]
                for sample in samples:
                    self.check(sample)
            except BadRecord as exc:
                self.problem(file, where, exc.reason, exc.kind)
            except SchemaError as exc:
                self.problem(file, where, str(exc))
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                self.problem(file, where, f"malformed record ({type(exc).__name__}: {exc})")
            else:
                yield from samples

    def check(self, sample: Sample) -> None:
        """The schema check (`SchemaError`), then, with file checks on, that each image
        decodes (`BadRecord`, see `check_image`)."""
        check_sample(sample, target=self.targets)
        if self.check_files:
            for path in sample.images:
                self._check_image_once(path)

    def _check_image_once(self, path: str) -> None:
        """`check_image`, decoding each file once per read (a VisDial image serves ten
        rounds, a VQA image several questions); a bad file fails every sample using it."""
        if path not in self._image_checks:
            try:
                check_image(Path(path))
                self._image_checks[path] = None
            except BadRecord as exc:
                self._image_checks[path] = exc
        if self._image_checks[path] is not None:
            raise self._image_checks[path]

    def existing(self, path: Path, what: str = "image") -> str:
        """`path` as a string, or a `BadRecord` (missing_image / missing_video) if absent."""
        if self.check_files and not path.exists():
            kind = MISSING_VIDEO if what == "video" else MISSING_IMAGE
            raise BadRecord(f"{what} file {path} does not exist", kind)
        return str(path)


def check_image(path: Path) -> None:
    """Raises a `BadRecord` unless `path` is an image file Pillow decodes: missing_image
    when there is no file, unreadable_image when it is empty, truncated or not an image."""
    if not path.is_file():
        raise BadRecord(f"image file {path} does not exist", MISSING_IMAGE)
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as exc:  # noqa: BLE001 (Pillow raises many types for bad files)
        raise BadRecord(
            f"image file {path} cannot be decoded ({type(exc).__name__}: {exc}); expected a PNG, JPEG or other "
            "Pillow-readable image",
            UNREADABLE_IMAGE,
        ) from None


# ----------------------------------------------------------------------------- loading


def load_json(path: Path, expect: type | tuple[type, ...] = (dict, list)) -> Any:
    """Parses a whole JSON file; a missing file, bad JSON or wrong top-level type is fatal."""
    if not path.is_file():
        raise InstructVLError(f"annotation file {path} does not exist")
    try:
        with path.open(encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise InstructVLError(f"{path}, line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, expect):
        names = expect.__name__ if isinstance(expect, type) else " or ".join(t.__name__ for t in expect)
        raise InstructVLError(f"{path}: expected a JSON {names} at the top level, got {type(data).__name__}")
    return data


def json_section(path: Path, data: Any, key: str, expect: type = list) -> Any:
    """`data[key]` from a loaded JSON object, checked to be of type `expect` (fatal if not)."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, expect):
        raise InstructVLError(f"{path}: expected a top-level {key!r} {expect.__name__}")
    return value


def iter_jsonl(ctx: ReadContext, path: Path) -> Iterator[tuple[str, Any]]:
    """(\"line N\", object) for each non-blank line; a line that is not JSON is a problem."""
    if not path.is_file():
        raise InstructVLError(f"annotation file {path} does not exist")
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as exc:
                ctx.problem(path, f"line {number}", f"not valid JSON ({exc.msg}); expected one JSON object per line")


def iter_csv(path: Path, columns: Sequence[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """(\"line N\", row dict) for each CSV row; the header must name `columns`."""
    if not path.is_file():
        raise InstructVLError(f"annotation file {path} does not exist")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InstructVLError(f"{path}, line 1: CSV header lacks columns {missing}; expected {list(columns)}")
        for row in reader:
            yield f"line {reader.line_num}", row


def enumerated(items: list[Any], section: str = "") -> Iterator[tuple[str, Any]]:
    """(\"record i\", item) for a JSON list (\"<section> record i\" for a named part)."""
    prefix = f"{section} record" if section else "record"
    return ((f"{prefix} {i}", item) for i, item in enumerate(items))


def keyed(items: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(\"key 'k'\", (k, value)) for a JSON object keyed by id."""
    return ((f"key {k!r}", (k, v)) for k, v in items.items())


def unpack_paths(
    name: str, paths: Sequence[Path], required: Sequence[str], extra: Sequence[str] = ()
) -> list[Path | None]:
    """Checks the number of annotation files a format takes; pads missing `extra` (optional)
    ones with None."""
    if not len(required) <= len(paths) <= len(required) + len(extra):
        usage = ", ".join(list(required) + [f"[{o}]" for o in extra])
        raise InstructVLError(f"format {name!r} takes annotation files: {usage}; got {len(paths)}")
    return list(paths) + [None] * (len(required) + len(extra) - len(paths))


# ----------------------------------------------------------------------------- records


def need(record: Any, key: str, kind: type | tuple[type, ...] = str) -> Any:
    """`record[key]`, checked for presence and type; a `BadRecord` saying what was expected."""
    if not isinstance(record, dict):
        raise BadRecord(f"expected a JSON object, got {type(record).__name__}")
    if key not in record or record[key] is None:
        raise BadRecord(f"field {key!r} is missing; expected {_type_name(kind)}")
    value = record[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRecord(f"field {key!r} is {type(value).__name__}; expected {_type_name(kind)}")
    return value


def optional(record: dict, key: str, kind: type | tuple[type, ...] = str) -> Any:
    """`record[key]` if present and not null (type-checked like `need`), else None."""
    if record.get(key) is None:
        return None
    return need(record, key, kind)


def strings(record: Any, key: str) -> list[str]:
    """A list-of-strings field (choices, captions, tokens)."""
    value = need(record, key, list)
    if not all(isinstance(v, str) for v in value):
        raise BadRecord(f"field {key!r} must be a list of strings")
    return value


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", list: "a list", dict: "an object", float: "a number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def most_common(answers: Sequence[str]) -> str | None:
    """The most frequent answer (first seen wins a tie), or None for no answers."""
    if not answers:
        return None
    return Counter(answers).most_common(1)[0][0]


def choice_index(candidates: list[str], answer: Any) -> int:
    """Validates an answer index into `candidates`."""
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(candidates):
        raise BadRecord(f"answer index {answer!r} is not in 0..{len(candidates) - 1}")
    return answer


def qa_sample(
    dataset: str,
    sample_id: Any,
    images: list[str],
    question: str,
    *,
    answer: str | int | None = None,
    candidates: list[str] | None = None,
    references: list[str] | None = None,
    ocr_tokens: list[str] | None = None,
    history: list[Turn] | None = None,
    **metadata: Any,
) -> Sample:
    """A question-answer sample: (history +) the raw question as a user turn, then the answer
    as an assistant turn when there is one (an int answer indexes `candidates`).
    The question is also kept in `metadata["question"]`."""
    turns = list(history or []) + [Turn("user", question)]
    answer_text = candidates[answer] if isinstance(answer, int) and candidates is not None else answer
    if answer_text is not None:
        turns.append(Turn("assistant", str(answer_text)))
    if references is None and answer_text is not None:
        references = [str(answer_text)]
    return Sample(
        id=str(sample_id),
        dataset=dataset,
        images=images,
        turns=turns,
        candidates=candidates,
        answer=answer,
        references=references,
        ocr_tokens=ocr_tokens,
        metadata=task_metadata("multiple_choice" if candidates else "vqa", question=question, **metadata),
    )


def task_metadata(default_task: str, **metadata: Any) -> dict[str, Any]:
    """Sample metadata: `task` (caption, vqa, multiple_choice, dialog, conversation; a
    `task` in `metadata` wins) plus the non-null entries of `metadata`."""
    return {"task": default_task, **{k: v for k, v in metadata.items() if v is not None}}
