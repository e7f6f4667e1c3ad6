"""Reading SynthVL JSONL back: raw samples with every problem reported, never dropped silently.

A malformed line (bad JSON, not a sample) or a missing / unreadable image is reported
as "<file>:<line>: <what>" and the sample skipped and counted; with `strict=True` the
first problem raises `InstructVLError` instead. Image paths come back absolute.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from instructvl.data.formatting import format_sample
from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError

log = logging.getLogger("instructvl.data")


@dataclass
class LoadReport:
    """What a read found: lines read, samples loaded, samples skipped and why."""

    path: str
    lines: int = 0
    loaded: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: "<path>: N loaded, M skipped"."""
        return f"{self.path}: {self.loaded} loaded, {self.skipped} skipped"


def _image_problem(path: Path) -> str | None:
    if not path.is_file():
        return "is missing"
    try:
        with Image.open(path) as im:
            im.verify()
    except Exception as exc:  # noqa: BLE001 (Pillow raises many types for bad files)
        return f"is unreadable ({type(exc).__name__}: {exc})"
    return None


def read_jsonl(path: str | Path, *, strict: bool = False, check_images: bool = True) -> tuple[list[Sample], LoadReport]:
    """Raw samples of one JSONL file (image paths resolved against the file's folder)."""
    path = Path(path)
    report = LoadReport(str(path))
    if not path.is_file():
        raise InstructVLError(f"{path}: no such JSONL file")
    samples: list[Sample] = []

    def problem(lineno: int, what: str) -> None:
        msg = f"{path}:{lineno}: {what}"
        if strict:
            raise InstructVLError(msg)
        log.warning(msg)
        report.problems.append(msg)
        report.skipped += 1

    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            report.lines += 1
            try:
                sample = Sample.from_json(json.loads(line))
            except (json.JSONDecodeError, InstructVLError, TypeError) as exc:
                problem(lineno, f"malformed sample ({exc})")
                continue
            images = [path.parent / p for p in sample.images]
            bad = [(p, why) for p in images if check_images and (why := _image_problem(p))]
            if bad:
                problem(lineno, f"image {bad[0][0]} {bad[0][1]}")
                continue
            sample.images = [str(p.resolve()) for p in images]
            samples.append(sample)
    report.loaded = len(samples)
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
    root: str | Path, name: str, split: str, *, strict: bool = False, check_images: bool = True
) -> tuple[list[Sample], LoadReport]:
    """Raw samples of one dataset split, and the load report."""
    return read_jsonl(split_path(root, name, split), strict=strict, check_images=check_images)


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
