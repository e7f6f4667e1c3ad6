"""A request made ready for the model (`prepare_job`: images decoded and preprocessed,
prompt tokenised and held to the bounds) and its life in the engine (`Job`: each new
token taken, its end and the events sent back to the waiting HTTP handler)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Protocol

import torch

from instructvl.data.schema import Sample
from instructvl.errors import InstructVLError
from instructvl.serving.answer import AnswerText
from instructvl.serving.errors import APIError, bad_request
from instructvl.serving.images import decode_image, image_bytes
from instructvl.serving.protocol import ChatRequest, conversation
from instructvl.serving.sampling import Sampling
from instructvl.serving.settings import Settings

Event = tuple[str, object]  # ("delta", text) | ("done", finish reason) | ("error", APIError)


class Job:
    """One admitted request inside the engine. The worker thread calls `take` with each
    new token and `finish` / `fail` at the end; `notify` carries the events to the HTTP
    handler (from the worker thread: it must be thread-safe). The handler calls `cancel`
    when its client is gone; the job then stops at its next token."""

    def __init__(
        self,
        rid: str,
        sample: Sample,
        pixels: list[torch.Tensor],
        prompt_tokens: int,
        max_tokens: int,
        sampling: Sampling,
        answer: AnswerText,
        stream: bool,
        deadline: float,
        notify: Callable[[Event], None],
    ) -> None:
        self.rid = rid
        self.sample = sample
        self.pixels = pixels
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.sampling = sampling
        self.generator = sampling.generator()
        self.answer = answer
        self.stream = stream
        self.deadline = deadline
        self.notify = notify
        self.queued_at = time.monotonic()
        self.reason: str | None = None
        self.cancelled = False

    @property
    def done(self) -> bool:
        """Whether the job has ended (finished, failed or cancelled)."""
        return self.reason is not None

    @property
    def completion_tokens(self) -> int:
        """Tokens generated for the answer (an end-of-sequence token not counted)."""
        return len(self.answer.tokens)

    def cancel(self) -> None:
        """Asks the job to stop (the client left); harmless once it is done."""
        self.cancelled = True

    def stale(self, now: float) -> str | None:
        """Why the job must stop before its next token ("cancelled", "timeout"), or None."""
        if self.cancelled:
            return "cancelled"
        return "timeout" if now > self.deadline else None

    def take(self, token: int, eos_ids: set[int], now: float) -> bool:
        """Takes the next generated token; True when the job is now done."""
        why = self.stale(now)
        if why:
            return self.finish(why)
        if token in eos_ids:
            return self.finish("stop")
        if self.answer.add(token):
            return self.finish("stop")
        if self.stream:
            self._send_delta()
        if self.completion_tokens >= self.max_tokens:
            return self.finish("length")
        return False

    def _send_delta(self) -> None:
        delta = self.answer.take_delta()
        if delta:
            self.notify(("delta", delta))

    def finish(self, reason: str) -> bool:
        """Ends the job for `reason` ("stop", "length", "cancelled" or "timeout"): fixes the
        answer (when it ended normally), sends what is left of it and "done". Returns True."""
        self.reason = reason
        self.pixels = []
        if reason in ("stop", "length"):
            self.answer.finish()
            if self.stream:
                self._send_delta()
        self.notify(("done", reason))
        return True

    def fail(self, error: APIError) -> None:
        """Ends the job with `error` (the handler answers with it)."""
        self.reason = "error"
        self.pixels = []
        self.notify(("error", error))


class ModelAccess(Protocol):
    """What preparing a request needs from the model (the engine provides it)."""

    context_length: int

    def prompt_tokens(self, sample: Sample) -> int:
        """Length of the sample's prompt in tokens, visual tokens included."""

    def pixels(self, image) -> torch.Tensor:
        """Pixel values [3, H, W] of one RGB image."""

    def answer_text(self, ids: list[int]) -> str:
        """The answer text of generated ids."""


def prepare_job(
    request: ChatRequest,
    model: ModelAccess,
    settings: Settings,
    notify: Callable[[Event], None],
    arrived: float,
) -> Job:
    """The job for a validated request: its images read and preprocessed one at a time
    (the decoded image is dropped at once: only pixel values wait in the queue), its
    prompt counted and held to the prompt and context limits, its answer length set.
    Every refusal is a 400 naming the limit and the option that sets it."""
    turns, refs = conversation(request.messages, settings.max_images)
    asked = request.token_limit
    if asked is not None and asked > settings.max_tokens:
        raise bad_request(
            f"max_tokens is {asked}; this server generates at most {settings.max_tokens} (--max-tokens)",
            param="max_tokens",
        )
    rid = f"chatcmpl-{secrets.token_hex(12)}"
    pixels = [
        model.pixels(decode_image(image_bytes(ref.url, settings, ref.where), settings.max_image_pixels, ref.where))
        for ref in refs
    ]
    sample = Sample(id=rid, dataset="serve", images=[f"{rid}#{i}" for i in range(len(refs))], turns=turns)
    try:
        prompt_tokens = model.prompt_tokens(sample)
    except InstructVLError as exc:
        raise bad_request(str(exc).removeprefix(f"sample {rid}: "), param="messages") from None
    if prompt_tokens > settings.max_prompt_tokens:
        raise bad_request(
            f"the prompt is {prompt_tokens} tokens (images included); this server takes at most "
            f"{settings.max_prompt_tokens} (--max-prompt-tokens)",
            param="messages",
            code="context_length_exceeded",
        )
    room = model.context_length - prompt_tokens
    if room < 1 or (asked is not None and asked > room):
        raise bad_request(
            f"the model's context is {model.context_length} tokens; the prompt takes {prompt_tokens}"
            + (f" and max_tokens asks for {asked} more" if asked else ", leaving no room for an answer"),
            param="max_tokens" if asked else "messages",
            code="context_length_exceeded",
        )
    stream = bool(request.stream)
    return Job(
        rid,
        sample,
        pixels,
        prompt_tokens,
        asked or min(settings.max_tokens, room),
        Sampling.of(request),
        AnswerText(model.answer_text, request.stop, live=stream),
        stream,
        arrived + settings.request_timeout,
        notify,
    )
