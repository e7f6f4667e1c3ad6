"""Reading SynthVL JSONL back: raw samples with every problem reported, never dropped silently.

Each line goes through the format readers' `ReadContext` (see `instructvl.data.formats.base`):
a line that is not JSON, a sample that breaks the schema (`schema.check_sample`, with a
user turn and an assistant target required) or a missing / undecodable image is a
`Problem` printed as "<file>:<line>: <what>", and the sample is skipped and counted; with
`strict=True` the first problem raises `InstructVLError` instead. Image paths come back
absolute.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instructvl.data.formats.base import Problem, ReadContext, iter_jsonl
from instructvl.data.formatting import format_sample
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError

log = logging.getLogger("instructvl.data")


@dataclass
class LoadReport:
    """What a read found: samples loaded, and each line skipped (file, line, why, kind)."""

    path: str
    loaded: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Lines skipped."""
        return len(self.problems)

    @property
    def lines(self) -> int:
        """Non-blank lines read (each gives a sample or a problem)."""
        return self.loaded + self.skipped

    def summary(self) -> str:
        """One line: "<path>: N loaded, M skipped"."""
        return f"{self.path}: {self.loaded} loaded, {self.skipped} skipped"


def read_jsonl(
    path: str | Path, *, strict: bool = False, check_images: bool = True, log_problems: bool = True
) -> tuple[list[Sample], LoadReport]:
    """Raw samples of one JSONL file (image paths resolved against the file's folder) and
    the report; each problem is logged as a warning unless `log_problems` is False (for a
    caller that prints the report)."""
    path = Path(path)
    if not path.is_file():
        raise InstructVLError(f"{path}: no such JSONL file")
    ctx = ReadContext(str(path), strict=strict, check_files=check_images, targets=True)

    def build(obj: Any) -> Sample:
        sample = Sample.from_json(obj)
        sample.images = [str((path.parent / p).resolve()) for p in sample.images]
        return sample

    samples = list(ctx.each(path, iter_jsonl(ctx, path), build))
    report = LoadReport(str(path), len(samples), ctx.result.skipped)
    if log_problems:
        for problem in report.problems:
            log.warning("%s", problem)
    return samples, report


def load_manifest(root: str | Path) -> dict[str, Any]:
    """The suite's manifest.json (an `InstructVLError` if missing or malformed)."""
    path = Path(root) / "manifest.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InstructVLError(f"{path}: no manifest; is {root} a SynthVL output folder?") from None
    except json.JSONDecodeError as exc:
        raise InstructVLError(f"{path}: malformed manifest ({exc})") from None


def split_path(root: str | Path, name: str, split: str) -> Path:
    """root/<name>/<split>.jsonl, checked against the manifest."""
    info = load_manifest(root)["datasets"].get(name)
    if info is None:
        raise InstructVLError(f"dataset {name!r} is not in {root}/manifest.json")
    if split not in info["sizes"]:
        raise InstructVLError(f"dataset {name!r} has no split {split!r}; it has {', '.join(info['sizes'])}")
    return Path(root) / name / f"{split}.jsonl"


def load_raw(
    root: str | Path,
    name: str,
    split: str,
    *,
    strict: bool = False,
    check_images: bool = True,
    log_problems: bool = True,
) -> tuple[list[Sample], LoadReport]:
    """Raw samples of one dataset split, and the load report (see `read_jsonl`)."""
    return read_jsonl(
        split_path(root, name, split), strict=strict, check_images=check_images, log_problems=log_problems
    )


def suite_samples(root: str | Path) -> Iterator[tuple[str, str, list[Sample]]]:
    """(dataset, split, raw samples) of every split of every dataset in the manifest at
    `root`, images unchecked (the loops that fingerprint or probe a whole suite)."""
    for name, info in sorted(load_manifest(root)["datasets"].items()):
        for split in info["sizes"]:
            yield name, split, load_raw(root, name, split, check_images=False)[0]


def load_split(
    root: str | Path,
    name: str,
    split: str,
    *,
    mode: str = "instruction",
    seed: int = 0,
    strict: bool = False,
    with_target: bool | None = None,
) -> list[Sample]:
    """Formatted samples of one dataset split (the call training and evaluation use).

    `with_target` defaults to True for "train" and False otherwise (evaluation prompts
    end with the user's turn; `answer` / `references` / `candidates` hold the truth).
    """
    samples, report = load_raw(root, name, split, strict=strict)
    if report.skipped:
        log.warning("%s", report.summary())
    keep = (split == "train") if with_target is None else with_target
    return [format_sample(s, mode, seed, with_target=keep) for s in samples]
