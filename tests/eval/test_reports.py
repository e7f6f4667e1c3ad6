"""Reports and comparison through the command line: results.json, report.md, the
text-only baseline run, and `instructvl compare` (markdown, JSON, PNG)."""

import json

import pytest
import torch
import yaml
from typer.testing import CliRunner

from instructvl.cli import _register, app
from instructvl.data.schema import Sample
from instructvl.eval.compare import compare_runs, relative
from instructvl.eval.records import read_jsonl
from instructvl.eval.spec import all_specs
from instructvl.eval.targets import gold_index
from tests.tiny import model_config

SPECS = all_specs()

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tiny_parts, suite, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump(json.loads(json.dumps(model_config(tiny_parts)))))
    threads = torch.get_num_threads()  # `eval --threads 1` (its default) sets it process-wide
    for name, extra in (("with-image", []), ("text-only", ["--no-image"])):
        args = [
            "eval",
            "--model",
            str(config),
            "--tasks",
            "vsr,memes,gqa,vqa",
            "--data",
            str(suite),
            "--limit",
            "4",
            "--out",
            str(root / name),
            "--no-progress",
            *extra,
        ]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    torch.set_num_threads(threads)
    return root


def test_results_and_report_hold_every_task(runs):
    results = json.loads((runs / "with-image" / "results.json").read_text())
    report = (runs / "with-image" / "report.md").read_text()
    assert [t["task"] for t in results["tasks"]] == ["vsr", "memes", "gqa", "vqa"]
    for task in results["tasks"]:
        values = [row["value"] for row in read_jsonl(runs / "with-image" / "scored" / f"{task['task']}.jsonl")]
        if task["metric"] != "auc":
            assert task["score"] == pytest.approx(sum(values) / len(values))
        lo, hi = task["ci"]
        assert lo <= task["score"] <= hi and (lo < hi or len(set(values)) == 1)
        row = f"| {task['task']} | {task['group']} | {task['metric']} | 4 | {100 * task['score']:.2f} "
        assert row + f"[{100 * lo:.1f}, {100 * hi:.1f}] |" in report
        assert task["spec_hash"] and task["spec"]["normalisation"] in ("sum", "mean") and task["seed"] == 0
        rows = read_jsonl(runs / "with-image" / "predictions" / f"{task['task']}.jsonl")
        if task["spec"]["output"] == "generate":  # the gold answer, teacher-forced after generating
            per_token = [row["gold"][0] / row["gold"][1] for row in rows]
        else:  # the gold candidate's own score
            prepared = {r["id"]: r for r in read_jsonl(runs / "with-image" / "prepared" / f"{task['task']}.jsonl")}
            gold = [gold_index(SPECS[task["task"]], Sample.from_json(prepared[row["id"]])) for row in rows]
            per_token = [row["scores"][g][0] / row["scores"][g][1] for row, g in zip(rows, gold)]
        companion = task["gold_logprob"]
        assert companion["mean"] == pytest.approx(sum(per_token) / 4) and companion["mean"] < 0
        assert companion["ci"][0] <= companion["mean"] <= companion["ci"][1]
    held_out = [t["score"] for t in results["tasks"] if t["group"] == "held-out"]
    assert results["averages"]["held-out"]["score"] == pytest.approx(sum(held_out) / 3)
    lo, hi = results["averages"]["held-out"]["ci"]
    task_cis = [t["ci"] for t in results["tasks"] if t["group"] == "held-out"]
    assert sum(c[0] for c in task_cis) / 3 <= lo < hi <= sum(c[1] for c in task_cis) / 3  # averaging narrows
    assert results["averages"]["held-in"]["tasks"] == ["vqa"]
    assert "held-out average" in report and "held-in average" in report
    run = results["run"]
    assert run["model"]["config"]["head"]["type"] == "instructblip-qformer"
    assert {"torch", "transformers", "instructvl"} <= set(run["versions"]["packages"]) and run["no_image"] is False
    vqa = next(t for t in results["tasks"] if t["task"] == "vqa")
    assert vqa["baseline"]["kind"] == "majority" and vqa["baseline"]["source"] == "train"
    lo, hi = vqa["baseline"]["ci"]  # the majority answer's score, resampled like the model's
    assert lo <= vqa["baseline"]["score"] <= hi


def test_compare_puts_runs_side_by_side(runs, tmp_path):
    result = runner.invoke(app, ["compare", str(runs / "with-image"), str(runs / "text-only"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cmp = json.loads((tmp_path / "compare.json").read_text())
    assert cmp["runs"] == ["with-image", "text-only"]
    direct = compare_runs([runs / "with-image", runs / "text-only"])
    assert cmp["rows"] == json.loads(json.dumps(direct["rows"]))
    text_only = json.loads((runs / "text-only" / "results.json").read_text())
    assert text_only["run"]["no_image"] is True
    for row, task in zip(cmp["rows"], text_only["tasks"]):
        assert row["scores"][1] == task["score"]
        assert row["relative"][1] == relative(task["score"], row["scores"][0])
    assert [r["task"] for r in cmp["rows"]][-2:] == ["held-in average", "held-out average"]
    assert "| vsr | top1 |" in (tmp_path / "compare.md").read_text()
    paired = {(r["task"]): r for r in cmp["paired"] if r["run"] == "text-only" and r["versus"] == "with-image"}
    assert set(paired) == {"vsr", "memes", "gqa", "vqa", "held-in average", "held-out average"}
    for row in cmp["rows"]:
        if row["task"] in paired and row["scores"][1] is not None:
            assert paired[row["task"]]["diff"] == pytest.approx(row["scores"][1] - row["scores"][0])
            lo, hi = paired[row["task"]]["ci"]
            assert lo <= paired[row["task"]]["diff"] <= hi
    assert "## Paired differences" in (tmp_path / "compare.md").read_text()


def test_relative_difference():
    assert relative(0.6, 0.5) == pytest.approx(0.2) and relative(0.4, -0.5) == pytest.approx(1.8)
    assert relative(0.3, 0) is None and relative(None, 0.5) is None


def test_cli_errors_are_clear(runs):
    result = runner.invoke(app, ["eval", "--tasks", "held-out,bogus"])
    assert "unknown task 'bogus'" in str(result.exception)
    result = runner.invoke(app, ["eval", "--tasks", "vsr", "--shard", "2/2"])
    assert "--shard must be I/N" in str(result.exception)
    result = runner.invoke(app, ["compare", str(runs / "nowhere")])
    assert "has no results.json" in str(result.exception)
