"""`instructvl eval`: evaluate a model on tasks (SynthVL and real benchmarks) into a run folder."""

from __future__ import annotations

import re
import time
from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, err_console, load_model_with_status
from instructvl.errors import InstructVLError

PHASE_CHOICES = ("all", "prepare", "infer", "score")


def parse_shard(text: str) -> tuple[int, int]:
    """ "I/N" -> (I, N), checked."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not int(match.group(1)) < int(match.group(2)):
        raise InstructVLError(f"--shard must be I/N with 0 <= I < N (e.g. 0/2), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def phases_for(phase: str, shards: int) -> tuple[str, ...]:
    """The phases to run: all three, or one; a shard of several does not score."""
    if phase not in PHASE_CHOICES:
        raise InstructVLError(f"unknown --phase {phase!r}; choose one of {', '.join(PHASE_CHOICES)}")
    if phase != "all":
        return (phase,)
    return ("prepare", "infer") if shards > 1 else ("prepare", "infer", "score")


def default_out(model: str, no_image: bool, oracle: str | None = None) -> Path:
    """runs/eval-<model>[-no-image | -oracle-<oracle>]: the same command resumes into the same folder."""
    name = Path(model).stem if model.endswith((".yaml", ".yml")) else Path(model).name
    suffix = f"-oracle-{oracle}" if oracle else "-no-image" if no_image else ""
    return Path("runs") / f"eval-{name}{suffix}"


@app.command("eval")
def eval_command(
    model: str = typer.Option(
        "tiny-offline", "--model", "-m", help="A saved model directory, a preset name, or a YAML config."
    ),
    tasks: str = typer.Option(
        "held-out", "--tasks", "-t", help="Comma-separated task names or groups: held-in, held-out, synthvl, real, all."
    ),
    limit: int | None = typer.Option(None, help="Samples per task (default: each task's own limit; 0: all)."),
    data: Path | None = typer.Option(
        None, help="A SynthVL folder (default: the small suite, generated once into the cache)."
    ),
    data_root: Path | None = typer.Option(
        None, "--data-root", help="Folder of the real benchmarks (default $INSTRUCTVL_DATA or <cache>/data)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Run folder (default runs/eval-<model>[-no-image | -oracle-scene]); a rerun resumes."
    ),
    no_image: bool = typer.Option(
        False, "--no-image", help="Remove the images from the prompts: the text-only LLM baseline."
    ),
    oracle: str | None = typer.Option(
        None,
        "--oracle",
        help="scene: replace each image by its SynthVL scene written as text (no image input), the reference for "
        "perfect perception. SynthVL tasks only.",
    ),
    mode: str | None = typer.Option(None, help="Template mode override: instruction, multitask, caption-only."),
    seed: int = typer.Option(0, help="Seed (template choice per sample)."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Prompts per batch (default 16, or the task's own)."
    ),
    shard: str = typer.Option(
        "0/1", help="I/N: run every N-th sample from the I-th (then score once with --phase score)."
    ),
    phase: str = typer.Option("all", help="all, prepare, infer or score."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a model config key (repeatable)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar per task."),
    threads: int = typer.Option(
        1,
        help="Torch CPU threads (0: torch's default). 1 by default: on a small shared CPU more threads wait on "
        "each other (6-12x slower measured on 2 busy cores).",
    ),
) -> None:
    """Evaluate MODEL on TASKS: prepare prompts, run inference (resumable), score, report."""
    from instructvl.eval.harness import evaluate
    from instructvl.eval.oracle import check_oracle
    from instructvl.eval.spec import resolve_tasks

    shard_pair = parse_shard(shard)
    phases = phases_for(phase, shard_pair[1])
    specs = resolve_tasks(tasks)  # unknown names (and tasks an oracle cannot serve) fail before the model loads
    if oracle is not None:
        check_oracle(oracle, specs)
    if threads:
        import torch

        torch.set_num_threads(threads)
    started = time.perf_counter()
    vlm = load_model_with_status(model, set_) if "infer" in phases else None
    run_dir = out or default_out(model, no_image, oracle)
    results = evaluate(
        vlm,
        tasks,
        run_dir,
        limit=limit,
        no_image=no_image,
        oracle=oracle,
        data=data,
        data_root=data_root,
        seed=seed,
        mode=mode,
        batch_size=batch_size,
        shard=shard_pair,
        phases=phases,
        model_name=model,
        progress=progress,
        announce=lambda m: err_console.print(m, highlight=False),
    )
    if results is not None:
        console.print((run_dir / "report.md").read_text(), highlight=False, markup=False, soft_wrap=True)
    err_console.print(f"done in {time.perf_counter() - started:.0f} s; run folder {run_dir}", highlight=False)
