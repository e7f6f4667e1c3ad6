"""`instructvl data`: generate the SynthVL suite, check it, show its statistics."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from instructvl.cli import app
from instructvl.data.formatting import MODES, format_sample
from instructvl.errors import InstructVLError

data_app = typer.Typer(help="SynthVL: generate, check and inspect instruction data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()


@data_app.command("synth")
def synth(
    out: Path = typer.Option(..., "--out", help="output folder"),
    scale: str = typer.Option("small", help="small (300 train / 50 val / 200 test) or full (5000/500/1000)"),
    seed: int = typer.Option(0, help="generation seed"),
    image_size: int = typer.Option(64, "--image-size", help="image side in pixels"),
    only: str = typer.Option("", help="comma-separated dataset names (default: all 26)"),
    train: int = typer.Option(None, help="override examples per held-in train split"),
    val: int = typer.Option(None, help="override examples per held-in val split (and held-out dev split)"),
    test: int = typer.Option(None, help="override examples per held-out test split"),
    workers: int = typer.Option(1, help="processes per phase"),
) -> None:
    """Render the SynthVL datasets and write JSONL + PNG + manifest.json under OUT."""
    from instructvl.data.synthvl.generate import SCALES, Scale, generate_suite

    if scale not in SCALES:
        raise InstructVLError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    chosen: str | Scale = scale
    if train is not None or val is not None or test is not None:
        base = SCALES[scale]
        chosen = Scale(
            train if train is not None else base.train,
            val if val is not None else base.val,
            test if test is not None else base.test,
        )
    names = [n.strip() for n in only.split(",") if n.strip()] or None
    start = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating", total=None)
        manifest = generate_suite(
            out,
            chosen,
            seed=seed,
            image_size=image_size,
            names=names,
            workers=workers,
            progress=lambda n, s, k: bar.update(task, advance=1, description=f"{n}/{s} ({k})"),
        )
    seconds = time.perf_counter() - start
    total = sum(d["size"] for d in manifest["datasets"].values())
    console.print(f"wrote {len(manifest['datasets'])} datasets, {total} examples to {out} in {seconds:.1f} s")


@data_app.command("stats")
def stats(
    root: Path = typer.Argument(..., help="a folder written by `instructvl data synth`"),
    json_out: Path = typer.Option(None, "--json", help="where to write the JSON (default ROOT/stats.json)"),
    rule: str = typer.Option("sqrt", help="mixture rule for the sampling probabilities"),
) -> None:
    """Per-dataset size, category, held-in/out, sampling probability, templates, answer lengths."""
    from instructvl.data.synthvl.stats import suite_stats

    result = suite_stats(root, rule)
    table = Table(title=f"SynthVL at {root} (seed {result['seed']}, {result['scale']})")
    columns = ("dataset", "category", "split", "metric", "size", "p(sample)", "templates", "answer words mean/med/max")
    for col in columns:
        table.add_column(col, justify="right" if col in ("size", "p(sample)", "templates") else "left")
    for r in result["datasets"]:
        a = r["answer_words"]
        p = "-" if r["probability"] is None else f"{r['probability']:.3f}"
        table.add_row(
            r["name"],
            r["category"],
            r["split"],
            r["metric"],
            str(r["size"]),
            p,
            str(r["templates"]),
            f"{a['mean']:.1f} / {a['median']:g} / {a['max']}",
        )
    console.print(table)
    path = json_out or root / "stats.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {path}")


@data_app.command("check")
def check(
    root: Path = typer.Argument(..., help="a SynthVL output folder"),
    strict: bool = typer.Option(False, "--strict", help="stop at the first bad line or image"),
) -> None:
    """Read every split as training and evaluation do, reporting (once each, as file:line)
    malformed lines, samples that break the schema, and missing or unreadable images."""
    from instructvl.data.synthvl.loader import load_manifest, load_raw

    problems = 0
    for name, d in load_manifest(root)["datasets"].items():
        for split in d["sizes"]:
            _, report = load_raw(root, name, split, strict=strict, log_problems=False)
            for p in report.problems:
                console.print(f"[yellow]{escape(str(p))}[/]", highlight=False, soft_wrap=True)
            problems += report.skipped
            console.print(report.summary(), highlight=False, soft_wrap=True)
    console.print(f"{problems} sample(s) skipped" if problems else "all samples load")
    if problems:
        raise typer.Exit(1)


@data_app.command("show")
def show(
    root: Path = typer.Argument(...),
    name: str = typer.Argument(...),
    split: str = typer.Option(None, help="default: train for held-in, test for held-out"),
    mode: str = typer.Option("instruction", help=f"one of {', '.join(MODES)}"),
    seed: int = typer.Option(0),
    n: int = typer.Option(3, "-n", help="how many samples"),
) -> None:
    """Print the first N formatted samples of a dataset split."""
    from instructvl.data.synthvl.loader import load_manifest, load_raw

    info = load_manifest(root)["datasets"].get(name)
    if info is None:
        raise InstructVLError(f"dataset {name!r} is not in {root}/manifest.json")
    split = split or next(iter(info["sizes"]))
    samples, _ = load_raw(root, name, split)
    for raw in samples[:n]:
        s = format_sample(raw, mode, seed)
        console.rule(s.id)
        console.print(f"images: {', '.join(s.images)}", highlight=False)
        for t in s.turns:
            console.print(f"[bold]{t.role}:[/] {escape(t.content)}", highlight=False)
        for key in ("answer", "candidates", "references", "ocr_tokens"):
            value = getattr(s, key)
            if value is not None:
                shown = value[:12] if key == "candidates" and len(value) > 12 else value
                console.print(f"[dim]{key}:[/] {escape(str(shown))}", highlight=False)
