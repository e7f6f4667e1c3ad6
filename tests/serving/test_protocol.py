"""The request side without a server: validation messages, messages to turns, untrusted
images, and an answer's text as its tokens arrive (stop sequences, stream deltas)."""

from __future__ import annotations

import io
import json
import random

import pytest
from PIL import Image

from instructvl.data.schema import IMAGE_MARKER
from instructvl.serving.answer import AnswerText
from instructvl.serving.errors import APIError
from instructvl.serving.images import decode_image, image_bytes
from instructvl.serving.protocol import conversation, parse_request
from instructvl.serving.settings import Settings
from tests.serving.helpers import bomb, data_url


def refused(call, *args) -> APIError:
    with pytest.raises(APIError) as info:
        call(*args)
    return info.value


def body(**fields) -> bytes:
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}).encode()


@pytest.mark.parametrize(
    ("raw", "message", "param"),
    [
        (b"{not json", "the request body is not valid JSON", None),
        (b"[1, 2]", "the request body must be a JSON object", None),
        (body(tools=[]), "'tools' is not a parameter this server supports", "tools"),
        (body(max_tokens=0), "max_tokens: Input should be greater than or equal to 1", "max_tokens"),
        (body(max_tokens="5"), "max_tokens: Input should be a valid integer", "max_tokens"),
        (body(temperature=3), "temperature: Input should be less than or equal to 2", "temperature"),
        (body(n=2), "n=2 is not supported by this server (only 1)", "n"),
        (body(logprobs=True), "logprobs=True is not supported", "logprobs"),
        (body(stop=["a", "b", "c", "d", "e"]), "stop: List should have at most 4 items", "stop"),
        (body(stop=""), "stop: Value error, a stop sequence must not be empty", "stop"),
        (json.dumps({"model": "m", "messages": []}).encode(), "messages: List should have at least 1 item", "messages"),
        (json.dumps({"model": "m", "messages": [{"content": "x"}]}).encode(), "messages[0].role: Field required", None),
    ],
)
def test_bad_requests_are_400_naming_the_field(raw, message, param):
    error = refused(parse_request, raw)
    assert error.status == 400
    assert error.message.startswith(message), error.message
    assert error.param == (param or error.param)
    assert set(error.body()["error"]) == {"message", "type", "param", "code"}


def test_a_good_request_keeps_its_parameters():
    request = parse_request(body(max_completion_tokens=7, max_tokens=3, stop="\n", temperature=0.5, top_p=0.9, seed=4))
    assert request.token_limit == 7  # the newer name wins
    assert request.stop == ["\n"]
    assert (request.temperature, request.top_p, request.seed) == (0.5, 0.9, 4)
    assert parse_request(body(n=1, presence_penalty=0, logprobs=False, user="u")).n == 1


def messages(*items) -> list:
    return parse_request(json.dumps({"model": "m", "messages": list(items)}).encode()).messages


def image_part(url: str = "data:image/png;base64,AAAA") -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def test_parts_become_turns_with_markers_where_the_images_were():
    turns, images = conversation(
        messages(
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [image_part("data:a"), {"type": "text", "text": "what is it?"}]},
            {"role": "assistant", "content": "a square", "refusal": None},
            {"role": "user", "content": [{"type": "text", "text": "and here?"}, image_part("data:b")]},
        ),
        max_images=2,
    )
    assert [(t.role, t.content) for t in turns] == [
        ("system", "be brief"),
        ("user", f"{IMAGE_MARKER}\nwhat is it?"),
        ("assistant", "a square"),
        ("user", f"and here?\n{IMAGE_MARKER}"),
    ]
    assert [(i.url, i.where) for i in images] == [
        ("data:a", "messages[1].content[0]"),
        ("data:b", "messages[3].content[1]"),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"role": "tool", "content": "x"}], "messages[0].role: 'tool' is not supported"),
        ([{"role": "user", "content": 5}], "messages[0].content: expected a string or a list of content parts"),
        ([{"role": "user", "content": [{"type": "audio"}]}], "messages[0].content[0]: expected a part"),
        (
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [image_part()]}],
            "messages[1].content[0]: images may only be in user messages",
        ),
        ([{"role": "user", "content": "see <image> here"}], "messages[0].content: the text contains <image>"),
        ([{"role": "user", "content": [image_part()] * 3}], "the request has 3 images; this server takes at most 2"),
        ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "the last message must be"),
    ],
)
def test_messages_this_model_cannot_take_are_400(items, message):
    error = refused(conversation, messages(*items), 2)
    assert error.status == 400 and error.message.startswith(message), error.message


