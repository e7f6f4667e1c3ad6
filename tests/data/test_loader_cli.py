"""Bad input is reported with file and line (or stops with --strict); the CLI commands."""

from __future__ import annotations

import json
import shutil

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
    assert [p.split(": ")[0] for p in report.problems] == [f"{path}:{i}" for i in (2, 3, 4, 5)]
    assert "malformed" in report.problems[0] and "unknown sample keys" in report.problems[1]
    assert "missing" in report.problems[2] and "unreadable" in report.problems[3]


def test_strict_stops_at_the_first_bad_line(broken):
    path, _ = broken
    with pytest.raises(InstructVLError, match=f"{path}:2: malformed"):
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
