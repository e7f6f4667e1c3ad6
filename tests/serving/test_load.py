"""`instructvl serve` as a separate process on the tiny model: 200 mixed requests from 16
concurrent clients (no 5xx, each answered or refused with 429, memory back near where it
was), then one fault after another, each answered with its 4xx (or a clean stop) while
the server keeps serving."""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from tests.serving.helpers import MODEL, ask, bomb, connection, data_url, events, post, request

CLIENTS = 16
REQUESTS = 200
MAX_QUEUE = 6  # 8 generating + 6 waiting < 16 clients: the load meets 429s too
BACKOFF = 0.1  # seconds a refused client waits before its next request (Retry-After says 1 s or more)
RSS_SLACK_MB = 64  # what a load may leave behind (allocator caches); a leak of the images would be far more


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


@pytest.fixture(scope="module")
def served(tiny_dir):
    """`instructvl serve` in its own process on a free port; yields (base URL, pid)."""
    command = [sys.executable, "-m", "instructvl.cli", "serve", "--model", str(tiny_dir), "--port", "0"]
    command += ["--served-model-name", MODEL, "--max-tokens", "32", "--max-queue", str(MAX_QUEUE)]
    command += ["--log-level", "warning"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if match := re.search(r"serving tiny at (http://127\.0\.0\.1:\d+)", line):
                break
        else:
            pytest.fail("instructvl serve ended before serving:\n" + "".join(seen))
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # keep the pipe drained
        url = match.group(1)
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(url, "GET", "/health")[0] == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "instructvl serve did not answer /health"
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def noise_png(side: int, seed: int) -> str:
    rng = random.Random(seed)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), rng.randbytes(3 * side * side)).save(out, "PNG")
    return data_url(out.getvalue())


def mixed(k: int, pictures: list[str]) -> dict:
    """Request k of the load: 0-2 images of 16 to 384 px, 1-24 tokens, half streamed, some with a stop."""
    content = [{"type": "image_url", "image_url": {"url": pictures[(k + i) % len(pictures)]}} for i in range(k % 3)]
    content.append({"type": "text", "text": "describe the image. " * (1 + k % 4)})
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "max_tokens": 1 + (k * 7) % 24}
    if k % 5 == 0:
        body["stop"] = ["e"]
    if k % 2:
        body["stream"] = True
    return body


def send(url: str, body: dict) -> tuple[int, str]:
    """(status, what came back: the reply's finish reason, or a refusal's Retry-After)."""
    status, detail = _send(url, body)
    if status == 429:
        time.sleep(BACKOFF)
    return status, detail


def _send(url: str, body: dict) -> tuple[int, str]:
    if not body.get("stream"):
        status, headers, reply = post(url, body)
        if status == 200:
            return status, reply["choices"][0]["finish_reason"]
        return status, headers.get("retry-after", "") if status == 429 else json.dumps(reply)
    status, items, headers = events(url, body)
    if status == 200:
        assert items[-1] == "[DONE]", items[-2:]
        return status, items[-2]["choices"][0]["finish_reason"]
    return status, headers.get("retry-after", "") if status == 429 else json.dumps(items)


def test_200_mixed_requests_from_16_clients_then_every_fault(served):
    url, pid = served
    pictures = [noise_png(side, seed) for seed, side in enumerate((16, 40, 96, 200, 384))]
    for k in range(12):  # warm up every path before measuring memory
        assert send(url, mixed(k, pictures))[0] == 200
    before = rss_mb(pid)
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda k: send(url, mixed(k, pictures)), range(REQUESTS)))
    seconds = time.monotonic() - started
    statuses = Counter(status for status, _ in results)
    after = rss_mb(pid)
    print(f"\nload: {REQUESTS} requests, {CLIENTS} clients, {seconds:.1f} s: {dict(statuses)}")
    print(f"server RSS {before:.0f} MB before, {after:.0f} MB after")
    assert set(statuses) <= {200, 429}, results
    assert statuses[200] >= REQUESTS // 2
    assert all(reason in ("stop", "length") for status, reason in results if status == 200)
    assert all(int(retry) >= 1 for status, retry in results if status == 429)
    assert after - before < RSS_SLACK_MB
    state = request(url, "GET", "/health")[2]
    assert state["running"] == state["waiting"] == state["reading"] == 0

    good = mixed(1, pictures)

    def still_serving() -> None:
        assert send(url, good)[0] == 200

    faults = [
        (b'{"model": "tiny", "messages": [', 400, "invalid_json"),
        (ask("hi", "data:image/png;base64,not*base64!"), 400, "invalid_image"),
        (ask("hi", data_url(b"\x89PNG\r\n\x1a\n" + os.urandom(2048))), 400, "invalid_image"),
        (ask("hi", data_url(bomb(20000))), 400, "image_too_large"),
        (ask("hi", "data:image/png;base64," + "A" * (9 * 1024 * 1024)), 413, "request_too_large"),
        ({**ask("hi"), "model": "gpt-4o"}, 404, "model_not_found"),
    ]
    for body, status, code in faults:
        got, _, reply = post(url, body)
        assert (got, reply["error"]["code"]) == (status, code), reply
        still_serving()

    conn = connection(url)  # a client that leaves mid-stream
    conn.request("POST", "/v1/chat/completions", body=json.dumps(ask("describe the image.", stream=True)))
    response = conn.getresponse()
    assert response.read1(64).startswith(b"data: ")
    cancelled = request(url, "GET", "/health")[2]["finished"].get("cancelled", 0)
    conn.close()
    deadline = time.monotonic() + 10
    while True:
        state = request(url, "GET", "/health")[2]
        if state["running"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert state["running"] == 0 and state["finished"].get("cancelled", 0) <= cancelled + 1
    still_serving()
    assert rss_mb(pid) - before < RSS_SLACK_MB
