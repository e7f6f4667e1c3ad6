"""VQAv2, OK-VQA, VizWiz, A-OKVQA and GQA readers on fixtures in their formats."""

from instructvl.data.formats import read_dataset

from .fixtures import make_images, turns, write_json

TEN = ["yes"] * 7 + ["yeah", "no", "yes"]


def vqa_files(tmp_path, subtype="val2014", answers=TEN):
    questions = write_json(tmp_path / f"v2_OpenEnded_mscoco_{subtype}_questions.json", {
        "info": {}, "task_type": "Open-Ended", "data_type": "mscoco", "data_subtype": subtype, "license": {},
        "questions": [{"image_id": 42, "question": "Is there a dog?", "question_id": 420001}],
    })  # fmt: skip
    annotations = write_json(tmp_path / f"v2_mscoco_{subtype}_annotations.json", {
        "info": {}, "data_subtype": subtype, "annotations": [{
            "question_type": "is there a", "multiple_choice_answer": "yes", "image_id": 42,
            "answer_type": "yes/no", "question_id": 420001,
            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i + 1} for i, a in enumerate(answers)],
        }],
    })  # fmt: skip
    return questions, annotations


def test_vqav2_questions_and_annotations(tmp_path):
    (image,) = make_images(tmp_path / "images", "val2014/COCO_val2014_000000000042.jpg")
    result = read_dataset("vqav2", vqa_files(tmp_path), tmp_path / "images")
    (sample,) = result.samples
    assert sample.id == "420001" and sample.images == [image]
    assert turns(sample) == [("user", "Is there a dog?"), ("assistant", "yes")]
    assert sample.references == TEN and sample.answer == "yes"
    assert sample.metadata["question"] == "Is there a dog?"
    assert sample.metadata["answer_type"] == "yes/no"


def test_vqav2_test_split_without_annotations_has_no_answer(tmp_path):
    make_images(tmp_path, "COCO_test2015_000000000042.jpg")
    questions, _ = vqa_files(tmp_path, subtype="test2015")
    (sample,) = read_dataset("vqav2", questions).samples
    assert sample.answer is None and sample.references is None
    assert turns(sample) == [("user", "Is there a dog?")]


def test_okvqa_finds_image_by_id_anywhere_under_root(tmp_path):
    (image,) = make_images(tmp_path / "coco", "some/dir/COCO_val2014_000000000042.jpg")
    answers = ["race", "race", "racing", "race", "race", "race", "racing", "race", "race", "race"]
    result = read_dataset("okvqa", vqa_files(tmp_path, answers=answers), tmp_path / "coco")
    (sample,) = result.samples
    assert sample.images == [image] and sample.references == answers and sample.dataset == "okvqa"


def test_vizwiz_answers_and_answerable(tmp_path):
    make_images(tmp_path / "val", "VizWiz_val_00000000.jpg", "VizWiz_val_00000001.jpg")
    ann = write_json(tmp_path / "val.json", [
        {"image": "VizWiz_val_00000000.jpg", "question": "What is this?", "answer_type": "other", "answerable": 1,
         "answers": [{"answer": "soup", "answer_confidence": "yes"}] * 6
         + [{"answer": "can", "answer_confidence": "maybe"}] * 4},
        {"image": "VizWiz_val_00000001.jpg", "question": "Color?", "answer_type": "unanswerable", "answerable": 0,
         "answers": [{"answer": "unanswerable", "answer_confidence": "yes"}] * 10},
    ])  # fmt: skip
    first, second = read_dataset("vizwiz", ann, tmp_path / "val").samples
    assert first.id == "VizWiz_val_00000000" and first.answer == "soup"
    assert first.references == ["soup"] * 6 + ["can"] * 4
    assert first.metadata["answerable"] == 1 and second.metadata["answerable"] == 0


def test_aokvqa_choices_direct_answers_rationales(tmp_path):
    (image,) = make_images(tmp_path / "coco", "val2017/000000461751.jpg")
    ann = write_json(tmp_path / "aokvqa_v1p0_val.json", [{
        "split": "val", "image_id": 461751, "question_id": "22jbM6gDxdaMaunuzgrsBB",
        "question": "What is in the motorcyclist's mouth?",
        "choices": ["toothpick", "food", "popsicle stick", "cigarette"],
        "correct_choice_idx": 3, "direct_answers": ["cigarette"] * 9 + ["smoke"], "difficult_direct_answer": False,
        "rationales": ["He's smoking while riding."],
    }])  # fmt: skip
    (sample,) = read_dataset("aokvqa", ann, tmp_path / "coco").samples
    assert sample.images == [image] and sample.id == "22jbM6gDxdaMaunuzgrsBB"
    assert sample.candidates == ["toothpick", "food", "popsicle stick", "cigarette"]
    assert sample.answer == 3 and turns(sample)[-1] == ("assistant", "cigarette")
    assert sample.references == ["cigarette"] * 9 + ["smoke"]
    assert sample.metadata["rationales"] == ["He's smoking while riding."]
    assert sample.metadata["task"] == "multiple_choice"


def test_gqa_questions_keyed_by_id(tmp_path):
    (image,) = make_images(tmp_path / "images", "2354786.jpg")
    ann = write_json(tmp_path / "testdev_balanced_questions.json", {"02930152": {
        "semantic": [], "entailed": [], "equivalent": ["02930152"], "question": "Is the sky dark?",
        "imageId": "2354786",
        "isBalanced": True, "groups": {"global": None, "local": "06-sky_dark"}, "answer": "yes",
        "semanticStr": "select: sky ->verify color: dark", "annotations": {}, "types": {"structural": "verify"},
        "fullAnswer": "Yes, the sky is dark.",
    }})  # fmt: skip
    (sample,) = read_dataset("gqa", ann, tmp_path / "images").samples
    assert (sample.id, sample.images, sample.answer) == ("02930152", [image], "yes")
    assert sample.metadata["full_answer"] == "Yes, the sky is dark."
    assert turns(sample) == [("user", "Is the sky dark?"), ("assistant", "yes")]
