"""Running a server in a thread for a test, a stand-in for a slow model, a decompression
bomb, and a small HTTP client (the standard library's, so a test controls every byte and
can leave mid-stream)."""

from __future__ import annotations

import base64
import http.client
import json
import struct
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import torch

from instructvl.serving.server import address, bind, make_server
from instructvl.serving.settings import Settings

MODEL = "tiny"


@contextmanager
def running(vlm, **bounds):
    """A server for `vlm` on a free loopback port, in a thread; yields its base URL."""
    settings = Settings(model_name=MODEL, **bounds)
    server = make_server(vlm, settings, log_level="warning", access_log=False)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield address(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class Slow:
    """Stands for a model that takes `seconds` per decoding step and never ends an answer
    on its own (its end token is never picked), so a test can act while it generates."""

    def __init__(self, model, seconds: float = 0.05) -> None:
        self._model, self._seconds = model, seconds

    def __getattr__(self, name):
        return getattr(self._model, name)

    def _no_end(self, logits: torch.Tensor) -> torch.Tensor:
        logits[:, self._model.llm.tokenizer.eos_token_id] = float("-inf")
        return logits

    def start_decoding(self, batch):
        cache, logits = self._model.start_decoding(batch)
        return cache, self._no_end(logits)

    def decode_step(self, *args):
        time.sleep(self._seconds)
        return self._no_end(self._model.decode_step(*args))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb(side: int = 20000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (black), a few tens of KB compressed."""
    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def data_url(path: str | Path | bytes, mime: str = "image/png") -> str:
    """An image file (or raw bytes) as a base64 data URL."""
    raw = path if isinstance(path, bytes) else Path(path).read_bytes()
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def ask(text: str, image: str | None = None, **params) -> dict:
    """A chat request: one user message with `image` (a data URL) before `text`."""
    content = (
        text if image is None else [{"type": "image_url", "image_url": {"url": image}}, {"type": "text", "text": text}]
    )
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], **params}


def connection(url: str, timeout: float = 60) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def request(url: str, method: str, path: str, body: dict | bytes | None = None, headers: dict | None = None):
    """(status, headers, parsed JSON body or raw text) of one request."""
    conn = connection(url)
    try:
        payload = json.dumps(body).encode() if isinstance(body, dict) else body
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        return response.status, dict(response.headers), parsed
    finally:
        conn.close()


def post(url: str, body: dict | bytes, headers: dict | None = None):
    """POST /v1/chat/completions."""
    return request(url, "POST", "/v1/chat/completions", body, headers)


def events(url: str, body: dict) -> tuple[int, list, dict]:
    """(status, the parsed events of a streamed reply ("[DONE]" stays a string), headers);
    a refused request gives its JSON error as the one event."""
    conn = connection(url)
    try:
        conn.request(
            "POST",
            "/v1/chat/completions",
            body=json.dumps({**body, "stream": True}).encode(),
            headers={"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        raw = response.read().decode()
        if response.status != 200:
            return response.status, [json.loads(raw)], dict(response.headers)
        out = []
        for block in raw.split("\n\n"):
            if block.startswith("data: "):
                data = block[len("data: ") :]
                out.append(data if data == "[DONE]" else json.loads(data))
        return response.status, out, dict(response.headers)
    finally:
        conn.close()


def streamed_text(items: list) -> str:
    """The content deltas of a stream, joined."""
    return "".join(c["delta"].get("content", "") for e in items if isinstance(e, dict) for c in e.get("choices", []))
