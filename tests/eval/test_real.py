"""Real-benchmark tasks on fixtures written in their public formats (the tests/formats
helpers), laid out under a data root as their archives unpack (the layouts that
eval/tasks/benchmarks.yaml and the README accept): prompts as the InstructBLIP protocol
words them, with the context it gives the model; and `instructvl eval --dry-run`."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from instructvl.cli import _register, app
from instructvl.errors import InstructVLError
from instructvl.eval.harness import evaluate
from instructvl.eval.prepare import prepare_samples
from instructvl.eval.records import read_jsonl
from instructvl.eval.spec import all_specs, resolve_tasks
from tests.formats.fixtures import make_images, write_json, write_lines
from tests.formats.test_dialog import visdial_file
from tests.formats.test_science import scienceqa_files
from tests.formats.test_textrich import OCR
from tests.formats.test_vqa import vqa_files

TASKS = "real-flickr30k,real-msrvtt,real-vsr,real-scienceqa,real-visdial,real-hatefulmemes"

PROMPTS = {
    "real-nocaps": "A short image description:",
    "real-flickr30k": "A short image description:",
    "real-gqa": "Question: Is the sky dark? Short answer:",
    "real-vsr": 'Based on the image, is this statement true or false? "The cat is on the mat." Answer:',
    "real-iconqa": "Question: How many dots? Options: (a) 4 (b) 5 (c) 6. Short answer:",
    "real-textvqa": "OCR tokens: NOKIA, 5:30. Question: what brand is the phone? Short answer:",
    "real-visdial": "Dialog history: a man on a bench\n Question: is it sunny Short answer:",
    "real-hatefulmemes": 'This is an image with: "meme text 1" written on it. Is it hateful? Answer:',
    "real-vizwiz": "Question: What is this? Short answer:",
    "real-scienceqa": "Context: Apes live in trees. Question: Which animal's feet are for climbing? "
    "Options: (a) frog (b) ape. Answer:",
    "real-msvd": "Question: what is chewing? Short answer:",
    "real-msrvtt": "Question: who talks? Short answer:",
    "real-ivqa": "Question: what is the man cutting Short answer:",
    "real-coco": "A short image description:",
    "real-textcaps": "A short image description: OCR tokens: NOKIA, 5:30.",
    "real-vqav2": "Question: Is there a dog? Short answer:",
    "real-okvqa": "Question: Is there a dog? Short answer:",
    "real-aokvqa": "Question: What is in the mouth? Options: (a) toothpick (b) cigarette. Short answer:",
    "real-ocrvqa": "Question: Who wrote this book? Short answer:",
}


def frames(folder, count=8):
    """A frame folder of `count` frames; their paths."""
    return make_images(folder, *[f"frame_{i}.jpg" for i in range(1, count + 1)])


def held_out_benchmarks(root):
    """The 13 held-out benchmarks, several in the layout their archives unpack to."""
    make_images(root / "nocaps" / "images", "0013ea2087020901.jpg")
    write_json(root / "nocaps" / "nocaps_val_4500_captions.json", {
        "images": [{"id": 0, "file_name": "0013ea2087020901.jpg", "domain": "in-domain"}],
        "annotations": [{"id": 1, "image_id": 0, "caption": "A dog."}]})  # fmt: skip
    make_images(root / "flickr30k" / "flickr30k-images", "1.jpg", "2.jpg")  # as flickr30k-images.tar.gz unpacks
    write_json(root / "flickr30k" / "dataset_flickr30k.json", {"images": [
        {"imgid": i, "filename": f"{i}.jpg", "split": "test",
         "sentences": [{"raw": f"a dog {i}."}, {"raw": "a dog runs."}]}
        for i in (1, 2)]})  # fmt: skip
    make_images(root / "gqa" / "images", "2354786.jpg")
    write_json(root / "gqa" / "testdev_balanced_questions.json",
               {"02930152": {"imageId": "2354786", "question": "Is the sky dark?", "answer": "yes"}})  # fmt: skip
    make_images(root / "vsr" / "images", "5.jpg")
    statements = (("The cat is on the mat.", 1), ("The mat is on the cat.", 0))
    write_lines(
        root / "vsr" / "test.jsonl", [json.dumps({"image": "5.jpg", "caption": c, "label": y}) for c, y in statements]
    )
    tree = root / "iconqa" / "iconqa_data" / "iconqa"  # as iconqa_data.zip unpacks
    make_images(tree / "test/choose_txt/12", "image.png")
    write_json(tree / "test/choose_txt/12/data.json", {
        "question": "How many dots?", "choices": ["4", "5", "6"], "answer": 1, "ques_type": "choose_txt"})  # fmt: skip
    make_images(tree / "train/choose_txt/13", "image.png")
    write_json(tree / "train/choose_txt/13/data.json",
               {"question": "Q?", "choices": ["a", "b"], "answer": 0, "ques_type": "choose_txt"})  # fmt: skip
    make_images(root / "textvqa" / "train_images", "003a8ae2ef43b901.jpg")  # as train_val_images.zip unpacks
    write_json(root / "textvqa" / "TextVQA_0.5.1_val.json", {"data": [{
        "question": "what brand is the phone?", "image_id": "003a8ae2ef43b901", "answers": ["nokia"] * 10,
        "question_id": 34602, "set_name": "val"}]})  # fmt: skip
    write_json(root / "textvqa" / "TextVQA_Rosetta_OCR_v0.2_val.json", OCR)
    make_images(root / "visdial" / "images", "VisualDialog_val_000000185565.jpg")
    visdial_file(root / "visdial", split="val")
    make_images(root / "hateful_memes", "img/1.png", "img/2.png")
    memes = [{"id": i, "img": f"img/{i}.png", "label": i - 1, "text": f"meme text {i}"} for i in (1, 2)]
    write_lines(root / "hateful_memes" / "dev_seen.jsonl", [json.dumps(m) for m in memes])
    make_images(root / "vizwiz" / "val", "VizWiz_val_00000000.jpg")  # as val.zip unpacks
    soup = [{"answer": "soup"}] * 10
    write_json(
        root / "vizwiz" / "val.json",
        [{"image": "VizWiz_val_00000000.jpg", "question": "What is this?", "answers": soup}],
    )
    make_images(root / "scienceqa" / "images", "test/1/image.png")
    scienceqa_files(root / "scienceqa")
    frames(root / "msvd" / "videos" / "-4wsuPCjDBc_5_15")  # frames extracted into a clip-named folder
    write_json(
        root / "msvd" / "test_qa.json", [{"answer": "animal", "id": 0, "question": "what is chewing?", "video_id": 1}]
    )
    write_lines(root / "msvd" / "youtube_mapping.txt", ["-4wsuPCjDBc_5_15 vid1"])  # beside test_qa.json, as shipped
    frames(root / "msrvtt" / "videos" / "video7")
    write_json(root / "msrvtt" / "test_qa.json", [{"id": 1, "video_id": 7, "question": "who talks?", "answer": "man"}])
    frames(root / "ivqa" / "videos" / "abc123_10_25")
    header = "video_id,start,end,question,answer1,answer2,answer3,answer4,answer5"
    write_lines(
        root / "ivqa" / "test.csv", [header, "abc123,10,25,what is the man cutting,onion,onion,carrot,onion,onions"]
    )


def held_in_benchmarks(root):
    """The held-in benchmarks' val splits; COCO images shared under coco/."""
    make_images(root / "coco", "val2014/COCO_val2014_000000000042.jpg", "val2017/000000461751.jpg")
    write_json(root / "coco" / "dataset_coco.json", {"images": [
        {"filepath": "val2014", "filename": "COCO_val2014_000000000042.jpg", "imgid": 0, "cocoid": 42, "split": "val",
         "sentences": [{"raw": "A dog."}]}]})  # fmt: skip
    vqa_files(root / "vqav2")
    questions, annotations = vqa_files(root / "okvqa")
    questions.rename(root / "okvqa" / "OpenEnded_mscoco_val2014_questions.json")
    annotations.rename(root / "okvqa" / "mscoco_val2014_annotations.json")
    write_json(root / "aokvqa" / "aokvqa_v1p0_val.json", [{
        "split": "val", "image_id": 461751, "question_id": "22jb", "question": "What is in the mouth?",
        "choices": ["toothpick", "cigarette"], "correct_choice_idx": 1,
        "direct_answers": ["cigarette"] * 10}])  # fmt: skip
    write_json(root / "textcaps" / "TextCaps_0.1_val.json", {"data": [{
        "image_id": "003a8ae2ef43b901", "image_path": "train/003a8ae2ef43b901.jpg", "caption_str": "A Nokia phone.",
        "reference_strs": ["A Nokia phone."], "set_name": "val"}]})  # fmt: skip
    make_images(root / "ocrvqa" / "images", "1048746.jpg")
    write_json(root / "ocrvqa" / "dataset.json", {"1048746": {
        "imageURL": "http://x/51Xx.jpg", "questions": ["Who wrote this book?"], "answers": ["Bernard Roth"],
        "split": 2}})  # fmt: skip


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("benchmarks")
    held_out_benchmarks(root)
    held_in_benchmarks(root)
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
    assert vsr["candidates"] == ["false", "true"] and vsr["metadata"]["task"] == "instructblip/vsr"
    assert vsr["turns"] == [{"role": "user", "content": PROMPTS["real-vsr"]}]
    assert len(prompts["real-msrvtt"][0]["images"]) == 4
    assert prompts["real-flickr30k"][0]["turns"] == [{"role": "user", "content": PROMPTS["real-flickr30k"]}]


