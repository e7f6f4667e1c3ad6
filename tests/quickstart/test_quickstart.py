"""The quickstart pipeline at a reduced size: tiny model, tiny SynthVL, a few tasks."""

import json

import yaml
from rich.console import Console

from instructvl.quickstart import QuickstartOptions, run_quickstart
from tests.tiny import model_config


def test_quickstart_pipeline_writes_report_plots_and_baselines(tiny_parts, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))
    from instructvl.data.synthvl.generate import Scale, generate_suite

    suite = tmp_path / "suite"
    generate_suite(suite, Scale(train=16, val=8, test=6), seed=0, names=["vqa", "coco-cap", "vsr", "gqa"])
    preset = tmp_path / "tiny.yaml"
    preset.write_text(yaml.safe_dump(json.loads(json.dumps(model_config(tiny_parts)))))
    opts = QuickstartOptions(
        preset=str(preset),
        out=str(tmp_path / "qs"),
        steps=3,
        batch_size=4,
        data=str(suite),
        limit=4,
        train_datasets=["vqa", "coco-cap"],
        held_out_tasks=["vsr", "gqa"],
        held_in_tasks=["vqa"],
        held_in_limit=3,
    )
    summary = run_quickstart(opts, Console(quiet=True))
    out = tmp_path / "qs"
    for name in (
        "report.md",
        "summary.json",
        "training_loss.png",
        "compare/compare.png",
        "train/model/config.json",
        "eval/results.json",
        "eval-held-in/results.json",
        "eval-text-only/results.json",
    ):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in report.splitlines() if line.startswith("| ")}
    assert {"vsr", "gqa", "vqa"} <= set(rows)
    # the held-out generate task's majority is counted on its dev split, the held-in one's on its training split
    assert rows["gqa"].endswith(" (dev) |") and "(dev)" not in rows["vqa"] and "(dev)" not in rows["vsr"]
    assert "(eval)" not in report
    assert "held-out average: model" in report and "text only" in report
    averages = summary["averages"]
    assert set(averages) == {"held-out", "held-in"} and 0 <= averages["held-out"]["score"] <= 1
    assert summary["text_only_averages"]["held-out"]["n_tasks"] == 2
    held_in = json.loads((out / "eval-held-in" / "results.json").read_text())
    assert [(t["task"], t["n"]) for t in held_in["tasks"]] == [("vqa", 3)]
    assert set(summary["seconds"]) == {"data", "train", "eval", "baseline"}
    # a second run reuses the finished training and predictions
    again = run_quickstart(opts, Console(quiet=True))
    assert again["seconds"]["train"] < summary["seconds"]["train"] + 30
    # another training (other steps, other folder) shares the cached text-only predictions
    shared = [p for p in (tmp_path / "cache" / "text-only").rglob("predictions/*.jsonl")]
    assert shared
    stamps = {p: p.stat().st_mtime_ns for p in shared}
    other = run_quickstart(
        QuickstartOptions(**{**opts.__dict__, "out": str(tmp_path / "qs2"), "steps": 2}), Console(quiet=True)
    )
    assert {p: p.stat().st_mtime_ns for p in shared} == stamps
    assert other["text_only_averages"] == summary["text_only_averages"]
    assert (tmp_path / "qs2" / "eval-text-only" / "results.json").is_file()
