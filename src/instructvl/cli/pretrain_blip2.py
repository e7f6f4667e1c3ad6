"""`instructvl pretrain-blip2`: BLIP-2's two-stage Q-Former pretraining on SynthVL-web."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, quiet_libraries


@app.command("pretrain-blip2")
def pretrain_blip2(
    size: str = typer.Option("tiny", "--size", help="the recipe to start from (tiny: the synthvl-blip2:tiny build)"),
    stage1_steps: int = typer.Option(
        None, "--stage1-steps", min=0, help="steps of ITC + ITM + ITG against the frozen tower (0 skips stage 1)"
    ),
    stage2_steps: int = typer.Option(
        None, "--stage2-steps", min=0, help="caption steps through the frozen LLM (0 skips stage 2)"
    ),
    stage1_batch: int = typer.Option(None, "--stage1-batch", min=2, help="image-caption pairs per stage-1 step"),
    stage2_batch: int = typer.Option(None, "--stage2-batch", min=2, help="captions per stage-2 step"),
    stage1_lr: float = typer.Option(None, "--stage1-lr", help="peak AdamW learning rate of stage 1"),
    stage2_lr: float = typer.Option(None, "--stage2-lr", help="peak AdamW learning rate of stage 2"),
    seed: int = typer.Option(None, "--seed", help="initialisation, batch-order and negative-sampling seed"),
    out: Path = typer.Option(None, "--out", help="output folder (default: runs/blip2/synthvl-blip2-SIZE)"),
    data: Path = typer.Option(
        None, "--data", help="a SynthVL-web corpus folder (default: the cached small one, generated once)"
    ),
    threads: int = typer.Option(2, "--threads", help="torch CPU threads"),
) -> None:
    """Pretrain a Q-Former as BLIP-2 does, on the SynthVL-web corpus (never a suite's
    held-out data): stage 1 against the frozen synthvl-clip tower (image-text contrastive,
    matching with hard negatives, image-grounded generation), stage 2 through the frozen
    SmolLM2 on captions. Saves the weights in LAVIS' BLIP-2 layout with a JSON report;
    load them into a model with head.init=OUT (the cached default: head.init=synthvl-blip2:SIZE)."""
    from dataclasses import replace

    from instructvl.blip2_pretrain import RECIPES
    from instructvl.blip2_pretrain import pretrain_blip2 as run
    from instructvl.blip2_pretrain.save import REPORT, WEIGHTS
    from instructvl.errors import InstructVLError

    quiet_libraries()
    if size not in RECIPES:
        raise InstructVLError(f"unknown BLIP-2 recipe size {size!r}; choose one of {', '.join(RECIPES)}")
    given = {
        "stage1_steps": stage1_steps,
        "stage2_steps": stage2_steps,
        "stage1_batch": stage1_batch,
        "stage2_batch": stage2_batch,
        "stage1_lr": stage1_lr,
        "stage2_lr": stage2_lr,
        "seed": seed,
    }
    recipe = replace(RECIPES[size], **{k: v for k, v in given.items() if v is not None})
    out = out or Path("runs") / "blip2" / f"synthvl-blip2-{size}"
    report = run(out, recipe, data_root=data, threads=threads)
    for stage in ("stage1", "stage2"):
        r = report[stage]
        if r is None:
            console.print(f"{stage}: skipped (0 steps)", highlight=False)
            continue
        losses = ", ".join(f"{k} {r['loss_first'][k]:.3f} -> {r['loss_final'][k]:.3f}" for k in r["loss_final"])
        console.print(
            f"{stage}: {recipe.stage1_steps if stage == 'stage1' else recipe.stage2_steps} steps x "
            f"{r['batch_size']} in {r['seconds']:.0f} s ({r['s_per_step']:.2f} s/step); {losses}",
            highlight=False,
        )
    ret = report["eval"]["retrieval"]
    console.print(
        f"ITC retrieval among {ret['images']} held-back stills: image->text top-1 {ret['image_to_text_top1']:.3f}, "
        f"text->image top-1 {ret['text_to_image_top1']:.3f} (chance {ret['chance_top1']:.3f})",
        highlight=False,
    )
    if "caption_loss" in report["eval"]:
        cap = report["eval"]["caption_loss"]
        console.print(
            f"held-back caption loss: {cap['before_stage2']:.3f} before stage 2, {cap['after_stage2']:.3f} after",
            highlight=False,
        )
    console.print(f"saved to {out} ({WEIGHTS}: load with head.init={out}); report: {out / REPORT}", highlight=False)
