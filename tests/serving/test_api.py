"""The API against a live server (in a thread) on the tiny model: replies equal what
`generate_text` gives, streams join to the reply, usage counts, batching keeps each
answer, the official openai client round trip, the small routes and the demo page."""

from __future__ import annotations

import json
import threading
import time

import openai
import pytest

from instructvl.data.schema import IMAGE_MARKER, Sample, Turn
from tests.serving.helpers import MODEL, Slow, ask, data_url, events, post, request, running, streamed_text

QUESTION = "what colour is the square?"


def expected(model, images: list[str], turns: list[Turn], max_tokens: int) -> str:
    sample = Sample("ref", "d", list(images), turns)
    return model.generate_text([sample], max_new_tokens=max_tokens)[0]


def prompt_tokens(model, images: list[str], turns: list[Turn]) -> int:
    return len(model.collator().encode(Sample("ref", "d", list(images), turns), prompt_only=True).ids)


def test_reply_is_generate_text_and_usage_counts_the_prompt(server, tiny_model, images):
    status, _, reply = post(server, ask(QUESTION, data_url(images[0]), max_tokens=12))
    assert status == 200, reply
    turns = [Turn("user", QUESTION)]
    assert reply["object"] == "chat.completion" and reply["model"] == MODEL and reply["id"].startswith("chatcmpl-")
    (choice,) = reply["choices"]
    assert choice["message"] == {"role": "assistant", "content": expected(tiny_model, images[:1], turns, 12)}
    assert choice["finish_reason"] in ("stop", "length")
    usage = reply["usage"]
    assert usage["prompt_tokens"] == prompt_tokens(tiny_model, images[:1], turns)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert 1 <= usage["completion_tokens"] <= 12
    assert (choice["finish_reason"] == "length") == (usage["completion_tokens"] == 12)


def test_stream_joins_to_the_reply_and_ends_with_finish_usage_and_done(server, images):
    body = ask(QUESTION, data_url(images[1]), max_tokens=16)
    _, _, reply = post(server, body)
    status, items, _ = events(server, {**body, "stream_options": {"include_usage": True}})
    assert status == 200
    assert items[-1] == "[DONE]"
    first, *middle, last_choice, usage_chunk, _ = items
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert {c["object"] for c in items[:-1]} == {"chat.completion.chunk"}
    assert len({c["id"] for c in items[:-1]}) == 1
    assert all(c["choices"][0]["finish_reason"] is None for c in middle)
    assert last_choice["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": reply["choices"][0]["finish_reason"],
    }
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == reply["usage"]
    assert streamed_text(items) == reply["choices"][0]["message"]["content"]
    assert len(middle) >= 2  # the answer came in pieces, not in one block


def test_several_turns_and_several_images(server, tiny_model, images):
    body = {
        "model": MODEL,
        "max_tokens": 8,
        "messages": [
            {"role": "system", "content": "answer briefly"},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": data_url(images[0])}},
                    {"type": "text", "text": "how many objects are there?"},
                ],
            },
            {"role": "assistant", "content": "two"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "and in this one?"},
                    {"type": "image_url", "image_url": {"url": data_url(images[2])}},
                ],
            },
        ],
    }
    turns = [
        Turn("system", "answer briefly"),
        Turn("user", f"{IMAGE_MARKER}\nhow many objects are there?"),
        Turn("assistant", "two"),
        Turn("user", f"and in this one?\n{IMAGE_MARKER}"),
    ]
    status, _, reply = post(server, body)
    assert status == 200, reply
    pair = [images[0], images[2]]
    assert reply["choices"][0]["message"]["content"] == expected(tiny_model, pair, turns, 8)
    assert reply["usage"]["prompt_tokens"] == prompt_tokens(tiny_model, pair, turns)
    _, items, _ = events(server, body)
    assert streamed_text(items) == reply["choices"][0]["message"]["content"]


