"""ScienceQA and IconQA readers (combined json and folder-per-problem layouts)."""

from instructvl.data.formats import read_dataset

from .fixtures import make_images, turns, write_json

SCIENCE_BASE = {
    "hint": "",
    "task": "closed choice",
    "grade": "grade2",
    "subject": "natural science",
    "topic": "biology",
    "category": "Animals",
    "skill": "Identify animals",
    "lecture": "L",
    "solution": "S",
}


def scienceqa_files(tmp_path):
    problems = write_json(tmp_path / "problems.json", {
        "1": {**SCIENCE_BASE, "question": "Which animal's feet are for climbing?", "choices": ["frog", "ape"],
              "answer": 1, "image": "image.png", "split": "test", "hint": "Apes live in trees."},
        "2": {**SCIENCE_BASE, "question": "Which word is a noun?", "choices": ["run", "cat", "red"], "answer": 1,
              "image": None, "split": "test"},
        "3": {**SCIENCE_BASE, "question": "Q3?", "choices": ["a", "b"], "answer": 0, "image": None, "split": "train"},
    })  # fmt: skip
    splits = write_json(tmp_path / "pid_splits.json", {"train": ["3"], "val": [], "test": ["1", "2"], "minival": []})
    return problems, splits


def test_scienceqa_split_and_image_only(tmp_path):
    (image,) = make_images(tmp_path / "images", "test/1/image.png")
    result = read_dataset("scienceqa", scienceqa_files(tmp_path), tmp_path / "images", split="test", image_only=True)
    (sample,) = result.samples
    assert sample.id == "1" and sample.images == [image]
    assert sample.candidates == ["frog", "ape"] and sample.answer == 1
    assert turns(sample) == [("user", "Which animal's feet are for climbing?"), ("assistant", "ape")]
    assert sample.metadata["context"] == "Apes live in trees." and sample.metadata["subject"] == "natural science"
    assert result.filtered == {"no image": 1, "not in split 'test'": 1}


def test_scienceqa_all_questions_without_filters(tmp_path):
    make_images(tmp_path / "images", "test/1/image.png")
    samples = read_dataset("scienceqa", scienceqa_files(tmp_path)[0], tmp_path / "images").samples
    assert [s.id for s in samples] == ["1", "2", "3"]
    assert samples[1].images == [] and "context" not in samples[1].metadata


def test_iconqa_problem_folders(tmp_path):
    root = tmp_path / "iconqa"
    make_images(root / "test/choose_txt/12", "image.png")
    write_json(root / "test/choose_txt/12/data.json", {
        "question": "How many dots?", "choices": ["4", "5", "6"], "answer": 1, "ques_type": "choose_txt",
        "grade": "prek", "label": "count"})  # fmt: skip
    make_images(root / "test/choose_img/30", "image.png", "choice_0.png", "choice_1.png")
    write_json(root / "test/choose_img/30/data.json", {
        "question": "Which is a triangle?", "choices": ["choice_0.png", "choice_1.png"], "answer": 0,
        "ques_type": "choose_img", "grade": "grade1", "label": "shapes"})  # fmt: skip
    make_images(root / "train/fill_in_blank/7", "image.png")
    write_json(
        root / "train/fill_in_blank/7/data.json",
        {"question": "What time is it? ___ o'clock", "choices": [], "answer": "3", "ques_type": "fill_in_blank"},
    )
    samples = {s.id: s for s in read_dataset("iconqa", root).samples}
    txt, img, blank = samples["12"], samples["30"], samples["7"]
    assert txt.images == [str(root / "test/choose_txt/12/image.png")]
    assert txt.candidates == ["4", "5", "6"] and txt.answer == 1 and turns(txt)[-1] == ("assistant", "5")
    assert img.metadata["choice_images"] == [str(root / "test/choose_img/30" / f"choice_{k}.png") for k in (0, 1)]
    assert img.answer == 0 and img.metadata["split"] == "test"
    assert blank.candidates is None and blank.answer == "3" and blank.references == ["3"]
    only_test = read_dataset("iconqa", root, split="test", task="choose_txt")
    assert [s.id for s in only_test.samples] == ["12"]


def test_iconqa_combined_problems_json(tmp_path):
    make_images(tmp_path / "iconqa", "val/choose_txt/5/image.png")
    problems = write_json(
        tmp_path / "problems.json",
        {"5": {"question": "Which shape?", "choices": ["circle", "square"], "answer": 0, "ques_type": "choose_txt"}},
    )
    splits = write_json(tmp_path / "pid_splits.json", {"choose_txt_val": ["5"], "choose_txt_train": []})
    (sample,) = read_dataset("iconqa", [problems, splits], tmp_path / "iconqa", split="val").samples
    assert sample.images == [str(tmp_path / "iconqa/val/choose_txt/5/image.png")] and sample.answer == 0
