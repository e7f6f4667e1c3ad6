"""`instructvl generate`: answer one prompt about one or more images."""

from __future__ import annotations

import typer

from instructvl.cli import app
from instructvl.cli.common import console, load_model_with_status, not_blank


@app.command()
def generate(
    model: str = typer.Option(
        "tiny-offline", "--model", "-m", help="A saved model directory, a preset name, or a YAML config."
    ),
    image: list[str] | None = typer.Option(
        None, "--image", "-i", help="Image file (repeat for several, e.g. video frames). None: text only."
    ),
    prompt: str = typer.Option(
        ..., "--prompt", "-p", help="The instruction or question (not empty).", callback=not_blank
    ),
    max_new_tokens: int = typer.Option(64, min=1, help="Most tokens to generate."),
    num_beams: int = typer.Option(1, min=1, help="Beam search width (1: greedy or sampling)."),
    temperature: float = typer.Option(0.0, min=0.0, help="Sampling temperature (0: deterministic)."),
    seed: int = typer.Option(0, min=0, help="Random seed for sampling."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a config key (repeatable)."),
) -> None:
    """Generate an answer to PROMPT about IMAGE(s) with a model."""
    from instructvl.data.schema import Sample, Turn
    from instructvl.models.vlm import generation_options

    vlm = load_model_with_status(model, set_)
    sample = Sample(id="cli", dataset="cli", images=list(image or []), turns=[Turn("user", prompt)])
    answer = vlm.generate_text([sample], **generation_options(max_new_tokens, num_beams, temperature, seed))[0]
    console.print(answer, highlight=False, markup=False)
