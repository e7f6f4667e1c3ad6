"""`instructvl quickstart`: the main job, end to end on a CPU."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, quiet_libraries


@app.command()
def quickstart(
    steps: int = typer.Option(80, help="Instruction-tuning steps (batch of --batch-size)."),
    out: str = typer.Option("runs/quickstart", "--out", "-o", help="Run directory (model, results, report, plots)."),
    preset: str = typer.Option("tiny-offline", help="Model preset or YAML config."),
    batch_size: int = typer.Option(8, help="Samples per step."),
    limit: int | None = typer.Option(None, help="Samples per evaluation task (default: each task's cap; 0: all)."),
    set_: list[str] | None = typer.Option(
        None, "--set", help="Override a model config key (repeatable), e.g. llm.inject_layer=10."
    ),
) -> None:
    """Generate SynthVL, build the offline vision tower, instruction-tune an
    InstructBLIP-style model on the 13 held-in datasets, evaluate it zero-shot on the 13
    held-out ones and on held-in validation, with the text-only and chance / majority
    baselines, and write OUT/report.md with plots. A second run reuses what is cached."""
    quiet_libraries()
    from instructvl.quickstart import QuickstartOptions, run_quickstart

    opts = QuickstartOptions(
        preset=preset, out=out, steps=steps, batch_size=batch_size, limit=limit, overrides=list(set_ or [])
    )
    summary = run_quickstart(opts, console)
    console.print(Path(summary["report"]).read_text(), markup=False, highlight=False)
    console.print(f"total {summary['total_seconds']:.0f} s; report: {summary['report']}")
