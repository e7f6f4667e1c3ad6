"""The main job, end to end: SynthVL data, the offline vision tower, instruction tuning on
the held-in mixture, zero-shot evaluation on held-out tasks and held-in validation, the
text-only, scene-oracle and chance / majority baselines, and a report with plots. Each
step reuses what a previous run cached (data, tower, GGUF conversion, training
checkpoints, finished predictions)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

EVAL_BATCH_SIZE = 48


@dataclass
class QuickstartOptions:
    """What `instructvl quickstart` runs; the defaults fit the CPU budget."""

    preset: str = "tiny-offline"
    out: str = "runs/quickstart"
    steps: int = 80
    batch_size: int = 8
    lr: float = 1e-3
    data: str | None = None
    limit: int | None = None
    train_datasets: list[str] | None = None
    held_out_tasks: list[str] = field(default_factory=lambda: ["held-out"])
    held_in_tasks: list[str] = field(default_factory=lambda: ["held-in"])
    held_in_limit: int | None = 16
    overrides: list[str] = field(default_factory=list)


def _train_config(opts: QuickstartOptions, data: Path):
    from instructvl.config.loader import load_model_config
    from instructvl.train.config import MixtureConfig, StageConfig, TrainConfig

    stage = StageConfig(
        name="instruction-tuning",
        steps=opts.steps,
        lr=opts.lr,
        warmup_steps=max(1, opts.steps // 10),
        min_lr_ratio=0.2,
        data=MixtureConfig(datasets=opts.train_datasets),
    )
    return TrainConfig(
        model=load_model_config(opts.preset, opts.overrides),
        data_dir=str(data),
        stages=[stage],
        batch_size=opts.batch_size,
        save_every=max(1, opts.steps // 3),
        eval_every=opts.steps,
        eval_samples_per_dataset=8,
    )


def _evaluate_owned(model, tasks: list[str], run_dir: Path, say, **kwargs) -> dict:
    """`evaluate` into a folder the quickstart owns: tasks whose spec changed since they
    were evaluated there (a newer instructvl) are set aside under stale/ and redone."""
    from instructvl.eval.harness import evaluate, select_specs, set_aside_stale

    stale = set_aside_stale(run_dir, select_specs(tasks))
    if stale:
        say(f"{run_dir}: {', '.join(stale)} evaluated with an older task spec; kept under stale/ and evaluated again")
    return evaluate(model, tasks, run_dir, **kwargs)


def _llm_only_dir(opts: QuickstartOptions, model, model_name: str, data: Path, oracle: str | None = None) -> Path:
    """Where a baseline of these tasks without image input (the text-only one, or the
    `oracle` one) is kept in the instructvl cache. Its predictions depend on the language
    model alone (see `model_record`), so every quickstart run with the same language
    model, data and tasks shares them."""
    from instructvl.artefacts import cache_dir
    from instructvl.eval.provenance import fingerprint, model_record

    key = fingerprint(
        {
            "model": model_record(model, model_name, no_image=oracle is None, oracle=oracle)["config_hash"],
            "data": str(data.resolve()),
            "tasks": opts.held_out_tasks,
            "limit": opts.limit,
            "batch_size": EVAL_BATCH_SIZE,
        }
    )
    return cache_dir() / ("text-only" if oracle is None else "oracle") / key


def _llm_only_results(
    opts: QuickstartOptions, model, data: Path, common: dict, out: Path, oracle: str | None = None
) -> dict:
    """The held-out results of a baseline without image input (text-only, or `oracle`),
    evaluated into the cache (or reused from it) and copied into `out`."""
    shared = _llm_only_dir(opts, model, common["model_name"], data, oracle)
    no_image = oracle is None
    results = _evaluate_owned(
        model,
        opts.held_out_tasks,
        shared,
        common["announce"],
        limit=opts.limit,
        no_image=no_image,
        oracle=oracle,
        **common,
    )
    shutil.copytree(shared, out, dirs_exist_ok=True)
    return results


def _loss_plot(metrics: Path, out: Path) -> None:
    from instructvl.plotting import pyplot, save_figure

    plt = pyplot()
    records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    val = [(r["step"], r["val_loss"]) for r in records if "val_loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(*zip(*train), label="training loss (batch)", alpha=0.7)
    if val:
        ax.plot(*zip(*val), "o-", label="held-in validation loss")
    ax.set_xlabel("step")
    ax.set_ylabel("LM loss on answer tokens")
    ax.legend()
    save_figure(fig, out, dpi=110)


def _report(
    opts: QuickstartOptions, train_result, model_results: dict, text_results: dict, oracle_results: dict, seconds: dict
) -> str:
    from instructvl.eval.report import eval_source_mark, with_ci, x100

    text = {t["task"]: t for t in text_results["tasks"]}
    oracle = {t["task"]: t for t in oracle_results["tasks"]}
    lines = [
        f"# instructvl quickstart ({opts.preset})",
        "",
        f"Instruction tuning: {train_result.steps} steps x {opts.batch_size} samples on the held-in mixture "
        f"({train_result.seconds:.0f} s); held-in validation loss "
        f"{train_result.first_val_loss.get('val_loss', float('nan')):.3f} -> "
        f"{train_result.val_loss.get('val_loss', float('nan')):.3f}.",
        "",
        "Scores x100, in brackets the 95% bootstrap interval over samples. `text only`: the same model with the "
        "images removed. `chance/majority`: expected score of a "
        "random candidate (rank tasks) or of the most frequent answer (generate tasks) of the task's training split; "
        "marked `(dev)`, of the dev split, for held-out tasks: drawn like their test split, never scored, so no "
        "baseline peeks at the test answers.",
        "`oracle`: the same language model with each image replaced by its SynthVL scene written as text (what "
        "perfect perception would give it), zero-shot.",
        "",
        "| task | group | metric | n | model | text only | oracle | chance/majority |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for t in model_results["tasks"]:
        baseline = t.get("baseline") or {}
        base, mark = baseline.get("score"), eval_source_mark(baseline)
        txt, orc = text.get(t["task"], {}), oracle.get(t["task"], {})
        lines.append(
            f"| {t['task']} | {t['group']} | {t['metric']} | {t['n']} | {with_ci(t['score'], t.get('ci'), 1)} | "
            f"{with_ci(txt.get('score'), txt.get('ci'), 1)} | {with_ci(orc.get('score'), orc.get('ci'), 1)} | "
            f"{'-' if base is None else with_ci(base, baseline.get('ci'), 1) + mark} |"
        )
    lines.append("")
    for group, avg in model_results["averages"].items():
        txt = text_results["averages"].get(group, {})
        orc = oracle_results["averages"].get(group, {})
        lines.append(
            f"- {group} average: model {with_ci(avg['score'], avg.get('ci'), 1)}, text only "
            f"{with_ci(txt.get('score'), txt.get('ci'), 1)}, oracle {with_ci(orc.get('score'), orc.get('ci'), 1)}, "
            f"chance/majority {x100(avg['baseline'], 1)} ({avg['n_tasks']} tasks)"
        )
    lines += [
        "",
        "Wall time (s): " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()),
        "",
        "![training loss](training_loss.png)",
        "",
        "![per-task scores](compare/compare.png)",
        "",
    ]
    return "\n".join(lines)


def run_quickstart(opts: QuickstartOptions, console) -> dict:
    """Runs every step into `opts.out` and returns the summary (also in summary.json)."""
    from instructvl.data.synthvl.cache import default_suite
    from instructvl.eval.compare import write_comparison
    from instructvl.models.vlm import VisionLanguageModel
    from instructvl.train.reuse import train_or_reuse

    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    console.rule("1/4 data")
    data = Path(opts.data) if opts.data else default_suite(announce=console.print)
    lap("data")
    console.rule("2/4 instruction tuning (builds the offline vision tower on first use)")
    cfg = _train_config(opts, data)
    train_result = train_or_reuse(cfg, out / "train", console=console)
    _loss_plot(out / "train" / "metrics.jsonl", out / "training_loss.png")
    lap("train")
    console.rule("3/4 zero-shot evaluation")
    model = VisionLanguageModel.from_pretrained(out / "train" / "model")
    say = lambda text: console.print(text, highlight=False)  # noqa: E731
    # 48 prompts per batch: 20% faster than the eval default of 16 here, same predictions
    common = dict(data=data, model_name=str(out / "train" / "model"), announce=say, batch_size=EVAL_BATCH_SIZE)
    held_out = _evaluate_owned(model, opts.held_out_tasks, out / "eval", say, limit=opts.limit, **common)
    held_in = _evaluate_owned(model, opts.held_in_tasks, out / "eval-held-in", say, limit=opts.held_in_limit, **common)
    model_results = {
        "tasks": held_out["tasks"] + held_in["tasks"],
        "averages": {**held_out["averages"], **held_in["averages"]},
    }
    lap("eval")
    console.rule("4/4 text-only and scene-oracle baselines (held-out tasks; kept in the cache, no training needed)")
    text_results = _llm_only_results(opts, model, data, common, out / "eval-text-only")
    oracle_results = _llm_only_results(opts, model, data, common, out / "eval-oracle", oracle="scene")
    lap("baseline")
    write_comparison(
        [out / "eval", out / "eval-text-only", out / "eval-oracle"],
        out / "compare",
        labels=["model", "text only", "oracle"],
    )
    report = _report(opts, train_result, model_results, text_results, oracle_results, seconds)
    (out / "report.md").write_text(report)
    summary = {
        "report": str(out / "report.md"),
        "seconds": seconds,
        "total_seconds": sum(seconds.values()),
        "averages": model_results["averages"],
        "text_only_averages": text_results["averages"],
        "oracle_averages": oracle_results["averages"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
