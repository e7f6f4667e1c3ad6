"""Studies: named grids of configs (`configs/study/*.yaml`), several seeds per cell, one
report with mean ± std tables and plots.

    from instructvl.study.expand import plan_study
    from instructvl.study.runner import run_study
    plan = plan_study("families", scale=0.05, seeds=2, cells=["instructblip", "blip2"])
    results = run_study(plan, console)     # <out>/report.md, results.json, *.png

grid.py (the YAML schema), expand.py (cells x seeds -> training configs), runner.py (train,
evaluate, analyse, resume), analyses.py (probes / interventions per run), task_types.py,
stats.py (mean / std, "no difference"), aggregate.py, report.py, plots.py, plan.py (dry run).
"""
