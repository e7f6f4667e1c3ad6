"""An OpenAI-compatible chat endpoint as a judge, over plain HTTP (`urllib`): POST
`<base_url>/chat/completions` with the model, the messages, temperature 0 and
`max_tokens`; `Authorization: Bearer $OPENAI_API_KEY` when the key is set.

Each request has a timeout; a 429, a 5xx, a timeout or a dropped connection is retried
with exponential backoff (the server's Retry-After where it sends one, capped at
`MAX_WAIT_S`); any other HTTP error (a wrong key, model or URL) stops the judging with
the status and the server's message. A request still failing after the retries is a
`JudgeRequestError` for that sample (counted as failed)."""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request

from instructvl.errors import InstructVLError
from instructvl.eval.judge.config import DEFAULT_BASE_URL, JudgeConfig
from instructvl.eval.judge.protocol import Messages, parse_scores

MAX_WAIT_S = 60.0
ERROR_SHOWN = 300
"""Characters of a server's error body quoted in a message."""


class JudgeRequestError(InstructVLError):
    """A judge request that got no usable reply after its retries (counted as failed)."""


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def reply_text(payload: object) -> str:
    """The first choice's message content of a chat-completions response body."""
    try:
        content = payload["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"not a chat-completions response: {str(payload)[:ERROR_SHOWN]}") from None
    if not isinstance(content, str):
        raise ValueError(f"the reply's content is {type(content).__name__}, not text")
    return content


class ChatEndpoint:
    """A judge at an OpenAI-compatible endpoint (see the module docstring)."""

    method = "the first line of its reply at temperature 0, read as two scores"
    scores = staticmethod(parse_scores)
    """(reference, model) scores of a reply, None when its first line is not two scores."""

    def __init__(self, config: JudgeConfig, api_key: str | None = None) -> None:
        self.config = config
        self.url = f"{config.endpoint()}/chat/completions"
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if not self.api_key and config.endpoint() == DEFAULT_BASE_URL:
            raise InstructVLError(
                f"the judge {config.model!r} at {DEFAULT_BASE_URL} needs a key: set OPENAI_API_KEY "
                "(or point --judge-base-url / OPENAI_BASE_URL at another endpoint)"
            )
        self.batch_size = 1
        self.identity = f"{self.url}|{config.model}|max_tokens={config.max_tokens}"

    def _request(self, messages: Messages) -> urllib.request.Request:
        body = {
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": self.config.max_tokens,
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return urllib.request.Request(self.url, json.dumps(body).encode("utf-8"), headers, method="POST")

    def complete(self, messages: Messages) -> str:
        """The judge's reply to `messages`, retried as the module docstring says."""
        cfg = self.config
        error = ""
        for attempt in range(cfg.retries + 1):
            wait = cfg.backoff_s * 2**attempt
            try:
                with urllib.request.urlopen(self._request(messages), timeout=cfg.timeout_s) as response:
                    return reply_text(json.loads(response.read()))
            except urllib.error.HTTPError as exc:
                body = exc.read().decode("utf-8", "replace")[:ERROR_SHOWN]
                if exc.code != 429 and exc.code < 500:
                    raise InstructVLError(f"judge endpoint {self.url}: HTTP {exc.code} {exc.reason}: {body}") from None
                error = f"HTTP {exc.code} {exc.reason}"
                wait = _retry_after(exc.headers) or wait
            except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except ValueError as exc:  # a body that is not a chat-completions response
                error = str(exc)
            if attempt < cfg.retries:
                time.sleep(min(wait, MAX_WAIT_S))
        raise JudgeRequestError(f"judge endpoint {self.url}: no reply after {cfg.retries + 1} attempt(s): {error}")

    def complete_all(self, prompts: list[Messages]) -> list[str | JudgeRequestError]:
        """Each prompt's reply, or its `JudgeRequestError`."""
        out: list[str | JudgeRequestError] = []
        for messages in prompts:
            try:
                out.append(self.complete(messages))
            except JudgeRequestError as exc:
                out.append(exc)
        return out