@pytest.mark.parametrize("name", list(PROMPTS))
def test_every_real_prompt_follows_the_protocol_on_the_published_layout(data_root, name):
    (sample,) = prepare_samples(all_specs()[name], data_root=data_root, limit=1)
    assert [(t.role, t.content) for t in sample.turns] == [("user", PROMPTS[name])]
    assert sample.images and all(Path(p).is_file() for p in sample.images)


def test_published_layouts_are_where_the_images_are_found(data_root):
    def images(name):
        return prepare_samples(all_specs()[name], data_root=data_root, limit=1)[0].images

    assert images("real-textvqa") == [str(data_root / "textvqa/train_images/003a8ae2ef43b901.jpg")]
    assert images("real-vizwiz") == [str(data_root / "vizwiz/val/VizWiz_val_00000000.jpg")]
    assert images("real-flickr30k") == [str(data_root / "flickr30k/flickr30k-images/1.jpg")]
    assert images("real-iconqa") == [str(data_root / "iconqa/iconqa_data/iconqa/test/choose_txt/12/image.png")]
    clip = data_root / "msvd/videos/-4wsuPCjDBc_5_15"
    assert images("real-msvd") == [str(clip / f"frame_{i}.jpg") for i in (2, 4, 6, 8)]


def test_visdial_history_starts_with_the_caption(data_root):
    third = prepare_samples(all_specs()["real-visdial"], data_root=data_root)[2]
    history = "a man on a bench Q: is it sunny A: answer 10 Q: how many people A: answer 11"
    assert [t.content for t in third.turns] == [f"Dialog history: {history}\n Question: any dogs Short answer:"]
    assert len(third.candidates) == 100 and third.answer == 10


