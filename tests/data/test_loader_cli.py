"""Bad input is reported with file and line (or stops with --strict); the CLI commands."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import instructvl.cli.data  # noqa: F401 (registers `instructvl data`)
from instructvl.cli import app
from instructvl.data.synthvl.loader import load_split, read_jsonl
from instructvl.errors import InstructVLError


@pytest.fixture()
def broken(suite, tmp_path):
    """A copy of vqa/val with a malformed line, an unknown key, a missing and a corrupt image."""
    src = suite / "vqa"
    dst = tmp_path / "vqa"
    shutil.copytree(src, dst)
    lines = (dst / "val.jsonl").read_text().splitlines()
    bad = json.loads(lines[2])
    bad["bogus"] = 1
    missing = json.loads(lines[3])
    missing["images"] = ["images/val/nope.png"]
    (dst / json.loads(lines[4])["images"][0]).write_bytes(b"not a png")
    lines[1] = '{"id": "truncated'
    lines[2], lines[3] = json.dumps(bad), json.dumps(missing)
    (dst / "val.jsonl").write_text("\n".join(lines) + "\n")
    return dst / "val.jsonl", len(lines)


def test_bad_lines_are_reported_and_counted(broken):
    path, n = broken
    samples, report = read_jsonl(path)
    assert report.lines == n and report.skipped == 4 and len(samples) == n - 4
    assert [str(p).split(": ")[0] for p in report.problems] == [f"{path}:{i}" for i in (2, 3, 4, 5)]
    assert [p.kind for p in report.problems] == ["malformed", "malformed", "missing_image", "unreadable_image"]
    assert "not valid JSON" in report.problems[0].reason and "unknown sample keys" in report.problems[1].reason
    assert "does not exist" in report.problems[2].reason and "cannot be decoded" in report.problems[3].reason


def test_strict_stops_at_the_first_bad_line(broken):
    path, _ = broken
    with pytest.raises(InstructVLError, match=f"{path}:2: not valid JSON"):
        read_jsonl(path, strict=True)


def test_load_split_resolves_images_and_drops_targets_for_eval(suite):
    test = load_split(suite, "gqa", "test")
    assert all(s.turns[-1].role == "user" and s.answer for s in test)
    assert all(s.images[0].startswith("/") for s in test)
    train = load_split(suite, "vqa", "train", mode="multitask")
    assert train[0].turns[-1].role == "assistant" and train[0].turns[0].content.startswith("[vqa] ")
    with pytest.raises(InstructVLError, match="no split 'train'"):
        load_split(suite, "gqa", "train")


def test_cli_synth_stats_check_show(tmp_path):
    runner = CliRunner()
    out = tmp_path / "s"
    r = runner.invoke(
        app,
        [
            "data",
            "synth",
            "--out",
            str(out),
            "--train",
            "6",
            "--val",
            "2",
            "--test",
            "4",
            "--only",
            "vqa,gqa,coco-cap,msvd",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["data", "stats", str(out)])
    assert r.exit_code == 0, r.output
    stats = json.loads((out / "stats.json").read_text())
    rows = {row["name"]: row for row in stats["datasets"]}
    assert rows["gqa"]["probability"] is None and rows["vqa"]["probability"] > 0
    assert rows["vqa"]["templates"] == 12 and rows["vqa"]["answer_words"]["max"] >= 1
    assert runner.invoke(app, ["data", "check", str(out)]).exit_code == 0
    r = runner.invoke(app, ["data", "show", str(out), "msvd", "--mode", "multitask", "-n", "1"])
    assert r.exit_code == 0 and "[msvd]" in r.output
    (out / "vqa" / "train.jsonl").write_text("{oops\n")
    r = runner.invoke(app, ["data", "check", str(out)])
    assert r.exit_code == 1 and "train.jsonl:1" in r.output


@pytest.fixture()
def schema_breaking(suite, tmp_path):
    """A one-dataset suite (vqa) whose train split has three lines that are valid JSON but
    break the schema (a null turn content, an integer answer with no candidates, no turns)
    and a fourth cut off."""
    shutil.copytree(suite / "vqa", tmp_path / "vqa")
    manifest = json.loads((suite / "manifest.json").read_text())
    manifest["datasets"] = {"vqa": manifest["datasets"]["vqa"]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    path = tmp_path / "vqa" / "train.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines[0]["turns"][1]["content"] = None
    lines[1]["answer"] = 12345
    lines[2]["turns"] = []
    text = [json.dumps(line) for line in lines]
    text[3] = text[3][:30]
    path.write_text("".join(line + "\n" for line in text))
    return tmp_path, path, [line["id"] for line in lines[:4]]


REASONS = [
    "turn 1: assistant turn content is null; expected a string",
    "'answer' is an integer 12345; expected a string, an index into 'candidates' (it has none), or null",
    "no user turn; expected at least one turn with role 'user'",
    "not valid JSON (",
]


def test_samples_breaking_the_schema_are_skipped_naming_file_and_line(schema_breaking):
    root, path, bad_ids = schema_breaking
    samples, report = read_jsonl(path)
    assert len(report.problems) == len(REASONS) and report.loaded == len(samples) == report.lines - len(REASONS)
    for i, (problem, why) in enumerate(zip(report.problems, REASONS), 1):
        assert str(problem).startswith(f"{path}:{i}: {why}")
    assert not set(bad_ids) & {s.id for s in samples}
    with pytest.raises(InstructVLError, match=f"{path}:1: turn 1: assistant turn content is null"):
        read_jsonl(path, strict=True)


def test_training_loads_through_the_same_check_and_collates(schema_breaking, tiny_parts):
    from instructvl.data.synthvl.suite import TrainingStream
    from tests.models.helpers import build

    root, path, bad_ids = schema_breaking
    stream = TrainingStream.open(root, ["vqa"])
    (report,) = stream.reports
    assert [p.where for p in report.problems] == ["line 1", "line 2", "line 3", "line 4"]
    assert [p.reason for p in report.problems[:3]] == REASONS[:3]
    kept = report.lines - len(REASONS)
    assert len(stream.data["vqa"]) == kept and stream.sampler.sizes == {"vqa": kept}
    batch = build(tiny_parts).collator().train_batch([stream.next() for _ in range(8)])
    assert len(batch) == 8 and not set(bad_ids) & set(batch.sample_ids)


def test_data_check_prints_each_problem_once_and_fails(schema_breaking):
    root, path, _ = schema_breaking
    run = subprocess.run(
        [sys.executable, "-c", "from instructvl.cli import main; main()", "data", "check", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    printed = run.stdout + run.stderr
    for i, why in enumerate(REASONS, 1):
        assert printed.count(f"{path}:{i}: ") == 1 and f"{path}:{i}: {why}" in printed
    assert "4 sample(s) skipped" in run.stdout and "Traceback" not in printed
