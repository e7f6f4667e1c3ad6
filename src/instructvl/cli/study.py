"""`instructvl study`: run a named grid of configs over several seeds into one report."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, quiet_libraries
from instructvl.study.grid import list_studies

HELP = """Run a study: every cell of a grid (configs/study/NAME.yaml, or a YAML path) x its
seeds, each trained, evaluated and (where the cell lists analyses) analysed, then OUT/report.md
(mean ± std over seeds and a hierarchical 95% bootstrap interval per task, held-in /
held-out average and task type; paired differences from the reference cell with their
intervals; the papers' claims decided by those intervals), results.json and PNGs.
Finished runs are reused, so an interrupted study resumes; the report covers every
finished run of the grid in OUT.

Studies: {studies}."""


@app.command(help=HELP.format(studies=", ".join(list_studies()) or "none found"))
def study(
    name: str = typer.Argument(..., help="A study name (configs/study/NAME.yaml) or a path to a grid YAML."),
    scale: float = typer.Option(
        1.0,
        help="Multiply training steps and evaluation / analysis sample counts "
        "(e.g. 0.05 for a smoke run, 10 on a GPU).",
    ),
    seeds: int | None = typer.Option(None, help="Run only the first N seeds of the grid."),
    cells: str | None = typer.Option(None, help="Comma-separated cells to run (default: all)."),
    out: str | None = typer.Option(
        None, "--out", "-o", help="Study folder (default runs/study/NAME, or runs/study/NAME-xSCALE when scaled)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan (cells, seeds, steps, estimated time) and exit."
    ),
) -> None:
    quiet_libraries()
    from instructvl.study.expand import plan_study
    from instructvl.study.plan import plan_text
    from instructvl.study.runner import run_study

    chosen = [c.strip() for c in cells.split(",") if c.strip()] if cells else None
    plan = plan_study(name, scale=scale, seeds=seeds, cells=chosen, out=out)
    console.print(plan_text(plan), markup=False, highlight=False, soft_wrap=True)
    if dry_run:
        return
    results = run_study(plan, console)
    runs = results["runs"]
    console.print(
        f"{runs['finished']} of {runs['planned']} runs of the grid finished; report: {Path(plan.out) / 'report.md'}"
    )
