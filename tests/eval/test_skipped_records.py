"""Records an evaluation cannot read (a cut-off line, a missing, truncated or empty image)
are skipped before inference, and listed in the run folder, results.json and the report."""

import json

from PIL import Image

from instructvl.eval.harness import evaluate
from instructvl.eval.records import read_json, read_jsonl
from tests.formats.fixtures import make_images, write_lines


def meme(i: int, label: int) -> str:
    return json.dumps({"id": i, "img": f"img/{i}.png", "label": label, "text": f"meme text {i}"})


def test_unreadable_records_are_skipped_listed_and_counted(model, tmp_path):
    root = tmp_path / "data"
    make_images(root / "hateful_memes", "img/1.png", "img/2.png", "img/6.png", "img/7.png")
    truncated = root / "hateful_memes" / "img" / "4.png"  # a PNG whose header reads, cut in its pixel data
    Image.effect_noise((64, 64), 50).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:4000])
    (root / "hateful_memes" / "img" / "5.png").write_bytes(b"")
    annotations = write_lines(root / "hateful_memes" / "dev_seen.jsonl", [
        meme(1, 0),
        meme(2, 1)[:25],  # a cut-off line
        meme(3, 1),  # no image file
        meme(4, 1),  # a truncated PNG
        meme(5, 0),  # a 0-byte file
        meme(6, 1),
        meme(7, 0),
    ])  # fmt: skip
    run = tmp_path / "run"
    results = evaluate(model, "real-hatefulmemes", run, data_root=root, progress=False, announce=lambda m: None)

    expected = [("line 2", "malformed"), ("line 3", "missing_image"), ("line 4", "unreadable_image"),
                ("line 5", "unreadable_image")]  # fmt: skip
    listed = read_json(run / "prepared" / "real-hatefulmemes.json")["skipped"]
    assert [(p["file"], p["where"], p["kind"]) for p in listed] == [(str(annotations), *e) for e in expected]
    assert "not valid JSON" in listed[0]["reason"] and "img/3.png" in listed[1]["reason"]
    assert "4.png cannot be decoded (OSError: image file is truncated" in listed[2]["reason"]
    assert "5.png cannot be decoded" in listed[3]["reason"]
    (task,) = results["tasks"]
    assert task["n"] == 3 and task["n_skipped"] == 4 and task["skipped"] == listed and task["score"] is not None
    assert sorted(row["id"] for row in read_jsonl(run / "predictions" / "real-hatefulmemes.jsonl")) == ["1", "6", "7"]
    assert json.loads((run / "results.json").read_text())["tasks"][0]["skipped"] == listed

    report = (run / "report.md").read_text()
    assert "| real-hatefulmemes | real | auc | 3 (4 skipped) |" in report
    assert "## Skipped records" in report
    assert f"- real-hatefulmemes: {annotations}:2: not valid JSON" in report
    assert f"- real-hatefulmemes: {annotations}:3: {listed[1]['reason']} (missing_image)" in report
    assert report.count("(unreadable_image)") == 2
