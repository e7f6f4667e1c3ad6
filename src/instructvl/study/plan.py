"""The dry-run plan: per cell what it trains, on what, how long, how it is evaluated and
the estimated time; and the total for the selected runs not finished yet."""

from __future__ import annotations

from instructvl.analysis.report import markdown_table
from instructvl.study.expand import StudyPlan
from instructvl.study.power import claim_powers, samples_text
from instructvl.study.runner import duration, is_finished
from instructvl.train.config import StageConfig


def trainable_text(stage: StageConfig) -> str:
    """What the stage trains, e.g. "head + projector + llm layers [10, 20)"."""
    t = stage.trainable
    llm = f"llm {t.llm}" + (f" [{t.llm_layers[0]}, {t.llm_layers[1]})" if t.llm_layers else "")
    return " + ".join([m for m in ("vision", "head", "projector") if getattr(t, m)] + [llm])


def mixture_text(stage: StageConfig) -> str:
    """The stage's mixture, e.g. "instruction, sqrt, all held-in"."""
    data = stage.data
    return f"{data.mode}, {data.rule}, " + (
        "all held-in" if data.datasets is None else f"{len(data.datasets)} datasets"
    )


def power_text(plan: StudyPlan) -> list[str]:
    """The claims' planned power as lines of text (empty without claims)."""
    powers = claim_powers(plan)
    if not powers:
        return []
    p = plan.grid.base.power

    def points(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    rows = [
        [
            c.claim,
            c.measure,
            samples_text(c.samples),
            str(c.seeds),
            points(c.min_effect),
            points(c.mde),
            "yes" if c.mde is not None and c.mde <= c.min_effect else ("?" if c.mde is None else "no"),
            "-" if c.samples_for_d is None else str(c.samples_for_d),
            points(c.measured_mde),
        ]
        for c in powers
    ]
    return [
        "",
        markdown_table(
            [
                "claim",
                "measure",
                "tasks x samples",
                "seeds",
                "d",
                "planned mde",
                "mde <= d",
                "n for mde = d",
                "measured mde",
            ],
            rows,
        ),
        "",
        f"power (points; 80% power, 5% two-sided): planned from a per-sample sd of the paired difference of "
        f"{p.sample_sd:g} and a seed sd of {p.seed_sd:g} per cell (base.power; see instructvl.study.power). "
        "n for mde = d: samples per task that reach d at these seeds ('-': seed noise alone exceeds d, add seeds). "
        "measured mde: from this folder's report, once runs have finished.",
    ]


def plan_text(plan: StudyPlan) -> str:
    """The plan as text: a header, one table row per selected cell, and the estimate."""
    selected = plan.selected
    cells = list(dict.fromkeys(r.cell for r in selected))
    todo = [r for r in selected if not is_finished(r)]
    rows = []
    for name in cells:
        runs = [r for r in selected if r.cell == name]
        run, stage = runs[0], runs[0].config.stages[0]
        ev = run.evaluation
        rows.append(
            [
                name,
                ",".join(str(r.seed) for r in runs),
                f"{stage.steps} x {run.config.batch_size}",
                trainable_text(stage),
                mixture_text(stage),
                f"{','.join(ev.tasks)} x {ev.limit or 'all'}",
                ",".join(run.analyses) or "-",
                duration(run.estimated_seconds()),
                f"{sum(is_finished(r) for r in runs)}/{len(runs)}",
            ]
        )
    e = plan.grid.base.estimate
    return "\n".join(
        [
            f"study {plan.grid.name} ({plan.path}): {len(cells)} cells x {len(selected) // max(1, len(cells))} seeds = "
            f"{len(selected)} runs, scale {plan.scale:g}, out {plan.out}",
            "",
            markdown_table(
                [
                    "cell",
                    "seeds",
                    "steps x batch",
                    "trainable",
                    "mixture",
                    "evaluation (tasks x samples)",
                    "analyses",
                    "est. per run",
                    "finished",
                ],
                rows,
            ),
            "",
            f"estimated time: {duration(sum(r.estimated_seconds() for r in todo))} "
            f"for the {len(todo)} runs not finished "
            f"(base figures: {e.train_step_s:g} s per training step, {e.eval_sample_s:g} s per evaluated sample, "
            f"{e.run_overhead_s:g} s per run, {e.analysis_s:g} s per analysis at scale 1; cells may override them)",
            *power_text(plan),
        ]
    )
