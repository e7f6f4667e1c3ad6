"""LLaVA-Instruct conversation reader."""

from instructvl.data.formats import read_dataset
from instructvl.data.schema import IMAGE_MARKER

from .fixtures import make_images, turns, write_json


def test_llava_instruct_multi_turn_keeps_image_marker(tmp_path):
    (image,) = make_images(tmp_path / "train2017", "000000033471.jpg")
    ann = write_json(tmp_path / "llava_instruct_150k.json", [
        {"id": "000000033471", "image": "000000033471.jpg", "conversations": [
            {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
            {"from": "gpt", "value": "The bus in the image is white and red."},
            {"from": "human", "value": "What feature can be seen on the back of the bus?"},
            {"from": "gpt", "value": "The back of the bus features an advertisement."},
        ]},
        {"id": "text-only-1", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
    ])  # fmt: skip
    first, second = read_dataset("llava_instruct", ann, tmp_path / "train2017").samples
    assert first.id == "000000033471" and first.images == [image]
    assert turns(first)[0] == ("user", f"{IMAGE_MARKER}\nWhat are the colors of the bus in the image?")
    assert [r for r, _ in turns(first)] == ["user", "assistant", "user", "assistant"]
    assert first.answer == "The back of the bus features an advertisement."
    assert first.metadata["question"] == "What are the colors of the bus in the image?"
    assert second.images == [] and turns(second) == [("user", "Hi"), ("assistant", "Hello")]
