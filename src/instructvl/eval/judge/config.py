"""Which judge scores a task: `JudgeConfig`, from a task spec's `judge` field or from the
command line (`--judge local`, `--judge-model NAME`, `--judge-base-url URL`).

An endpoint judge follows the `openai` client's conventions: the base URL is
`base_url`, else `$OPENAI_BASE_URL`, else OpenAI's; the key is `$OPENAI_API_KEY` (never
written to a spec or a result)."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from instructvl.errors import InstructVLError

LOCAL = "local"
"""The in-process judge: the default preset's language model (SmolLM2-135M-Instruct offline),
scoring by likelihood (`instructvl.eval.judge.local`)."""
DEFAULT_BASE_URL = "https://api.openai.com/v1"
JUDGE_CHOICES = (LOCAL, "api")


class JudgeConfig(BaseModel):
    """A judge: `model` "local" (in process, scoring by likelihood: the other fields are
    an endpoint's) or the name of a model at an OpenAI-compatible chat endpoint
    (`base_url`); `max_tokens` of reply (the scores are on its first line); per request a
    timeout of `timeout_s` and up to `retries` retries on 429, 5xx, timeouts and dropped
    connections, waiting `backoff_s` x 2^attempt (or the server's Retry-After). In a task
    file `judge: local` is short for `judge: {model: local}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = LOCAL
    base_url: str | None = None
    max_tokens: int = Field(32, ge=1)
    timeout_s: float = Field(60.0, gt=0)
    retries: int = Field(4, ge=0)
    backoff_s: float = Field(1.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"model": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _local_has_no_url(self) -> JudgeConfig:
        if not self.model.strip():
            raise ValueError("judge model must name a model (or be 'local')")
        if self.is_local and self.base_url:
            raise ValueError("the local judge runs in process: give no base_url (or name an endpoint's model)")
        return self

    @property
    def is_local(self) -> bool:
        """Whether this is the in-process judge."""
        return self.model == LOCAL

    def endpoint(self) -> str:
        """The chat endpoint's base URL: `base_url`, else $OPENAI_BASE_URL, else OpenAI's."""
        return (self.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")

    def described(self) -> dict[str, Any]:
        """The judge as results record it (the endpoint resolved; no key)."""
        data = self.model_dump(mode="json")
        if not self.is_local:
            data["base_url"] = self.endpoint()
        return data


def judge_from_options(judge: str | None, model: str | None, base_url: str | None) -> JudgeConfig | None:
    """The command line's judge: `--judge local`; or `--judge-model NAME` (with `--judge
    api`, or alone) at `--judge-base-url URL` (default $OPENAI_BASE_URL); None without any."""
    if judge is not None and judge not in JUDGE_CHOICES:
        raise InstructVLError(f"--judge must be one of {', '.join(JUDGE_CHOICES)}, got {judge!r}")
    if judge == LOCAL:
        if model or base_url:
            raise InstructVLError("--judge local runs the in-process judge: drop --judge-model / --judge-base-url")
        return JudgeConfig(model=LOCAL)
    if model is None:
        if judge or base_url:
            raise InstructVLError("an endpoint judge needs --judge-model NAME (the model the endpoint serves)")
        return None
    return JudgeConfig(model=model, base_url=base_url)
