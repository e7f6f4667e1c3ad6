"""Run-folder files: JSONL appended batch by batch (flushed, so an interrupted run keeps
what it finished), JSON written aside and renamed into place, and the run layout.

    <run>/run.json                   what produced the run (model, versions, spec hashes)
    <run>/prepared/<task>.jsonl      the evaluation prompts (Sample JSON), one per line
    <run>/prepared/<task>.json       how they were prepared (spec hash, limit, seed, majority) and the
                                     records skipped reading the source (`skipped`: file, where, reason, kind)
    <run>/predictions/<task>[.shard-I-of-N].jsonl   raw model outputs, one per sample
    <run>/scored/<task>.jsonl        per-sample prediction, reference and metric value
    <run>/results.json, report.md    scores, baselines, averages, provenance
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_json(path: Path, obj: Any) -> None:
    """Writes JSON to a temporary file beside `path`, then renames it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None if there is no such file."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Writes all `rows` (aside, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    os.replace(tmp, path)


def _drop_cut_off_line(path: Path) -> None:
    """Removes a last line left unfinished by an interrupted write."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def append_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Appends `rows` (after dropping a cut-off last line) and flushes them to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _drop_cut_off_line(path)
    with path.open("a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSONL file; a cut-off last line (an interrupted write) is ignored."""
    if not path.is_file():
        return []
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number != len(lines):
                raise
    return rows


def prediction_path(run: Path, task: str, shard: tuple[int, int]) -> Path:
    """The prediction file one process writes for `task` (one per shard)."""
    index, count = shard
    suffix = "" if count == 1 else f".shard-{index}-of-{count}"
    return run / "predictions" / f"{task}{suffix}.jsonl"


def read_predictions(run: Path, task: str) -> dict[str, dict]:
    """Every prediction made for `task`, merged over shard files, by sample id."""
    merged: dict[str, dict] = {}
    for path in sorted((run / "predictions").glob(f"{task}*.jsonl")):
        if path.name == f"{task}.jsonl" or path.name.startswith(f"{task}.shard-"):
            for row in read_jsonl(path):
                merged[row["id"]] = row
    return merged
