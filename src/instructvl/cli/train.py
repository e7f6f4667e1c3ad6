"""`instructvl train`: run a training config (stages) into a run directory."""

from __future__ import annotations

import typer

from instructvl.cli import app
from instructvl.cli.common import console, flowing_help, quiet_libraries


@app.command()
@flowing_help
def train(
    config: str = typer.Argument(..., help="Training YAML (see configs/train/)."),
    overrides: list[str] | None = typer.Argument(None, help="key=value overrides, e.g. stages.0.steps=50 batch_size=4"),
    out: str = typer.Option(
        "runs/train", "--out", "-o", help="Run directory (config, metrics, checkpoints, final model)."
    ),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="Continue from the run directory's last checkpoint if there is one."
    ),
) -> None:
    """Train a model as a list of stages (what trains, learning rate, mixture, steps).

    Writes into OUT: config.yaml (resolved), environment.json (package versions),
    metrics.jsonl and tb/ (TensorBoard), ckpt-N/ (the last keep_last checkpoints),
    model/ (the final model) and train_summary.json. Several processes: launch with
    `accelerate launch --num_processes N -m instructvl.cli train ...` or `torchrun`.

    Validation: with eval_every > 0, the held-in validation loss is computed before the
    first step, every eval_every steps and after the last one, on eval_samples_per_dataset
    val samples of each dataset in batches of eval_batch_size, with a progress bar.

    Resume: a run continues only with the config it was started with (config.yaml is never
    rewritten); a changed key, more steps included, is refused and listed. Only log_every,
    save_every, keep_last, eval_every and eval_batch_size may change."""
    quiet_libraries()
    from instructvl.train.config import load_train_config
    from instructvl.train.trainer import Trainer

    cfg = load_train_config(config, list(overrides or []))
    result = Trainer(cfg, out, console=console, resume=resume).run()
    if result.first_val_loss:
        console.print(
            f"held-in validation loss: {result.first_val_loss['val_loss']:.4f} -> {result.val_loss['val_loss']:.4f}"
        )
    console.print(f"{result.steps} steps in {result.seconds:.0f} s; model saved to {out}/model")
