"""TextVQA, TextCaps and OCR-VQA readers."""

from instructvl.data.formats import read_dataset

from .fixtures import make_images, turns, write_json

OCR = {"dataset_name": "textvqa", "data": [
    {"image_id": "003a8ae2ef43b901", "ocr_tokens": ["NOKIA", "5:30"],
     "ocr_info": [{"word": "NOKIA", "bounding_box": {}}]},
]}  # fmt: skip


def test_textvqa_with_ocr_file(tmp_path):
    (image,) = make_images(tmp_path / "train_images", "003a8ae2ef43b901.jpg")
    ann = write_json(tmp_path / "TextVQA_0.5.1_val.json", {"dataset_type": "val", "dataset_name": "textvqa", "data": [{
        "question": "what brand is the phone?", "image_id": "003a8ae2ef43b901", "image_classes": ["Phone"],
        "flickr_original_url": "u", "flickr_300k_url": "u", "image_width": 1024, "image_height": 768,
        "answers": ["nokia"] * 8 + ["nokia phone", "nokia"], "question_tokens": ["what"], "question_id": 34602,
        "set_name": "val"}]})  # fmt: skip
    ocr = write_json(tmp_path / "TextVQA_Rosetta_OCR_v0.2_val.json", OCR)
    (sample,) = read_dataset("textvqa", [ann, ocr], tmp_path / "train_images").samples
    assert sample.id == "34602" and sample.images == [image]
    assert sample.ocr_tokens == ["NOKIA", "5:30"]
    assert sample.references == ["nokia"] * 8 + ["nokia phone", "nokia"] and sample.answer == "nokia"
    assert turns(sample) == [("user", "what brand is the phone?"), ("assistant", "nokia")]


def test_textvqa_ocr_tokens_inside_records(tmp_path):
    make_images(tmp_path, "abc.jpg")
    ann = write_json(
        tmp_path / "textvqa_val.json",
        {
            "data": [
                {
                    "question": "what?",
                    "image_id": "abc",
                    "question_id": 1,
                    "answers": ["x"] * 10,
                    "ocr_tokens": ["x", "y"],
                }
            ]
        },
    )
    (sample,) = read_dataset("textvqa", ann).samples
    assert sample.ocr_tokens == ["x", "y"]


def test_textcaps_one_sample_per_image_with_ocr(tmp_path):
    (image,) = make_images(tmp_path / "train_images", "003a8ae2ef43b901.jpg")
    refs = ["A Nokia phone.", "A phone showing 5:30.", "A black Nokia.", "Nokia phone on a desk.", "A cell phone."]
    entries = [{"image_id": "003a8ae2ef43b901", "image_classes": ["Phone"], "image_width": 1024, "image_height": 768,
                "set_name": "val", "image_name": "003a8ae2ef43b901", "image_path": "train/003a8ae2ef43b901.jpg",
                "caption_id": i, "caption_str": ref, "caption_tokens": ref.split(), "reference_strs": refs,
                "reference_tokens": []} for i, ref in enumerate(refs)]  # fmt: skip
    ann = write_json(tmp_path / "TextCaps_0.1_val.json", {"dataset_name": "textcaps", "data": entries})
    ocr = write_json(tmp_path / "TextVQA_Rosetta_OCR_v0.2_train.json", OCR)
    (sample,) = read_dataset("textcaps", [ann, ocr], tmp_path / "train_images").samples
    assert sample.id == "003a8ae2ef43b901" and sample.images == [image]
    assert sample.references == refs and sample.ocr_tokens == ["NOKIA", "5:30"]
    assert sample.metadata["task"] == "caption"


def test_ocrvqa_one_sample_per_question_and_split(tmp_path):
    (image,) = make_images(tmp_path / "images", "1048746.jpg")
    make_images(tmp_path / "images", "0002.jpg")
    ann = write_json(tmp_path / "dataset.json", {
        "1048746": {"imageURL": "http://ecx.images-amazon.com/images/I/51Xx.jpg",
                    "questions": ["Who wrote this book?", "What is the genre of this book?"],
                    "answers": ["Bernard Roth", "Self-Help"], "title": "The Achievement Habit",
                    "authorName": "Bernard Roth", "genre": "Self-Help", "genreID": 25, "split": 3},
        "0002": {"imageURL": "http://x/0002.jpg", "questions": ["Q?"], "answers": ["A"], "split": 1},
    })  # fmt: skip
    result = read_dataset("ocrvqa", ann, tmp_path / "images", split="test")
    first, second = result.samples
    assert (first.id, second.id) == ("1048746_0", "1048746_1") and first.images == [image]
    assert turns(second) == [("user", "What is the genre of this book?"), ("assistant", "Self-Help")]
    assert first.metadata["title"] == "The Achievement Habit" and first.metadata["split"] == "test"
    assert result.filtered == {"not in split 'test'": 1}
