"""The bounds, each on a server started for it: body size (413), images, pixels, tokens
and prompt length (400), a full queue (429 with Retry-After), the per-request timeout
(504), clients that leave (their generation stops), the API key (401), the local image
folder, and the loopback-only default of `instructvl serve`."""

from __future__ import annotations

import json
import time

import pytest

from instructvl.cli.serve import check_exposure
from instructvl.errors import InstructVLError
from tests.serving.helpers import MODEL, Slow, ask, connection, data_url, events, post, request, running

QUESTION = "what colour is the square?"


def health(url: str) -> dict:
    return request(url, "GET", "/health")[2]


def wait_idle(url: str, timeout: float = 10) -> dict:
    """/health once nothing runs or waits."""
    deadline = time.monotonic() + timeout
    while True:
        state = health(url)
        if state["running"] == state["waiting"] == 0 or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def read_events(response, count: int) -> bytes:
    """The first `count` or more events of a streamed response, as received."""
    received = b""
    while received.count(b"\n\n") < count:
        received += response.read1(4096)
    return received


def error_of(response) -> tuple[int, str, str | None]:
    status, _, body = response
    return status, body["error"]["message"], body["error"]["code"]


def test_size_count_pixel_and_token_limits(tiny_model, images):
    limits = dict(max_body_bytes=20_000, max_images=2, max_image_pixels=1000, max_tokens=8, max_prompt_tokens=40)
    with running(tiny_model, **limits) as url:
        big = ask(QUESTION, "data:image/png;base64," + "A" * 30_000)
        status, message, code = error_of(post(url, big))
        assert (status, code) == (413, "request_too_large")
        assert message.startswith("the request body is over this server's limit of 20,000 bytes (--max-body-mb)")
        # the same without a Content-Length header (a chunked upload) is cut off as it arrives
        conn = connection(url)
        conn.putrequest("POST", "/v1/chat/completions")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        payload = json.dumps(big).encode()
        for start in range(0, len(payload), 4096):
            piece = payload[start : start + 4096]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        assert conn.getresponse().status == 413
        conn.close()

        status, message, code = error_of(post(url, ask(QUESTION, data_url(images[0]))))
        assert (status, code) == (400, "image_too_large")
        assert message == (
            "messages[0].content[0]: the image has too many pixels (40 x 36 = 1,440); this server takes at most "
            "1,000 (--max-image-pixels)"
        )
        three = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}] * 3}
        status, message, code = error_of(post(url, {"model": MODEL, "messages": [three]}))
        assert (status, code) == (400, "too_many_images")
        status, message, _ = error_of(post(url, ask(QUESTION, max_tokens=9)))
        assert (status, message) == (400, "max_tokens is 9; this server generates at most 8 (--max-tokens)")
        status, message, code = error_of(post(url, ask(QUESTION * 8)))
        assert (status, code) == (400, "context_length_exceeded")
        assert message.startswith("the prompt is ") and message.endswith(
            "this server takes at most 40 (--max-prompt-tokens)"
        )
        status, _, reply = post(url, ask(QUESTION))
        assert status == 200 and reply["usage"]["completion_tokens"] <= 8  # max_tokens omitted: the cap


def test_prompt_and_answer_must_fit_the_context(tiny_model):
    context = tiny_model.llm.max_length
    with running(tiny_model, max_tokens=context, max_prompt_tokens=context) as url:
        status, message, code = error_of(post(url, ask(QUESTION, max_tokens=context)))
        assert (status, code) == (400, "context_length_exceeded")
        assert message.startswith(f"the model's context is {context} tokens; the prompt takes ")


def test_a_full_server_answers_429_with_retry_after(tiny_model):
    # 0.2 s a step: the first answer would take 40 s, so it is still generating however
    # slowly a busy machine lets the second request arrive (closing it ends it at once)
    with running(Slow(tiny_model, 0.2), max_batch_size=1, max_queue=1, max_tokens=200) as url:
        first, second = connection(url), connection(url)
        for conn in (first, second):
            conn.request("POST", "/v1/chat/completions", body=json.dumps(ask(QUESTION, stream=True, max_tokens=200)))
        read_events(first.getresponse(), 2)  # generating now
        deadline = time.monotonic() + 10
        while health(url)["waiting"] < 1 and time.monotonic() < deadline:  # the second one waits
            time.sleep(0.02)
        assert (health(url)["running"], health(url)["waiting"]) == (1, 1)  # every place taken
        status, headers, body = post(url, ask(QUESTION))
        assert status == 429
        assert int(headers["retry-after"]) >= 1
        assert body["error"]["type"] == "rate_limit_error" and body["error"]["code"] == "server_busy"
        assert body["error"]["message"].startswith("the server is busy: 1 requests generating, 1 waiting")
        first.close()
        second.close()
        assert wait_idle(url)["running"] == 0
        assert post(url, ask(QUESTION, max_tokens=2))[0] == 200  # and it serves again


