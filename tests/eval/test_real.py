"""Real-benchmark tasks on fixtures written in their public formats (the tests/formats
helpers), laid out under a data root as the specs in eval/tasks/benchmarks.yaml expect."""

import json

import pytest

from instructvl.errors import InstructVLError
from instructvl.eval.harness import evaluate
from instructvl.eval.records import read_jsonl
from tests.formats.fixtures import make_images, write_json, write_lines
from tests.formats.test_dialog import visdial_file
from tests.formats.test_science import scienceqa_files

TASKS = "real-flickr30k,real-msrvtt,real-vsr,real-scienceqa,real-visdial,real-hatefulmemes"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("benchmarks")
    make_images(root / "flickr30k" / "images", "1.jpg", "2.jpg")
    write_json(root / "flickr30k" / "dataset_flickr30k.json", {"images": [
        {"imgid": i, "filename": f"{i}.jpg", "split": "test",
         "sentences": [{"raw": f"a dog {i}."}, {"raw": "a dog runs."}]}
        for i in (1, 2)]})  # fmt: skip
    make_images(root / "msrvtt" / "videos" / "video7", *[f"frame_{i}.jpg" for i in range(1, 9)])
    write_json(root / "msrvtt" / "test_qa.json", [{"id": 1, "video_id": 7, "question": "who talks?", "answer": "man"}])
    make_images(root / "vsr" / "images", "5.jpg")
    write_lines(
        root / "vsr" / "test.jsonl",
        [
            json.dumps({"image": "5.jpg", "caption": c, "label": y})
            for c, y in (("The cat is on the mat.", 1), ("The mat is on the cat.", 0))
        ],
    )
    make_images(root / "scienceqa" / "images", "test/1/image.png")
    scienceqa_files(root / "scienceqa")
    make_images(root / "visdial" / "images", "VisualDialog_val_000000185565.jpg")
    visdial_file(root / "visdial", split="val")
    make_images(root / "hateful_memes", "img/1.png", "img/2.png")
    write_lines(
        root / "hateful_memes" / "dev_seen.jsonl",
        [json.dumps({"id": i, "img": f"img/{i}.png", "label": i - 1, "text": f"meme text {i}"}) for i in (1, 2)],
    )
    return root


def test_real_tasks_prepare_infer_and_score(model, data_root, tmp_path):
    results = evaluate(model, TASKS, tmp_path, data_root=data_root, progress=False, announce=lambda m: None)
    tasks = {t["task"]: t for t in results["tasks"]}
    assert set(tasks) == set(TASKS.split(",")) and all(t["score"] is not None for t in tasks.values())
    assert tasks["real-visdial"]["n"] == 3 and "r@10" in tasks["real-visdial"]["extra"]
    assert tasks["real-scienceqa"]["n"] == 1 and tasks["real-scienceqa"]["baseline"]["score"] == 0.5
    flickr = tasks["real-flickr30k"]["baseline"]  # no training split in the spec: no baseline, never a peek
    assert flickr["kind"] == "majority" and flickr["source"] == "none" and flickr["score"] is None
    assert results["averages"]["real"]["n_tasks"] == 6 and results["averages"]["real"]["baseline"] is None

    prompts = {t: read_jsonl(tmp_path / "prepared" / f"{t}.jsonl") for t in tasks}
    vsr = prompts["real-vsr"][0]
    assert vsr["candidates"] == ["false", "true"] and vsr["metadata"]["task"] == "true_false"
    assert "The cat is on the mat." in vsr["turns"][-1]["content"] and vsr["turns"][-1]["role"] == "user"
    assert len(prompts["real-msrvtt"][0]["images"]) == 4
    caption = prompts["real-flickr30k"][0]["turns"]
    assert len(caption) == 1 and caption[0]["content"]  # the caption template became the instruction
    science = prompts["real-scienceqa"][0]["turns"][-1]["content"]
    assert "(a) frog (b) ape" in science


def test_missing_benchmark_data_names_the_expected_path(model, tmp_path):
    with pytest.raises(InstructVLError, match="gqa/testdev_balanced_questions.json.*--data-root"):
        evaluate(model, "real-gqa", tmp_path / "run", data_root=tmp_path, progress=False)
