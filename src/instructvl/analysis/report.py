"""Output helpers shared by the analyses: a markdown table, and writing an analysis's
three files (figures: `instructvl.plotting`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table; every column after the first two is right-aligned."""
    align = ["---" if i < 2 else "---:" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines)


def write_outputs(out_dir: Path, name: str, result: dict, table: str, plot: Callable[[dict, Path], object]) -> None:
    """Writes `<name>.json` (the result), `<name>.md` (the table) and `<name>.png` into `out_dir`."""
    from instructvl.eval.records import write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / f"{name}.json", result)
    (out_dir / f"{name}.md").write_text(table + "\n", encoding="utf-8")
    plot(result, out_dir / f"{name}.png")
