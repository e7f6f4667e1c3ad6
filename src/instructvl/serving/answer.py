"""An answer's text as its tokens arrive: where a stop sequence ends it, and which part of
it can be streamed already. The streamed pieces always join to the final text, which is
what `VisionLanguageModel.answer_text` gives for the same tokens (cut at a stop)."""

from __future__ import annotations

from collections.abc import Callable

PARTIAL = "\ufffd"  # what decoding shows for the first bytes of a character split across tokens


def _trimmed(text: str) -> str:
    """`text` without what may still change at its end: spaces (the final text trims
    them unless more follows) and half characters."""
    while (shorter := text.rstrip().rstrip(PARTIAL)) != text:
        text = shorter
    return text


def _held_back(text: str, stops: list[str]) -> int:
    """How many characters at the end of `text` could still grow into a stop sequence."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


class AnswerText:
    """The tokens of one answer and its text. `add` takes the next token and says whether
    a stop sequence has now appeared (the text ends before it, the sequence excluded);
    `take_delta` gives the text not handed out yet that is safe to hand out (no part of a
    possible stop sequence, no half character, no trailing space the final text trims);
    `final` is the whole answer, and `take_delta` after `finish` gives what remains of it.

    `live` false (no stream, no stop sequence) skips all decoding until `finish`."""

    def __init__(self, decode: Callable[[list[int]], str], stops: list[str] | None, live: bool) -> None:
        self.decode = decode
        self.stops = list(stops or [])
        self.live = live or bool(self.stops)
        self.tokens: list[int] = []
        self.sent = ""
        self.final: str | None = None
        self._text = ""

    def add(self, token: int) -> bool:
        """Appends `token`; True when the answer now holds a stop sequence (and is final)."""
        self.tokens.append(token)
        if not self.live:
            return False
        self._text = self.decode(self.tokens)
        cut = min((i for i in (self._text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.final = self._text[:cut].rstrip()
            return True
        return False

    def finish(self) -> str:
        """Fixes the final text (when no stop sequence ended it: all the tokens) and returns it."""
        if self.final is None:
            self.final = self.decode(self.tokens)
        return self.final

    def take_delta(self) -> str:
        """The next piece to stream ("" when nothing new is safe to send yet)."""
        if self.final is not None:
            ready = self.final
        else:
            ready = _trimmed(self._text)
            ready = _trimmed(ready[: len(ready) - _held_back(ready, self.stops)])
        if not ready.startswith(self.sent) or len(ready) == len(self.sent):
            return ""
        delta, self.sent = ready[len(self.sent) :], ready
        return delta