# -- images ----------------------------------------------------------------------------------


def png(size=(8, 6)) -> bytes:
    """A PNG of random colours (it does not compress: cutting it cuts pixel data)."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, random.Random(0).randbytes(3 * size[0] * size[1])).save(out, "PNG")
    return out.getvalue()


SETTINGS = Settings(model_name="m")


def test_data_urls_decode_and_refusals_say_why(tmp_path):
    assert decode_image(image_bytes(data_url(png()), SETTINGS, "img"), 100, "img").size == (8, 6)
    cases = [
        (lambda: image_bytes("data:image/png;base64,@@@", SETTINGS, "img"), "img: the data URL's payload is not valid"),
        (lambda: image_bytes("data:image/png,rawbytes", SETTINGS, "img"), "img: a data URL must be base64"),
        (lambda: image_bytes("https://example.com/a.png", SETTINGS, "img"), "img: only data: URLs are accepted"),
        (lambda: image_bytes("file:///etc/passwd", SETTINGS, "img"), "img: file URLs are refused"),
        (lambda: decode_image(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 100, "img"), "img: not an image"),
        (lambda: decode_image(png((32, 32))[:1500], 2000, "img"), "img: the PNG image cannot be decoded"),
        (lambda: decode_image(png(), 47, "img"), "img: the image has too many pixels (8 x 6 = 48); this server"),
        (lambda: decode_image(bomb(), 4096 * 4096, "img"), "img: the image has too many pixels; this server"),
    ]
    for call, message in cases:
        error = refused(call)
        assert error.status == 400 and error.message.startswith(message), error.message


def test_bomb_is_a_real_png_refused_from_its_header():
    data = bomb(2000)  # small enough to decode, the same construction as the 20000 x 20000 one
    assert decode_image(data, 2000 * 2000, "img").size == (2000, 2000)
    assert len(bomb()) < 100_000
    assert refused(decode_image, bomb(), 10**12, "img").code == "image_too_large"  # Pillow's own bomb guard


def test_a_local_folder_serves_only_its_own_files(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(png())
    (tmp_path / "secret.png").write_bytes(png())
    settings = Settings(model_name="m", image_dir=tmp_path / "in")
    assert image_bytes(f"file://{tmp_path}/in/a.png", settings, "img") == png()
    assert image_bytes("a.png", settings, "img") == png()
    assert "outside the image folder" in refused(image_bytes, "../secret.png", settings, "img").message
    assert "outside the image folder" in refused(image_bytes, f"file://{tmp_path}/secret.png", settings, "img").message
    assert "no image file b.png" in refused(image_bytes, "b.png", settings, "img").message


# -- an answer as its tokens arrive ------------------------------------------------------------


def chars(ids: list[int]) -> str:
    """A decoder where token i is character i (33 = "!", ...), trimmed like answer_text."""
    return "".join(chr(i) for i in ids).strip()


def run(text: str, stops: list[str] | None, stream: bool = True) -> tuple[list[str], AnswerText, bool]:
    answer = AnswerText(chars, stops, live=stream)
    deltas, stopped = [], False
    for ch in text:
        stopped = answer.add(ord(ch))
        deltas.append(answer.take_delta())
        if stopped:
            break
    answer.finish()
    deltas.append(answer.take_delta())
    return deltas, answer, stopped


def test_stop_sequences_end_the_answer_before_them_even_across_tokens():
    deltas, answer, stopped = run("It is red.\nUSER: next", ["USER:"])
    assert stopped and answer.final == "It is red."
    assert "".join(deltas) == "It is red."
    assert not any("U" in d for d in deltas)  # a possible stop start is held back, never sent


def test_held_back_text_is_sent_when_it_turns_out_not_to_be_a_stop():
    deltas, answer, stopped = run("a US map", ["USER:"])
    assert not stopped and answer.final == "a US map" == "".join(deltas)
    assert deltas[3] == ""  # "a U" could still be "a USER:": nothing new is sent


def test_deltas_join_to_the_final_text_without_trailing_space_or_half_characters():
    deltas, answer, _ = run("  two words \ufffd", None)
    assert answer.final == "two words \ufffd" == "".join(deltas)
    assert deltas[:3] == ["", "", "t"]  # leading spaces are trimmed as answer_text trims them


def test_without_stream_or_stop_nothing_is_decoded_until_the_end():
    calls = []
    answer = AnswerText(lambda ids: calls.append(len(ids)) or chars(ids), None, live=False)
    for ch in "hello":
        assert not answer.add(ord(ch))
    assert calls == [] and answer.finish() == "hello" and calls == [5]
