"""`instructvl pretrain-vision`: contrastive pretraining of the offline CLIP vision tower."""

from __future__ import annotations

from pathlib import Path

import typer

from instructvl.cli import app
from instructvl.cli.common import console, quiet_libraries


@app.command("pretrain-vision")
def pretrain_vision(
    size: str = typer.Option(
        "tiny", "--size", help="tiny (width 192, 4 layers) or small (width 384, 6 layers); 64 px, patch 8"
    ),
    steps: int = typer.Option(None, "--steps", help="training steps (default: the cached build's recipe for SIZE)"),
    out: Path = typer.Option(None, "--out", help="output folder (default: runs/vision/synthvl-clip-SIZE)"),
    data: Path = typer.Option(
        None,
        "--data",
        help="a SynthVL suite (its held-in train splits) or a SynthVL-web corpus folder "
        "(default: the cached small one of --corpus, seed 0, generated once)",
    ),
    corpus: str = typer.Option(
        None, "--corpus", help="default data: web (SynthVL-web; the cached build's) or suite (held-in splits)"
    ),
    scene_weight: float = typer.Option(
        None,
        "--scene-weight",
        min=0.0,
        help="web corpus: weight of the supervised scene targets (per-patch kind and colour, the largest "
        "object's kind, kinds and colours present, count) beside the contrastive loss; 0 turns them off "
        "(default: the cached build's recipe, 1)",
    ),
    seed: int = typer.Option(
        None, "--seed", help="initialisation and batch-order seed (default: the cached build's recipe, 0)"
    ),
    batch_size: int = typer.Option(
        None, "--batch-size", help="images per step (default: the cached build's recipe, 64)"
    ),
    lr: float = typer.Option(None, "--lr", help="peak AdamW learning rate (default: the cached build's recipe, 1e-3)"),
    only: str = typer.Option("", "--only", help="comma-separated held-in datasets to train on (default: all held-in)"),
    threads: int = typer.Option(2, "--threads", help="torch CPU threads"),
    no_scene_captions: bool = typer.Option(
        False, "--no-scene-captions", help="captions only from captioning datasets' references"
    ),
) -> None:
    """Train a small CLIP ViT against frozen MiniLM caption embeddings (held-in SynthVL
    splits, or the SynthVL-web corpus with supervised scene targets; never held-out data);
    save it in transformers' CLIP format (load it with vision.source=OUT) with a JSON report.
    `instructvl analyze tower --model OUT` then probes what its features carry."""
    from dataclasses import replace

    from instructvl.vision_pretrain import RECIPES
    from instructvl.vision_pretrain.recipe import arch_for
    from instructvl.vision_pretrain.train import REPORT
    from instructvl.vision_pretrain.train import pretrain_vision as run

    quiet_libraries()
    arch_for(size)
    given = {
        "steps": steps,
        "seed": seed,
        "batch_size": batch_size,
        "lr": lr,
        "corpus": corpus,
        "scene_weight": scene_weight,
    }
    recipe = replace(RECIPES.get(size, RECIPES["tiny"]), size=size, **{k: v for k, v in given.items() if v is not None})
    if no_scene_captions:
        recipe = replace(recipe, scene_captions=False)
    out = out or Path("runs") / "vision" / f"synthvl-clip-{size}"
    names = [n.strip() for n in only.split(",") if n.strip()] or None
    report = run(out, data, recipe, names=names, threads=threads)
    secs = report["seconds"]
    console.print(
        f"trained {size} tower ({report['parameters'] / 1e6:.2f}M parameters): {recipe.steps} steps in "
        f"{secs['train_s']:.0f} s ({report['s_per_step']:.2f} s/step; {secs['total_s']:.0f} s in all), "
        f"loss {report['loss_first']:.3f} -> {report['loss_final']:.3f}",
        highlight=False,
    )
    for name, r in report["eval"].items():
        ret = r["retrieval"]
        line = (
            f"  {name} ({r['what']}): image->caption top-1 {ret['top1']:.3f}, top-5 {ret['top5']:.3f} among "
            f"{ret['candidates']} (chance {ret['chance_top1']:.3f} / {ret['chance_top5']:.3f})"
        )
        if r["attributes"]:
            a = r["attributes"]
            line += (
                f"; single shapes ({a['images']}): colour {a['colour']:.2f}, shape {a['shape']:.2f}, "
                f"both {a['pair']:.2f} "
                f"(chance {a['chance_colour']:.2f} / {a['chance_shape']:.2f} / {a['chance_pair']:.2f})"
            )
        console.print(line, highlight=False)
    console.print(f"saved to {out} (vision: {{kind: clip, source: {out}}}); report: {out / REPORT}", highlight=False)
