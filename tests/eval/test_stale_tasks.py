"""set_aside_stale: a folder the quickstart owns redoes just the tasks whose spec changed,
keeping the old files under stale/."""

import json

from instructvl.eval.harness import set_aside_stale
from instructvl.eval.spec import resolve_tasks, spec_hash


def test_changed_tasks_are_moved_aside_and_dropped_from_run_json(tmp_path):
    gqa, vsr = resolve_tasks(["gqa", "vsr"])
    (tmp_path / "run.json").write_text(json.dumps({"seed": 0, "tasks": {"gqa": "0123abcd", "vsr": spec_hash(vsr)}}))
    for sub, suffix in (("prepared", ".jsonl"), ("prepared", ".json"), ("predictions", ".jsonl"), ("scored", ".jsonl")):
        (tmp_path / sub).mkdir(exist_ok=True)
        for task in ("gqa", "vsr"):
            (tmp_path / sub / f"{task}{suffix}").write_text(f"{task} {sub}")
    assert set_aside_stale(tmp_path, [gqa, vsr]) == ["gqa"]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["tasks"] == {"vsr": spec_hash(vsr)} and run["seed"] == 0
    aside = tmp_path / "stale" / "gqa-0123abcd"
    assert (aside / "predictions" / "gqa.jsonl").read_text() == "gqa predictions"
    assert sorted(p.name for p in (aside / "prepared").iterdir()) == ["gqa.json", "gqa.jsonl"]
    assert not (tmp_path / "predictions" / "gqa.jsonl").exists()
    assert (tmp_path / "predictions" / "vsr.jsonl").read_text() == "vsr predictions"
    assert set_aside_stale(tmp_path, [gqa, vsr]) == []  # nothing stale any more


def test_a_folder_without_a_run_is_left_alone(tmp_path):
    assert set_aside_stale(tmp_path, resolve_tasks(["gqa"])) == []
    assert list(tmp_path.iterdir()) == []
