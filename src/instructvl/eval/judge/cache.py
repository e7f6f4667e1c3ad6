"""Judgements on disk, keyed by a hash of (judge, prompt): `<root>/<key[:2]>/<key>.json`
holds the judge's identity, the messages and the reply (an endpoint's text, the local
judge's log-probabilities of the score lines), written aside and renamed into
place as soon as the reply comes, so an interrupted judging resumes. Only replies are kept
(a failed request is asked again next time); a file whose judge or messages differ from
the request's (a hash collision) is not used. `MAX_CONSECUTIVE_FAILURES` failed requests
in a row stop the judging (the endpoint is down) rather than waiting out every sample's
retries."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from instructvl.errors import InstructVLError
from instructvl.eval.judge.protocol import Messages
from instructvl.eval.provenance import fingerprint
from instructvl.eval.records import read_json, write_json

MAX_CONSECUTIVE_FAILURES = 3


Reply = str | dict[str, float]
"""What a judge answers a prompt with, as JSON: an endpoint's text, the local judge's
log-probability of each score line."""


class Judge(Protocol):
    """What judges offer: an `identity` (what makes a reply: the cache key), how many
    prompts they take at once, a reply (or an exception) per prompt, the (reference,
    model) scores of a reply (None when it holds none), and how it scores in words
    (`method`, for the report)."""

    identity: str
    batch_size: int
    method: str

    def complete_all(self, prompts: list[Messages]) -> list[Reply | Exception]: ...

    def scores(self, reply: Reply) -> tuple[float, float] | None: ...


class CachedJudge:
    """`judge` behind the disk cache under `root`; `asked` counts the prompts sent to it."""

    def __init__(self, judge: Judge, root: Path) -> None:
        self.judge = judge
        self.root = Path(root)
        self.identity = judge.identity
        self.method = judge.method
        self.scores = judge.scores
        self.asked = 0

    def _path(self, messages: Messages) -> Path:
        key = fingerprint({"judge": self.identity, "messages": messages})
        return self.root / key[:2] / f"{key}.json"

    def _cached(self, messages: Messages) -> Reply | None:
        entry = read_json(self._path(messages))
        if entry and entry.get("judge") == self.identity and entry.get("messages") == messages:
            return entry["reply"]
        return None

    def complete_all(self, prompts: list[Messages]) -> list[Reply | Exception]:
        """Each prompt's reply (from the cache where there is one), or the judge's error for it."""
        out: list[Reply | Exception | None] = [self._cached(m) for m in prompts]
        todo = [i for i, reply in enumerate(out) if reply is None]
        streak = 0
        for start in range(0, len(todo), self.judge.batch_size):
            chunk = todo[start : start + self.judge.batch_size]
            self.asked += len(chunk)
            for i, reply in zip(chunk, self.judge.complete_all([prompts[i] for i in chunk])):
                out[i] = reply
                if not isinstance(reply, Exception):
                    write_json(self._path(prompts[i]), {"judge": self.identity, "messages": prompts[i], "reply": reply})
                    streak = 0
                    continue
                streak += 1
                if streak >= MAX_CONSECUTIVE_FAILURES:
                    raise InstructVLError(f"{streak} judge requests in a row failed; last: {reply}")
        return out  # type: ignore[return-value]
