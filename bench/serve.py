"""Benchmark: throughput of `instructvl serve` from batching. Starts the server as its own
process, then sends the same requests (one image and a question each, greedy, the same
max_tokens) twice in one run: one at a time from one client, then from CLIENTS concurrent
clients, whose requests the server generates together (continuous batching for a
decoder-only LM). Prints JSON: for each phase the seconds, completion tokens, aggregate
tokens/s and latency p50 / p95; the throughput ratio (target >= 2x with 8 clients), how
many answers are identical in both phases, and from /health the prompt batches prefilled
and the mean rows per decoding step in the concurrent phase.

Usage: python bench/serve.py [--model tiny-offline] [--requests 24] [--clients 8] [--max-tokens 24]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, ImageDraw

TARGET_RATIO = 2.0
QUESTIONS = [
    "What colour is the largest object?",
    "How many objects are there?",
    "Describe the image.",
    "What shape is on the left?",
    "Is there a circle in the picture?",
    "What is in the top right corner?",
]
COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "black", "white"]


def picture(seed: int) -> str:
    """A data URL of a 96 px scene of 1-4 coloured shapes on grey."""
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 96), (150, 150, 150))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(1, 4)):
        x, y, size = rng.randint(0, 60), rng.randint(0, 60), rng.randint(12, 36)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + size, y + size), fill=rng.choice(COLOURS))
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def requests(count: int, model: str, max_tokens: int) -> list[dict]:
    """`count` chat requests, each with its own picture and one of the questions."""
    return [
        {
            "model": model,
            "max_tokens": max_tokens,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": picture(i)}},
                        {"type": "text", "text": QUESTIONS[i % len(QUESTIONS)]},
                    ],
                }
            ],
        }
        for i in range(count)
    ]


def call(host: str, port: int, method: str, path: str, body: dict | None = None) -> dict:
    """The JSON reply of one request (anything but 200 ends the benchmark)."""
    conn = http.client.HTTPConnection(host, port, timeout=600)
    try:
        conn.request(
            method, path, body=None if body is None else json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        reply = json.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"{method} {path}: HTTP {response.status}: {reply}")
        return reply
    finally:
        conn.close()


def timed(host: str, port: int, body: dict) -> tuple[float, str, int]:
    """(seconds, answer, completion tokens) of one chat request."""
    start = time.perf_counter()
    reply = call(host, port, "POST", "/v1/chat/completions", body)
    return time.perf_counter() - start, reply["choices"][0]["message"]["content"], reply["usage"]["completion_tokens"]


def phase(results: list[tuple[float, str, int]], seconds: float) -> dict:
    """A phase's figures: seconds, tokens, aggregate tokens/s, latency p50 / p95."""
    latencies = sorted(r[0] for r in results)
    tokens = sum(r[2] for r in results)
    return {
        "seconds": round(seconds, 2),
        "completion_tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 2),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(statistics.quantiles(latencies, n=20, method="inclusive")[-1], 3),
    }


def start_server(args) -> tuple[subprocess.Popen, str, int]:
    """`instructvl serve` as its own process on a free port: (process, host, port)."""
    command = [sys.executable, "-m", "instructvl.cli", "serve", "--model", args.model, "--port", "0"]
    command += ["--max-batch-size", str(args.clients), "--max-tokens", str(args.max_tokens), "--log-level", "warning"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    for line in server.stdout:
        print(line, end="", file=sys.stderr)
        if match := re.search(r"at http://([\d.]+):(\d+)", line):
            threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
            return server, match.group(1), int(match.group(2))
    raise SystemExit("instructvl serve ended before serving")


def main() -> None:
    """Both phases against one server, then the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-offline", help="preset, YAML config or saved model directory")
    parser.add_argument("--requests", type=int, default=24, help="requests in each phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the batched phase")
    parser.add_argument("--max-tokens", type=int, default=24, help="max_tokens of every request")
    parser.add_argument(
        "--threads", type=int, default=None, help="the server's torch threads (default: torch's choice)"
    )
    args = parser.parse_args()

    server, host, port = start_server(args)
    try:
        batch = requests(args.requests, args.model, args.max_tokens)
        for body in batch[:2]:  # warm-up
            timed(host, port, body)
        start = time.perf_counter()
        alone = [timed(host, port, body) for body in batch]
        alone_s = time.perf_counter() - start
        before = call(host, port, "GET", "/health")
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            together = list(pool.map(lambda body: timed(host, port, body), batch))
        together_s = time.perf_counter() - start
        after = call(host, port, "GET", "/health")
    finally:
        server.terminate()
        server.wait(timeout=60)
    one, many = phase(alone, alone_s), phase(together, together_s)
    rows, steps = (after[key] - before[key] for key in ("decoded_rows", "decode_steps"))
    ratio = many["tokens_per_s"] / one["tokens_per_s"]
    print(
        json.dumps(
            {
                "benchmark": "serve",
                "model": args.model,
                "requests": args.requests,
                "clients": args.clients,
                "max_tokens": args.max_tokens,
                "one_at_a_time": one,
                "concurrent": many,
                "throughput_ratio": round(ratio, 2),
                "target_ratio": TARGET_RATIO,
                "target_met": ratio >= TARGET_RATIO,
                "identical_answers": sum(a[1] == b[1] for a, b in zip(alone, together)),
                "batching": after["batching"],
                "prefills_concurrent": after["prefills"] - before["prefills"],
                "mean_rows_per_step_concurrent": round(rows / max(1, steps), 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
