"""Visual Dialog v1.0 reader: 100 options per round, history as earlier turns."""

from instructvl.data.formats import read_dataset

from .fixtures import make_images, turns, write_json


def visdial_file(tmp_path, split="val2018", test=False):
    questions = ["is it sunny", "how many people", "any dogs"]
    answers = [f"answer {i}" for i in range(120)]
    rounds = [{"question": q, "answer": 10 + q, "answer_options": list(range(q, q + 100)), "gt_index": 10}
              for q in range(3)]  # fmt: skip
    if test:
        rounds = [{"question": 0, "answer": 10}, {"question": 1, "answer_options": list(range(100))}]
    dialog = {"image_id": 185565, "caption": "a man on a bench", "dialog": rounds}
    data = {"dialogs": [dialog], "questions": questions, "answers": answers}
    return write_json(tmp_path / f"visdial_1.0_{split}.json", {"version": "1.0", "split": split, "data": data})


def test_visdial_one_sample_per_round_with_history(tmp_path):
    (image,) = make_images(tmp_path / "VisualDialog_val2018", "VisualDialog_val2018_000000185565.jpg")
    samples = read_dataset("visdial", visdial_file(tmp_path), tmp_path / "VisualDialog_val2018").samples
    assert [s.id for s in samples] == ["185565_1", "185565_2", "185565_3"]
    third = samples[2]
    assert third.images == [image] and len(third.candidates) == 100
    assert third.candidates[0] == "answer 2" and third.answer == 10 and third.candidates[10] == "answer 12"
    assert turns(third) == [
        ("user", "is it sunny"), ("assistant", "answer 10"),
        ("user", "how many people"), ("assistant", "answer 11"),
        ("user", "any dogs"), ("assistant", "answer 12"),
    ]  # fmt: skip
    assert third.metadata["caption"] == "a man on a bench" and third.metadata["round"] == 3
    assert third.metadata["task"] == "dialog"


def test_visdial_test_split_last_round_without_answer(tmp_path):
    make_images(tmp_path, "VisualDialog_test2018_000000185565.jpg")
    (sample,) = read_dataset("visdial", visdial_file(tmp_path, "test2018", test=True)).samples
    assert sample.id == "185565_2" and sample.answer is None
    assert turns(sample) == [("user", "is it sunny"), ("assistant", "answer 10"), ("user", "how many people")]
