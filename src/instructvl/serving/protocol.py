"""The OpenAI chat-completions protocol as this server speaks it: the request (validated
strictly, every refusal a 400 naming the field), its messages as instructvl turns with
their images, and the reply, stream chunk and model-list bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from instructvl.data.schema import IMAGE_MARKER, Turn
from instructvl.serving.errors import APIError, bad_request

MAX_STOP = 4
OWNER = "instructvl"
# parameters clients send with their neutral value; anything else is refused, not ignored
NEUTRAL = {"presence_penalty": 0, "frequency_penalty": 0, "logprobs": False, "n": 1}


class StreamOptions(BaseModel):
    """`stream_options`: `include_usage` adds a last chunk with the token counts."""

    model_config = ConfigDict(extra="forbid", strict=True)
    include_usage: bool = False


class Message(BaseModel):
    """One message; its `content` is checked by `conversation` (a string or a list of
    text / image_url parts). Other keys clients echo back (`refusal`, `annotations`) are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)
    role: str
    content: Any = None


class ChatRequest(BaseModel):
    """A `POST /v1/chat/completions` body. Unknown parameters are refused (400) rather
    than silently ignored. `temperature` omitted or 0 means greedy decoding, as in
    `instructvl generate`; `max_tokens` omitted means as many as the server's cap and the
    context allow."""

    model_config = ConfigDict(extra="forbid", strict=True)
    model: str
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    stop: list[str] | None = Field(None, max_length=MAX_STOP)
    n: int | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    user: str | None = None

    @field_validator("stop", mode="before")
    @classmethod
    def _one_stop(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("stop")
    @classmethod
    def _stops_not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value and any(not s for s in value):
            raise ValueError("a stop sequence must not be empty")
        return value or None

    @property
    def token_limit(self) -> int | None:
        """The asked-for answer length (`max_completion_tokens`, the newer name, wins)."""
        return self.max_completion_tokens or self.max_tokens


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_request(body: bytes) -> ChatRequest:
    """The validated request in `body`; malformed JSON or a bad field is a 400 saying which."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object with 'model' and 'messages'", code="invalid_json")
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = _where(error["loc"])
        if error["type"] == "extra_forbidden":
            known = ", ".join(ChatRequest.model_fields)
            message = f"'{where}' is not a parameter this server supports (it takes: {known})"
        else:
            message = f"{where}: {error['msg']}"
        raise bad_request(message, param=where) from None
    for name, neutral in NEUTRAL.items():
        value = getattr(request, name)
        if value is not None and value != neutral:
            raise bad_request(f"{name}={value!r} is not supported by this server (only {neutral!r})", param=name)
    return request


@dataclass(frozen=True)
class ImageRef:
    """An image a message names: its URL and where it is in the request (for errors)."""

    url: str
    where: str


ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def conversation(messages: list[Message], max_images: int) -> tuple[list[Turn], list[ImageRef]]:
    """The messages as instructvl turns (each image part becomes an `<image>` marker at its
    place) and the images in order. Refused (400): a role other than system / developer
    / user / assistant, images outside user messages, more than `max_images` images, text
    that contains the marker itself, a last message that is not the user's."""
    turns: list[Turn] = []
    images: list[ImageRef] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        role = ROLES.get(message.role)
        if role is None:
            raise bad_request(
                f"{where}.role: {message.role!r} is not supported; expected one of {sorted(ROLES)}",
                param=f"{where}.role",
            )
        pieces = _pieces(message.content, f"{where}.content", role, images)
        turns.append(Turn(role, "\n".join(pieces)))
    if len(images) > max_images:
        raise bad_request(
            f"the request has {len(images)} images; this server takes at most {max_images} per request (--max-images)",
            param="messages",
            code="too_many_images",
        )
    if turns[-1].role != "user":
        raise bad_request("the last message must be the user's: it is what the model answers", param="messages")
    return turns, images


def _pieces(content: Any, where: str, role: str, images: list[ImageRef]) -> list[str]:
    """The text pieces of one message's content, an image marker per image part."""
    if isinstance(content, str):
        return [_text(content, where)]
    if not isinstance(content, list):
        raise bad_request(f"{where}: expected a string or a list of content parts", param=where)
    pieces = []
    for j, part in enumerate(content):
        at = f"{where}[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            pieces.append(_text(part["text"], f"{at}.text"))
        elif kind == "image_url":
            if role != "user":
                raise bad_request(f"{at}: images may only be in user messages", param=at)
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            if not isinstance(url, str):
                raise bad_request(f'{at}.image_url: expected {{"url": "data:image/png;base64,..."}}', param=at)
            images.append(ImageRef(url, at))
            pieces.append(IMAGE_MARKER)
        else:
            raise bad_request(
                f'{at}: expected a part {{"type": "text", "text": ...}} or '
                f'{{"type": "image_url", "image_url": {{"url": ...}}}}',
                param=at,
            )
    return pieces


def _text(text: str, where: str) -> str:
    if IMAGE_MARKER in text:
        raise bad_request(
            f"{where}: the text contains {IMAGE_MARKER}, which marks image positions for this model; "
            "send images as image_url parts",
            param=where,
        )
    return text


# -- replies -------------------------------------------------------------------------------


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    """The `usage` object (visual tokens count as prompt tokens)."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion(rid: str, created: int, model: str, text: str, finish: str, counts: dict) -> dict:
    """A `chat.completion` reply with one choice."""
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": finish}
    return {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": counts,
    }


def chunk(rid: str, created: int, model: str, delta: dict | None, finish: str | None = None, counts=None) -> dict:
    """A `chat.completion.chunk`: one choice with `delta` (None: the usage-only last chunk,
    which has no choices)."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    body = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices}
    if counts is not None:
        body["usage"] = counts
    return body


def model_card(name: str, created: int) -> dict:
    """One entry of `GET /v1/models`."""
    return {"id": name, "object": "model", "created": created, "owned_by": OWNER}


def event(body: dict) -> bytes:
    """One server-sent event carrying `body` as JSON."""
    return b"data: " + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


def error_event(error: APIError) -> bytes:
    """The event that ends a stream on an error (the OpenAI client raises it)."""
    return event(error.body())
