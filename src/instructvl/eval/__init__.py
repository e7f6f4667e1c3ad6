"""Evaluation: task specs, inference per task (generate or rank), metrics, reports.

    from instructvl.eval.harness import evaluate
    results = evaluate(model, "held-out", "runs/eval-x")                # scores + baselines
    evaluate(model, "held-out", "runs/eval-x-text", no_image=True)      # text-only LLM baseline
    from instructvl.eval.compare import write_comparison
    write_comparison(["runs/eval-x", "runs/eval-x-text"], "runs/compare")

Modules, one concept each: `spec` (TaskSpec, the YAML task files under `tasks/`),
`prepare` (data source -> formatted prompts), `infer` (model outputs, resumable,
sharded), `postprocess` (answer clean-up), `targets` (candidates and references),
`scoring` (outputs -> metric), `baselines` (chance / majority), `report` (results
JSON, markdown), `compare` (runs side by side, bar chart), `records` (run folder files),
`provenance` (versions, model fingerprint), `progress` (bars), `harness` (the phases);
packages `judge` (LLM-as-judge scoring of generate tasks, and its calibration) and
`regression` (what tuning the LLM costs in text: KL from the untouched LLM, scene oracle).
"""
