"""`instructvl export`: write a model as a transformers InstructBLIP, BLIP-2 or LLaVA
checkpoint folder that plain `from_pretrained` loads."""

from __future__ import annotations

import json

import typer

from instructvl.cli import app
from instructvl.cli.common import err_console, load_model_with_status


@app.command()
def export(
    model: str = typer.Option(
        ..., "--model", "-m", help="A saved model directory, a preset, a YAML config, or a transformers checkpoint."
    ),
    format_: str = typer.Option(..., "--format", "-f", help="Target format: instructblip, blip2 or llava."),
    out: str = typer.Option(..., "--out", "-o", help="Folder to write (config, safetensors weights, processor)."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a config key (repeatable)."),
) -> None:
    """Export MODEL to OUT in a transformers FORMAT; a model that does not fit is refused,
    naming the component with no equivalent."""
    from instructvl.models.interop import export as export_model

    vlm = load_model_with_status(model, set_)
    with err_console.status(f"writing {format_} checkpoint to {out}"):
        folder = export_model(vlm, format_, out)
    typer.echo(json.dumps({"model": model, "format": format_, "out": str(folder)}))