def test_a_request_past_its_time_limit_gets_504_streamed_or_not(tiny_model):
    with running(Slow(tiny_model, 0.05), request_timeout=0.5, max_tokens=200) as url:
        started = time.monotonic()
        status, message, code = error_of(post(url, ask(QUESTION, max_tokens=200)))
        assert time.monotonic() - started < 6  # stopped, not run to 200 tokens (10 s; loose for a busy CI machine)
        assert (status, code) == (504, "request_timeout")
        assert message.startswith("the request took longer than this server's limit of 0.5 s (--request-timeout)")
        status, items, _ = events(url, ask(QUESTION, max_tokens=200))
        assert status == 200 and items[-1]["error"]["code"] == "request_timeout"
        assert wait_idle(url)["finished"]["timeout"] == 2


def test_a_client_that_leaves_stops_its_generation(tiny_model):
    with running(Slow(tiny_model, 0.03), max_tokens=300) as url:
        conn = connection(url)
        conn.request("POST", "/v1/chat/completions", body=json.dumps(ask(QUESTION, stream=True, max_tokens=300)))
        response = conn.getresponse()
        assert response.status == 200
        assert read_events(response, 4).startswith(b"data: {")  # it is generating
        conn.close()  # leave mid-stream
        state = wait_idle(url)
        assert state["running"] == 0 and state["finished"] == {"cancelled": 1}
        # a client that leaves while waiting for a whole (non-streamed) reply
        conn = connection(url)
        conn.request("POST", "/v1/chat/completions", body=json.dumps(ask(QUESTION, max_tokens=300)))
        deadline = time.monotonic() + 10
        while health(url)["running"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        conn.close()
        state = wait_idle(url)
        assert state["finished"] == {"cancelled": 2}  # both stopped long before 300 tokens (9 s)
        assert post(url, ask(QUESTION, max_tokens=3))[0] == 200


def test_an_api_key_is_checked_on_every_api_request(tiny_model):
    with running(tiny_model, api_key="s3cret", max_tokens=4) as url:
        status, message, code = error_of(post(url, ask(QUESTION)))
        assert (status, code) == (401, "missing_api_key")
        assert message == "this server needs an API key: send it as the header 'Authorization: Bearer KEY'"
        assert error_of(post(url, ask(QUESTION), {"Authorization": "Bearer wrong"}))[::2] == (401, "invalid_api_key")
        assert request(url, "GET", "/v1/models")[0] == 401
        assert request(url, "GET", "/v1/models", headers={"Authorization": "Bearer s3cret"})[0] == 200
        assert post(url, ask(QUESTION), {"Authorization": "Bearer s3cret"})[0] == 200
        assert request(url, "GET", "/health")[0] == request(url, "GET", "/")[0] == 200


def test_images_from_the_local_folder_when_one_is_named(tiny_model, images):
    from pathlib import Path

    folder = Path(images[0]).parent
    with running(tiny_model, image_dir=folder, max_tokens=4) as url:
        by_file = post(url, ask(QUESTION, f"file://{images[0]}"))
        by_data = post(url, ask(QUESTION, data_url(images[0])))
        assert by_file[0] == 200 and by_file[2]["choices"] == by_data[2]["choices"]
        status, message, _ = error_of(post(url, ask(QUESTION, "file:///etc/hostname")))
        assert status == 400 and "outside the image folder" in message


def test_serve_listens_on_loopback_unless_told_otherwise():
    check_exposure("127.0.0.1", False, None)
    check_exposure("localhost", False, None)
    check_exposure("::1", False, None)
    with pytest.raises(InstructVLError, match="--host 0.0.0.0 would expose the server beyond this machine"):
        check_exposure("0.0.0.0", False, "key")
    with pytest.raises(InstructVLError, match="--allow-remote needs an API key"):
        check_exposure("0.0.0.0", True, None)
    check_exposure("0.0.0.0", True, "key")


def test_no_traceback_reaches_a_client_when_generation_fails(tiny_model):
    class Broken(Slow):
        def decode_step(self, *args):
            raise RuntimeError("secret internals")

    with running(Broken(tiny_model), max_tokens=4) as url:
        status, message, code = error_of(post(url, ask(QUESTION)))
        assert (status, code) == (500, "internal_error")
        assert "secret" not in message and "Traceback" not in message
        _, items, _ = events(url, ask(QUESTION))
        assert items[-1]["error"]["code"] == "internal_error"
