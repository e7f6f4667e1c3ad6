"""VSR and Hateful Memes JSONL readers."""

import json

from instructvl.data.formats import read_dataset

from .fixtures import make_images, turns, write_lines


def test_vsr_caption_label_candidates(tmp_path):
    (image,) = make_images(tmp_path / "images", "000000050403.jpg")
    ann = write_lines(tmp_path / "test.jsonl", [json.dumps(r) for r in [
        {"image": "000000050403.jpg", "image_link": "http://x", "caption": "The book is beneath the cat.",
         "label": 1, "relation": "beneath", "annotator_id": 31,
         "vote_true_validator_id": [2], "vote_false_validator_id": []},
        {"image": "000000050403.jpg", "caption": "The cat is under the book.", "label": 0, "relation": "under"},
    ]])  # fmt: skip
    first, second = read_dataset("vsr", ann, tmp_path / "images").samples
    assert first.images == [image] and first.candidates == ["False", "True"]
    assert first.answer == 1 and turns(first) == [("user", "The book is beneath the cat."), ("assistant", "True")]
    assert second.answer == 0 and second.metadata["relation"] == "under"
    assert first.id.startswith("000000050403-") and first.id != second.id


def test_hateful_memes_labelled_and_unlabelled(tmp_path):
    make_images(tmp_path, "img/42953.png", "img/23058.png")
    ann = write_lines(
        tmp_path / "dev.jsonl",
        [
            json.dumps(
                {"id": 42953, "img": "img/42953.png", "label": 0, "text": "its their character not their color"}
            ),
            json.dumps({"id": 23058, "img": "img/23058.png", "text": "don't be afraid"}),
        ],
    )
    first, second = read_dataset("hateful_memes", ann).samples
    assert first.id == "42953" and first.images == [str(tmp_path / "img/42953.png")]
    assert first.candidates == ["no", "yes"] and first.answer == 0
    assert first.metadata["text"] == "its their character not their color"
    assert second.answer is None and turns(second) == [("user", "don't be afraid")]
