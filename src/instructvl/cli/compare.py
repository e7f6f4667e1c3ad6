"""`instructvl compare`: evaluation runs side by side, with relative differences and a bar chart."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console


@app.command("compare")
def compare_command(
    runs: list[Path] = typer.Argument(
        ..., help="Run folders written by `instructvl eval` (the first is the reference)."
    ),
    out: Path = typer.Option(
        Path("runs/compare"), "--out", "-o", help="Where compare.md, compare.json and compare.png go."
    ),
    label: list[str] | None = typer.Option(None, "--label", help="A name per run (default: the folder names)."),
) -> None:
    """Compare RUNS task by task: scores, differences relative to the first run, baselines."""
    from instructvl.eval.compare import write_comparison

    paths = write_comparison(runs, out, label or None)
    console.print(paths["markdown"].read_text(), highlight=False, markup=False, soft_wrap=True)
    console.print(f"wrote {paths['markdown']}, {paths['json']}, {paths['chart']}", highlight=False)
