"""`instructvl info`: what a model is made of, its parameter counts and visual tokens."""

from __future__ import annotations

import typer
from rich.table import Table

from instructvl.cli import app
from instructvl.cli.common import console, load_model_with_status


def component_table(model) -> Table:
    """Components with their source, width and token counts."""
    cfg = model.config
    table = Table(title=f"model {cfg.name}")
    for col in ("component", "what", "source", "details"):
        table.add_column(col)
    vision = model.vision
    table.add_row(
        "vision",
        f"{cfg.vision.kind} {type(vision.tower).__name__}",
        str(cfg.vision.source or "built from arch (random, seeded)"),
        f"{vision.image_size}px, width {vision.hidden_size}, {vision.num_tokens} tokens/image, "
        f"layer {cfg.vision.feature_layer}",
    )
    head = cfg.head
    head_src = head.qformer_init or ("-" if not head.uses_qformer else "built from qformer_arch")
    head_details = f"{model.tokens_per_image} visual tokens/image" + (
        ", reads the instruction" if head.uses_instruction else ""
    )
    table.add_row("head", head.type, str(head_src), head_details)
    norm = f", rms gain {model.projector.gain.item():.3g}" if model.projector.gain is not None else ""
    table.add_row(
        "projector",
        "mlp" if head.type == "mlp" else "linear",
        "-",
        f"{model.head.out_dim} -> {model.llm.hidden_size}{norm}",
    )
    llm = cfg.llm
    where = "input embeddings" if llm.inject_layer == 0 else f"input of layer {llm.inject_layer}"
    table.add_row(
        "llm",
        f"{llm.kind} {type(model.llm.model).__name__}",
        str(llm.source or "built from arch"),
        f"{len(model.llm.layers)} layers, width {model.llm.hidden_size}, visual tokens at the {where}"
        + (", LoRA" if llm.lora else ""),
    )
    return table


@app.command()
def info(
    config: str = typer.Argument(
        ..., help="A preset name (e.g. tiny-offline), a YAML config, or a saved model directory."
    ),
    set_: list[str] | None = typer.Option(
        None, "--set", help="Override a config key, e.g. --set llm.inject_layer=10 (repeatable)."
    ),
) -> None:
    """Print a model's components, its parameter counts (trainable / frozen under the
    default freeze policy: head and projector train) and its visual token count."""
    from instructvl.config.schema import FreezePolicy
    from instructvl.models.freeze import apply_freeze_policy

    model = load_model_with_status(config, set_)
    console.print(component_table(model))
    apply_freeze_policy(model, FreezePolicy(), console=console)
