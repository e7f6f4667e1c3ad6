"""`instructvl eval`: evaluate a model on tasks (SynthVL and real benchmarks) into a run folder."""

from __future__ import annotations

import re
import time
from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, err_console, load_model_with_status
from instructvl.errors import InstructVLError
from instructvl.eval.tasks import GROUPS, task_names

PHASE_CHOICES = ("all", "prepare", "infer", "score")


def tasks_help() -> str:
    """The --tasks help: groups, task files, and every packaged task name (real ones are real-*)."""
    names = task_names()
    synthvl = [n for n in names if not n.startswith("real-")]
    real = [n for n in names if n.startswith("real-")]
    return (
        f"Comma-separated task names, groups or task files (my_tasks.yaml: every task it defines). "
        f"Groups: {', '.join(GROUPS)}. SynthVL tasks: {', '.join(synthvl)}. Real benchmarks, named real-* "
        f"(their files under --data-root): {', '.join(real)}."
    )


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
    tasks: str = typer.Option("held-out", "--tasks", "-t", help=tasks_help()),
    limit: int | None = typer.Option(None, min=0, help="Samples per task (default: each task's own limit; 0: all)."),
    data: Path | None = typer.Option(
        None, help="A SynthVL folder (default: the small suite, generated once into the cache)."
    ),
    data_root: Path | None = typer.Option(
        None,
        "--data-root",
        help="Folder holding the real benchmarks (real-* tasks), one subfolder each as its archives unpack: "
        "nocaps/, flickr30k/, gqa/, vsr/, iconqa/, textvqa/, visdial/, hateful_memes/, vizwiz/, scienceqa/, msvd/, "
        "msrvtt/, ivqa/ (held-in: coco/, textcaps/, vqav2/, okvqa/, aokvqa/, ocrvqa/); the README's table says "
        "which files go where. Default: $INSTRUCTVL_DATA, else <cache>/data.",
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
        None, "--batch-size", min=1, help="Prompts per batch (default 16, or the task's own)."
    ),
    shard: str = typer.Option(
        "0/1", help="I/N: run every N-th sample from the I-th (then score once with --phase score)."
    ),
    phase: str = typer.Option("all", help="all, prepare, infer or score."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a model config key (repeatable)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar per task."),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Prepare each task and print its first prompt as the model would get it (images, prompt turns, "
        "candidates, decoding); loads no model and writes nothing. Exits 1 if a task's data cannot be read.",
    ),
    judge: str | None = typer.Option(
        None,
        "--judge",
        help="Add an LLM judge's relative score (LLaVA-Bench protocol) beside each generate task's metric: local "
        "(the default preset's SmolLM2 in process, offline) or api (an OpenAI-compatible chat endpoint; see "
        "--judge-model). Judgements are cached in <cache>/judge.",
    ),
    judge_model: str | None = typer.Option(
        None, "--judge-model", help="The endpoint judge's model name (implies --judge api); key from $OPENAI_API_KEY."
    ),
    judge_base_url: str | None = typer.Option(
        None,
        "--judge-base-url",
        help="The endpoint judge's base URL, e.g. http://127.0.0.1:8000/v1 (default $OPENAI_BASE_URL, else OpenAI's).",
    ),
    text_regression: bool = typer.Option(
        True,
        "--text-regression/--no-text-regression",
        help="For a model whose LLM weights changed: measure the KL from the untouched LLM on fixed text-only "
        "prompts and the scene oracle against the untouched LLM's.",
    ),
    threads: int = typer.Option(
        1,
        min=0,
        help="Torch CPU threads (0: torch's default). 1 by default: on a small shared CPU more threads wait on "
        "each other (6-12x slower measured on 2 busy cores).",
    ),
) -> None:
    """Evaluate MODEL on TASKS: prepare prompts, run inference (resumable), score, report."""
    from instructvl.eval.harness import evaluate, select_specs
    from instructvl.eval.judge.config import judge_from_options
    from instructvl.eval.oracle import check_oracle

    shard_pair = parse_shard(shard)
    phases = phases_for(phase, shard_pair[1])
    judge_config = judge_from_options(judge, judge_model, judge_base_url)
    specs = select_specs(tasks, mode)  # unknown names (and tasks an oracle cannot serve) fail before the model loads
    if oracle is not None:
        check_oracle(oracle, specs)
    if dry_run:
        failed = show_prompts(specs, data, data_root, seed)
        raise typer.Exit(1 if failed else 0)
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
        judge=judge_config,
        text_regression=text_regression,
    )
    if results is not None:
        console.print((run_dir / "report.md").read_text(), highlight=False, markup=False, soft_wrap=True)
    err_console.print(f"done in {time.perf_counter() - started:.0f} s; run folder {run_dir}", highlight=False)


def show_prompts(specs, data: Path | None, data_root: Path | None, seed: int) -> list[str]:
    """Prints each task's first prepared prompt (or why it cannot be prepared); returns the
    names of the tasks that could not be."""
    from instructvl.eval.prepare import prepare_samples

    failed = []
    for spec in specs:
        template = spec.template or "the sample's own"
        console.rule(f"{spec.name} ({spec.group}; template {template}, mode {spec.mode})")
        try:
            (sample,) = prepare_samples(spec, data, data_root, seed, limit=1)
        except InstructVLError as exc:
            err_console.print(f"{spec.name}: cannot prepare: {exc}", highlight=False, markup=False)
            failed.append(spec.name)
            continue
        console.print(describe_prompt(spec, sample), highlight=False, markup=False, soft_wrap=True)
    return failed


def describe_prompt(spec, sample) -> str:
    """A prepared sample as text: its images, each turn, the candidates and how the answer is found."""
    lines = [f"sample {sample.id}: {len(sample.images)} image(s) {', '.join(sample.images[:2])}"]
    lines += [f"[{turn.role}] {turn.content}" for turn in sample.turns]
    if spec.output == "rank":
        candidates = sample.candidates or []
        shown = " | ".join(candidates[:5]) + (f" | ... ({len(candidates)} in all)" if len(candidates) > 5 else "")
        lines.append(f"ranked by {spec.normalisation} log-probability: {shown}; metric {spec.metric}")
    else:
        search = "greedy" if spec.num_beams == 1 else f"beam {spec.num_beams}, length penalty {spec.length_penalty}"
        lines.append(f"generated ({search}, at most {spec.max_new_tokens} tokens); metric {spec.metric}")
    return "\n".join(lines)