def test_a_stop_sequence_cuts_the_answer_before_it(server, images):
    body = ask(QUESTION, data_url(images[0]), max_tokens=24)
    full = post(server, body)[2]["choices"][0]["message"]["content"]
    stop = full[len(full) // 2 :][:2]
    assert stop.strip(), f"pick another prompt: {full!r} has no printable middle"
    _, _, reply = post(server, {**body, "stop": [stop, "never-in-it"]})
    cut = reply["choices"][0]
    assert cut["finish_reason"] == "stop"
    assert cut["message"]["content"] == full[: full.index(stop)].rstrip()
    assert reply["usage"]["completion_tokens"] < 24
    _, items, _ = events(server, {**body, "stop": stop})
    assert streamed_text(items) == cut["message"]["content"]


def concurrently(url: str, bodies: list[dict], delays: list[float] | None = None) -> list:
    """The replies to `bodies` sent from one thread each (after its delay, in seconds)."""
    replies: list = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def send(i: int) -> None:
        barrier.wait()
        time.sleep((delays or [0.0] * len(bodies))[i])
        replies[i] = post(url, bodies[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r[0] for r in replies] == [200] * len(bodies), replies
    return [r[2] for r in replies]


def contents(replies: list) -> list[str]:
    return [r["choices"][0]["message"]["content"] for r in replies]


def test_requests_that_arrive_together_share_a_batch_and_keep_their_answers(server, images):
    bodies = [ask(f"{QUESTION} {'and why? ' * i}", data_url(images[i % 3]), max_tokens=4 + 3 * i) for i in range(6)]
    alone = contents([post(server, b)[2] for b in bodies])
    before = request(server, "GET", "/health")[2]
    together = concurrently(server, bodies)
    assert contents(together) == alone
    assert [r["usage"]["completion_tokens"] <= 4 + 3 * i for i, r in enumerate(together)] == [True] * 6
    after = request(server, "GET", "/health")[2]
    assert after["batching"] == "continuous"
    assert after["prefills"] - before["prefills"] < len(bodies)  # prompts prefilled together
    steps, rows = (after[k] - before[k] for k in ("decode_steps", "decoded_rows"))
    assert rows > 2 * steps  # more than two rows per decoding step on average


def test_requests_join_and_leave_a_running_batch_and_keep_their_answers(tiny_model, images):
    """Jobs join while others generate (their caches, of other lengths, stacked under the
    batch's) and leave when done; every answer is still the one it gets alone."""
    bodies = [
        ask("hi", max_tokens=40),
        ask(f"{QUESTION} describe the image. how many objects are there?", data_url(images[0]), max_tokens=6),
        ask("picture", data_url(images[1]), max_tokens=12),
        {**ask(QUESTION, data_url(images[2]), max_tokens=30), "stop": ["never"]},
    ]
    with running(Slow(tiny_model, 0.01), max_tokens=40) as url:
        alone = contents([post(url, b)[2] for b in bodies])
        before = request(url, "GET", "/health")[2]
        together = contents(concurrently(url, bodies, delays=[0.0, 0.1, 0.15, 0.3]))
        after = request(url, "GET", "/health")[2]
    assert together == alone
    assert after["prefills"] - before["prefills"] >= 2  # some joined a batch already running
    assert after["decoded_rows"] - before["decoded_rows"] > after["decode_steps"] - before["decode_steps"]


def test_visual_tokens_injected_at_a_layer_decode_as_generate_does(tiny_parts, images):
    from tests.models.helpers import build

    model = build(tiny_parts, llm__inject_layer=2)
    with running(model, max_tokens=10) as url:
        bodies = [ask(QUESTION, data_url(images[i]), max_tokens=6 + i) for i in range(3)]
        replies = contents(concurrently(url, bodies))
    turns = [Turn("user", QUESTION)]
    assert replies == [expected(model, images[i : i + 1], turns, 6 + i) for i in range(3)]


def test_seq2seq_models_batch_through_generate(tiny_parts, images):
    from tests.models.helpers import build

    model = build(tiny_parts, llm="t5")
    turns = [Turn("user", QUESTION)]
    with running(model, max_tokens=10) as url:
        body = ask(QUESTION, data_url(images[0]), max_tokens=10)
        status, _, reply = post(url, body)
        assert status == 200, reply
        assert reply["choices"][0]["message"]["content"] == expected(model, images[:1], turns, 10)
        assert streamed_text(events(url, body)[1]) == reply["choices"][0]["message"]["content"]
        bodies = [ask(QUESTION, data_url(images[i]), max_tokens=3 + i) for i in range(3)]
        assert contents(concurrently(url, bodies)) == contents([post(url, b)[2] for b in bodies])
        assert request(url, "GET", "/health")[2]["batching"] == "per batch"


def test_sampling_is_seeded(server, images):
    body = ask(QUESTION, data_url(images[0]), max_tokens=10, temperature=1.5, top_p=0.95, seed=7)
    first, second = post(server, body)[2], post(server, body)[2]
    assert first["choices"][0]["message"] == second["choices"][0]["message"]
    other = post(server, {**body, "seed": 8})[2]["choices"][0]["message"]
    greedy = post(server, {**body, "temperature": 0})[2]["choices"][0]["message"]
    assert len({json.dumps(m) for m in (first["choices"][0]["message"], other, greedy)}) > 1


def test_the_openai_client_works_unchanged(server, tiny_model, images):
    client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).owned_by == "instructvl"
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": QUESTION},
                {"type": "image_url", "image_url": {"url": data_url(images[1])}},
            ],
        }
    ]
    reply = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=10)
    text = expected(tiny_model, images[1:2], [Turn("user", f"{QUESTION}\n{IMAGE_MARKER}")], 10)
    assert reply.choices[0].message.content == text
    assert reply.usage.completion_tokens == reply.usage.total_tokens - reply.usage.prompt_tokens
    stream = client.chat.completions.create(
        model=MODEL, messages=messages, max_tokens=10, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert chunks[-1].usage.completion_tokens == reply.usage.completion_tokens
    with pytest.raises(openai.NotFoundError, match="the model 'gpt-4o' does not exist here"):
        client.chat.completions.create(model="gpt-4o", messages=messages)
    with pytest.raises(openai.BadRequestError, match="max_tokens is 9999; this server generates at most 64"):
        client.chat.completions.create(model=MODEL, messages=messages, max_tokens=9999)


def test_models_health_and_json_errors_for_unknown_routes(server):
    status, _, models = request(server, "GET", "/v1/models")
    assert status == 200 and models["object"] == "list" and models["data"][0]["id"] == MODEL
    status, _, health = request(server, "GET", "/health")
    assert status == 200 and health["status"] == "ok" and health["model"] == MODEL
    assert request(server, "GET", "/v1/models/other")[0] == 404
    status, _, error = request(server, "GET", "/v1/nothing")
    assert status == 404 and error["error"]["message"].startswith("no route GET /v1/nothing; this server has")
    status, _, error = request(server, "GET", "/v1/chat/completions")
    assert status == 405 and "GET is not allowed on /v1/chat/completions" in error["error"]["message"]


def test_the_demo_page_is_served_and_loads_nothing_from_elsewhere(server):
    status, headers, page = request(server, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert f'<meta name="model" content="{MODEL}">' in page
    for element in ('id="image-input"', 'id="prompt"', 'id="send"', 'id="reset"', 'id="temperature"'):
        assert element in page
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "http://" not in page and "https://" not in page
