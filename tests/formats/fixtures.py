"""Helpers for format-reader tests: each test writes a tiny fixture in the real format."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image


def write_json(path: Path, obj: object) -> Path:
    """Writes `obj` as JSON (creating folders) and returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def write_lines(path: Path, lines: list[str]) -> Path:
    """Writes text lines (JSONL or CSV) and returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_images(root: Path, *names: str) -> list[str]:
    """Writes a tiny PNG (whatever the extension says) at each `root/name`; their paths."""
    out = []
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4), (10, 20, 30)).save(path, format="PNG")
        out.append(str(path))
    return out


def turns(sample) -> list[tuple[str, str]]:
    """A sample's turns as (role, content) pairs."""
    return [(t.role, t.content) for t in sample.turns]
