"""`instructvl import`: a transformers InstructBLIP / BLIP-2 / LLaVA checkpoint (hub id or
folder), optionally with LAVIS-format weights on top, saved as an instructvl model."""

from __future__ import annotations

import json

import typer

from instructvl.cli import app
from instructvl.cli.common import err_console, quiet_libraries


@app.command("import")
def import_model(
    source: str = typer.Argument(
        ..., help="Hub id or folder of a transformers InstructBLIP, BLIP-2 or LLaVA checkpoint."
    ),
    out: str = typer.Option(
        ..., "--out", "-o", help="Folder for the instructvl model (config.json + model.safetensors)."
    ),
    lavis: str | None = typer.Option(
        None, "--lavis", help="A LAVIS .pth checkpoint to load on top (read with weights_only=True)."
    ),
) -> None:
    """Import SOURCE as an instructvl model saved in OUT (vision tower and LLM are re-read
    from SOURCE on load; head, projector and LAVIS-loaded weights are stored)."""
    quiet_libraries()
    from instructvl.models.interop import from_transformers, load_lavis_state_dict

    with err_console.status(f"loading {source}"):
        vlm = from_transformers(source)
    result: dict = {"source": source, "out": out}
    if lavis:
        report = load_lavis_state_dict(vlm, lavis)
        result["lavis"] = {"components": report.components, "ignored": len(report.ignored)}
    vlm.save_pretrained(out)
    typer.echo(json.dumps(result))
