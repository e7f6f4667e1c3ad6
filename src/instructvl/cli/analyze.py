"""`instructvl analyze`: where a model uses the image, layer by layer (probes, knockouts),
and what its frozen vision tower carries (tower)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, err_console, load_model_with_status
from instructvl.errors import InstructVLError


def default_out(model: str, name: str) -> Path:
    """runs/analyze-<model>/<name>."""
    stem = Path(model).stem if model.endswith((".yaml", ".yml")) else Path(model).name
    return Path("runs") / f"analyze-{stem}" / name


@app.command()
def analyze(
    name: str = typer.Argument(
        ...,
        help="probes: layer-wise linear probes of colour, shape, count and position. "
        "interventions: accuracy when text-to-image attention is cut in a window of layers. "
        "tower: linear probes of shape, colour, size, position, count and text on the frozen vision tower's "
        "features, against the offline tower's targets.",
    ),
    model: str = typer.Option(
        "tiny-offline",
        "--model",
        "-m",
        help="A saved model directory, a preset name, or a YAML config; for `tower` also a vision tower "
        "source (synthvl-clip:<size>, a folder or a hub id of a CLIP vision model).",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default runs/analyze-<model>/<name>)."),
    data: Path | None = typer.Option(
        None,
        help="A SynthVL folder (default: the small suite, generated once into the cache; for `tower`, the "
        "small suite of seed 1, which no tower trains on).",
    ),
    scale: float = typer.Option(
        1.0,
        help="Multiplies the sample counts (1.0: 300 probe images / 24 questions; for a "
        "135M LLM with 30 layers about 2 min (probes) and 4 min (interventions) of one CPU core).",
    ),
    seed: int = typer.Option(0, help="Seed (image order, train / test split, questions, templates)."),
    window: int | None = typer.Option(
        None, help="interventions: layers cut per window (default 3); windows start every WINDOW layers."
    ),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a model config key (repeatable)."),
    threads: int = typer.Option(1, help="Torch CPU threads (0: torch's default); 1 is fastest on a small shared CPU."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Analyse where MODEL's language model integrates the image; writes NAME.json,
    NAME.md and NAME.png into the output folder."""
    from instructvl.analysis import check_name, run_analysis
    from instructvl.eval.prepare import ensure_suite

    if name == "tower":
        run_tower(model, set_, out or default_out(model, name), data, seed, scale, progress)
        return
    check_name(name)  # before the model loads
    options = {}
    if window is not None:
        if name != "interventions":
            raise InstructVLError("--window applies to `analyze interventions` only")
        options["window"] = window
    if threads:
        import torch

        torch.set_num_threads(threads)
    started = time.perf_counter()
    data_dir = ensure_suite(data, announce=lambda m: err_console.print(m, highlight=False))
    vlm = load_model_with_status(model, set_)
    out_dir = out or default_out(model, name)
    run_analysis(name, vlm, data_dir, out_dir, seed=seed, scale=scale, progress=progress, **options)
    console.print((out_dir / f"{name}.md").read_text(), highlight=False, markup=False, soft_wrap=True)
    err_console.print(
        f"done in {time.perf_counter() - started:.0f} s; results in {out_dir} ({name}.json, {name}.md, {name}.png)",
        highlight=False,
    )


TOWER_IMAGES = 2000
"""Images per attribute at scale 1 (half fit, half test)."""


def run_tower(model: str, overrides: list[str] | None, out_dir: Path, data: Path | None, seed, scale, progress):
    """`analyze tower`: the probes of `analysis.tower_probes` on MODEL's vision tower."""
    from instructvl.analysis.tower_probes import run_tower_probes
    from instructvl.data.synthvl.cache import default_suite
    from instructvl.eval.progress import task_progress
    from instructvl.models.vision import VisionEncoder, tower_config

    if scale <= 0:
        raise InstructVLError(f"--scale must be positive, got {scale}")
    started = time.perf_counter()
    cfg = tower_config(model, overrides)
    root = data or default_suite("small", 1, announce=lambda m: err_console.print(m, highlight=False))
    with err_console.status(f"loading the vision tower of {model}"):
        encoder = VisionEncoder.build(cfg).eval()
    limit = max(20, round(TOWER_IMAGES * scale))
    with task_progress(progress) as bars:
        advance = bars.add("tower features", None, 0)
        run_tower_probes(encoder, model, root, out_dir, seed=seed, limit=limit, progress=advance)
    console.print((out_dir / "tower.md").read_text(), highlight=False, markup=False, soft_wrap=True)
    err_console.print(
        f"done in {time.perf_counter() - started:.0f} s; results in {out_dir} (tower.json, tower.md, tower.png)",
        highlight=False,
    )