def test_held_in_real_benchmarks_are_a_group_of_their_own():
    held_in = [s.name for s in resolve_tasks("real-held-in")]
    assert held_in == ["real-coco", "real-textcaps", "real-vqav2", "real-okvqa", "real-aokvqa", "real-ocrvqa"]
    assert {s.group for s in resolve_tasks("real-held-in")} == {"real-held-in"}
    assert len(resolve_tasks("real")) == 13 and not set(held_in) & {s.name for s in resolve_tasks("real")}


def test_missing_benchmark_data_names_the_expected_path(model, tmp_path):
    with pytest.raises(InstructVLError, match="gqa/testdev_balanced_questions.json.*--data-root"):
        evaluate(model, "real-gqa", tmp_path / "run", data_root=tmp_path, progress=False)


def test_dry_run_prints_one_rendered_prompt_per_task(data_root, tmp_path):
    _register()
    result = CliRunner().invoke(app, ["eval", "--tasks", "real", "--data-root", str(data_root), "--dry-run"])
    assert result.exit_code == 0, result.output
    for name in resolve_tasks("real"):
        assert f"{name.name} (real; template instructblip/" in result.output
    assert f"[user] {PROMPTS['real-scienceqa']}" in result.output
    assert "ranked by mean log-probability: frog | ape; metric top1" in result.output
    assert "generated (beam 5, length penalty -1.0, at most 10 tokens); metric vqa_accuracy" in result.output
    missing = CliRunner().invoke(app, ["eval", "--tasks", "real-gqa", "--data-root", str(tmp_path), "--dry-run"])
    assert missing.exit_code == 1 and "real-gqa: cannot prepare" in missing.output
